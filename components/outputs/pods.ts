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
