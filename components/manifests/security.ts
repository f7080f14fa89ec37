import { podPort, type AppSettings } from "../settings/schema";
import { appLabels, podSelector } from "./names";
import type { K8sObject } from "./types";
import type { DirectContextOptions } from "./direct";

export interface SecurityObjects {
    /** Mutual TLS for the app's pods: STRICT, or PERMISSIVE when the app opts out (not for an existing Service: its policy stays its owners'). */
    peerAuthentication?: K8sObject;
    /** With direct routing: the gateway reaches the app's pods on the app port only. */
    networkPolicy?: K8sObject;
    /** With direct routing: only allowed clients may send the direct header. */
    directAuthorizationPolicy?: K8sObject;
}

const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export function buildSecurityObjects(app: AppSettings, ctx: DirectContextOptions): SecurityObjects {
    const metadata = { name: app.name, namespace: app.namespace, labels: appLabels(app) };
    const out: SecurityObjects = app.service
        ? {}
        : {
              peerAuthentication: {
                  apiVersion: "security.istio.io/v1",
                  kind: "PeerAuthentication",
                  metadata,
                  spec: {
                      selector: { matchLabels: podSelector(app) },
                      mtls: { mode: app.strictMtls ? "STRICT" : "PERMISSIVE" },
                  },
              },
          };
    if (!app.direct.enabled) return out;
    out.networkPolicy = {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata,
        spec: {
            podSelector: { matchLabels: podSelector(app) },
            policyTypes: ["Ingress"],
            ingress: [
                // The gateway pods: the app port and nothing else, whatever a direct request names.
                {
                    from: [
                        {
                            namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ctx.gatewayNamespace } },
                            podSelector: { matchLabels: { ...ctx.gatewaySelector } },
                        },
                    ],
                    ports: [{ protocol: "TCP", port: podPort(app) }],
                },
                // Every other namespace keeps the access it had.
                {
                    from: [
                        {
                            namespaceSelector: {
                                matchExpressions: [
                                    { key: NAMESPACE_NAME_LABEL, operator: "NotIn", values: [ctx.gatewayNamespace] },
                                ],
                            },
                        },
                    ],
                },
            ],
        },
    };
    const prefix = app.path === "/" ? "/*" : `${app.path}*`;
    out.directAuthorizationPolicy = {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: `${app.name}-direct`, namespace: ctx.gatewayNamespace, labels: appLabels(app) },
        spec: {
            selector: { matchLabels: { ...ctx.gatewaySelector } },
            action: "DENY",
            rules: [
                {
                    // remoteIpBlocks: the original client (the peer address, or X-Forwarded-For past
                    // numTrustedProxies), not the packet source, which a Cluster-policy Service SNATs to a node.
                    from: [{ source: { notRemoteIpBlocks: [...app.direct.allowedClients] } }],
                    to: [{ operation: { paths: [prefix] } }],
                    when: [{ key: `request.headers[${app.direct.header}]`, values: ["*"] }],
                },
            ],
        },
    };
    return out;
}
