/** How requests of one session are kept on one pod. */
export enum AffinityMode {
    /** Consistent hash on a request header (weak stickiness). */
    Header = "header",
    /** Consistent hash on a cookie; Envoy sets the cookie when a TTL is given (weak stickiness). */
    Cookie = "cookie",
    /** Consistent hash on a query parameter (weak stickiness). */
    QueryParameter = "queryParameter",
    /** Consistent hash on the client's source IP (weak stickiness; works on TCP too). */
    SourceIp = "sourceIp",
    /** Envoy stateful session: the pod address is kept in a cookie (strong stickiness). */
    PersistentCookie = "persistentCookie",
    /** Envoy stateful session: the pod address is kept in a header (strong stickiness). */
    PersistentHeader = "persistentHeader",
    /** No affinity: plain round robin. */
    None = "none",
}

/** The consistent-hash algorithm Envoy uses for hash modes. */
export enum HashAlgorithm {
    RingHash = "ringHash",
    Maglev = "maglev",
}

/**
 * Whether the gateway Service keeps client addresses (Local) or may SNAT them to
 * a node address (Cluster, the Kubernetes default).
 */
export enum ExternalTrafficPolicy {
    Cluster = "Cluster",
    Local = "Local",
}

/**
 * How the ingress is configured: Istio's own API (networking.istio.io Gateway and
 * VirtualServices) or the Kubernetes Gateway API (gateway.networking.k8s.io Gateway
 * and HTTPRoutes), both served by the Helm-installed gateway.
 */
export enum IngressApi {
    Istio = "istio",
    GatewayApi = "gatewayApi",
}

/**
 * Istio's data plane for the apps: a sidecar in every pod, or ambient (a ztunnel
 * per node for L4 and mTLS, waypoints for L7, no sidecars).
 */
export enum Dataplane {
    Sidecar = "sidecar",
    Ambient = "ambient",
}

/** The Kubernetes Service type of the ingress gateway. */
export enum GatewayServiceType {
    LoadBalancer = "LoadBalancer",
    NodePort = "NodePort",
    ClusterIP = "ClusterIP",
}

export const HASH_MODES: readonly AffinityMode[] = [
    AffinityMode.Header,
    AffinityMode.Cookie,
    AffinityMode.QueryParameter,
    AffinityMode.SourceIp,
];

export const PERSISTENT_MODES: readonly AffinityMode[] = [AffinityMode.PersistentCookie, AffinityMode.PersistentHeader];

export function isHashMode(mode: AffinityMode): boolean {
    return HASH_MODES.includes(mode);
}

export function isPersistentMode(mode: AffinityMode): boolean {
    return PERSISTENT_MODES.includes(mode);
}

/** Where direct (per-pod) routing is offered: at the ingress gateway, and to in-mesh callers. */
export enum DirectContext {
    Gateway = "gateway",
    Sidecar = "sidecar",
}

/** Who signs the gateway's certificate. */
export enum TlsIssuer {
    /** A self-signed certificate: for kind, minikube and tests. */
    SelfSigned = "selfSigned",
    /** An ACME CA (Let's Encrypt by default), HTTP-01 through the Istio ingress gateway. */
    Acme = "acme",
}

/**
 * The protocol Istio is told an existing Service's port speaks (its `appProtocol`,
 * pilot/pkg/serviceregistry/kube/conversion.go: kube.ConvertProtocol): HTTP routing,
 * hashing and persistent sessions need one of these.
 */
export enum AppProtocol {
    Http = "http",
    Http2 = "http2",
    Grpc = "grpc",
}
