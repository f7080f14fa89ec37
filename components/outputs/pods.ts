export interface PodAddress {
    name: string;
    ip: string;
}

/** The part of a discovery.k8s.io/v1 EndpointSlice the pod list is read from. */
export interface EndpointSliceView {
    addressType?: string;
    endpoints?: {
        addresses?: string[];
        conditions?: { ready?: boolean | null };
        targetRef?: { kind?: string; name?: string };
    }[];
}

/** The label the EndpointSlice controller puts on every slice of a Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/**
 * The ready pods behind a Service, by name, from all its EndpointSlices.
 * Endpoints that are not ready are left out (direct requests to them would
 * fail); a missing `ready` counts as ready, as the API defines. IPv4 only: the
 * direct-routing guard matches IPv4 addresses.
 */
export function podsFromEndpointSlices(slices: readonly EndpointSliceView[]): PodAddress[] {
    const pods = new Map<string, PodAddress>();
    for (const slice of slices) {
        if (slice.addressType !== undefined && slice.addressType !== "IPv4") continue;
        for (const e of slice.endpoints ?? []) {
            const ip = e.addresses?.[0];
            if (!ip || e.conditions?.ready === false) continue;
            pods.set(ip, { name: e.targetRef?.kind === "Pod" && e.targetRef.name ? e.targetRef.name : ip, ip });
        }
    }
    return [...pods.values()].sort((x, y) => x.name.localeCompare(y.name));
}

/** The part of a v1 Pod the slices are checked against. */
export interface PodView {
    metadata?: { name?: string; deletionTimestamp?: unknown };
    status?: { podIP?: string; conditions?: { type?: string; status?: string }[] };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Whether a Service's EndpointSlices have caught up with its pods. The EndpointSlice controller
 * writes the slices after it sees a pod change, so right after a rollout completes (the Deployment
 * counts its pods ready) the slices can still miss a new pod or list a removed one; istiod routes
 * by the slices, and so does the pod list exported. Settled: every ready, running pod the Service
 * selects is listed ready, and every endpoint listed ready is a pod that exists and is not being
 * deleted (with `publishNotReadyAddresses`, any pod the Service selects: the controller lists
 * them all as ready, terminating ones included). Only IPv4, as `podsFromEndpointSlices` reads.
 */
export function slicesSettled(
    listed: readonly PodAddress[],
    pods: readonly PodView[],
    publishNotReadyAddresses = false,
): { settled: boolean; missing: string[]; stale: string[] } {
    const withIp = pods.filter((p) => IPV4.test(p.status?.podIP ?? ""));
    const live = withIp.filter((p) => p.metadata?.deletionTimestamp == null);
    const ready = live.filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    const shown = new Set(listed.map((p) => p.ip));
    const allowed = new Set((publishNotReadyAddresses ? withIp : live).map((p) => p.status!.podIP!));
    const missing = ready.map((p) => p.status!.podIP!).filter((ip) => !shown.has(ip));
    const stale = [...shown].filter((ip) => !allowed.has(ip));
    return { settled: missing.length === 0 && stale.length === 0, missing, stale };
}
