/**
 * How istio-sticky-import scales: N ingress-nginx Ingresses with their Services, as
 * `kubectl get ingress,service -A -o yaml` prints them, imported by the built CLI
 * (`node dist/cli/import.js <file>`, run `npm run build` first) in a child process, as a
 * user runs it. Prints the wall time, the child's peak RSS and the cost per Ingress
 * against the targets (5,000 Ingresses in under 2 s and 200 MB); it asserts nothing about
 * time, but an input the import does not take (exit status other than 0, or fewer apps
 * than Ingresses) fails the run.
 *
 * Standalone: `npx tsx tests/bench/import.ts [sizes...]` (default 100 1000 5000).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runAlone, table } from "./table";

const ROOT = path.join(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli", "import.js");

/** The targets, for 5,000 Ingresses; a larger input gets a proportionally larger budget. */
export const TARGET = { ingresses: 5000, seconds: 2, peakMb: 200 };

export interface Row {
    /** Ingresses in the input (each with its Service). */
    size: number;
    /** Input file size, MB. */
    inputMb: number;
    /** Wall time of the child process, from spawn to exit (fastest run). */
    seconds: number;
    /** The child's peak resident set size, MB (largest run). */
    peakMb: number;
    /** Wall time per Ingress, ms. */
    perItemMs: number;
    /** Wall time per Ingress added since the previous (smaller) size, ms: flat when the cost grows linearly. */
    marginalMs?: number;
    /** Under the time and memory targets (scaled for inputs above 5,000 Ingresses). */
    met: boolean;
}

// ---------------------------------------------------------------- the input

const NAMESPACES = 40;
const KINDS = ["cart", "checkout", "search", "account", "catalog", "media", "api", "web"];

/** The affinity annotations the import maps, one set per Ingress in turn (the key without the ingress-nginx prefix). */
const AFFINITIES: readonly Record<string, string>[] = [
    {
        affinity: "cookie",
        "affinity-mode": "balanced",
        "session-cookie-name": "route",
        "session-cookie-path": "/",
        "session-cookie-max-age": "3600",
        "session-cookie-samesite": "Lax",
    },
    { affinity: "cookie", "affinity-mode": "persistent", "session-cookie-name": "pod" },
    { "upstream-hash-by": "$http_x_user" },
    { "upstream-hash-by": "$cookie_sid" },
    {
        affinity: "cookie",
        "session-cookie-expires": "172800",
        "session-cookie-samesite": "Strict",
        "session-cookie-change-on-failure": "false",
    },
    { "upstream-hash-by": "$arg_user", "upstream-hash-by-subset": "true" },
    { "upstream-hash-by": "$remote_addr" },
    {
        affinity: "cookie",
        "affinity-mode": "balanced",
        "session-cookie-max-age": "600",
        "session-cookie-secure": "true",
    },
    {},
];

/** Annotations ingress-nginx users set besides the affinity (reported as not mapped). */
const OTHERS: readonly Record<string, string>[] = [
    { "proxy-body-size": "8m" },
    { "proxy-read-timeout": "120", "proxy-send-timeout": "120" },
    { "enable-cors": "true", "cors-allow-origin": "https://www.example.com" },
    {},
];

const PREFIX = "nginx.ingress.kubernetes.io/";
const pad = (i: number) => String(i).padStart(5, "0");
const timestamp = (i: number) =>
    new Date(Date.UTC(2024, 0, 1) + Math.floor(i / 3) * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
const uid = (i: number, kind: number) =>
    `${kind.toString(16).padStart(8, "0")}-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;

/** Ingress i and its Service: one or two paths on its host, a named or numbered port, TLS on every third. */
function objectsOf(i: number): [Record<string, unknown>, Record<string, unknown>] {
    const namespace = `team-${String(i % NAMESPACES).padStart(2, "0")}`;
    const name = `${KINDS[i % KINDS.length]}-${pad(i)}`;
    const host = `${name}.${namespace}.example.com`;
    const regex = i % 10 === 7;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...AFFINITIES[i % AFFINITIES.length], ...OTHERS[i % OTHERS.length] }))
        annotations[PREFIX + k] = v;
    if (regex) {
        annotations[`${PREFIX}use-regex`] = "true";
        annotations[`${PREFIX}rewrite-target`] = "/$2";
    }
    const port = i % 2 === 0 ? { name: "http" } : { number: 80 };
    const backend = { service: { name, port } };
    const paths = [
        {
            path: regex ? "/app(/|$)(.*)" : i % 5 === 0 ? "/" : `/${KINDS[i % KINDS.length]}`,
            pathType: regex ? "ImplementationSpecific" : "Prefix",
            backend,
        },
    ];
    // A second path to the same Service: reported as not mapped (an app has one path).
    if (i % 4 === 1) paths.push({ path: "/static", pathType: "Prefix", backend });
    const spec: Record<string, unknown> = {
        ingressClassName: "nginx",
        rules: [{ host, http: { paths } }],
        ...(i % 3 === 0 ? { tls: [{ hosts: [host], secretName: `${name}-tls` }] } : {}),
    };
    const metadata: Record<string, unknown> = {
        name,
        namespace,
        creationTimestamp: timestamp(i),
        generation: 1,
        resourceVersion: String(100000 + i),
        uid: uid(i, 1),
    };
    if (i % 2 === 0) {
        // Applied with kubectl: the last applied configuration rides along as an annotation.
        const applied = {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { annotations: { ...annotations }, name, namespace },
            spec,
        };
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = `${JSON.stringify(applied)}\n`;
    } else {
        annotations["meta.helm.sh/release-name"] = name;
        annotations["meta.helm.sh/release-namespace"] = namespace;
        metadata.labels = {
            "app.kubernetes.io/managed-by": "Helm",
            "app.kubernetes.io/name": name,
            "helm.sh/chart": `${KINDS[i % KINDS.length]}-1.4.2`,
        };
    }
    const ingress = {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { annotations, ...metadata },
        spec,
        status: { loadBalancer: { ingress: [{ ip: "203.0.113.10" }] } },
    };
    const clusterIp = `10.96.${(i >> 8) & 255}.${i & 255}`;
    const service = {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
            name,
            namespace,
            creationTimestamp: timestamp(i),
            labels: { "app.kubernetes.io/name": name },
            resourceVersion: String(200000 + i),
            uid: uid(i, 2),
        },
        spec: {
            clusterIP: clusterIp,
            clusterIPs: [clusterIp],
            internalTrafficPolicy: "Cluster",
            ipFamilies: ["IPv4"],
            ipFamilyPolicy: "SingleStack",
            ports: [
                { name: "http", port: 80, protocol: "TCP", targetPort: i % 3 === 1 ? "http" : 8080 },
                { name: "metrics", port: 9090, protocol: "TCP", targetPort: 9090 },
            ],
            selector: { "app.kubernetes.io/name": name },
            sessionAffinity: "None",
            type: "ClusterIP",
        },
        status: { loadBalancer: {} },
    };
    return [ingress, service];
}

/** A scalar as kubectl (go-yaml) prints it: plain when YAML reads it back as the same string, else quoted. */
function scalar(v: unknown): string {
    if (typeof v !== "string") return String(v);
    const plain =
        /^[A-Za-z/$][A-Za-z0-9_./$:()|-]*$/.test(v) &&
        !/^(true|false|yes|no|on|off|null|y|n)$/i.test(v) &&
        !v.includes(": ");
    return plain ? v : `'${v.replace(/'/g, "''")}'`;
}

/** Block YAML, keys sorted and sequences at their key's indentation, as `kubectl get -o yaml` writes it. */
function emit(v: unknown, indent: string, out: string[]): void {
    if (Array.isArray(v)) {
        for (const item of v) {
            if (item !== null && typeof item === "object" && Object.keys(item).length) {
                const lines: string[] = [];
                emit(item, `${indent}  `, lines);
                out.push(`${indent}- ${lines[0].slice(indent.length + 2)}`, ...lines.slice(1));
            } else out.push(`${indent}- ${scalar(item)}`);
        }
        return;
    }
    const keys = Object.keys(v as Record<string, unknown>).sort();
    for (const [k, x] of keys.map((key) => [key, (v as Record<string, unknown>)[key]] as const)) {
        const key = scalar(k);
        if (typeof x === "string" && x.endsWith("\n"))
            out.push(
                `${indent}${key}: |`,
                ...x
                    .slice(0, -1)
                    .split("\n")
                    .map((l) => `${indent}  ${l}`),
            );
        else if (x !== null && typeof x === "object" && Object.keys(x).length) {
            out.push(`${indent}${key}:`);
            emit(x, Array.isArray(x) ? indent : `${indent}  `, out);
        } else if (x !== null && typeof x === "object") out.push(`${indent}${key}: ${Array.isArray(x) ? "[]" : "{}"}`);
        else out.push(`${indent}${key}: ${scalar(x)}`);
    }
}

/** `kubectl get ingress,service -A -o yaml` for n Ingresses and their Services: a List, Ingresses first. */
export function generateInput(n: number): string {
    const pairs = Array.from({ length: n }, (_, i) => objectsOf(i));
    const out: string[] = ["apiVersion: v1", "items:"];
    emit(
        pairs.map(([ing]) => ing),
        "",
        out,
    );
    emit(
        pairs.map(([, svc]) => svc),
        "",
        out,
    );
    out.push("kind: List", "metadata:", '  resourceVersion: ""');
    return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------- the measurement

/** Loaded with --require into the CLI's process: writes its resource usage on exit, to the file named in the environment. */
const USAGE_HOOK = `process.on("exit", () => require("fs").writeFileSync(process.env.STICKY_BENCH_USAGE, JSON.stringify(process.resourceUsage())));\n`;

interface Run {
    seconds: number;
    peakMb: number;
}

async function runCli(dir: string, input: string, expectedApps: number): Promise<Run> {
    const [outFile, errFile, usageFile] = ["stdout.yaml", "stderr.txt", "usage.json"].map((f) => path.join(dir, f));
    const fds = [outFile, errFile].map((f) => fs.openSync(f, "w"));
    const t0 = process.hrtime.bigint();
    const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, ["--require", path.join(dir, "usage.js"), CLI, input], {
            stdio: ["ignore", fds[0], fds[1]],
            env: { ...process.env, STICKY_BENCH_USAGE: usageFile },
        });
        child.on("error", reject);
        child.on("exit", (c) => resolve(c));
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    fds.forEach((fd) => fs.closeSync(fd));
    const out = fs.readFileSync(outFile, "utf8");
    const apps = /: (\d+) app\(s\) from ingress-nginx Ingresses/.exec(out)?.[1];
    if (code !== 0 || Number(apps) !== expectedApps) {
        const err = fs.readFileSync(errFile, "utf8");
        throw new Error(
            `istio-sticky-import did not take the generated input of ${expectedApps} Ingresses: exit status ${code}, ${apps ?? "no"} app(s) written; ` +
                `stderr ends with:\n${err.slice(-2000)}`,
        );
    }
    const usage = JSON.parse(fs.readFileSync(usageFile, "utf8")) as NodeJS.ResourceUsage;
    return { seconds, peakMb: usage.maxRSS / 1024 };
}

/** The budget for n Ingresses: the targets for 5,000, scaled up for more. */
const budget = (n: number) => Math.max(1, n / TARGET.ingresses);

export interface BenchOptions {
    /** Timed runs per size, after a warm-up (default 3). */
    runs?: number;
}

/** Imports n generated Ingresses for each size with the built CLI (after a warm-up, the fastest of `runs` runs) and measures each. */
export async function benchImport(sizes: number[], options: BenchOptions = {}): Promise<Row[]> {
    const runs = options.runs ?? 3;
    if (!fs.existsSync(CLI)) throw new Error(`${path.relative(ROOT, CLI)} is missing: run npm run build first`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-import-bench-"));
    const rows: Row[] = [];
    try {
        fs.writeFileSync(path.join(dir, "usage.js"), USAGE_HOOK);
        for (const size of [...new Set(sizes)].sort((a, b) => a - b)) {
            const input = path.join(dir, `ingresses-${size}.yaml`);
            const text = generateInput(size);
            fs.writeFileSync(input, text);
            await runCli(dir, input, size); // warm-up: the file cache, the module cache
            let best: Run | undefined;
            let peakMb = 0;
            for (let r = 0; r < runs; r++) {
                const run = await runCli(dir, input, size);
                if (!best || run.seconds < best.seconds) best = run;
                peakMb = Math.max(peakMb, run.peakMb);
            }
            fs.rmSync(input);
            const prev = rows[rows.length - 1];
            rows.push({
                size,
                inputMb: Buffer.byteLength(text) / 1024 / 1024,
                seconds: best!.seconds,
                peakMb,
                perItemMs: (best!.seconds * 1000) / size,
                ...(prev ? { marginalMs: ((best!.seconds - prev.seconds) * 1000) / (size - prev.size) } : {}),
                met: best!.seconds < TARGET.seconds * budget(size) && peakMb < TARGET.peakMb * budget(size),
            });
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return rows;
}

/** The rows as a table, with the targets. */
export function formatImportRows(rows: readonly Row[]): string {
    const head = ["Ingresses", "input MB", "seconds", "peak MB", "ms/Ingress", "marginal ms", "target"];
    const cells = rows.map((r) => [
        String(r.size),
        r.inputMb.toFixed(1),
        r.seconds.toFixed(2),
        r.peakMb.toFixed(0),
        r.perItemMs.toFixed(3),
        r.marginalMs === undefined ? "" : r.marginalMs.toFixed(3),
        r.met ? "met" : "MISSED",
    ]);
    return [
        `istio-sticky-import: N Ingresses of class nginx with their Services, as kubectl get ingress,service -A -o yaml prints them (node ${process.version})`,
        "node dist/cli/import.js <file> in a child process, stdout and stderr to files: wall time of the fastest run after a warm-up, peak RSS of the largest",
        `targets: ${TARGET.ingresses} Ingresses in under ${TARGET.seconds} s and ${TARGET.peakMb} MB (scaled for more); marginal: ms per Ingress added since the row above`,
        "",
        ...table(head, cells),
    ].join("\n");
}

if (require.main === module) runAlone("tests/bench/import.ts", "Ingresses", benchImport, formatImportRows);
