/**
 * A kubelet for chosen programs. kwok makes the lab's pods Running and Ready, but nothing runs in
 * them; this runner starts a real program for the pods whose container image it knows (istiod's
 * `pilot-discovery` for the istiod chart's pod; others can be registered), on this machine, as a
 * kubelet would start the container:
 *
 * - the program replaces the image's entrypoint: its arguments are the container's `command`
 *   after the first element, then the container's `args`, then the program's `extraArgs` (e.g.
 *   `--kubeconfig`), with `$(VAR)` expanded from the container's environment as a kubelet does;
 * - the environment is the container's `envFrom` and `env`, with `valueFrom` resolved (`fieldRef`:
 *   metadata.name/namespace/uid/labels/annotations, spec.nodeName, spec.serviceAccountName,
 *   status.podIP/podIPs/hostIP; `resourceFieldRef`; `configMapKeyRef`; `secretKeyRef`), plus
 *   HOSTNAME (the pod's name), PATH and HOME, then the program's `env`. None of the Service
 *   variables a kubelet adds (KUBERNETES_SERVICE_HOST, ...): the programs are not in the cluster's
 *   network and talk to the API server through a kubeconfig;
 * - the pod's volumes (configMap, secret, projected: configMap, secret, serviceAccountToken through
 *   the TokenRequest API, downwardAPI; downwardAPI; emptyDir) are written under a folder that
 *   stands in for the container's root filesystem, at their mountPaths (and subPaths), and the
 *   program runs with that folder as its working directory. Programs that read their files by
 *   relative paths (istiod: ./etc/istio/config/mesh, ./var/lib/istio/inject,
 *   ./var/run/secrets/tokens/istio-token) find them there; an argument or environment value that
 *   starts with a mountPath is rewritten to the same path under that folder. The files are written
 *   once, when the program starts (a kubelet keeps them up to date).
 *
 * One process per program: the first Running pod whose image matches starts it; other matching
 * pods are skipped and logged. A process that exits is not restarted (its exit is in `logs()`).
 * Polling is bounded: every `pollMs` (default 500 ms) for at most `maxSeconds` (default 2 h), and
 * ends with `stop()`, which also ends every process group started.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { kubectlAsync, type Kubectl } from "./kubectl";

/** What a program's options are computed from. */
export interface PodProgramContext {
    /** The pod, as the API server holds it (plain JSON). */
    pod: any;
    /** The container of the pod the program stands for. */
    container: any;
    /** The folder standing in for the container's root filesystem: the process's working directory. */
    root: string;
    /** The kubeconfig the runner was given. */
    kubeconfig: string;
}

/** A program the runner starts for the containers whose image it matches. */
export interface PodProgram {
    /** The executable. */
    bin: string;
    /** Tested against the container's image without its tag or digest ("docker.io/istio/pilot"). */
    image: RegExp;
    /** Arguments after the container's own (e.g. `--kubeconfig <path>`). */
    extraArgs?: (ctx: PodProgramContext) => string[];
    /** Environment set after the container's (a value of undefined removes the variable). */
    env?: (ctx: PodProgramContext) => Record<string, string | undefined>;
}

export interface PodProcessesOptions {
    kubectl: Kubectl;
    /** The programs by name (the name is used in logs and `waitFor`). */
    programs: Record<string, PodProgram>;
    /** Where the roots and logs go; default a new temporary folder, removed by `stop()` unless `keep`. */
    dir?: string;
    keep?: boolean;
    /** Poll interval, ms. Default 500. */
    pollMs?: number;
    /** Polling stops after this many seconds. Default 7200. */
    maxSeconds?: number;
}

export interface PodProcess {
    program: string;
    /** namespace/name of the pod it stands for. */
    pod: string;
    container: string;
    podIP: string;
    pid: number;
    /** The process's working directory (the container's root). */
    root: string;
    log: string;
    argv: string[];
    /** performance.now() when it was started. */
    startedAt: number;
    /** Set once the process has exited. */
    exit?: { code: number | null; signal: NodeJS.Signals | null };
}

export interface PodProcesses {
    dir: string;
    /** The processes started so far. */
    started(): PodProcess[];
    /** Resolves with the program's process once started; rejects after `timeoutMs` or if polling ended. */
    waitFor(program: string, timeoutMs: number): Promise<PodProcess>;
    /** The pods skipped because their program already runs for another pod (namespace/name). */
    skipped(): string[];
    /** Stops polling, ends every process group (SIGTERM, then SIGKILL after 10 s) and waits for them. */
    stop(): Promise<void>;
    /** The runner's own events and the tail of each process's log. */
    logs(tailChars?: number): string;
}

/** The image without its tag or digest: "docker.io/istio/pilot:1.31.0" → "docker.io/istio/pilot". */
export function imageName(image: string): string {
    const noDigest = image.split("@")[0];
    const slash = noDigest.lastIndexOf("/");
    const colon = noDigest.lastIndexOf(":");
    return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

const SUFFIXES: Record<string, number> = {
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    "": 1,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
};

/** A Kubernetes quantity ("500m", "2Gi", "1e3") as a number of base units. */
export function parseQuantity(q: string | number): number {
    if (typeof q === "number") return q;
    const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$/.exec(q.trim());
    if (!m) throw new Error(`not a quantity: ${q}`);
    return Number(m[1]) * SUFFIXES[m[2]];
}

/**
 * A `resourceFieldRef` as a kubelet computes it: the container's limit (or request), divided by the
 * divisor and rounded up. A limit that is not set stands for the node's allocatable; the node here is
 * this machine (its CPUs and memory), not the fake node kwok reports.
 */
export function resourceFieldValue(container: any, ref: { resource: string; divisor?: string | number }): string {
    const [kind, res] = ref.resource.split(".", 2) as [string, string];
    const set =
        container.resources?.[kind]?.[res] ?? (kind === "requests" ? container.resources?.limits?.[res] : undefined);
    let value: number;
    if (set !== undefined) value = parseQuantity(set);
    else if (res === "cpu") value = kind === "requests" ? 0 : os.availableParallelism();
    else if (res === "memory") value = kind === "requests" ? 0 : os.totalmem();
    else value = 0;
    const divisor = ref.divisor === undefined ? 1 : parseQuantity(ref.divisor);
    if (!(divisor > 0)) throw new Error(`resourceFieldRef ${ref.resource}: divisor ${ref.divisor}`);
    return String(Math.ceil(value / divisor - 1e-9));
}

/** metadata.labels['a'] and the like, as a kubelet's downward API resolves them. */
export function fieldValue(pod: any, fieldPath: string): string {
    const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
    if (keyed) return pod.metadata?.[keyed[1]]?.[keyed[2]] ?? "";
    switch (fieldPath) {
        case "metadata.name":
            return pod.metadata.name;
        case "metadata.namespace":
            return pod.metadata.namespace;
        case "metadata.uid":
            return pod.metadata.uid ?? "";
        case "metadata.labels":
        case "metadata.annotations": {
            const map: Record<string, string> = pod.metadata?.[fieldPath.split(".")[1]] ?? {};
            return Object.keys(map)
                .sort()
                .map((k) => `${k}=${JSON.stringify(map[k])}`)
                .join("\n");
        }
        case "spec.nodeName":
            return pod.spec?.nodeName ?? "";
        case "spec.serviceAccountName":
            return pod.spec?.serviceAccountName ?? "";
        case "status.hostIP":
            return pod.status?.hostIP ?? "";
        case "status.hostIPs":
            return (pod.status?.hostIPs ?? []).map((i: { ip: string }) => i.ip).join(",");
        case "status.podIP":
            return pod.status?.podIP ?? "";
        case "status.podIPs":
            return (pod.status?.podIPs ?? []).map((i: { ip: string }) => i.ip).join(",");
        default:
            throw new Error(`fieldRef ${fieldPath} is not supported`);
    }
}

/** `$(VAR)` references expanded as a kubelet does (undefined ones left as they are, `$$` → `$`). */
export function expandVars(s: string, env: Record<string, string>): string {
    return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name?: string) => {
        if (all === "$$") return "$";
        return name !== undefined && name in env ? env[name] : all;
    });
}

/** A reason to try a pod again at the next poll (a ConfigMap or Secret it needs is not there yet). */
class NotYet extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `kubectl <args>` without blocking the event loop; stdout, or an error with stderr. */
/** Every process group this module started, so none outlives the node process. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
    try {
        if (p.pid) process.kill(-p.pid, signal);
    } catch {
        // already gone
    }
}

/** Starts polling pods and running the registered programs for them. */
export function startPodProcesses(opts: PodProcessesOptions): PodProcesses {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "sticky-pods-"));
    fs.mkdirSync(dir, { recursive: true });
    const pollMs = opts.pollMs ?? 500;
    const maxPolls = Math.ceil(((opts.maxSeconds ?? 7200) * 1000) / pollMs);
    const k = opts.kubectl;
    const events: string[] = [];
    const t0 = performance.now();
    const event = (s: string) => events.push(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}`);
    const procs = new Map<string, { info: PodProcess; child: ChildProcess }>();
    const skipped = new Set<string>();
    const waiting = new Map<string, string>();
    let stopping = false;
    let finalLogs: string | undefined;
    let loopDone: Promise<void> = Promise.resolve();
    let ended = false;

    const getJson = async (args: string[]): Promise<any | undefined> => {
        try {
            return JSON.parse(await kubectlAsync(k, [...args, "-o", "json"]));
        } catch (e) {
            if (/NotFound|not found/.test(String(e))) return undefined;
            throw e;
        }
    };

    /** The data of a ConfigMap or Secret (Secret values decoded), or undefined if it does not exist. */
    const source = async (
        kind: "configmap" | "secret",
        namespace: string,
        name: string,
    ): Promise<Record<string, Buffer> | undefined> => {
        const o = await getJson(["get", kind, name, "-n", namespace]);
        if (!o) return undefined;
        const out: Record<string, Buffer> = {};
        if (kind === "secret")
            for (const [key, v] of Object.entries(o.data ?? {})) out[key] = Buffer.from(String(v), "base64");
        else {
            for (const [key, v] of Object.entries(o.data ?? {})) out[key] = Buffer.from(String(v), "utf8");
            for (const [key, v] of Object.entries(o.binaryData ?? {})) out[key] = Buffer.from(String(v), "base64");
        }
        return out;
    };
    const required = async (kind: "configmap" | "secret", ns: string, name: string, optional: boolean | undefined) => {
        const data = await source(kind, ns, name);
        if (!data && !optional) throw new NotYet(`${kind} ${ns}/${name} does not exist`);
        return data;
    };

    /** A token of the pod's ServiceAccount, bound to the pod, as the kubelet requests it. */
    const token = async (
        pod: any,
        audience: string | undefined,
        expirationSeconds: number | undefined,
    ): Promise<Buffer> => {
        const args = ["create", "token", pod.spec.serviceAccountName ?? "default", "-n", pod.metadata.namespace];
        if (audience) args.push("--audience", audience);
        args.push("--duration", `${Math.max(expirationSeconds ?? 3607, 600)}s`);
        args.push(
            "--bound-object-kind",
            "Pod",
            "--bound-object-name",
            pod.metadata.name,
            "--bound-object-uid",
            pod.metadata.uid,
        );
        return Buffer.from((await kubectlAsync(k, args)).trim());
    };

    /** Keys of a ConfigMap or Secret as files: every key, or the `items` asked for. */
    const keyFiles = (
        data: Record<string, Buffer> | undefined,
        items: { key: string; path: string }[] | undefined,
        optional: boolean | undefined,
        what: string,
    ) => {
        const files: Record<string, Buffer> = {};
        if (!data) return files;
        if (!items) return { ...data };
        for (const it of items) {
            if (it.key in data) files[it.path] = data[it.key];
            else if (!optional) throw new NotYet(`${what} has no key ${it.key}`);
        }
        return files;
    };
    const downwardFiles = (pod: any, container: any, items: any[]): Record<string, Buffer> => {
        const files: Record<string, Buffer> = {};
        for (const it of items ?? []) {
            if (it.fieldRef) files[it.path] = Buffer.from(fieldValue(pod, it.fieldRef.fieldPath));
            else if (it.resourceFieldRef) {
                const c = it.resourceFieldRef.containerName
                    ? pod.spec.containers.find((x: any) => x.name === it.resourceFieldRef.containerName)
                    : container;
                files[it.path] = Buffer.from(resourceFieldValue(c, it.resourceFieldRef));
            }
        }
        return files;
    };

    /** A volume's files by relative path; undefined for an empty folder (emptyDir, and kinds not supported). */
    const volumeFiles = async (pod: any, container: any, v: any): Promise<Record<string, Buffer> | undefined> => {
        const ns = pod.metadata.namespace;
        if (v.configMap) {
            const data = await required("configmap", ns, v.configMap.name, v.configMap.optional);
            return keyFiles(data, v.configMap.items, v.configMap.optional, `configmap ${ns}/${v.configMap.name}`);
        }
        if (v.secret) {
            const data = await required("secret", ns, v.secret.secretName, v.secret.optional);
            return keyFiles(data, v.secret.items, v.secret.optional, `secret ${ns}/${v.secret.secretName}`);
        }
        if (v.downwardAPI) return downwardFiles(pod, container, v.downwardAPI.items);
        if (v.projected) {
            const files: Record<string, Buffer> = {};
            for (const s of v.projected.sources ?? []) {
                if (s.configMap) {
                    const data = await required("configmap", ns, s.configMap.name, s.configMap.optional);
                    Object.assign(
                        files,
                        keyFiles(data, s.configMap.items, s.configMap.optional, `configmap ${ns}/${s.configMap.name}`),
                    );
                } else if (s.secret) {
                    const data = await required("secret", ns, s.secret.name, s.secret.optional);
                    Object.assign(
                        files,
                        keyFiles(data, s.secret.items, s.secret.optional, `secret ${ns}/${s.secret.name}`),
                    );
                } else if (s.serviceAccountToken) {
                    files[s.serviceAccountToken.path] = await token(
                        pod,
                        s.serviceAccountToken.audience,
                        s.serviceAccountToken.expirationSeconds,
                    );
                } else if (s.downwardAPI) {
                    Object.assign(files, downwardFiles(pod, container, s.downwardAPI.items));
                } else {
                    event(
                        `${ns}/${pod.metadata.name}: projected source ${Object.keys(s).join(",")} of volume ${v.name} not supported: left out`,
                    );
                }
            }
            return files;
        }
        if (!v.emptyDir)
            event(
                `${ns}/${pod.metadata.name}: volume ${v.name} (${Object.keys(v).join(",")}) not supported: an empty folder`,
            );
        return undefined;
    };

    /** The container's environment, resolved in order as a kubelet does. */
    const environment = async (pod: any, container: any): Promise<Record<string, string>> => {
        const ns = pod.metadata.namespace;
        const env: Record<string, string> = {};
        for (const from of container.envFrom ?? []) {
            const ref = from.configMapRef ?? from.secretRef;
            const kind = from.configMapRef ? "configmap" : "secret";
            const data = await required(kind, ns, ref.name, ref.optional);
            for (const [key, v] of Object.entries(data ?? {})) env[`${from.prefix ?? ""}${key}`] = v.toString("utf8");
        }
        for (const e of container.env ?? []) {
            const vf = e.valueFrom;
            if (!vf) env[e.name] = expandVars(e.value ?? "", env);
            else if (vf.fieldRef) env[e.name] = fieldValue(pod, vf.fieldRef.fieldPath);
            else if (vf.resourceFieldRef) {
                const c = vf.resourceFieldRef.containerName
                    ? pod.spec.containers.find((x: any) => x.name === vf.resourceFieldRef.containerName)
                    : container;
                env[e.name] = resourceFieldValue(c, vf.resourceFieldRef);
            } else if (vf.configMapKeyRef || vf.secretKeyRef) {
                const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
                const kind = vf.configMapKeyRef ? "configmap" : "secret";
                const data = await required(kind, ns, ref.name, ref.optional);
                if (data && ref.key in data) env[e.name] = data[ref.key].toString("utf8");
                else if (!ref.optional)
                    throw new NotYet(`${kind} ${ns}/${ref.name} has no key ${ref.key} (env ${e.name})`);
            } else {
                event(
                    `${ns}/${pod.metadata.name}: env ${e.name}: valueFrom ${Object.keys(vf).join(",")} not supported: left out`,
                );
            }
        }
        return env;
    };

    const start = async (name: string, program: PodProgram, pod: any, container: any): Promise<void> => {
        const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
        const root = path.join(dir, name, "root");
        fs.rmSync(path.join(dir, name), { recursive: true, force: true });
        fs.mkdirSync(root, { recursive: true });

        // Volumes at their mountPaths under root.
        const mounts: string[] = [];
        for (const m of container.volumeMounts ?? []) {
            const v = (pod.spec.volumes ?? []).find((x: any) => x.name === m.name);
            if (!v) throw new Error(`${id}: volumeMount ${m.name} names no volume`);
            const files = await volumeFiles(pod, container, v);
            const target = path.join(root, m.mountPath);
            mounts.push(m.mountPath);
            if (m.subPath) {
                const content = files?.[m.subPath];
                if (content !== undefined) {
                    fs.mkdirSync(path.dirname(target), { recursive: true });
                    fs.writeFileSync(target, content);
                    continue;
                }
            }
            fs.mkdirSync(target, { recursive: true });
            for (const [rel, content] of Object.entries(files ?? {})) {
                const inVolume = m.subPath
                    ? rel.startsWith(`${m.subPath}/`)
                        ? rel.slice(m.subPath.length + 1)
                        : undefined
                    : rel;
                if (inVolume === undefined) continue;
                const file = path.join(target, inVolume);
                fs.mkdirSync(path.dirname(file), { recursive: true });
                fs.writeFileSync(file, content);
            }
        }
        /** An absolute path inside a mount, as the process sees it from its working directory. */
        const rooted = (s: string) =>
            mounts.some((mp) => s === mp || s.startsWith(`${mp.replace(/\/$/, "")}/`)) ? path.join(root, s) : s;

        const containerEnv = await environment(pod, container);
        const ctx: PodProgramContext = { pod, container, root, kubeconfig: k.kubeconfig };
        const env: Record<string, string> = {
            PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
            HOME: root,
            HOSTNAME: pod.metadata.name,
        };
        for (const [key, v] of Object.entries(containerEnv)) env[key] = rooted(v);
        for (const [key, v] of Object.entries(program.env?.(ctx) ?? {})) {
            if (v === undefined) delete env[key];
            else env[key] = v;
        }
        const argv = [
            ...(container.command ?? []).slice(1).map((a: string) => rooted(expandVars(a, containerEnv))),
            ...(container.args ?? []).map((a: string) => rooted(expandVars(a, containerEnv))),
            ...(program.extraArgs?.(ctx) ?? []),
        ];

        const log = path.join(dir, name, "log");
        const fd = fs.openSync(log, "a");
        const child = spawn(program.bin, argv, { cwd: root, env, stdio: ["ignore", fd, fd], detached: true });
        fs.closeSync(fd);
        const info: PodProcess = {
            program: name,
            pod: id,
            container: container.name,
            podIP: pod.status?.podIP ?? "",
            pid: child.pid ?? -1,
            root,
            log,
            argv,
            startedAt: performance.now(),
        };
        live.add(child);
        if (!exitHookInstalled) {
            exitHookInstalled = true;
            process.once("exit", () => {
                for (const c of live) killGroup(c, "SIGKILL");
            });
        }
        child.once("exit", (code, signal) => {
            live.delete(child);
            info.exit = { code, signal };
            event(`${name} (pid ${info.pid}, pod ${id}) exited: ${code ?? signal}`);
        });
        child.once("error", (e) => event(`${name}: could not start ${program.bin}: ${e.message}`));
        procs.set(name, { info, child });
        event(
            `${name}: started ${path.basename(program.bin)} ${argv.join(" ")} for pod ${id} (${info.podIP}), pid ${info.pid}, root ${root}`,
        );
    };

    const poll = async (): Promise<void> => {
        const list = await getJson(["get", "pods", "--all-namespaces"]);
        const pods = (list?.items ?? [])
            .filter((p: any) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp)
            .sort((a: any, b: any) =>
                String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
            );
        for (const pod of pods) {
            const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
            for (const container of pod.spec.containers ?? []) {
                const image = imageName(container.image ?? "");
                for (const [name, program] of Object.entries(opts.programs)) {
                    if (!program.image.test(image) || stopping) continue;
                    const running = procs.get(name);
                    if (running) {
                        if (running.info.pod !== id && !skipped.has(id)) {
                            skipped.add(id);
                            event(
                                `${name}: pod ${id} skipped (one process per program; it runs for ${running.info.pod})`,
                            );
                        }
                        continue;
                    }
                    try {
                        await start(name, program, pod, container);
                        waiting.delete(name);
                    } catch (e) {
                        const why = `${name}: pod ${id} not started yet: ${(e as Error).message}`;
                        // Tried again at the next poll: a ConfigMap or Secret may come later (NotYet), as may a token.
                        if (waiting.get(name) !== why) event(e instanceof NotYet ? why : `${why} (will retry)`);
                        waiting.set(name, why);
                    }
                }
            }
        }
    };

    loopDone = (async () => {
        let lastError = "";
        for (let i = 0; i < maxPolls && !stopping; i++) {
            try {
                await poll();
            } catch (e) {
                const msg = (e as Error).message;
                if (msg !== lastError) event(`poll: ${msg}`);
                lastError = msg;
            }
            await sleep(pollMs);
        }
        ended = true;
        if (!stopping) event(`polling ended after ${maxPolls} polls`);
    })();

    const logs = (tailChars = 8000): string => {
        if (finalLogs !== undefined) return finalLogs;
        const parts = [`=== pod processes (${dir})`, ...events];
        for (const { info } of procs.values()) {
            let text: string;
            try {
                text = fs.readFileSync(info.log, "utf8");
            } catch {
                text = "(no log)";
            }
            const exit = info.exit ? ` (exited: ${info.exit.code ?? info.exit.signal})` : "";
            parts.push(`=== ${info.program} for ${info.pod}${exit}\n${text.slice(-tailChars)}`);
        }
        return parts.join("\n");
    };

    return {
        dir,
        started: () => [...procs.values()].map((p) => p.info),
        skipped: () => [...skipped],
        async waitFor(program, timeoutMs) {
            const deadline = performance.now() + timeoutMs;
            for (let i = 0; performance.now() < deadline; i++) {
                const p = procs.get(program);
                if (p) return p.info;
                if (ended || stopping) break;
                await sleep(Math.min(100 + i * 50, 500));
            }
            throw new Error(
                `${program}: no process started within ${timeoutMs} ms${waiting.has(program) ? ` (${waiting.get(program)})` : ""}`,
            );
        },
        async stop() {
            if (finalLogs !== undefined) return;
            stopping = true;
            await loopDone;
            await Promise.all(
                [...procs.values()].map(async ({ child }) => {
                    if (child.exitCode !== null || child.signalCode !== null) return;
                    const exited = new Promise<void>((r) => child.once("exit", () => r()));
                    killGroup(child, "SIGTERM");
                    const t = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
                    await exited;
                    clearTimeout(t);
                    // Whatever the program left in its group.
                    killGroup(child, "SIGKILL");
                }),
            );
            finalLogs = logs();
            if (!opts.keep && !opts.dir) fs.rmSync(dir, { recursive: true, force: true });
        },
        logs,
    };
}
