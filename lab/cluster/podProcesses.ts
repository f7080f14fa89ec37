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
    /**
     * One process per pod rather than per program (the demo app's replicas, each on its pod IP), run
     * as a kubelet runs a container: restarted when it exits (unless `hold` holds the pod), ended
     * (SIGTERM) when its pod is deleted, and its container's readinessProbe (httpGet) probed at the
     * pod's IP at every poll, the pod's Ready condition written back when the answer changes.
     */
    perPod?: boolean;
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
    /** performance.now() when it exited. */
    exitedAt?: number;
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
    /**
     * Kills a per-pod program's process (SIGKILL, as a crashed container) and keeps it down until
     * `release` (as a kubelet's crash-loop back-off would); its pod turns unready at the next poll.
     */
    hold(pod: string): Promise<void>;
    /** Lets a held pod's program start again at the next poll. */
    release(pod: string): void;
    /** A pod's Ready condition as the runner last wrote it (per-pod programs), by namespace/name. */
    readiness(): Record<string, boolean>;
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

/** A started program: what `started()` reports, and its child process. */
interface Started {
    info: PodProcess;
    child: ChildProcess;
}

/** The runner's state, shared by its phases. */
interface Runner {
    opts: PodProcessesOptions;
    /** Where the roots and logs go. */
    dir: string;
    kubectl: Kubectl;
    pollMs: number;
    maxPolls: number;
    /** performance.now() when the runner was made; the events' times count from it. */
    t0: number;
    /** The runner's own events, as `logs()` shows them. */
    events: string[];
    /** The started programs, by program name. */
    procs: Map<string, Started>;
    /** The pods skipped because their program already runs for another pod (namespace/name). */
    skipped: Set<string>;
    /** Why a program has not started yet, by program name (logged when it changes). */
    waiting: Map<string, string>;
    /** Set by `stop()`: no more polls and no more starts. */
    stopping: boolean;
    /** Pods whose per-pod program `hold` keeps down (namespace/name). */
    held: Set<string>;
    /** The Ready condition written for each pod of a per-pod program with a readiness probe. */
    ready: Map<string, boolean>;
    /** Restarts of per-pod programs, by pod (as a container's restartCount). */
    restarts: Map<string, number>;
    /** Pods `release` let go: their next start skips the back-off. */
    released: Set<string>;
    /** Per-pod processes of pods that are gone, until they have exited. */
    ending: Set<Started>;
    /** Set once polling has ended. */
    ended: boolean;
    /** The polling loop. */
    loopDone: Promise<void>;
    /** `logs()` as `stop()` left them. */
    finalLogs?: string;
}

/**
 * Starts polling pods and running the registered programs for them: each poll lists the Running pods
 * (`runningPods`), offers each container to the programs whose image it matches (`offer`: one process
 * per program), and starts a program as a kubelet would start the container (`startProgram`).
 */
export function startPodProcesses(opts: PodProcessesOptions): PodProcesses {
    const r = newRunner(opts);
    r.loopDone = pollUntilStopped(r);
    return {
        dir: r.dir,
        started: () => [...r.procs.values()].map((p) => p.info),
        skipped: () => [...r.skipped],
        waitFor: (program, timeoutMs) => waitFor(r, program, timeoutMs),
        stop: () => stop(r),
        logs: (tailChars) => logs(r, tailChars),
        hold: (pod) => hold(r, pod),
        release: (pod) => {
            r.held.delete(pod);
            // A released pod starts at the next poll, whatever its back-off.
            r.released.add(pod);
        },
        readiness: () => Object.fromEntries(r.ready),
    };
}

/** The runner's folder and its empty state, before the first poll. */
function newRunner(opts: PodProcessesOptions): Runner {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "sticky-pods-"));
    fs.mkdirSync(dir, { recursive: true });
    const pollMs = opts.pollMs ?? 500;
    return {
        opts,
        dir,
        kubectl: opts.kubectl,
        pollMs,
        maxPolls: Math.ceil(((opts.maxSeconds ?? 7200) * 1000) / pollMs),
        t0: performance.now(),
        events: [],
        procs: new Map(),
        skipped: new Set(),
        waiting: new Map(),
        stopping: false,
        held: new Set(),
        ready: new Map(),
        restarts: new Map(),
        released: new Set(),
        ending: new Set(),
        ended: false,
        loopDone: Promise.resolve(),
    };
}

/** Adds one of the runner's own events, with the seconds since the runner was made. */
function event(r: Runner, s: string): void {
    r.events.push(`[${((performance.now() - r.t0) / 1000).toFixed(1)} s] ${s}`);
}

/** namespace/name */
function podId(pod: any): string {
    return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

/** Polls every `pollMs` until `stop()` or `maxPolls` polls; a poll that fails is logged (once per message) and the next one runs anyway. */
async function pollUntilStopped(r: Runner): Promise<void> {
    let lastError = "";
    for (let i = 0; i < r.maxPolls && !r.stopping; i++) {
        try {
            await poll(r);
        } catch (e) {
            const msg = (e as Error).message;
            if (msg !== lastError) event(r, `poll: ${msg}`);
            lastError = msg;
        }
        await sleep(r.pollMs);
    }
    r.ended = true;
    if (!r.stopping) event(r, `polling ended after ${r.maxPolls} polls`);
}

/**
 * One poll: every container of the Running pods, oldest pod first, offered to the programs whose
 * image it matches; then the per-pod processes of pods gone are ended, and the others probed.
 */
async function poll(r: Runner): Promise<void> {
    const pods = await runningPods(r);
    for (const pod of pods) {
        for (const container of pod.spec.containers ?? []) {
            const image = imageName(container.image ?? "");
            for (const [name, program] of Object.entries(r.opts.programs)) {
                if (!program.image.test(image) || r.stopping) continue;
                await offer(r, name, program, pod, container);
            }
        }
    }
    const running = new Map(pods.map((p) => [podId(p), p]));
    for (const [key, started] of [...r.procs]) {
        if (!r.opts.programs[started.info.program]?.perPod) continue;
        const pod = running.get(started.info.pod);
        if (!pod) {
            // Deleted: the kubelet stops the container (SIGTERM, then SIGKILL after the grace period).
            r.procs.delete(key);
            r.ready.delete(started.info.pod);
            event(r, `${started.info.program}: pod ${started.info.pod} is gone; its process ends`);
            r.ending.add(started);
            void endGroup(started.child).finally(() => r.ending.delete(started));
            continue;
        }
        await probe(r, pod, started);
    }
}

/** The process key: the program's name, and for a per-pod program its pod too. */
function procKey(name: string, program: PodProgram, pod: any): string {
    return program.perPod ? `${name}@${podId(pod)}` : name;
}

/** GET of the container's readinessProbe at the pod's IP; the pod's Ready condition written when it changes. */
async function probe(r: Runner, pod: any, started: Started): Promise<void> {
    const container = (pod.spec.containers ?? []).find((c: any) => c.name === started.info.container);
    const get = readinessTarget(pod, container);
    if (!get) return;
    const port =
        typeof get.port === "number"
            ? get.port
            : (container.ports ?? []).find((p: any) => p.name === get.port)?.containerPort;
    let ok = false;
    if (started.info.exit === undefined && port) {
        try {
            const res = await fetch(`http://${started.info.podIP}:${port}${get.path ?? "/"}`, {
                signal: AbortSignal.timeout((container.readinessProbe.timeoutSeconds ?? 1) * 1000),
            });
            ok = res.status >= 200 && res.status < 400;
        } catch {
            ok = false;
        }
    }
    const id = started.info.pod;
    if (r.ready.get(id) === ok) return;
    const status = ok ? "True" : "False";
    const now = new Date().toISOString();
    const patch = {
        status: {
            conditions: ["Ready", "ContainersReady"].map((type) => ({ type, status, lastTransitionTime: now })),
            // The list is replaced whole: the pod's other containers keep their statuses.
            containerStatuses: [
                ...(pod.status?.containerStatuses ?? []).filter((c: any) => c.name !== started.info.container),
                {
                    name: started.info.container,
                    image: container.image,
                    imageID: "",
                    ready: ok,
                    restartCount: r.restarts.get(id) ?? 0,
                    started: started.info.exit === undefined,
                    state:
                        started.info.exit === undefined
                            ? { running: { startedAt: now } }
                            : { terminated: { exitCode: started.info.exit.code ?? 137, reason: "Error" } },
                },
            ],
        },
    };
    await kubectlAsync(r.kubectl, [
        "patch",
        "pod",
        pod.metadata.name,
        "-n",
        pod.metadata.namespace,
        "--subresource=status",
        "--type=strategic",
        "-p",
        JSON.stringify(patch),
    ]);
    r.ready.set(id, ok);
    event(r, `${started.info.program}: pod ${id} ${ok ? "ready" : "not ready"}`);
}

/**
 * What a container's readinessProbe asks for. With a sidecar, Istio's injector rewrites an httpGet
 * probe to the agent's status port (/app-health/<container>/readyz on 15020) and keeps the original
 * in the istio-proxy container's ISTIO_KUBE_APP_PROBERS; the agent forwards the kubelet's probe to
 * it (pilot/cmd/pilot-agent/status/server.go). No agent runs here, so the original is probed.
 */
export function readinessTarget(pod: any, container: any): { path?: string; port?: number | string } | undefined {
    const get = container?.readinessProbe?.httpGet;
    if (!get || !String(get.path ?? "").startsWith("/app-health/")) return get;
    const env = (pod.spec?.containers ?? []).flatMap((c: any) => c.env ?? []);
    const probers = env.find((e: any) => e.name === "ISTIO_KUBE_APP_PROBERS")?.value;
    const original = probers ? JSON.parse(probers)[get.path]?.httpGet : undefined;
    return original ?? get;
}

/** Kills a pod's per-pod process and keeps it down until `release`. */
async function hold(r: Runner, pod: string): Promise<void> {
    r.held.add(pod);
    const started = [...r.procs.values()].find((p) => p.info.pod === pod);
    if (!started) throw new Error(`no process runs for pod ${pod}`);
    if (started.child.exitCode === null && started.child.signalCode === null) {
        const exited = new Promise<void>((res) => started.child.once("exit", () => res()));
        killGroup(started.child, "SIGKILL");
        await exited;
    }
}

/** The pods in phase Running and not being deleted, oldest first. */
async function runningPods(r: Runner): Promise<any[]> {
    const list = await getJson(r.kubectl, ["get", "pods", "--all-namespaces"]);
    return (list?.items ?? [])
        .filter((p: any) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp)
        .sort((a: any, b: any) =>
            String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
        );
}

/** One process per program: starts the program for the pod unless it already runs (for another pod: skipped and logged). */
async function offer(r: Runner, name: string, program: PodProgram, pod: any, container: any): Promise<void> {
    const id = podId(pod);
    const running = r.procs.get(procKey(name, program, pod));
    // kwok hands a deleted pod's IP to the next pod at once; in a pod of its own the new process would
    // not share the old one's address, here it waits until the old one (draining) has exited.
    if (program.perPod && [...r.ending].some((e) => e.info.podIP === pod.status?.podIP)) return;
    if (running && program.perPod) {
        // restartPolicy Always: an exited container starts again (not while `hold` holds it), after
        // the kubelet's crash-loop back-off (none for the first restart, then 10 s doubling to 5 min).
        if (running.info.exit === undefined || r.held.has(id)) return;
        const restarts = r.restarts.get(id) ?? 0;
        const backOff = restarts === 0 || r.released.has(id) ? 0 : Math.min(10_000 * 2 ** (restarts - 1), 300_000);
        if (performance.now() < (running.info.exitedAt ?? 0) + backOff) return;
        r.restarts.set(id, restarts + 1);
        r.released.delete(id);
    } else if (running) {
        if (running.info.pod !== id && !r.skipped.has(id)) {
            r.skipped.add(id);
            event(r, `${name}: pod ${id} skipped (one process per program; it runs for ${running.info.pod})`);
        }
        return;
    }
    try {
        await startProgram(r, name, program, pod, container);
        r.waiting.delete(name);
    } catch (e) {
        const why = `${name}: pod ${id} not started yet: ${(e as Error).message}`;
        // Tried again at the next poll: a ConfigMap or Secret may come later (NotYet), as may a token.
        if (r.waiting.get(name) !== why) event(r, e instanceof NotYet ? why : `${why} (will retry)`);
        r.waiting.set(name, why);
    }
}

/** Starts the program for the pod's container as a kubelet would start the container. */
async function startProgram(r: Runner, name: string, program: PodProgram, pod: any, container: any): Promise<void> {
    const key = procKey(name, program, pod);
    const folder = key.replace(/[/@]/g, "_");
    const root = makeRoot(r, folder);
    const mounts = await mountVolumes(r, pod, container, root);
    const rooted = rootedIn(root, mounts);
    const containerEnv = await containerEnvironment(r, pod, container);
    const ctx: PodProgramContext = { pod, container, root, kubeconfig: r.kubectl.kubeconfig };
    const env = processEnvironment(program, ctx, containerEnv, rooted);
    const argv = processArguments(program, ctx, containerEnv, rooted);
    spawnProgram(r, { name, key, folder }, program, ctx, argv, env);
}

/** A new, empty folder standing in for the container's root filesystem (the program's earlier folder removed). */
function makeRoot(r: Runner, name: string): string {
    const root = path.join(r.dir, name, "root");
    fs.rmSync(path.join(r.dir, name), { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
    return root;
}

/** Writes the container's volumes at their mountPaths under root, and returns the mountPaths. */
async function mountVolumes(r: Runner, pod: any, container: any, root: string): Promise<string[]> {
    const mounts: string[] = [];
    for (const m of container.volumeMounts ?? []) {
        const v = (pod.spec.volumes ?? []).find((x: any) => x.name === m.name);
        if (!v) throw new Error(`${podId(pod)}: volumeMount ${m.name} names no volume`);
        const files = await volumeFiles(r, pod, container, v);
        mounts.push(m.mountPath);
        writeMount(path.join(root, m.mountPath), m.subPath, files);
    }
    return mounts;
}

/** A volume's files at `target`: the file `subPath` names, or the folder it names, or the whole volume. */
function writeMount(target: string, subPath: string | undefined, files: Record<string, Buffer> | undefined): void {
    if (subPath) {
        const content = files?.[subPath];
        if (content !== undefined) {
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, content);
            return;
        }
    }
    fs.mkdirSync(target, { recursive: true });
    for (const [rel, content] of Object.entries(files ?? {})) {
        const inVolume = subPath ? (rel.startsWith(`${subPath}/`) ? rel.slice(subPath.length + 1) : undefined) : rel;
        if (inVolume === undefined) continue;
        const file = path.join(target, inVolume);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
    }
}

/** A rewrite of an absolute path inside a mount to the path the process sees from its working directory. */
function rootedIn(root: string, mounts: string[]): (s: string) => string {
    return (s) => (mounts.some((mp) => s === mp || s.startsWith(`${mp.replace(/\/$/, "")}/`)) ? path.join(root, s) : s);
}

/** The process's environment: PATH, HOME and HOSTNAME, then the container's (rooted), then the program's. */
function processEnvironment(
    program: PodProgram,
    ctx: PodProgramContext,
    containerEnv: Record<string, string>,
    rooted: (s: string) => string,
): Record<string, string> {
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: ctx.root,
        HOSTNAME: ctx.pod.metadata.name,
    };
    for (const [key, v] of Object.entries(containerEnv)) env[key] = rooted(v);
    for (const [key, v] of Object.entries(program.env?.(ctx) ?? {})) {
        if (v === undefined) delete env[key];
        else env[key] = v;
    }
    return env;
}

/** The process's arguments: the container's command after the first element, then its args (expanded, rooted), then the program's. */
function processArguments(
    program: PodProgram,
    ctx: PodProgramContext,
    containerEnv: Record<string, string>,
    rooted: (s: string) => string,
): string[] {
    return [
        ...(ctx.container.command ?? []).slice(1).map((a: string) => rooted(expandVars(a, containerEnv))),
        ...(ctx.container.args ?? []).map((a: string) => rooted(expandVars(a, containerEnv))),
        ...(program.extraArgs?.(ctx) ?? []),
    ];
}

/** Spawns the program in its own process group, in root, logging to the program's log; records it in `procs`. */
function spawnProgram(
    r: Runner,
    { name, key, folder }: { name: string; key: string; folder: string },
    program: PodProgram,
    ctx: PodProgramContext,
    argv: string[],
    env: Record<string, string>,
): void {
    const { pod, container, root } = ctx;
    const id = podId(pod);
    const log = path.join(r.dir, folder, "log");
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
        info.exitedAt = performance.now();
        event(r, `${name} (pid ${info.pid}, pod ${id}) exited: ${code ?? signal}`);
    });
    child.once("error", (e) => event(r, `${name}: could not start ${program.bin}: ${e.message}`));
    r.procs.set(key, { info, child });
    event(
        r,
        `${name}: started ${path.basename(program.bin)} ${argv.join(" ")} for pod ${id} (${info.podIP}), pid ${info.pid}, root ${root}`,
    );
}

/** `kubectl get ... -o json`, or undefined if the object does not exist. */
async function getJson(k: Kubectl, args: string[]): Promise<any | undefined> {
    try {
        return JSON.parse(await kubectlAsync(k, [...args, "-o", "json"]));
    } catch (e) {
        if (/NotFound|not found/.test(String(e))) return undefined;
        throw e;
    }
}

/** The data of a ConfigMap or Secret (Secret values decoded), or undefined if it does not exist. */
async function source(
    k: Kubectl,
    kind: "configmap" | "secret",
    namespace: string,
    name: string,
): Promise<Record<string, Buffer> | undefined> {
    const o = await getJson(k, ["get", kind, name, "-n", namespace]);
    if (!o) return undefined;
    const out: Record<string, Buffer> = {};
    if (kind === "secret")
        for (const [key, v] of Object.entries(o.data ?? {})) out[key] = Buffer.from(String(v), "base64");
    else {
        for (const [key, v] of Object.entries(o.data ?? {})) out[key] = Buffer.from(String(v), "utf8");
        for (const [key, v] of Object.entries(o.binaryData ?? {})) out[key] = Buffer.from(String(v), "base64");
    }
    return out;
}

/** `source`, or NotYet if it does not exist and is not optional. */
async function required(
    k: Kubectl,
    kind: "configmap" | "secret",
    ns: string,
    name: string,
    optional: boolean | undefined,
): Promise<Record<string, Buffer> | undefined> {
    const data = await source(k, kind, ns, name);
    if (!data && !optional) throw new NotYet(`${kind} ${ns}/${name} does not exist`);
    return data;
}

/** A token of the pod's ServiceAccount, bound to the pod, as the kubelet requests it. */
async function token(
    k: Kubectl,
    pod: any,
    audience: string | undefined,
    expirationSeconds: number | undefined,
): Promise<Buffer> {
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
}

/** Keys of a ConfigMap or Secret as files: every key, or the `items` asked for. */
function keyFiles(
    data: Record<string, Buffer> | undefined,
    items: { key: string; path: string }[] | undefined,
    optional: boolean | undefined,
    what: string,
): Record<string, Buffer> {
    const files: Record<string, Buffer> = {};
    if (!data) return files;
    if (!items) return { ...data };
    for (const it of items) {
        if (it.key in data) files[it.path] = data[it.key];
        else if (!optional) throw new NotYet(`${what} has no key ${it.key}`);
    }
    return files;
}

/** A downwardAPI volume's (or projected source's) items as files. */
function downwardFiles(pod: any, container: any, items: any[]): Record<string, Buffer> {
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
}

/** A volume's files by relative path; undefined for an empty folder (emptyDir, and kinds not supported). */
async function volumeFiles(r: Runner, pod: any, container: any, v: any): Promise<Record<string, Buffer> | undefined> {
    const k = r.kubectl;
    const ns = pod.metadata.namespace;
    if (v.configMap) {
        const data = await required(k, "configmap", ns, v.configMap.name, v.configMap.optional);
        return keyFiles(data, v.configMap.items, v.configMap.optional, `configmap ${ns}/${v.configMap.name}`);
    }
    if (v.secret) {
        const data = await required(k, "secret", ns, v.secret.secretName, v.secret.optional);
        return keyFiles(data, v.secret.items, v.secret.optional, `secret ${ns}/${v.secret.secretName}`);
    }
    if (v.downwardAPI) return downwardFiles(pod, container, v.downwardAPI.items);
    if (v.projected) {
        const files: Record<string, Buffer> = {};
        for (const s of v.projected.sources ?? []) {
            if (s.configMap) {
                const data = await required(k, "configmap", ns, s.configMap.name, s.configMap.optional);
                Object.assign(
                    files,
                    keyFiles(data, s.configMap.items, s.configMap.optional, `configmap ${ns}/${s.configMap.name}`),
                );
            } else if (s.secret) {
                const data = await required(k, "secret", ns, s.secret.name, s.secret.optional);
                Object.assign(
                    files,
                    keyFiles(data, s.secret.items, s.secret.optional, `secret ${ns}/${s.secret.name}`),
                );
            } else if (s.serviceAccountToken) {
                files[s.serviceAccountToken.path] = await token(
                    k,
                    pod,
                    s.serviceAccountToken.audience,
                    s.serviceAccountToken.expirationSeconds,
                );
            } else if (s.downwardAPI) {
                Object.assign(files, downwardFiles(pod, container, s.downwardAPI.items));
            } else {
                event(
                    r,
                    `${ns}/${pod.metadata.name}: projected source ${Object.keys(s).join(",")} of volume ${v.name} not supported: left out`,
                );
            }
        }
        return files;
    }
    if (!v.emptyDir)
        event(
            r,
            `${ns}/${pod.metadata.name}: volume ${v.name} (${Object.keys(v).join(",")}) not supported: an empty folder`,
        );
    return undefined;
}

/** The container's environment, resolved in order as a kubelet does. */
async function containerEnvironment(r: Runner, pod: any, container: any): Promise<Record<string, string>> {
    const ns = pod.metadata.namespace;
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
        const ref = from.configMapRef ?? from.secretRef;
        const kind = from.configMapRef ? "configmap" : "secret";
        const data = await required(r.kubectl, kind, ns, ref.name, ref.optional);
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
            const data = await required(r.kubectl, kind, ns, ref.name, ref.optional);
            if (data && ref.key in data) env[e.name] = data[ref.key].toString("utf8");
            else if (!ref.optional) throw new NotYet(`${kind} ${ns}/${ref.name} has no key ${ref.key} (env ${e.name})`);
        } else {
            event(
                r,
                `${ns}/${pod.metadata.name}: env ${e.name}: valueFrom ${Object.keys(vf).join(",")} not supported: left out`,
            );
        }
    }
    return env;
}

/** Resolves with the program's process once started; rejects after `timeoutMs` or if polling ended. */
async function waitFor(r: Runner, program: string, timeoutMs: number): Promise<PodProcess> {
    const deadline = performance.now() + timeoutMs;
    for (let i = 0; performance.now() < deadline; i++) {
        const p = r.procs.get(program);
        if (p) return p.info;
        if (r.ended || r.stopping) break;
        await sleep(Math.min(100 + i * 50, 500));
    }
    throw new Error(
        `${program}: no process started within ${timeoutMs} ms${r.waiting.has(program) ? ` (${r.waiting.get(program)})` : ""}`,
    );
}

/** Stops polling, ends every process group and waits for them, keeps the logs, and removes a folder of its own. */
async function stop(r: Runner): Promise<void> {
    if (r.finalLogs !== undefined) return;
    r.stopping = true;
    await r.loopDone;
    await Promise.all([...r.procs.values()].map(({ child }) => endGroup(child)));
    r.finalLogs = logs(r);
    if (!r.opts.keep && !r.opts.dir) fs.rmSync(r.dir, { recursive: true, force: true });
}

/** Ends a process group: SIGTERM, then SIGKILL after 10 s; once the process has exited, SIGKILL for what it left. */
async function endGroup(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    killGroup(child, "SIGTERM");
    const t = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
    // Whatever the program left in its group.
    killGroup(child, "SIGKILL");
}

/** The runner's own events and the tail of each process's log. */
function logs(r: Runner, tailChars = 8000): string {
    if (r.finalLogs !== undefined) return r.finalLogs;
    const parts = [`=== pod processes (${r.dir})`, ...r.events];
    for (const { info } of r.procs.values()) {
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
}
