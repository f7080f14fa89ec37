import { strict as assert } from "assert";
import { AffinityMode } from "../../../components/settings/enums";
import { needsPersistentSessions } from "../../../components/settings/schema";
import { buildMeshReleases, mergeValues } from "../../../components/istio/releases";
import { ISTIO_CHART_REPO } from "../../../components/istio/versions";
import { stackWith } from "../../support/fixtures";

const releasesFor = (stack: ReturnType<typeof stackWith>) =>
    buildMeshReleases(stack.mesh, { persistentSessions: needsPersistentSessions(stack.apps) });

describe("istio/releases", () => {
    it("plans base, istiod and gateway from the official repo at one version", () => {
        const r = releasesFor(stackWith([AffinityMode.Header], { version: "1.30.4", gateway: { serviceType: "NodePort" } }));
        assert.deepEqual([r.base, r.istiod, r.gateway].map((x) => [x.name, x.chart, x.namespace, x.version, x.repo]), [
            ["istio-base", "base", "istio-system", "1.30.4", ISTIO_CHART_REPO],
            ["istiod", "istiod", "istio-system", "1.30.4", ISTIO_CHART_REPO],
            ["istio-ingressgateway", "gateway", "istio-ingress", "1.30.4", ISTIO_CHART_REPO],
        ]);
        assert.deepEqual(r.gateway.values, {
            name: "istio-ingressgateway",
            labels: { app: "istio-ingressgateway", istio: "ingressgateway" },
            service: { type: "NodePort" },
        });
    });
    it("switches persistent sessions on in istiod (flat env) only when an app needs them", () => {
        assert.deepEqual(releasesFor(stackWith([AffinityMode.PersistentHeader])).istiod.values.env, { PILOT_ENABLE_PERSISTENT_SESSION_FILTER: "true" });
        assert.deepEqual(releasesFor(stackWith([AffinityMode.Cookie])).istiod.values.env, {});
    });
    it("merges per-chart overrides over its own values", () => {
        const r = releasesFor(
            stackWith([AffinityMode.None], {
                values: { istiod: { meshConfig: { enableTracing: true }, pilot: { resources: { requests: { cpu: "1" } } } }, gateway: { service: { externalTrafficPolicy: "Local" } } },
            }),
        );
        assert.deepEqual(r.istiod.values.meshConfig, { accessLogFile: "/dev/stdout", enableTracing: true });
        assert.deepEqual(r.gateway.values.service, { type: "LoadBalancer", externalTrafficPolicy: "Local" });
        assert.deepEqual(mergeValues({ a: [1, 2], b: { c: 1 } }, { a: [3], b: { d: 2 } }), { a: [3], b: { c: 1, d: 2 } });
    });
    it("passes an Istio revision to istiod and the gateway", () => {
        const r = releasesFor(stackWith([AffinityMode.None], { revision: "canary" }));
        assert.equal(r.istiod.name, "istiod-canary");
        assert.equal(r.istiod.values.revision, "canary");
        assert.equal(r.gateway.values.revision, "canary");
    });
    it("keeps every release as it is when an app's hash policy or replicas change", () => {
        const before = releasesFor(stackWith([AffinityMode.Header], {}, { replicas: 2 }));
        for (const mode of [AffinityMode.Cookie, AffinityMode.QueryParameter, AffinityMode.SourceIp, AffinityMode.None]) {
            assert.deepEqual(releasesFor(stackWith([mode], {}, { replicas: 7 })), before, mode);
        }
    });
    it("changes only istiod's env when an app moves to a persistent mode", () => {
        const before = releasesFor(stackWith([AffinityMode.Header]));
        const after = releasesFor(stackWith([AffinityMode.PersistentCookie]));
        assert.deepEqual(after.base, before.base);
        assert.deepEqual(after.gateway, before.gateway);
        assert.deepEqual({ ...after.istiod, values: { ...after.istiod.values, env: {} } }, before.istiod);
    });
});
