import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
    AffinityMode,
    GatewayServiceType,
    TlsIssuer,
    StickyApp,
    IstioMesh,
    GatewayTls,
    SettingsError,
} from "istio-sticky";
import { installMocks, Recorder, settle, valueOf } from "../support/mocks";

describe("StickyApp and IstioMesh on their own (Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec, { gatewayService: { type: "LoadBalancer", hostname: "lb.example.com" } }));
    beforeEach(() => rec.reset());

    it("binds to an existing Istio with a Gateway of its own", async () => {
        const app = new StickyApp("shop", {
            name: "shop",
            affinity: { mode: AffinityMode.Header, headerName: "x-cart" },
        });
        assert.deepEqual(await valueOf(app.meshRequirements), []);
        await settle(rec);
        const gw = rec.byNameOf("shop-gateway").inputs;
        assert.deepEqual(gw.metadata, {
            name: "shop-gateway",
            namespace: "shop",
            labels: { "app.kubernetes.io/part-of": "istio-sticky" },
        });
        assert.deepEqual(gw.spec.selector, { app: "istio-ingressgateway", istio: "ingressgateway" });
        assert.deepEqual(rec.byNameOf("shop-virtualservice").inputs.spec.gateways, ["shop/shop-gateway"]);
        assert.deepEqual(rec.byNameOf("shop-deployment").dependsOn, ["shop-namespace", "shop-script"]);
        assert.equal(rec.byNameOf("shop-script").inputs.metadata.name, "shop-demo-app");
        assert.equal(rec.byNameOf("shop-namespace").inputs.metadata.labels["istio-injection"], "enabled");
        assert.equal(await valueOf(app.serviceHost), "shop.shop.svc.cluster.local");
    });

    it("says an existing Istio needs the persistent-session flag", async () => {
        const app = new StickyApp("cart", {
            name: "cart",
            affinity: { mode: AffinityMode.PersistentCookie, cookie: { name: "pod" } },
        });
        assert.deepEqual(await valueOf(app.meshRequirements), [
            "istiod with env PILOT_ENABLE_PERSISTENT_SESSION_FILTER=true (needed by cart)",
        ]);
    });

    it("takes Outputs, validating them once they are known", async () => {
        const app = new StickyApp("late", {
            name: pulumi.output("late"),
            replicas: Promise.resolve(5),
            affinity: pulumi.output({ mode: AffinityMode.Cookie, cookie: { name: "s", ttl: "0s" } }),
        });
        assert.equal(await valueOf(app.affinity), "consistent hash on cookie s, set by Envoy with ttl 0s");
        await settle(rec);
        assert.equal(rec.byNameOf("late-deployment").inputs.spec.replicas, 5);
        assert.equal(
            rec.byNameOf("late-destinationrule").inputs.spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl,
            "0s",
        );
    });

    it("creates what direct routing and autoscaling need even when other settings are Outputs", async () => {
        const app = new StickyApp("late2", {
            name: pulumi.output("late2"),
            direct: { enabled: true, podCidr: "10.244.0.0/16" },
            autoscaling: { minReplicas: 2, maxReplicas: 3 },
            image: pulumi.output("ghcr.io/acme/late:1"),
        });
        assert.deepEqual(await valueOf(app.pods), [
            { name: "late2-7d9f-a", ip: "10.244.1.11" },
            { name: "late2-7d9f-b", ip: "10.244.2.12" },
        ]);
        await settle(rec);
        for (const name of ["late2-direct-gateway", "late2-hpa", "late2-pdb", "late2-virtualservice"])
            assert.ok(rec.byNameOf(name), name);
        assert.equal(rec.byNameOf("late2-direct-gateway").inputs.metadata.namespace, "istio-ingress");
    });

    it("needs direct routing settings known when it is created", () => {
        assert.throws(
            () => new StickyApp("d", { name: "d", direct: pulumi.output({ enabled: true }) as any }),
            /StickyApp d\.direct: must be known when the component is created/,
        );
        assert.throws(
            () => new StickyApp("d", { name: pulumi.output("d"), direct: { enabled: true } }),
            /StickyApp d\.direct\.podCidr: is required when direct routing is enabled/,
        );
    });

    it("rejects known bad args before registering anything", async () => {
        assert.throws(
            () =>
                new StickyApp("bad", {
                    name: "bad",
                    replicas: 0,
                    affinity: { mode: AffinityMode.Cookie, headerName: "x" },
                }),
            (e: unknown) =>
                e instanceof SettingsError &&
                /StickyApp bad\.replicas: must be a whole number of at least 1/.test(e.message),
        );
        assert.throws(
            () => new IstioMesh("bad", { version: "1.30.0" }),
            /IstioMesh bad\.version: 1\.30\.0 must not be used/,
        );
        await settle(rec);
        assert.deepEqual(rec.resources, []);
    });

    it("waits for a mesh in the same program and uses its gateway labels", async () => {
        const mesh = new IstioMesh("mesh", {
            version: pulumi.output("1.30.5"),
            gateway: { name: "istio-ingress", namespace: "edge", serviceType: GatewayServiceType.LoadBalancer },
            persistentSessions: true,
        });
        const app = new StickyApp("web", { name: "web" }, { dependsOn: [mesh] });
        const ingress = await valueOf(mesh.ingress);
        await settle(rec);
        assert.equal(ingress.url, "http://lb.example.com");
        assert.deepEqual(rec.byNameOf("web-gateway").inputs.spec.selector, { app: "istio-ingress", istio: "ingress" });
        assert.deepEqual(rec.byNameOf("web-gateway").dependsOn, ["mesh-base", "mesh-istiod", "web-namespace"]);
        assert.deepEqual(rec.byNameOf("web-virtualservice").dependsOn, ["mesh-base", "mesh-istiod", "web-namespace"]);
        assert.deepEqual(rec.byNameOf("web-deployment").dependsOn, ["mesh-istiod", "web-namespace", "web-script"]);
        const istiod = rec.byNameOf("mesh-istiod").inputs;
        assert.deepEqual(
            [istiod.version, istiod.values.env],
            ["1.30.5", { PILOT_ENABLE_PERSISTENT_SESSION_FILTER: "true" }],
        );
        assert.equal(rec.byNameOf("mesh-gateway").inputs.namespace, "edge");
        assert.deepEqual(await valueOf(app.meshRequirements), []);
    });
    it("makes every object wait for the component's other dependsOn, in any form Pulumi takes it", async () => {
        const ns = new k8s.core.v1.Namespace("shared-ns", {});
        new StickyApp("dep", { name: "dep", createNamespace: false }, { dependsOn: [ns] });
        new StickyApp("later", { name: "later", createNamespace: false }, { dependsOn: pulumi.output([ns]) });
        await settle(rec);
        for (const app of ["dep", "later"]) {
            const children = rec.resources.filter((r) => r.parent === app && r.type.startsWith("kubernetes:"));
            assert.ok(children.length >= 5);
            for (const c of children)
                assert.ok(c.dependsOn.includes("shared-ns"), `${c.name} waits for shared-ns: ${c.dependsOn}`);
        }
        // A mesh named in dependsOn gives the waits; anything else is waited for as a whole.
        const mesh = new IstioMesh("m2", {});
        new StickyApp("both", { name: "both" }, { dependsOn: [mesh, ns] });
        await settle(rec);
        assert.deepEqual(rec.byNameOf("both-deployment").dependsOn, [
            "both-namespace",
            "both-script",
            "m2-istiod",
            "shared-ns",
        ]);
        // A mesh of another cluster (another provider) may be built, but an app binds to one gateway.
        const elsewhere = new IstioMesh("m3", {}, { provider: new k8s.Provider("elsewhere", { context: "other" }) });
        assert.throws(
            () => new StickyApp("two", { name: "two" }, { dependsOn: [mesh, elsewhere] }),
            /StickyApp two: dependsOn: name at most one IstioMesh/,
        );
    });

    it("lists what the mesh must run unless the IstioMesh it depends on runs it", async () => {
        const cart = { name: "cart", affinity: { mode: AffinityMode.PersistentCookie, cookie: { name: "pod" } } };
        // Two clusters, a mesh each.
        const [one, two] = ["one", "two"].map((c) => new k8s.Provider(c, { context: c }));
        const off = new StickyApp("c1", cart, {
            provider: one,
            dependsOn: [new IstioMesh("plain-mesh", {}, { provider: one })],
        });
        const on = new StickyApp("c2", cart, {
            provider: two,
            dependsOn: [new IstioMesh("persistent-mesh", { persistentSessions: true }, { provider: two })],
        });
        assert.equal((await valueOf(off.meshRequirements)).length, 1);
        assert.deepEqual(await valueOf(on.meshRequirements), []);
    });

    it("from another language (dependsOn a reference to the mesh), takes what the mesh runs from meshPersistentSessions", async () => {
        const cart = { name: "cart", affinity: { mode: AffinityMode.PersistentCookie, cookie: { name: "pod" } } };
        const [one, two, three] = ["l1", "l2", "l3"].map((c) => new k8s.Provider(c, { context: c }));
        const mesh = new IstioMesh("ref-mesh", { persistentSessions: true }, { provider: one });
        assert.equal(await valueOf(mesh.persistentSessions), true);
        // What the plugin host hands an app whose program named the mesh in dependsOn: a reference by URN.
        const reference = () => [new pulumi.DependencyResource(mesh.urn as any)];
        const unknown = new StickyApp("r1", cart, { provider: two, dependsOn: reference() });
        const told = new StickyApp(
            "r2",
            { ...cart, meshPersistentSessions: mesh.persistentSessions },
            { provider: three, dependsOn: reference() },
        );
        assert.equal((await valueOf(unknown.meshRequirements)).length, 1);
        assert.deepEqual(await valueOf(told.meshRequirements), []);
    });

    it("GatewayTls takes Outputs where they only fill objects, and plain installCertManager decides the release", async () => {
        const tls = new GatewayTls("certs", {
            hosts: pulumi.output(["a.test"]),
            gatewayNamespace: pulumi.output("edge"),
            issuer: pulumi.output(TlsIssuer.SelfSigned),
            installCertManager: false,
        });
        assert.deepEqual((await valueOf(tls.settings)).hosts, ["a.test"]);
        await settle(rec);
        const cert = rec.byNameOf("certs-certificate").inputs;
        assert.deepEqual([cert.metadata.namespace, cert.spec.dnsNames], ["edge", ["a.test"]]);
        assert.deepEqual(rec.byNameOf("certs-certificate").dependsOn, ["certs-issuer"]);
        assert.equal(rec.ofType("kubernetes:helm.sh/v3:Release").length, 0);
        assert.equal(rec.ofType("kubernetes-cert-manager:index:CertManager").length, 0, "no cert-manager component");
        assert.equal(tls.certManager, undefined);
        rec.reset();
        const installing = new GatewayTls("own", { hosts: ["a.test"], gatewayNamespace: "edge" });
        await settle(rec);
        assert.equal(rec.ofType("kubernetes-cert-manager:index:CertManager").length, 1);
        assert.ok(installing.certManager);
        assert.deepEqual(rec.byNameOf("own-issuer").dependsOn, ["own-cert-manager"]);
    });
});
