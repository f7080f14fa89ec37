import { strict as assert } from "assert";
import * as k8s from "@pulumi/kubernetes";
import { AffinityMode, GatewayServiceType, IstioMesh, StickyApp, StickySessions } from "istio-sticky";
import { installMocks, Recorder, settle } from "../support/mocks";

const SECOND = /installs a second Istio on a cluster where (.+) installs one .*Share the first/;

describe("one Istio per cluster in a program (Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec));
    beforeEach(() => rec.reset());

    it("refuses a second IstioMesh for the default provider's cluster, naming the first, before the second registers anything", async () => {
        new IstioMesh("first", {});
        assert.throws(
            () => new IstioMesh("second", {}),
            (e: Error) => SECOND.exec(e.message)?.[1] === "IstioMesh first" && /IstioMesh second:/.test(e.message),
        );
        await settle(rec);
        assert.deepEqual(
            rec.resources.filter((r) => r.parent === "second"),
            [],
        );
    });

    it("refuses a StickySessions that installs Istio next to an IstioMesh on the same provider, either way round", () => {
        const p = new k8s.Provider("kind", { context: "kind-sticky" });
        new StickySessions(
            "shop",
            { mesh: { gateway: { serviceType: GatewayServiceType.NodePort } }, apps: [{ name: "cart" }] },
            { providers: [p] },
        );
        assert.throws(
            () => new IstioMesh("mesh", {}, { provider: p }),
            (e: Error) => SECOND.exec(e.message)?.[1] === "StickySessions shop (it installs Istio: mesh.install)",
        );
        rec.reset();
        const q = new k8s.Provider("kind", { context: "kind-sticky" });
        new IstioMesh("mesh", {}, { providers: [q] });
        assert.throws(
            () => new StickySessions("shop", { apps: [{ name: "cart" }] }, { providers: { kubernetes: q } }),
            /StickySessions shop \(it installs Istio: mesh.install\): installs a second Istio on a cluster where IstioMesh mesh installs one/,
        );
    });

    it("takes one mesh shared by apps and by a StickySessions on that Istio (mesh.install false)", async () => {
        const mesh = new IstioMesh("mesh", { persistentSessions: true });
        new StickyApp(
            "cart",
            { name: "cart", affinity: { mode: AffinityMode.PersistentCookie, cookie: { name: "cart-pod" } } },
            { dependsOn: [mesh] },
        );
        new StickySessions("more", { mesh: { install: false }, apps: [{ name: "search" }] }, { dependsOn: [mesh] });
        await settle(rec);
        assert.equal(rec.ofType("kubernetes:helm.sh/v3:Release").length, 3, "one base, istiod and gateway");
    });

    it("takes a mesh per cluster: two providers are two clusters", async () => {
        for (const c of ["east", "west"])
            new IstioMesh(`mesh-${c}`, {}, { provider: new k8s.Provider(c, { context: c }) });
        await settle(rec);
        assert.deepEqual(
            rec
                .ofType("kubernetes:helm.sh/v3:Release")
                .map((r) => r.name)
                .sort(),
            [
                "mesh-east-base",
                "mesh-east-gateway",
                "mesh-east-istiod",
                "mesh-west-base",
                "mesh-west-gateway",
                "mesh-west-istiod",
            ],
        );
    });
});
