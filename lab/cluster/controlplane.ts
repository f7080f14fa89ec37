/**
 * A Kubernetes control plane built here and run on loopback only: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok (which fakes a node and makes the pods scheduled
 * to it Running and Ready with IPs), plus a kubectl of the same release.
 *
 * The binaries come from the project's own Go modules in lab/cluster/kube (k8s, etcd, kwok: three
 * modules, since their dependency graphs pin different gRPC and OpenTelemetry versions), built once
 * per machine into `<cache>/cluster/kube-<hash>` (see `ensureControlPlane`). `startCluster` runs
 * them on 127.0.0.1 with free ports, certificates made with openssl in a temporary folder, and
 * returns a kubeconfig for the cluster admin.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as k8s from "@kubernetes/client-node";
import { labCache, LAB_DIR, once } from "../build";
import { freePorts } from "../envoy";
import { stopProcess } from "./stop";

const KUBE_DIR = path.join(LAB_DIR, "cluster", "kube");
const MODULES = ["k8s", "etcd", "kwok"] as const;
/** Bumped when the build recipe below changes, so the cache key changes with it. */
const RECIPE = 1;

/** The programs each module builds, by package. */
const PROGRAMS: Record<(typeof MODULES)[number], Record<string, string>> = {
    k8s: {
        "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
        "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
        "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
        kubectl: "k8s.io/kubernetes/cmd/kubectl",
    },
    etcd: { etcd: "go.etcd.io/etcd/server/v3" },
    kwok: { kwok: "sigs.k8s.io/kwok/cmd/kwok" },
};

/** kwok's default stages (as kwokctl configures them): node initialize and lease heartbeat; pod ready, complete, delete. */
const KWOK_STAGES = [
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
];

export interface ControlPlaneVersions {
    kubernetes: string;
    etcd: string;
    kwok: string;
    go: string;
}

export interface ControlPlane {
    /** The folder holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok and kwok-stages.yaml. */
    bin: string;
    versions: ControlPlaneVersions;
    /** Seconds the build took; 0 when it came from the cache. */
    seconds: number;
    cached: boolean;
}

function required(module: string, dep: string): string {
    const gomod = fs.readFileSync(path.join(KUBE_DIR, module, "go.mod"), "utf8");
    const m = new RegExp(`^(?:require)?\\s*${dep.replace(/[./]/g, "\\$&")} (v\\S+)`, "m").exec(gomod);
    if (!m) throw new Error(`lab/cluster/kube/${module}/go.mod does not require ${dep}`);
    return m[1];
}

/** kwok's default stages (KWOK_STAGES), read from the kwok module lab/cluster/kube/kwok requires (downloaded when missing). */
export function kwokStages(): string {
    const out = execFileSync("go", ["mod", "download", "-json", "sigs.k8s.io/kwok"], {
        cwd: path.join(KUBE_DIR, "kwok"),
        encoding: "utf8",
        timeout: 300_000,
        env: { ...process.env, GOTOOLCHAIN: "local" },
    });
    const dir = (JSON.parse(out) as { Dir?: string }).Dir;
    if (!dir) throw new Error(`go mod download sigs.k8s.io/kwok gave no folder: ${out}`);
    return KWOK_STAGES.map((f) => fs.readFileSync(path.join(dir, f), "utf8").trim()).join("\n---\n") + "\n";
}

/** The versions the modules pin, read from their go.mod files. */
export function controlPlaneVersions(): ControlPlaneVersions {
    return {
        kubernetes: required("k8s", "k8s.io/kubernetes"),
        etcd: required("etcd", "go.etcd.io/etcd/server/v3"),
        kwok: required("kwok", "sigs.k8s.io/kwok"),
        go: execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8", timeout: 30_000 }).trim(),
    };
}

/** `-ldflags` per module: Kubernetes reports its release only when component-base's version is set. */
function ldflags(module: (typeof MODULES)[number], v: ControlPlaneVersions): string {
    if (module !== "k8s") return "-s -w";
    const [major, minor] = v.kubernetes.replace(/^v/, "").split(".");
    const pkg = "k8s.io/component-base/version";
    return [
        "-s -w",
        `-X ${pkg}.gitVersion=${v.kubernetes}`,
        `-X ${pkg}.gitMajor=${major}`,
        `-X ${pkg}.gitMinor=${minor}`,
        `-X ${pkg}.gitTreeState=clean`,
        `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
    ].join(" ");
}

/**
 * Builds the control plane's programs once per machine (cold: tens of minutes on two cores, most of
 * it kube-apiserver; then cached), keyed by the modules' go.mod/go.sum, the Go version and the recipe.
 */
export function ensureControlPlane(): ControlPlane {
    const versions = controlPlaneVersions();
    const hash = createHash("sha256");
    hash.update(`recipe ${RECIPE} ${versions.go}\n`);
    for (const m of MODULES) {
        for (const f of ["go.mod", "go.sum"]) hash.update(fs.readFileSync(path.join(KUBE_DIR, m, f)));
        hash.update(ldflags(m, versions));
    }
    const target = path.join(labCache(), "..", "cluster", `kube-${hash.digest("hex").slice(0, 16)}`);
    const built = once(target, (partial) => {
        fs.mkdirSync(partial, { recursive: true });
        for (const m of MODULES) {
            const cwd = path.join(KUBE_DIR, m);
            for (const [name, pkg] of Object.entries(PROGRAMS[m])) {
                execFileSync(
                    "go",
                    [
                        "build",
                        "-mod=readonly",
                        "-trimpath",
                        "-ldflags",
                        ldflags(m, versions),
                        "-o",
                        path.join(partial, name),
                        pkg,
                    ],
                    {
                        cwd,
                        stdio: ["ignore", "ignore", "inherit"],
                        timeout: 40 * 60_000,
                        env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local" },
                    },
                );
            }
        }
        fs.writeFileSync(path.join(partial, "kwok-stages.yaml"), kwokStages());
    });
    return { bin: built.path, versions, seconds: built.seconds, cached: built.cached };
}

export interface ClusterOptions {
    /** Pod IPs kwok hands out (the fake node's podCIDR). Nothing dials them. Default 10.244.0.0/24. */
    podCidr?: string;
    /** The fake node's name. Default "kwok-node-0". */
    nodeName?: string;
    /** Bound on the whole start, in ms. Default 180 000. */
    timeoutMs?: number;
    /** klog verbosity of the Kubernetes components. Default 1. */
    verbosity?: number;
    /**
     * A Job's pods complete only once annotated `JOB_DONE_ANNOTATION: "true"` (lab/cluster/jobs.ts
     * decides when), instead of as soon as they run. Default false.
     */
    gatedJobs?: boolean;
    /**
     * Pods whose first container runs one of these images get their IP and phase Running from kwok
     * but not Ready: the lab's kubelet stand-in (lab/cluster/podProcesses.ts, per-pod programs)
     * probes the process it starts for them and writes their readiness. Default none.
     */
    probedImages?: string[];
}

/** The annotation that lets kwok complete a Job's pod, with ClusterOptions.gatedJobs. */
export const JOB_DONE_ANNOTATION = "lab.istio-sticky.dev/job-done";

/** kwok's pod-complete stage, made to wait for JOB_DONE_ANNOTATION (its selector takes jq paths). */
export function gateJobCompletion(stages: string): string {
    const anchor =
        "    - key: '.metadata.ownerReferences.[].kind'\n      operator: 'In'\n      values:\n      - 'Job'\n";
    if (!stages.includes(anchor)) throw new Error("kwok's pod-complete stage no longer selects Job pods as expected");
    return stages.replace(
        anchor,
        `${anchor}    - key: '.metadata.annotations["${JOB_DONE_ANNOTATION}"]'\n      operator: 'In'\n      values:\n      - 'true'\n`,
    );
}

export interface Cluster {
    /** A kubeconfig file (cluster admin, group system:masters). */
    kubeconfig: string;
    /** https://127.0.0.1:<port> */
    server: string;
    /** What /version reports, e.g. v1.36.3. */
    version: string;
    /** The folder of the built binaries (kubectl is there). */
    bin: string;
    /** The fake node kwok manages. */
    nodeName: string;
    /** Seconds from the first process started to the cluster ready. */
    startSeconds: number;
    /** Kills every process and removes the temporary folder. */
    stop(): Promise<void>;
    /** The tail of each component's log. */
    logs(): string;
}

/** Every process a cluster of this process started, so none outlives it. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(p: ChildProcess): void {
    live.add(p);
    p.once("exit", () => live.delete(p));
    if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.once("exit", () => {
            for (const c of live) c.kill("SIGKILL");
        });
    }
}

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
}

/** A CA, the API server's serving certificate (127.0.0.1, localhost, kubernetes.default...), an admin client certificate and the service-account key. */
function makeCertificates(dir: string, serviceIp: string): void {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(dir, [
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=istio-sticky-lab-ca",
    ]);
    const san = [
        "IP:127.0.0.1",
        `IP:${serviceIp}`,
        "DNS:localhost",
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local",
    ].join(",");
    openssl(dir, [
        "req",
        ...ec,
        "-keyout",
        "apiserver.key",
        "-out",
        "apiserver.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=kube-apiserver",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-addext",
        `subjectAltName=${san}`,
        "-addext",
        "extendedKeyUsage=serverAuth",
    ]);
    openssl(dir, [
        "req",
        ...ec,
        "-keyout",
        "admin.key",
        "-out",
        "admin.crt",
        "-days",
        "3650",
        "-subj",
        "/O=system:masters/CN=istio-sticky-admin",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-addext",
        "extendedKeyUsage=clientAuth",
    ]);
    openssl(dir, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key"]);
    openssl(dir, ["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
}

function kubeconfigYaml(dir: string, server: string): string {
    const b64 = (f: string) => fs.readFileSync(path.join(dir, f)).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: lab",
        "  cluster:",
        `    server: ${server}`,
        `    certificate-authority-data: ${b64("ca.crt")}`,
        "users:",
        "- name: admin",
        "  user:",
        `    client-certificate-data: ${b64("admin.crt")}`,
        `    client-key-data: ${b64("admin.key")}`,
        "contexts:",
        "- name: lab",
        "  context:",
        "    cluster: lab",
        "    user: admin",
        "current-context: lab",
        "",
    ].join("\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One GET, bounded by `timeoutMs`; resolves with the status and body, or rejects. */
function get(
    url: string,
    tls: https.AgentOptions | undefined,
    timeoutMs: number,
): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const lib = url.startsWith("https:") ? https : http;
        const req = lib.get(url, { ...(tls ?? {}), timeout: timeoutMs } as https.RequestOptions, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
    });
}

/** A process of the cluster: its component's name and its log file. */
interface Component {
    name: string;
    proc: ChildProcess;
    log: string;
}

/** A cluster being started, shared by the phases of `startCluster`, then by its `stop` and `logs`. */
interface Start {
    /** The folder of the built binaries. */
    bin: string;
    /** The temporary folder: certificates, configuration files, logs and etcd's data. */
    dir: string;
    nodeName: string;
    podCidr: string;
    /** The Kubernetes components' `--v`. */
    verbosity: string;
    /** Bound on the whole start, in ms. */
    timeoutMs: number;
    /** Date.now() past which every wait of the start gives up. */
    deadline: number;
    /** The processes started, in order. */
    procs: Component[];
    /** `logs()` as `stop()` left them (the folder is gone). */
    finalLogs?: string;
}

/** Where the components listen: loopback ports, chosen free at the start. */
interface Endpoints {
    etcdUrl: string;
    etcdPeer: number;
    apiPort: number;
    kwokPort: number;
    /** The API server's URL, https://127.0.0.1:<apiPort>. */
    server: string;
    /** The admin's kubeconfig file. */
    kubeconfig: string;
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on 127.0.0.1, makes
 * a fake node kwok manages, and resolves once the API server is ready, the node is Ready and the
 * service-account controller has made the default ServiceAccount (every wait bounded). Builds the
 * binaries first if they are not cached (see `ensureControlPlane`).
 */
const READY_CONDITIONS =
    '        status: "True"\n        type: Ready\n      - lastTransitionTime: {{ $now | Quote }}\n        status: "True"\n        type: ContainersReady\n';
const POD_READY_SELECTOR = "  selector:\n    matchExpressions:\n";

/**
 * kwok's pod-ready stage split in two: pods whose first container runs one of `images` get a copy
 * ("pod-running-probed") that makes them Running with an IP but leaves Ready and ContainersReady
 * False, for the lab's kubelet stand-in to set; every other pod keeps kwok's own stage.
 */
export function leaveReadinessToProbes(stages: string, images: readonly string[]): string {
    if (!images.length) return stages;
    const docs = stages.split("\n---\n");
    const i = docs.findIndex((d) => /^\s*name: pod-ready$/m.test(d));
    if (i < 0 || !docs[i].includes(READY_CONDITIONS) || !docs[i].includes(POD_READY_SELECTOR))
        throw new Error("kwok's pod-ready stage no longer reads as expected");
    const values = images.map((im) => `      - '${im}'\n`).join("");
    const on = (op: string) =>
        `${POD_READY_SELECTOR}    - key: '.spec.containers.[0].image'\n      operator: '${op}'\n      values:\n${values}`;
    const probed = docs[i]
        .replace(/^(\s*name:) pod-ready$/m, "$1 pod-running-probed")
        .replace(POD_READY_SELECTOR, on("In"))
        .replace(READY_CONDITIONS, READY_CONDITIONS.replaceAll('"True"', '"False"'));
    docs[i] = docs[i].replace(POD_READY_SELECTOR, on("NotIn"));
    return `${[...docs.map((d) => d.replace(/\n$/, "")), probed.replace(/\n$/, "")].join("\n---\n")}\n`;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
    const cp = ensureControlPlane();
    const started = performance.now();
    const s = newStart(cp, opts);
    try {
        makeCertificates(s.dir, "10.96.0.1");
        const at = await chooseEndpoints(s);
        writeKubeconfig(s, at);
        writeKwokConfig(s, at, opts);
        await startEtcd(s, at);
        const version = await startApiServer(s, at);
        startControllers(s, at);
        const core = coreClient(at.kubeconfig);
        await addFakeNode(s, core);
        await waitForDefaultServiceAccount(s, core);
        return {
            kubeconfig: at.kubeconfig,
            server: at.server,
            version,
            bin: cp.bin,
            nodeName: s.nodeName,
            startSeconds: (performance.now() - started) / 1000,
            stop: () => stopCluster(s),
            logs: () => clusterLogs(s),
        };
    } catch (e) {
        // Whatever was started is stopped and the folder removed; the error carries the logs read before.
        const text = clusterLogs(s);
        await stopCluster(s);
        (e as Error).message += `\n${text}`;
        throw e;
    }
}

/** The options resolved, the start's deadline, and a new temporary folder; no process yet. */
function newStart(cp: ControlPlane, opts: ClusterOptions): Start {
    const timeoutMs = opts.timeoutMs ?? 180_000;
    const deadline = Date.now() + timeoutMs;
    return {
        bin: cp.bin,
        nodeName: opts.nodeName ?? "kwok-node-0",
        podCidr: opts.podCidr ?? "10.244.0.0/24",
        verbosity: String(opts.verbosity ?? 1),
        timeoutMs,
        deadline,
        dir: fs.mkdtempSync(path.join(os.tmpdir(), "sticky-kube-")),
        procs: [],
    };
}

/** Free loopback ports for etcd (client and peer), the API server and kwok. */
async function chooseEndpoints(s: Start): Promise<Endpoints> {
    const [etcdClient, etcdPeer, apiPort, kwokPort] = await freePorts(4);
    return {
        etcdUrl: `http://127.0.0.1:${etcdClient}`,
        etcdPeer,
        apiPort,
        kwokPort,
        server: `https://127.0.0.1:${apiPort}`,
        kubeconfig: path.join(s.dir, "kubeconfig"),
    };
}

/** The admin's kubeconfig for the API server, readable by its owner only. */
function writeKubeconfig(s: Start, at: Endpoints): void {
    fs.writeFileSync(at.kubeconfig, kubeconfigYaml(s.dir, at.server), { mode: 0o600 });
}

/** kwok.yaml: kwok's stages (Job completion gated with `gatedJobs`, readiness left to probes for `probedImages`) and its configuration for the fake node. */
function writeKwokConfig(s: Start, at: Endpoints, opts: ClusterOptions): void {
    const kwokStages = fs.readFileSync(path.join(s.bin, "kwok-stages.yaml"), "utf8");
    const stages = leaveReadinessToProbes(
        opts.gatedJobs ? gateJobCompletion(kwokStages) : kwokStages,
        opts.probedImages ?? [],
    );
    fs.writeFileSync(
        path.join(s.dir, "kwok.yaml"),
        stages +
            [
                "---",
                "apiVersion: config.kwok.x-k8s.io/v1alpha1",
                "kind: KwokConfiguration",
                "options:",
                `  cidr: ${s.podCidr}`,
                "  nodeIP: 127.0.0.1",
                "  manageAllNodes: false",
                "  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake",
                "  manageNodesWithLabelSelector: ''",
                `  serverAddress: 127.0.0.1:${at.kwokPort}`,
                // A configuration file is not defaulted as flags are: a parallelism of 0 is refused.
                "  nodeLeaseDurationSeconds: 40",
                "  nodeLeaseParallelism: 4",
                "  podPlayStageParallelism: 4",
                "  nodePlayStageParallelism: 4",
                "  podsOnNodeSyncParallelism: 1",
                "",
            ].join("\n"),
    );
}

/** Starts etcd and waits for its /health. */
async function startEtcd(s: Start, at: Endpoints): Promise<void> {
    run(s, "etcd", [
        "--name=lab",
        `--data-dir=${path.join(s.dir, "etcd")}`,
        `--listen-client-urls=${at.etcdUrl}`,
        `--advertise-client-urls=${at.etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${at.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${at.etcdPeer}`,
        `--initial-cluster=lab=http://127.0.0.1:${at.etcdPeer}`,
        "--initial-cluster-state=new",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]);
    await until(s, "etcd /health", async () => {
        const r = await get(`${at.etcdUrl}/health`, undefined, 2000);
        return r.status === 200 && /"health":\s*"true"/.test(r.body) ? true : undefined;
    });
}

/** Starts kube-apiserver, waits for its /readyz, and returns the release its /version reports. */
async function startApiServer(s: Start, at: Endpoints): Promise<string> {
    const { dir } = s;
    const pem = (f: string) => fs.readFileSync(path.join(dir, f));
    run(s, "kube-apiserver", [
        `--etcd-servers=${at.etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${at.apiPort}`,
        // The kubernetes Service's Endpoints may not hold a loopback address; nothing needs them here.
        "--endpoint-reconciler-type=none",
        "--service-cluster-ip-range=10.96.0.0/16",
        "--service-node-port-range=30000-32767",
        `--client-ca-file=${path.join(dir, "ca.crt")}`,
        `--tls-cert-file=${path.join(dir, "apiserver.crt")}`,
        `--tls-private-key-file=${path.join(dir, "apiserver.key")}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${path.join(dir, "sa.pub")}`,
        `--service-account-signing-key-file=${path.join(dir, "sa.key")}`,
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        // Calls to a Service go to one of its ready endpoints (pod IP:targetPort), not to its ClusterIP:
        // nothing here routes ClusterIPs. This covers admission webhooks too: cmd/kube-apiserver/app/server.go
        // (buildServiceResolver) makes the one resolver, an EndpointServiceResolver under this flag, that
        // CreateConfig (pkg/controlplane/apiserver/config.go) hands to the webhook admission plugins
        // (pkg/controlplane/apiserver/admission/config.go: webhookinit.NewPluginInitializer). Inside the
        // network namespace of lab/cluster/netns.sh pod IPs are local, so istiod's and cert-manager's
        // webhooks reach the processes lab/cluster/podProcesses.ts runs for their pods.
        "--enable-aggregator-routing=true",
        "--profiling=false",
        `--v=${s.verbosity}`,
    ]);
    const tls = { ca: pem("ca.crt"), cert: pem("admin.crt"), key: pem("admin.key") };
    await until(s, "kube-apiserver /readyz", async () => {
        const r = await get(`${at.server}/readyz`, tls, 5000);
        return r.status === 200 ? true : undefined;
    });
    return JSON.parse((await get(`${at.server}/version`, tls, 5000)).body).gitVersion;
}

/** Starts the API server's clients: kube-controller-manager, kube-scheduler and kwok (the waits after show them working). */
function startControllers(s: Start, at: Endpoints): void {
    const { dir, verbosity: v } = s;
    run(s, "kube-controller-manager", [
        `--kubeconfig=${at.kubeconfig}`,
        "--leader-elect=false",
        "--secure-port=0",
        "--controllers=*",
        `--service-account-private-key-file=${path.join(dir, "sa.key")}`,
        `--root-ca-file=${path.join(dir, "ca.crt")}`,
        `--cluster-signing-cert-file=${path.join(dir, "ca.crt")}`,
        `--cluster-signing-key-file=${path.join(dir, "ca.key")}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        `--v=${v}`,
    ]);
    run(s, "kube-scheduler", [`--kubeconfig=${at.kubeconfig}`, "--leader-elect=false", "--secure-port=0", `--v=${v}`]);
    run(s, "kwok", [`--kubeconfig=${at.kubeconfig}`, `--config=${path.join(dir, "kwok.yaml")}`, "--v=INFO"]);
}

/** A client of the core API as the cluster admin. */
function coreClient(kubeconfig: string): k8s.CoreV1Api {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    return kc.makeApiClient(k8s.CoreV1Api);
}

/** Creates the fake node kwok manages (annotated kwok.x-k8s.io/node=fake) and waits for kwok to make it Ready. */
async function addFakeNode(s: Start, core: k8s.CoreV1Api): Promise<void> {
    const { nodeName, podCidr } = s;
    await core.createNode({
        body: {
            apiVersion: "v1",
            kind: "Node",
            metadata: {
                name: nodeName,
                annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
                labels: {
                    type: "kwok",
                    "kubernetes.io/hostname": nodeName,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                },
            },
            spec: { podCIDR: podCidr, podCIDRs: [podCidr] },
            status: {
                allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
                capacity: { cpu: "32", memory: "256Gi", pods: "110" },
                nodeInfo: {
                    architecture: "amd64",
                    operatingSystem: "linux",
                    kubeletVersion: "fake",
                    kubeProxyVersion: "fake",
                    bootID: "",
                    containerRuntimeVersion: "",
                    kernelVersion: "",
                    machineID: "",
                    osImage: "",
                    systemUUID: "",
                },
            },
        },
    });
    await until(s, `node ${nodeName} Ready (kwok)`, async () => {
        const n = await core.readNode({ name: nodeName });
        return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
    });
}

/** Waits for the service-account controller (kube-controller-manager) to make the default ServiceAccount. */
async function waitForDefaultServiceAccount(s: Start, core: k8s.CoreV1Api): Promise<void> {
    await until(s, "the default ServiceAccount (kube-controller-manager)", async () => {
        await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
        return true;
    });
}

/** Spawns a component from the built binaries, in the start's folder, logging to `<name>.log` there. */
function run(s: Start, name: string, args: string[]): ChildProcess {
    const log = path.join(s.dir, `${name}.log`);
    const fd = fs.openSync(log, "a");
    const proc = spawn(path.join(s.bin, name), args, { cwd: s.dir, stdio: ["ignore", fd, fd] });
    fs.closeSync(fd);
    track(proc);
    s.procs.push({ name, proc, log });
    return proc;
}

/** Which component has exited, if any. */
function dead(s: Start): string | undefined {
    const d = s.procs.find(({ proc }) => proc.exitCode !== null || proc.signalCode !== null);
    return d && `${d.name} exited (${d.proc.exitCode ?? d.proc.signalCode})`;
}

/** Polls `check` every 250 ms until it returns a value, a process dies, or the start's deadline passes. */
async function until<T>(s: Start, what: string, check: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; s.deadline - Date.now() > 0; i++) {
        const why = dead(s);
        if (why) throw new Error(`${why} while waiting for ${what}`);
        try {
            const r = await check();
            if (r !== undefined) return r;
        } catch {
            // not yet
        }
        await sleep(Math.min(250 + i * 50, 1000));
    }
    throw new Error(`${what}: not within ${s.timeoutMs} ms`);
}

/** Kills every process, clients first and the store last, keeps the logs and removes the temporary folder. */
async function stopCluster(s: Start): Promise<void> {
    if (s.finalLogs !== undefined) return;
    // Clients first, the store last.
    for (const group of [["kwok", "kube-scheduler", "kube-controller-manager"], ["kube-apiserver"], ["etcd"]]) {
        await Promise.all(s.procs.filter((p) => group.includes(p.name)).map(({ proc }) => stopProcess(proc, 10_000)));
    }
    s.finalLogs = clusterLogs(s);
    fs.rmSync(s.dir, { recursive: true, force: true });
}

/** The tail of each component's log. */
function clusterLogs(s: Start): string {
    if (s.finalLogs !== undefined) return s.finalLogs;
    return s.procs
        .map(({ name, proc, log }) => {
            let text = "";
            try {
                text = fs.readFileSync(log, "utf8");
            } catch {
                text = "(no log)";
            }
            const exit =
                proc.exitCode !== null || proc.signalCode !== null
                    ? ` (exited: ${proc.exitCode ?? proc.signalCode})`
                    : "";
            return `=== ${name}${exit}\n${text.slice(-6000)}`;
        })
        .join("\n");
}
