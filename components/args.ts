/**
 * The settings the components take, as named interfaces. Each agrees with the
 * validation schema (components/settings/schema.ts) field for field: the
 * checks at the end of this file fail the build when a field is added to one
 * and not the other.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type {
    AffinityMode,
    AppProtocol,
    Dataplane,
    DirectContext,
    ExternalTrafficPolicy,
    GatewayServiceType,
    HashAlgorithm,
    IngressApi,
    TlsIssuer,
} from "./settings/enums";
import type { affinitySchema, appSchema, meshSchema, tlsSchema } from "./settings/schema";

export interface CookieAttribute {
    /** e.g. SameSite, Secure, HttpOnly. */
    name: string;
    value?: string;
}

export interface Cookie {
    name: string;
    /** Envoy sets the cookie itself when a TTL is given ("0s": a session cookie). Default: the app sets it. */
    ttl?: string;
    /** @default "/" */
    path?: string;
    /** Extra attributes (Istio 1.28+), e.g. {name: "SameSite", value: "Lax"}. @default [] */
    attributes?: CookieAttribute[];
}

export interface Affinity {
    mode: AffinityMode;
    /** The header to hash on (header) or that carries the pod's address (persistentHeader). */
    headerName?: string;
    /** The cookie to hash on (cookie) or that carries the pod's address (persistentCookie). */
    cookie?: Cookie;
    queryParameterName?: string;
    /** Hash modes: ringHash or maglev. @default Envoy's ring hash */
    algorithm?: HashAlgorithm;
    minimumRingSize?: number;
    /** A prime below 5000011. @default 65537 with maglev */
    maglevTableSize?: number;
}

export interface Match {
    /** Exact header values a request must carry to reach this app. */
    headers: Record<string, string>;
}

export interface Direct {
    /** Settings without `enabled` are refused; `false` keeps them while it is off. @default false */
    enabled?: boolean;
    /** Clients (by original address) allowed to send the direct header. @default loopback and the private ranges */
    allowedClients?: string[];
    /** The opt-in request header; a request routes to a chosen pod only with "<header>: true". @default "use-direct" */
    header?: string;
    /** The pod network (IPv4 CIDR, /8 or narrower): the only addresses a direct request may name. Required when enabled. */
    podCidr?: string;
    /** Where direct routing is offered. @default ["gateway"] */
    contexts?: DirectContext[];
}

export interface Autoscaling {
    minReplicas: number;
    maxReplicas: number;
    /** Target average CPU utilization in percent. @default 80 */
    cpuUtilization?: number;
}

/** An existing Service an app makes sticky: the package deploys no workload for it and never deletes the Service. */
export interface ExistingService {
    /** The Service's name in the app's namespace. @default the app's name */
    name?: string;
    /** The Service port the gateway routes to. */
    port: number;
    /** The port the pods listen on, when it differs (direct requests name <pod IP>:<targetPort>). @default port */
    targetPort?: number;
    /** The Service's selector (the pods' labels); required with direct routing. */
    podLabels?: Record<string, string>;
    /** What Istio is told the port speaks, patched onto the Service port. @default "http" */
    appProtocol?: AppProtocol;
    /** Answer with the pod's address in a response header (x-istio-sticky-pod), so verify can tell the pods apart. @default true */
    podHeader?: boolean;
    /**
     * Label the namespace for the mesh (sidecar injection, or ambient enrolment). No default: with sidecars the
     * pods get one only when they restart. The gateway applies the affinity either way.
     */
    enrolNamespace: boolean;
}

/** The settings of one app, as stack config and StickySessions take them. */
export interface App {
    /** The app's Kubernetes name (DNS-1123 label). */
    name: string;
    /** @default the app's name */
    namespace?: string;
    /** Leave it out with autoscaling. @default 3 */
    replicas?: number;
    /** Path prefix on the gateway; requests reach the app with it removed. @default "/<name>" */
    path?: string;
    /** Your own image (with a tag or digest) instead of the demo app; it must serve HTTP on `port` and /healthz. */
    image?: string;
    /** @default 8080 */
    port?: number;
    /** A string the demo app returns. @default the app's name */
    target?: string;
    /** @default {mode: "none"} (round robin) */
    affinity?: Affinity;
    /** Route only requests with these exact header values here (apps may then share a path). */
    match?: Match;
    /** Direct routing to a chosen pod. */
    direct?: Direct;
    /** A HorizontalPodAutoscaler and a PodDisruptionBudget instead of a fixed replica count. */
    autoscaling?: Autoscaling;
    /** Require mutual TLS for traffic to the app (PeerAuthentication STRICT); false: PERMISSIVE. @default true */
    strictMtls?: boolean;
    /** Remove the path prefix before the app sees the request. @default true, false for an existing Service */
    stripPath?: boolean;
    /** The gateway hosts the app is served on, each among the gateway's hosts. @default all of them ("*") */
    hosts?: string[];
    /** An existing Service to make sticky instead of deploying a workload (image, replicas, autoscaling, target, port and strictMtls are then left out). */
    service?: ExistingService;
}

export interface Gateway {
    /** Helm release name of the gateway; also its Deployment and Service name. @default "istio-ingressgateway" */
    name?: string;
    /** @default "istio-ingress" */
    namespace?: string;
    /** NodePort for kind and minikube. @default "LoadBalancer" */
    serviceType?: GatewayServiceType;
    /** Gateway pod labels. @default {app: <name>, istio: <name without "istio-">} */
    labels?: Record<string, string>;
    /** Hosts the shared Istio Gateway serves. @default ["*"] */
    hosts?: string[];
    /** Local keeps client addresses (NodePort and LoadBalancer only). @default "Local" with direct routing at the gateway, else Kubernetes' "Cluster" */
    externalTrafficPolicy?: ExternalTrafficPolicy;
    /** Proxies in front of the gateway that append to X-Forwarded-For. @default 0 */
    numTrustedProxies?: number;
    /** Istio's Gateway and VirtualServices, or the Kubernetes Gateway API's Gateway and HTTPRoutes (CRDs installed with the mesh). @default "istio" */
    api?: IngressApi;
}

/** Extra Helm values per chart, merged over the ones the package sets. */
export interface MeshValues {
    /** @default {} */
    base?: Record<string, any>;
    /** @default {} */
    istiod?: Record<string, any>;
    /** @default {} */
    gateway?: Record<string, any>;
    /** istio-cni (ambient only). @default {} */
    cni?: Record<string, any>;
    /** ztunnel (ambient only). @default {} */
    ztunnel?: Record<string, any>;
}

export interface Mesh {
    /** Install Istio, or use one already in the cluster. @default true */
    install?: boolean;
    /** Where the charts come from: an https:// Helm repository or an oci:// registry. @default "https://blob.istio.io/istio-release/charts" */
    chartRepository?: string;
    /** Istio version for every chart: 1.30 (1.30.1 or later) or 1.31. @default the newest confirmed 1.31 patch */
    version?: string;
    /** Where Istio's images come from (a registry path, no tag). @default "docker.io/istio" */
    hub?: string;
    /** Where the Gateway API's CRDs come from: <this>/<version>/standard-install.yaml. @default the Gateway API's GitHub releases */
    gatewayApiCrdsRepository?: string;
    /** An Istio revision (canary upgrades); app namespaces then use `istio.io/rev`. */
    revision?: string;
    /** Sidecars, or ambient: istio-cni and ztunnel installed too, app namespaces enrolled, waypoints for in-mesh L7. @default "sidecar" */
    dataplane?: Dataplane;
    gateway?: Gateway;
    values?: MeshValues;
}

export interface Acme {
    email: string;
    /** @default Let's Encrypt's production directory */
    server?: string;
    /** The ingress class the HTTP-01 solver uses; Istio serves "istio". @default "istio" */
    ingressClass?: string;
}

export interface Tls {
    /** Settings without `enabled` are refused; `false` keeps them while it is off. @default false */
    enabled?: boolean;
    /** Install cert-manager (CRDs included). @default true */
    installCertManager?: boolean;
    /** @default the newest confirmed cert-manager patch */
    certManagerVersion?: string;
    /** An oci:// registry or an https:// repository. @default "oci://quay.io/jetstack/charts" */
    chartRepository?: string;
    /** @default "selfSigned" */
    issuer?: TlsIssuer;
    acme?: Acme;
    /** The certificate's names (each among the gateway's hosts). */
    hosts?: string[];
    /** Redirect HTTP to HTTPS. @default true, except with ACME (HTTP-01 answers on port 80) */
    httpsRedirect?: boolean;
}

// ---- The names the args go by in TypeScript ----
// The interfaces above are named as other languages see them: Pulumi's SDK generators add "Args"
// to input types (Python's sticky.AffinityArgs, Go's istiosticky.AffinityArgs).

export type CookieAttributeArgs = CookieAttribute;
export type CookieArgs = Cookie;
export type AffinityArgs = Affinity;
export type MatchArgs = Match;
export type DirectArgs = Direct;
export type AutoscalingArgs = Autoscaling;
export type ExistingServiceArgs = ExistingService;
export type AppArgs = App;
export type GatewayArgs = Gateway;
export type MeshValuesArgs = MeshValues;
export type MeshArgs = Mesh;
export type AcmeArgs = Acme;
export type TlsArgs = Tls;

// ---- Agreement with the schema, checked by the compiler ----

/** T with every pulumi.Input unwrapped, deeply. */
export type Plain<T> = T extends pulumi.Resource
    ? T
    : T extends pulumi.OutputInstance<infer U>
      ? Plain<U>
      : T extends Promise<infer U>
        ? Plain<U>
        : T extends readonly (infer E)[]
          ? Plain<E>[]
          : T extends object
            ? { [K in keyof T]: Plain<T[K]> }
            : T;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];
/** The same field names, and the same ones optional. */
type KeysEqual<A, B> = [Same<keyof A, keyof B>, Same<OptionalKeys<A>, OptionalKeys<B>>] extends [true, true]
    ? true
    : false;
type AllTrue<T> = [T] extends [true] ? true : false;

/** `any` (a free-form value such as Helm values; Pulumi's schema calls it Any) agrees with the schema's `unknown`. */
type IsAny<T> = 0 extends 1 & T ? true : false;

/** True when A and B have the same fields at every depth, optional in both or in neither, and the same leaf types. */
export type Agree<A, B> =
    IsAny<A> extends true
        ? Same<unknown, B>
        : [NonNullable<A>] extends [readonly (infer EA)[]]
          ? [NonNullable<B>] extends [readonly (infer EB)[]]
              ? Agree<EA, EB>
              : false
          : [NonNullable<A>] extends [object]
            ? [NonNullable<B>] extends [object]
                ? KeysEqual<NonNullable<A>, NonNullable<B>> extends true
                    ? AllTrue<
                          {
                              [K in keyof NonNullable<A> & keyof NonNullable<B>]-?: Agree<
                                  NonNullable<A>[K],
                                  NonNullable<B>[K]
                              >;
                          }[keyof NonNullable<A> & keyof NonNullable<B>]
                      >
                    : false
                : false
            : Same<NonNullable<A>, NonNullable<B>>;

/** Compiles only when its argument is `true`. */
export type Check<T extends true> = T;

// Each line below names the args and the schema input they must agree with.
export type AppArgsAgree = Check<Agree<App, z.input<typeof appSchema>>>;
export type AffinityArgsAgree = Check<Agree<Affinity, z.input<typeof affinitySchema>>>;
export type MeshArgsAgree = Check<Agree<Mesh, z.input<typeof meshSchema>>>;
export type TlsArgsAgree = Check<Agree<Tls, z.input<typeof tlsSchema>>>;
