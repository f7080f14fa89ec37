import type { AppSettings } from "../settings/schema";
import { DirectContext } from "../settings/enums";
import { DIRECT_SUBSET } from "../policy/direct";
import { guardedRoutes } from "./routes";
import { appLabels, serviceHost } from "./names";
import { COMMON_LABELS, K8sObject } from "./types";

export interface DirectContextOptions {
    gatewayNamespace: string;
    /** The gateway pods' labels: the EnvoyFilter applies to those pods only. */
    gatewaySelector: Record<string, string>;
    /** Istio's root namespace, where a filter for every sidecar lives. */
    rootNamespace: string;
}

function envoyFilter(
    app: AppSettings,
    name: string,
    namespace: string,
    context: "GATEWAY" | "SIDECAR_OUTBOUND",
    selector?: Record<string, string>,
): K8sObject {
    return {
        apiVersion: "networking.istio.io/v1alpha3",
        kind: "EnvoyFilter",
        metadata: { name, namespace, labels: { ...COMMON_LABELS } },
        spec: {
            ...(selector ? { workloadSelector: { labels: { ...selector } } } : {}),
            configPatches: [
                {
                    applyTo: "CLUSTER",
                    // Exactly outbound|<port>|direct|<service FQDN>, the PASSTHROUGH subset's ORIGINAL_DST cluster.
                    match: {
                        context,
                        cluster: { service: serviceHost(app), subset: DIRECT_SUBSET, portNumber: app.port },
                    },
                    patch: { operation: "MERGE", value: { original_dst_lb_config: { use_http_header: true } } },
                },
            ],
        },
    };
}

export interface DirectObjects {
    /** Lets the gateway pods take the pod from the request header. */
    gatewayEnvoyFilter?: K8sObject;
    /** The same for every sidecar (in-mesh callers). */
    meshEnvoyFilter?: K8sObject;
    /** The guard for in-mesh callers: only guarded requests reach the direct subset. */
    meshVirtualService?: K8sObject;
}

/**
 * The objects that let a client pick the pod: an EnvoyFilter on the gateway pods
 * and, for in-mesh callers, one for every sidecar plus a mesh VirtualService
 * carrying the same guard. None when direct routing is off.
 */
export function buildDirectObjects(app: AppSettings, ctx: DirectContextOptions): DirectObjects {
    if (!app.direct.enabled) return {};
    const out: DirectObjects = {};
    if (app.direct.contexts.includes(DirectContext.Gateway)) {
        out.gatewayEnvoyFilter = envoyFilter(
            app,
            `${app.name}-direct`,
            ctx.gatewayNamespace,
            "GATEWAY",
            ctx.gatewaySelector,
        );
    }
    if (app.direct.contexts.includes(DirectContext.Sidecar)) {
        out.meshEnvoyFilter = envoyFilter(app, `${app.name}-direct-mesh`, ctx.rootNamespace, "SIDECAR_OUTBOUND");
        out.meshVirtualService = {
            apiVersion: "networking.istio.io/v1",
            kind: "VirtualService",
            metadata: { name: `${app.name}-mesh`, namespace: app.namespace, labels: appLabels(app) },
            spec: { hosts: [serviceHost(app)], gateways: ["mesh"], http: guardedRoutes(app, []) },
        };
    }
    return out;
}
