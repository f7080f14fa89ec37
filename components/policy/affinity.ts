import { AffinityMode, HashAlgorithm, isHashMode } from "../settings/enums";
import type { AffinitySettings } from "../settings/schema";
import { DEMO_SESSION_COOKIE } from "../settings/wellKnown";

/** The Service labels Istio reads to turn on Envoy's stateful-session filter. */
export const PERSISTENT_COOKIE_LABEL = "istio.io/persistent-session";
export const PERSISTENT_HEADER_LABEL = "istio.io/persistent-session-header";
/** The istiod switch that makes those labels take effect. */
export const PERSISTENT_SESSION_ENV = "PILOT_ENABLE_PERSISTENT_SESSION_FILTER";

/** `trafficPolicy.loadBalancer` of a DestinationRule (networking.istio.io/v1). */
export interface LoadBalancerSettings {
    simple?: "ROUND_ROBIN" | "LEAST_REQUEST" | "RANDOM" | "PASSTHROUGH";
    consistentHash?: Record<string, unknown>;
    localityLbSetting?: { enabled: boolean };
}

function consistentHashKey(a: AffinitySettings): Record<string, unknown> {
    switch (a.mode) {
        case AffinityMode.Header:
            return { httpHeaderName: a.headerName };
        case AffinityMode.QueryParameter:
            return { httpQueryParameterName: a.queryParameterName };
        case AffinityMode.SourceIp:
            return { useSourceIp: true };
        case AffinityMode.Cookie: {
            const c = a.cookie!;
            return {
                httpCookie: {
                    name: c.name,
                    path: c.path,
                    ...(c.ttl !== undefined ? { ttl: c.ttl } : {}),
                    ...(c.attributes.length ? { attributes: c.attributes } : {}),
                },
            };
        }
        default:
            throw new Error(`mode ${a.mode} has no hash key`);
    }
}

function hashAlgorithm(a: AffinitySettings): Record<string, unknown> {
    if (a.algorithm === HashAlgorithm.Maglev) {
        // Validation fills in a size: istiod's webhook rejects maglev without one.
        return { maglev: { tableSize: a.maglevTableSize } };
    }
    if (a.algorithm === HashAlgorithm.RingHash) {
        return { ringHash: a.minimumRingSize !== undefined ? { minimumRingSize: a.minimumRingSize } : {} };
    }
    return {};
}

/**
 * The load balancer a DestinationRule needs for the policy. Hash modes turn off
 * locality load balancing, which would otherwise override the hash. Persistent
 * modes place new sessions round robin; the stateful-session filter keeps them.
 */
export function loadBalancerFor(a: AffinitySettings): LoadBalancerSettings {
    if (isHashMode(a.mode)) {
        return {
            consistentHash: { ...consistentHashKey(a), ...hashAlgorithm(a) },
            localityLbSetting: { enabled: false },
        };
    }
    return { simple: "ROUND_ROBIN" };
}

/** Labels the backend Service needs for the policy (persistent modes only). */
export function serviceLabelsFor(a: AffinitySettings): Record<string, string> {
    if (a.mode === AffinityMode.PersistentCookie) return { [PERSISTENT_COOKIE_LABEL]: a.cookie!.name };
    if (a.mode === AffinityMode.PersistentHeader) return { [PERSISTENT_HEADER_LABEL]: a.headerName! };
    return {};
}

export enum SessionKeySource {
    Header = "header",
    Cookie = "cookie",
    /** A cookie the demo app sets itself when the client has none. */
    IssuedCookie = "issued-cookie",
    Query = "query",
    None = "none",
}

/** The header a client names its own session with in persistentHeader mode (the routing header names the pod). */
export const CLIENT_SESSION_HEADER = "x-session-id";

/**
 * Where the client's session key travels, so the demo app counts per client.
 * In the persistent modes the routing cookie or header holds the pod's address,
 * shared by every client on that pod, so the client is named apart from it.
 */
export function sessionKeyFor(a: AffinitySettings): { source: SessionKeySource; name?: string } {
    switch (a.mode) {
        case AffinityMode.Header:
            return { source: SessionKeySource.Header, name: a.headerName };
        case AffinityMode.PersistentHeader:
            return { source: SessionKeySource.Header, name: CLIENT_SESSION_HEADER };
        case AffinityMode.Cookie:
            return { source: SessionKeySource.Cookie, name: a.cookie!.name };
        case AffinityMode.PersistentCookie:
            return { source: SessionKeySource.IssuedCookie, name: DEMO_SESSION_COOKIE };
        case AffinityMode.QueryParameter:
            return { source: SessionKeySource.Query, name: a.queryParameterName };
        default:
            return { source: SessionKeySource.None };
    }
}

/** One line saying what the policy does, for outputs and render. */
export function describeAffinity(a: AffinitySettings): string {
    const algo = a.algorithm ? ` (${a.algorithm})` : "";
    switch (a.mode) {
        case AffinityMode.Header:
            return `consistent hash on header ${a.headerName}${algo}`;
        case AffinityMode.Cookie:
            return `consistent hash on cookie ${a.cookie!.name}${a.cookie!.ttl !== undefined ? `, set by Envoy with ttl ${a.cookie!.ttl}` : ", set by the app"}${algo}`;
        case AffinityMode.QueryParameter:
            return `consistent hash on query parameter ${a.queryParameterName}${algo}`;
        case AffinityMode.SourceIp:
            return `consistent hash on the client's source IP${algo}`;
        case AffinityMode.PersistentCookie:
            return `persistent session: pod address kept in cookie ${a.cookie!.name}`;
        case AffinityMode.PersistentHeader:
            return `persistent session: pod address kept in header ${a.headerName}`;
        default:
            return "round robin (no affinity)";
    }
}

/**
 * Whether in-mesh callers of an ambient app need a waypoint to be sticky: ztunnel
 * carries L4 only, and a hash policy (header, cookie, query parameter, source IP) is
 * applied by an L7 proxy. A waypoint applies the Service's DestinationRule load
 * balancer to its inbound clusters (pilot/pkg/networking/core/cluster_waypoint.go:
 * buildWaypointInboundVIPCluster → applyLoadBalancer).
 */
export function needsWaypoint(mode: AffinityMode): boolean {
    return isHashMode(mode);
}
