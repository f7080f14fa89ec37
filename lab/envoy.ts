/**
 * The gateway's generated configuration, run by a real upstream Envoy.
 *
 * istiod's output, stripped of what only Istio's proxy or agent provides by the
 * live relay's own code (lab/xds/strip, applied by the xds program), is made
 * static here; everything that decides stickiness is left exactly as istiod
 * wrote it (route hash_policy, cluster lb_policy and ring/maglev sizes, the
 * stateful_session filter and its per-route config, ORIGINAL_DST clusters,
 * RBAC). REMOVED lists each change and why.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { LabWorld } from "./world";
import type { ProxyConfig } from "./xds";

/** One change the lab makes to istiod's gateway configuration: where it applies (the static lab, the live relay) and why. */
export interface Removal {
    id: string;
    what: string;
    why: string;
    in: ("static" | "live")[];
}

/**
 * What the lab takes out of or changes in istiod's gateway configuration, and why: the one list
 * (lab/xds/strip/removals.json) that the live relay's Go code (lab/xds/strip) applies and counts by id.
 */
export const REMOVED: readonly Removal[] = JSON.parse(
    fs.readFileSync(path.join(__dirname, "xds", "strip", "removals.json"), "utf8"),
);

const HCM = "envoy.filters.network.http_connection_manager";

function staticHcm(hcm: any, routes: Map<string, any>): any {
    if (!hcm.rds) return hcm;
    const rc = routes.get(hcm.rds.route_config_name);
    if (!rc) throw new Error(`istiod sent no route configuration ${hcm.rds.route_config_name}`);
    const out = { ...hcm, route_config: rc };
    delete out.rds;
    return out;
}

/** A DownstreamTlsContext reading SDS secret kubernetes://<name> (or kubernetes-gateway://<ns>/<name>), with the certificate inlined. */
function staticTls(ts: any, certificates: LabWorld["certificates"]): any {
    const ctx = ts.typed_config;
    const common = { ...ctx.common_tls_context };
    const sds: any[] = common.tls_certificate_sds_secret_configs ?? [];
    if (!sds.length) return ts;
    const name = sds[0].name.replace(/^kubernetes(-gateway)?:\/\/(?:[^/]+\/)?/, "");
    const cert = certificates[name];
    if (!cert) throw new Error(`the gateway reads secret ${sds[0].name}, which the lab did not make`);
    delete common.tls_certificate_sds_secret_configs;
    common.tls_certificates = [
        { certificate_chain: { inline_string: cert.cert }, private_key: { inline_string: cert.key } },
    ];
    return { ...ts, typed_config: { ...ctx, common_tls_context: common } };
}

export interface EnvoyConfig {
    bootstrap: any;
    /** Gateway listener port (as istiod wrote it: 80, 443) → the loopback port it is bound to. */
    ports: Record<number, number>;
    adminPort: number;
}

/**
 * The runtime istio-agent gives the gateway's Envoy: its bootstrap's layers, flags included (Istio's
 * pkg/bootstrap/config.go: extractRuntimeFlags). Envoy's own defaults differ: 1.40 turns
 * coalesce_lb_rebuilds_on_batch_update on, which Istio turns off (envoyproxy/envoy#45212: new
 * endpoints got no traffic after a scale-up).
 */
export function agentRuntime(gw: ProxyConfig): any {
    const runtime = gw.bootstrap?.layered_runtime;
    if (!runtime?.layers?.length)
        throw new Error("istiod's result for the gateway holds no bootstrap runtime (the xds program's bootstrap)");
    return runtime;
}

/**
 * A bootstrap with the gateway's listeners, routes, clusters and endpoints as static resources, and
 * istio-agent's runtime. The configuration is istiod's with the lab's removals already made by the
 * relay's own code (`stripped`, from lab/xds/strip through the xds program); what is left here is
 * what makes it static: routes, endpoints and the gateway's certificate inlined, and the listeners
 * bound to loopback ports (the rules marked "static" in removals.json).
 */
export function gatewayBootstrap(
    gw: ProxyConfig,
    world: Pick<LabWorld, "certificates">,
    ports: Record<number, number>,
    adminPort: number,
): any {
    const g = gw.stripped;
    if (!g) throw new Error("istiod's result for the gateway holds no stripped configuration (the xds program's)");
    const routes = new Map(g.routes.map((rc) => [rc.name, rc]));
    const endpoints = new Map(g.endpoints.map((e) => [e.cluster_name, e]));
    const listeners = g.listeners
        .filter((l) => l.address?.socket_address && !l.internal_listener)
        .map((l) => {
            const port = l.address.socket_address.port_value;
            if (ports[port] === undefined) throw new Error(`no loopback port for the gateway's listener on ${port}`);
            return {
                ...l,
                address: { socket_address: { address: "127.0.0.1", port_value: ports[port] } },
                filter_chains: (l.filter_chains ?? []).map((fc: any) => ({
                    ...fc,
                    ...(fc.transport_socket
                        ? { transport_socket: staticTls(fc.transport_socket, world.certificates) }
                        : {}),
                    filters: (fc.filters ?? []).map((f: any) =>
                        f.name === HCM ? { ...f, typed_config: staticHcm(f.typed_config, routes) } : f,
                    ),
                })),
            };
        });
    const clusters = g.clusters.map((c) => {
        if (c.type !== "EDS") return c;
        const out = { ...c, type: "STATIC" };
        delete out.eds_cluster_config;
        const service = c.eds_cluster_config?.service_name ?? c.name;
        out.load_assignment = { ...(endpoints.get(service) ?? { endpoints: [] }), cluster_name: c.name };
        return out;
    });
    return {
        node: {
            id: "router~127.0.9.1~istio-ingressgateway-lab.istio-ingress~istio-ingress.svc.cluster.local",
            cluster: "istio-ingressgateway.istio-ingress",
        },
        admin: { address: { socket_address: { address: "127.0.0.1", port_value: adminPort } } },
        layered_runtime: agentRuntime(gw),
        static_resources: { listeners, clusters },
    };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
    return (await freePorts(1))[0];
}

/**
 * `count` distinct free TCP ports on 127.0.0.1: all held open at once before any is released, since
 * a port released by one probe may be handed out again to the next.
 */
export async function freePorts(count: number): Promise<number[]> {
    const servers = await Promise.all(
        Array.from(
            { length: count },
            () =>
                new Promise<net.Server>((resolve, reject) => {
                    const s = net.createServer();
                    s.once("error", reject);
                    s.listen(0, "127.0.0.1", () => resolve(s));
                }),
        ),
    );
    const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    return ports;
}

export interface RunningEnvoy {
    ports: Record<number, number>;
    adminPort: number;
    proc: ChildProcess;
    log: () => string;
    stop(): Promise<void>;
}

/** Starts Envoy on the bootstrap and waits (at most 20 s) until its admin says it is live. */
export async function startEnvoy(
    envoy: string,
    gw: ProxyConfig,
    world: Pick<LabWorld, "certificates">,
): Promise<RunningEnvoy> {
    const listenerPorts = gw.listeners
        .filter((l) => l.address?.socket_address && !l.internal_listener)
        .map((l) => l.address.socket_address.port_value as number);
    const [adminPort, ...free] = await freePorts(listenerPorts.length + 1);
    const ports: Record<number, number> = Object.fromEntries(listenerPorts.map((p, i) => [p, free[i]]));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-lab-envoy-"));
    const file = path.join(dir, "envoy.json");
    fs.writeFileSync(file, JSON.stringify(gatewayBootstrap(gw, world, ports, adminPort)));
    let output = "";
    const proc = spawn(
        envoy,
        ["-c", file, "--base-id", String(Math.floor(Math.random() * 1e6)), "--log-level", "warn", "--concurrency", "2"],
        {
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    proc.stdout!.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-20_000)));
    proc.stderr!.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-20_000)));
    const stop = async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
            const exited = new Promise<void>((r) => proc.once("exit", () => r()));
            proc.kill("SIGTERM");
            await Promise.race([exited, new Promise<void>((r) => setTimeout(() => (proc.kill("SIGKILL"), r()), 5000))]);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
        if (proc.exitCode !== null) break;
        try {
            const res = await fetch(`http://127.0.0.1:${adminPort}/ready`);
            if (res.ok) return { ports, adminPort, proc, log: () => output, stop };
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    await stop();
    throw new Error(`Envoy did not become ready on the gateway's configuration:\n${output.slice(-4000)}`);
}
