/**
 * What the live gateway's Envoy holds, read from its admin: the hosts of a Service's cluster and
 * their health, a cluster's load-balancing policy, and whether it is connected to its xDS server.
 * The scenarios wait on these (bounded) rather than on durations.
 */
import { kubectlAsync, type Kubectl } from "../cluster/kubectl";
import type { LiveGateway } from "./gateway";

/** The clusters istiod makes for a Service host (outbound|<port>|<subset>|<host>), the direct subset left out. */
const forHost = (name: string, host: string) =>
    name.startsWith("outbound|") && name.endsWith(`|${host}`) && !name.split("|")[2].startsWith("direct");

/** The hosts (ip:port) of the host's clusters, and which of them Envoy counts healthy. */
export async function clusterHosts(gw: LiveGateway, host: string): Promise<{ all: string[]; healthy: string[] }> {
    const body = JSON.parse(await gw.admin("/clusters?format=json"));
    const all: string[] = [];
    const healthy: string[] = [];
    for (const c of body.cluster_statuses ?? []) {
        if (!forHost(c.name, host)) continue;
        for (const h of c.host_statuses ?? []) {
            const a = h.address?.socket_address;
            const id = `${a?.address}:${a?.port_value}`;
            all.push(id);
            const s = h.health_status ?? {};
            const bad = s.failed_active_health_check || s.failed_outlier_check || s.pending_dynamic_removal;
            if (!bad && (s.eds_health_status ?? "HEALTHY") === "HEALTHY") healthy.push(id);
        }
    }
    return { all: [...new Set(all)].sort(), healthy: [...new Set(healthy)].sort() };
}

/** The host's cluster as Envoy runs it (its lb_policy and the hash policy's config), from /config_dump. */
export async function activeCluster(gw: LiveGateway, host: string): Promise<any | undefined> {
    const dump = JSON.parse(await gw.admin("/config_dump?resource=dynamic_active_clusters"));
    return (dump.configs ?? [])
        .map((c: any) => c.cluster)
        .find((c: any) => c && forHost(c.name, host) && c.name.split("|")[2] === "");
}

/** The ready endpoints (ip:port) of a Service's EndpointSlices, as istiod reads them; `host` is its cluster-local name. */
export async function readyEndpoints(k: Kubectl, namespace: string, host: string): Promise<string[]> {
    const service = host.split(".")[0];
    const list = JSON.parse(
        await kubectlAsync(k, [
            "get",
            "endpointslices",
            "-n",
            namespace,
            "-l",
            `kubernetes.io/service-name=${service}`,
            "-o",
            "json",
        ]),
    );
    const out = new Set<string>();
    for (const slice of list.items ?? [])
        for (const e of slice.endpoints ?? [])
            if (e.conditions?.ready !== false)
                for (const a of e.addresses ?? []) for (const p of slice.ports ?? []) out.add(`${a}:${p.port}`);
    return [...out].sort();
}

/** Polls `check` (at most `seconds`) until it gives a value; throws with `what` when it never does. */
export async function until<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let last = "";
    for (let i = 0; Date.now() < deadline; i++) {
        try {
            const v = await check();
            if (v !== undefined) return v;
        } catch (e) {
            last = (e as Error).message;
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * (i + 1), 1000)));
    }
    throw new Error(`${what}: not within ${seconds} s${last ? ` (last error: ${last})` : ""}`);
}
