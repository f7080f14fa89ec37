import { strict as assert } from "assert";
import * as k8s from "@pulumi/kubernetes";
import { AffinityMode, StickySessions, StickyApp, IstioMesh, GatewayTls } from "istio-sticky";
import { GATEWAY_SERVICE_TYPE, installMocks, READY_PODS_TYPE, Recorder, settle } from "../support/mocks";

/**
 * An explicit Kubernetes provider (another cluster, another context) must reach
 * every object, and every child component must carry it in its own providers:
 * the engine records a component's providers from its options, and a component
 * constructed from another language sees nothing else.
 */
describe("an explicit Kubernetes provider reaches every child (Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec));
    beforeEach(() => rec.reset());

    /** The provider reference the SDK sends: "<urn>::<id>". */
    const refOf = (name: string) => `urn:pulumi:test::istio-sticky::pulumi:providers:kubernetes::${name}::${name}-id`;

    /** The context each test's provider names. */
    const CONTEXTS: Record<string, string> = { kind: "kind-sticky", other: "other", solo: "solo" };

    function assertAllUse(name: string, components: string[], existing = false): void {
        const ref = refOf(name);
        const kube = rec.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
        assert.ok(kube.length > 5);
        for (const r of kube) assert.equal(r.provider, ref, `${r.name} (${r.type}) uses the default provider`);
        // The gateway Service and ready-pods reads go through the Kubernetes client, with the provider's settings.
        const context = CONTEXTS[name];
        const dynamicReads = rec.resources.filter((r) => r.type === GATEWAY_SERVICE_TYPE || r.type === READY_PODS_TYPE);
        assert.ok(
            dynamicReads.some((r) => r.type === GATEWAY_SERVICE_TYPE),
            "the gateway Service is read",
        );
        for (const r of dynamicReads)
            assert.deepEqual(
                [r.name, r.provider, r.inputs.context],
                [r.name, "", context],
                `${r.name} reads the cluster of ${name}`,
            );
        const comps = rec.resources.filter((r) => r.type.startsWith("istio-sticky:index:"));
        assert.deepEqual(comps.map((c) => c.name).sort(), [...components].sort());
        for (const c of comps)
            assert.deepEqual(
                c.providers,
                { kubernetes: ref },
                `${c.name} (${c.type}) has providers ${JSON.stringify(c.providers)}`,
            );
        if (existing) assertExisting(kube);
    }

    function assertExisting(kube: { type: string }[]): void {
        // The check of the existing Service reaches the cluster with the same access as the ready-pods read.
        const check = rec.resources.find((r) => r.name.endsWith("-cart-service-patch-existing"));
        const pods = rec.resources.find((r) => r.name.endsWith("-cart-ready-pods"));
        assert.ok(check && pods, "the existing Service is checked, and its pods read");
        assert.deepEqual(
            [check.inputs.kubeconfig, check.inputs.context, check.inputs.cluster],
            [pods.inputs.kubeconfig, pods.inputs.context, pods.inputs.cluster],
        );
        assert.ok(
            kube.some((r) => r.type === "kubernetes:core/v1:ServicePatch") &&
                kube.some((r) => r.type === "kubernetes:core/v1:NamespacePatch"),
        );
    }

    const stack = {
        mesh: { gateway: { hosts: ["shop.test"] } },
        tls: { enabled: true, hosts: ["shop.test"] },
        apps: [
            { name: "shop", affinity: { mode: AffinityMode.Header, headerName: "x-user" } },
            // An existing Service: its patches, and the read of the Service before them, go to the same cluster.
            { name: "cart", namespace: "theirs", service: { port: 80, enrolNamespace: true } },
        ],
    };

    it("StickySessions with providers: [p]: the mesh, the cert-manager component (GatewayTls) and the apps get p", async () => {
        const p = new k8s.Provider("kind", { context: "kind-sticky" });
        new StickySessions("sticky", stack, { providers: [p] });
        await settle(rec);
        assertAllUse("kind", ["sticky", "sticky-mesh", "sticky-tls", "sticky-shop", "sticky-cart"], true);
        // @pulumi/kubernetes-cert-manager's remote component sees only the providers named in its own options.
        const certManager = rec.byNameOf("sticky-tls-cert-manager");
        assert.deepEqual(
            [certManager.type, certManager.providers],
            ["kubernetes-cert-manager:index:CertManager", { kubernetes: refOf("kind") }],
        );
    });

    it("StickySessions with provider: p (shorthand for providers) and as a map", async () => {
        const p = new k8s.Provider("other", { context: "other" });
        new StickySessions("single", stack, { provider: p });
        await settle(rec);
        assertAllUse("other", ["single", "single-mesh", "single-tls", "single-shop", "single-cart"], true);
        rec.reset();
        new StickySessions("mapped", stack, { providers: { kubernetes: p } });
        await settle(rec);
        assertAllUse("other", ["mapped", "mapped-mesh", "mapped-tls", "mapped-shop", "mapped-cart"], true);
    });

    it("IstioMesh, GatewayTls (installing cert-manager) and StickyApp on their own", async () => {
        const p = new k8s.Provider("solo", { context: "solo" });
        new IstioMesh("mesh", {}, { providers: [p] });
        new GatewayTls("tls", { hosts: ["a.test"], gatewayNamespace: "istio-ingress" }, { providers: [p] });
        new StickyApp("app", { name: "app", direct: { enabled: true, podCidr: "10.244.0.0/16" } }, { providers: [p] });
        await settle(rec);
        assertAllUse("solo", ["mesh", "tls", "app"]);
        assert.deepEqual(rec.byNameOf("tls-cert-manager").providers, { kubernetes: refOf("solo") });
        // The pods read lists EndpointSlices through the Kubernetes client, not a Kubernetes provider: it gets the provider's settings.
        const read = rec.ofType(READY_PODS_TYPE)[0];
        assert.deepEqual([read.provider, read.inputs.context], ["", "solo"]);
    });
});
