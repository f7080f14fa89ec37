/**
 * The gateway pod's proxy, live: upstream Envoy with the bootstrap istio-agent writes for that pod
 * (Istio's pkg/bootstrap and template, through the xds program), in a folder standing in for the
 * container's root, and the lab's relay (lab/xds/relay) on the agent's socket
 * (./etc/istio/proxy/XDS, as the bootstrap names it), passing istiod's pushes from its plaintext
 * xDS port (15010 at the istiod pod's IP) to Envoy over delta ADS, with the lab's removals.
 *
 * Runs inside the harness's network namespace (lab/cluster/netns.sh): the bootstrap's and
 * istiod's listener addresses (0.0.0.0:80, :15021, :15090; admin 127.0.0.1:15000) are the
 * namespace's, and every pod IP is local, so a request to the gateway pod's IP reaches this Envoy.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureEnvoy, ensureRelay } from "../build";
import { imageName } from "../cluster/podProcesses";
import { kubectlAsync, type Kubectl } from "../cluster/kubectl";
import { stopProcess } from "../cluster/stop";
import { generateXds } from "../xds";

/** What the relay reports (GET /status). */
export interface RelayStatus {
    removals: Record<string, number>;
    /** The list the removals are counted by (lab/xds/strip/removals.json). */
    rules: { id: string; what: string; why: string; in: string[] }[];
    pushes: Record<string, number>;
    nacks: { typeUrl: string; message: string }[];
    streams: number;
    upstreamErrors: string[];
}

export interface LiveGateway {
    /** namespace/name of the gateway pod. */
    pod: string;
    /** The gateway pod's IP: what the load balancer would send clients to. */
    ip: string;
    /** Envoy's admin port (the bootstrap's, on 127.0.0.1). */
    adminPort: number;
    relay(): Promise<RelayStatus>;
    /** GET on Envoy's admin, as text. */
    admin(pathAndQuery: string): Promise<string>;
    stop(): Promise<void>;
    logs(): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Running pods as the API server lists them. */
async function pods(k: Kubectl): Promise<any[]> {
    const list = JSON.parse(await kubectlAsync(k, ["get", "pods", "-A", "-o", "json"]));
    return (list.items as any[]).filter((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp);
}

/** The gateway chart's pod: a proxyv2 container that runs `proxy router`. */
export function isGatewayPod(pod: any): boolean {
    return (pod.spec?.containers ?? []).some(
        (c: any) => /\/proxyv2$/.test(imageName(c.image ?? "")) && (c.args ?? []).includes("router"),
    );
}

/** Waits (bounded) for a pod the test picks, Running with an IP. */
async function waitForPod(k: Kubectl, what: string, pick: (p: any) => boolean, seconds: number): Promise<any> {
    const deadline = Date.now() + seconds * 1000;
    for (let i = 0; Date.now() < deadline; i++) {
        const pod = (await pods(k)).find((p) => pick(p) && p.status?.podIP);
        if (pod) return pod;
        await sleep(Math.min(200 * (i + 1), 2000));
    }
    throw new Error(`no ${what} pod ran within ${seconds} s`);
}

/** A process of the gateway pod's, its output kept (the tail) for `logs()`. */
function child(bin: string, args: string[], cwd: string): { proc: ChildProcess; output: () => string } {
    let out = "";
    const proc = spawn(bin, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (b: Buffer) => (out = (out + b.toString()).slice(-30_000));
    proc.stdout!.on("data", keep);
    proc.stderr!.on("data", keep);
    return { proc, output: () => out };
}

/**
 * Starts the gateway pod's Envoy and the relay, and waits (at most `seconds`) until Envoy has taken
 * istiod's first push (its admin /ready says LIVE and it has a listener on `port`).
 */
export async function startLiveGateway(
    k: Kubectl,
    opts: { istioVersion: string; port?: number; seconds?: number },
): Promise<LiveGateway> {
    const seconds = opts.seconds ?? 180;
    const port = opts.port ?? 80;
    const gw = await waitForPod(k, "ingress gateway", isGatewayPod, seconds);
    const istiod = await waitForPod(
        k,
        "istiod",
        (p) => (p.spec?.containers ?? []).some((c: any) => /\/pilot$/.test(imageName(c.image ?? ""))),
        seconds,
    );
    const { name, namespace } = gw.metadata;
    const ip: string = gw.status.podIP;
    const mesh = JSON.parse(
        await kubectlAsync(k, ["get", "configmap", "istio", "-n", istiod.metadata.namespace, "-o", "json"]),
    ).data?.mesh;
    const [result] = generateXds([
        {
            name: "live-gateway",
            env: {},
            configs: "",
            kubernetes: "",
            meshConfig: mesh ?? "",
            istioVersion: opts.istioVersion,
            proxies: [
                {
                    name: "gateway",
                    type: "router",
                    namespace,
                    labels: gw.metadata.labels ?? {},
                    ip,
                    id: `router~${ip}~${name}.${namespace}~${namespace}.svc.cluster.local`,
                } as any,
            ],
        },
    ]);
    if (result.error || !result.proxies.gateway?.bootstrap)
        throw new Error(`the gateway's bootstrap: ${result.error ?? "none rendered"}`);
    const bootstrap = result.proxies.gateway.bootstrap;
    const adminPort: number = bootstrap.admin.address.socket_address.port_value;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-live-gateway-"));
    const proxyDir = path.join(root, "etc", "istio", "proxy");
    fs.mkdirSync(proxyDir, { recursive: true });
    fs.writeFileSync(path.join(proxyDir, "envoy-rev.json"), JSON.stringify(bootstrap, null, 1));
    const relay = child(
        ensureRelay().path,
        [
            "--listen",
            path.join(proxyDir, "XDS"),
            "--upstream",
            `${istiod.status.podIP}:15010`,
            "--status",
            "127.0.0.1:0",
        ],
        root,
    );
    const envoy = child(
        ensureEnvoy().path,
        [
            "-c",
            "etc/istio/proxy/envoy-rev.json",
            "--base-id",
            String(Math.floor(Math.random() * 1e6)),
            "--log-level",
            "warn",
            "--concurrency",
            "2",
            "--component-log-level",
            "misc:error",
            "--drain-time-s",
            "5",
        ],
        root,
    );
    // The test process ending (an interrupted run) ends them too.
    const kill = () => [envoy.proc, relay.proc].forEach((p) => p.exitCode === null && p.kill("SIGKILL"));
    process.once("exit", kill);
    const stop = async () => {
        process.removeListener("exit", kill);
        await stopProcess(envoy.proc, 5000);
        await stopProcess(relay.proc, 5000);
        fs.rmSync(root, { recursive: true, force: true });
    };
    const logs = () => `=== relay\n${relay.output()}\n=== envoy\n${envoy.output()}`;
    const admin = async (p: string) => {
        const res = await fetch(`http://127.0.0.1:${adminPort}${p}`, { signal: AbortSignal.timeout(5000) });
        return res.text();
    };
    let statusUrl = "";
    const status = async (): Promise<RelayStatus> => {
        statusUrl ||= /status (http:\/\/\S+)/.exec(relay.output())?.[1] ?? "";
        if (!statusUrl) throw new Error(`the relay printed no status address:\n${relay.output()}`);
        return (await (await fetch(statusUrl, { signal: AbortSignal.timeout(5000) })).json()) as RelayStatus;
    };
    const deadline = Date.now() + seconds * 1000;
    for (let i = 0; Date.now() < deadline; i++) {
        if (envoy.proc.exitCode !== null || relay.proc.exitCode !== null) break;
        try {
            const ready = (await admin("/ready")).trim();
            const listeners = JSON.parse(await admin("/listeners?format=json")).listener_statuses ?? [];
            const ports = listeners.map((l: any) => l.local_address?.socket_address?.port_value);
            if (ready === "LIVE" && ports.includes(port)) {
                return { pod: `${namespace}/${name}`, ip, adminPort, relay: status, admin, stop, logs };
            }
        } catch {
            // not up yet
        }
        await sleep(Math.min(200 * (i + 1), 1000));
    }
    const out = logs();
    await stop();
    throw new Error(
        `the gateway's Envoy took no listener on ${port} from istiod within ${seconds} s:\n${out.slice(-6000)}`,
    );
}
