import { strict as assert } from "assert";
import { buildSecurityObjects } from "../../../components/manifests/security";
import { parseApp } from "../../../components/settings/validate";

const ctx = {
    gatewayNamespace: "istio-ingress",
    gatewaySelector: { app: "istio-ingressgateway", istio: "ingressgateway" },
    rootNamespace: "istio-system",
};
const app = (extra: Record<string, unknown> = {}) => parseApp({ name: "web", ...extra }, "t").value;

describe("objects/security", () => {
    it("requires mutual TLS for every app unless it opts out", () => {
        assert.deepEqual(buildSecurityObjects(app(), ctx).peerAuthentication!.spec, {
            selector: { matchLabels: { app: "web" } },
            mtls: { mode: "STRICT" },
        });
        assert.equal(
            buildSecurityObjects(app({ strictMtls: false }), ctx).peerAuthentication!.spec.mtls.mode,
            "PERMISSIVE",
        );
        assert.equal(buildSecurityObjects(app(), ctx).networkPolicy, undefined);
    });
    it("with direct routing, lets the gateway reach only the app port of the app's pods", () => {
        const np = buildSecurityObjects(
            app({ direct: { enabled: true, podCidr: "10.244.0.0/16" } }),
            ctx,
        ).networkPolicy!;
        assert.deepEqual(np.spec.podSelector, { matchLabels: { app: "web" } });
        const [fromGateway, fromOthers] = np.spec.ingress;
        assert.deepEqual(fromGateway, {
            from: [
                {
                    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "istio-ingress" } },
                    podSelector: { matchLabels: ctx.gatewaySelector },
                },
            ],
            ports: [{ protocol: "TCP", port: 8080 }],
        });
        assert.deepEqual(fromOthers.from[0].namespaceSelector.matchExpressions, [
            { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["istio-ingress"] },
        ]);
        assert.equal(fromOthers.ports, undefined);
    });
    it("with direct routing, denies the direct header to clients outside the allowed ranges", () => {
        const ap = buildSecurityObjects(
            app({ direct: { enabled: true, podCidr: "10.244.0.0/16", allowedClients: ["203.0.113.0/24"] } }),
            ctx,
        ).directAuthorizationPolicy!;
        assert.deepEqual(
            [ap.metadata.namespace, ap.spec.action, ap.spec.selector],
            ["istio-ingress", "DENY", { matchLabels: ctx.gatewaySelector }],
        );
        assert.deepEqual(ap.spec.rules, [
            {
                from: [{ source: { notRemoteIpBlocks: ["203.0.113.0/24"] } }],
                to: [{ operation: { paths: ["/web*"] } }],
                when: [{ key: "request.headers[use-direct]", values: ["*"] }],
            },
        ]);
    });
});
