import { serviceName, type AppSettings } from "../settings/schema";
import { POD_HEADER } from "../settings/wellKnown";
import { hostCovered } from "../settings/validate";
import { gatewayApiCrdsUrl } from "../settings/versions";
import { groupByPath, hostRouting, POD_HEADER_VALUE, podHeader, routeName } from "./routes";
import { COMMON_LABELS, HELM_RELEASE_API_VERSION, K8sObject } from "./types";

/** The Kubernetes Gateway API's group; its kinds are served by Istio's gateway controller. */
export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
/** The class Istio's controller serves (istio.io/gateway-controller). */
export const ISTIO_GATEWAY_CLASS = "istio";
/**
 * ReferenceGrant's version Istio 1.30 watches (pkg/config/schema/gvk/resources.gen.go:
 * ReferenceGrant is gateway.networking.k8s.io/v1beta1).
 */
export const REFERENCE_GRANT_API_VERSION = `${GATEWAY_API_GROUP}/v1beta1`;
/** The kind render prints a manifest file fetched at deploy time as. */
export const MANIFEST_FILE_KIND = "ManifestFile";

/** A manifest the deploy applies from a URL, as render prints it: what it is, where from, at which version. */
export function manifestFileDocument(name: string, url: string, version: string): K8sObject {
    return {
        apiVersion: HELM_RELEASE_API_VERSION,
        kind: MANIFEST_FILE_KIND,
        metadata: { name },
        spec: { url, version },
    };
}

/** The Gateway API's standard-channel CRDs at `version` (GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant, …), from `releases`. */
export function buildGatewayApiCrds(version: string, releases: string): K8sObject {
    return manifestFileDocument("gateway-api-standard-crds", gatewayApiCrdsUrl(version, releases), version);
}

/** The listener names routes attach to (a route's parentRefs[].sectionName). */
export const HTTP_LISTENER = "http";
export const HTTPS_LISTENER = "https";

export interface GatewayApiGatewayOptions {
    name: string;
    /** The gateway's namespace: where its Service is, and where this Gateway and the routes live. */
    namespace: string;
    /** The Helm-installed gateway's Service, by its short name in `namespace`. */
    serviceName: string;
    /** HTTPS listeners terminating TLS with this Secret (in `namespace`), one per host of the certificate. */
    tls?: { secretName: string; hosts: readonly string[] };
}

/**
 * The HTTPS listeners' names, one per TLS host: "https", then "https-2", "https-3"…
 * Each listener names its host, so that, as an Istio Gateway server with those hosts,
 * the gateway serves HTTPS (SNI and Host) for the certificate's names only.
 */
export function httpsListenerNames(hosts: readonly string[]): string[] {
    return hosts.map((_, i) => (i === 0 ? HTTPS_LISTENER : `${HTTPS_LISTENER}-${i + 1}`));
}

/**
 * A Gateway of class istio bound to the Helm-installed gateway instead of one Istio
 * would deploy: a single address of type Hostname naming the gateway's Service makes
 * it a manual deployment (pilot/pkg/config/kube/gatewaycommon/gateway_utils.go:
 * IsManaged), and istiod programs the pods behind that Service (a short name is
 * expanded in the Gateway's namespace: pilot/pkg/config/kube/gateway/conversion.go:
 * extractGatewayServices). Listeners accept routes from their own namespace only.
 */
export function buildGatewayApiGateway(o: GatewayApiGatewayOptions): K8sObject {
    const same = { namespaces: { from: "Same" } };
    return {
        apiVersion: `${GATEWAY_API_GROUP}/v1`,
        kind: "Gateway",
        metadata: { name: o.name, namespace: o.namespace, labels: { ...COMMON_LABELS } },
        spec: {
            gatewayClassName: ISTIO_GATEWAY_CLASS,
            addresses: [{ type: "Hostname", value: o.serviceName }],
            listeners: [
                { name: HTTP_LISTENER, port: 80, protocol: "HTTP", allowedRoutes: same },
                ...(o.tls
                    ? httpsListenerNames(o.tls.hosts).map((name, i) => ({
                          name,
                          hostname: o.tls!.hosts[i],
                          port: 443,
                          protocol: "HTTPS",
                          tls: {
                              mode: "Terminate",
                              certificateRefs: [{ group: "", kind: "Secret", name: o.tls!.secretName }],
                          },
                          allowedRoutes: same,
                      }))
                    : []),
            ],
        },
    };
}

export interface HttpRouteContext {
    /** The Gateway's name and namespace: the routes live beside it. */
    gateway: string;
    namespace: string;
    /** The gateway's hosts; "*" means any (the routes then name no hostnames). */
    hosts: string[];
    /** The listeners the app routes attach to, with the hostname each serves (none: any). */
    listeners: { name: string; hostname?: string }[];
}

/** The Service an app's traffic goes to, by name and port (it lives in the app's namespace). */
function backendRef(app: AppSettings) {
    return { name: serviceName(app), namespace: app.namespace, port: app.port };
}

/** Whether two hosts ("*", "*.example.com" or names) have a name in common. */
function hostsIntersect(a: string, b: string): boolean {
    return hostCovered(a, [b]) || hostCovered(b, [a]);
}

function hostnames(hosts: readonly string[]): { hostnames?: string[] } {
    return hosts.includes("*") ? {} : { hostnames: [...hosts] };
}

/** One app's rule: its path prefix (removed before the request reaches it, unless the app keeps it) and its header match. */
function appRule(app: AppSettings) {
    const headers = app.match
        ? Object.entries(app.match.headers).map(([name, value]) => ({ type: "Exact", name, value }))
        : undefined;
    const filters = [
        // PathPrefix matches whole segments ("/shop" and "/shop/x", not "/shopping"); the prefix is replaced by "/".
        ...(app.path !== "/" && app.stripPath
            ? [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } }]
            : []),
        ...(podHeader(app)
            ? [
                  {
                      type: "ResponseHeaderModifier",
                      responseHeaderModifier: { set: [{ name: POD_HEADER, value: POD_HEADER_VALUE }] },
                  },
              ]
            : []),
    ];
    return {
        matches: [{ path: { type: "PathPrefix", value: app.path }, ...(headers ? { headers } : {}) }],
        ...(filters.length ? { filters } : {}),
        backendRefs: [backendRef(app)],
    };
}

/**
 * One HTTPRoute per path, named like the path's VirtualService, beside the Gateway.
 * Apps that share a path are told apart by their header match: the Gateway API
 * gives a rule with more header matches precedence, and among equals the first
 * rule of the route (the config order); the app without a match takes the rest.
 */
export function buildHttpRoutes(apps: readonly AppSettings[], ctx: HttpRouteContext): K8sObject[] {
    // By host as on Istio's API (hostRouting): Istio turns each route's hostnames into virtual hosts the same way.
    return hostRouting(apps, ctx.hosts).flatMap(({ hosts, apps: served, suffix }) => {
        // A listener of another hostname would not accept a route of these hosts (NoMatchingListenerHostname).
        const matching = ctx.listeners.filter(
            (l) => l.hostname === undefined || hosts.some((h) => hostsIntersect(h, l.hostname!)),
        );
        const groups = groupByPath(served);
        return [...groups.values()].map((group) => ({
            apiVersion: `${GATEWAY_API_GROUP}/v1`,
            kind: "HTTPRoute",
            metadata: {
                name: `${routeName(group[0].path)}${suffix}`,
                namespace: ctx.namespace,
                labels: { ...COMMON_LABELS },
            },
            spec: {
                parentRefs: (matching.length ? matching : ctx.listeners).map((l) => ({
                    name: ctx.gateway,
                    sectionName: l.name,
                })),
                ...hostnames(hosts),
                rules: [...group.filter((a) => a.match), ...group.filter((a) => !a.match)].map(appRule),
            },
        }));
    });
}

/** HTTP answered with a redirect to HTTPS (301), for every path. */
export function buildHttpsRedirectRoute(ctx: Pick<HttpRouteContext, "gateway" | "namespace" | "hosts">): K8sObject {
    return {
        apiVersion: `${GATEWAY_API_GROUP}/v1`,
        kind: "HTTPRoute",
        metadata: { name: "https-redirect", namespace: ctx.namespace, labels: { ...COMMON_LABELS } },
        spec: {
            parentRefs: [{ name: ctx.gateway, sectionName: HTTP_LISTENER }],
            ...hostnames(ctx.hosts),
            rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
        },
    };
}

/**
 * Lets the routes beside the Gateway send traffic to the apps' Services in
 * namespace `namespace`: a backendRef into another namespace is refused without
 * a ReferenceGrant there (the Gateway API's ReferenceGrant; Istio checks it in
 * pilot/pkg/config/kube/gatewaycommon ReferenceGrants).
 */
export function buildReferenceGrant(
    namespace: string,
    apps: readonly AppSettings[],
    routesNamespace: string,
): K8sObject {
    return {
        apiVersion: REFERENCE_GRANT_API_VERSION,
        kind: "ReferenceGrant",
        metadata: { name: "istio-sticky-routes", namespace, labels: { ...COMMON_LABELS } },
        spec: {
            from: [{ group: GATEWAY_API_GROUP, kind: "HTTPRoute", namespace: routesNamespace }],
            to: apps
                .filter((a) => a.namespace === namespace)
                .map((a) => ({ group: "", kind: "Service", name: serviceName(a) })),
        },
    };
}
