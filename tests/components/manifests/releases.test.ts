import { strict as assert } from "assert";
import { AffinityMode } from "istio-sticky";
import { needsPersistentSessions } from "../../../components/settings/schema";
import { buildMeshReleases, mergeValues } from "../../../components/manifests/releases";
import { meshForStack } from "../../../components/plan/stack";
import { chartSource } from "../../../components/manifests/types";
import { ISTIO_CHART_REPO, ISTIO_OCI_CHART_REPO } from "../../../components/settings/artifacts";
import { stackWith } from "../../support/fixtures";

const releasesFor = (stack: ReturnType<typeof stackWith>) =>
    buildMeshReleases(stack.mesh, { persistentSessions: needsPersistentSessions(stack.apps) });

describe("istio/releases", () => {
    it("plans base, istiod and gateway from the official repo at one version", () => {
        const r = releasesFor(
            stackWith([AffinityMode.Header], { version: "1.30.5", gateway: { serviceType: "NodePort" } }),
        );
        assert.deepEqual(
            [r.base, r.istiod, r.gateway].map((x) => [x.name, x.chart, x.namespace, x.version, x.repo]),
            [
                ["istio-base", "base", "istio-system", "1.30.5", ISTIO_CHART_REPO],
                ["istiod", "istiod", "istio-system", "1.30.5", ISTIO_CHART_REPO],
                ["istio-ingressgateway", "gateway", "istio-ingress", "1.30.5", ISTIO_CHART_REPO],
            ],
        );
        assert.deepEqual(r.gateway.values, {
            name: "istio-ingressgateway",
            labels: { app: "istio-ingressgateway", istio: "ingressgateway" },
            service: { type: "NodePort" },
        });
    });
    it("pins every Istio image to Docker Hub's istio project at the version, or to the mirror hub the stack names", () => {
        const images = (r: ReturnType<typeof releasesFor>) => [
            (r.istiod.values.global as any)?.hub,
            (r.istiod.values.global as any)?.tag,
            (r.cni?.values.global as any)?.hub,
            (r.cni?.values.global as any)?.tag,
            r.ztunnel?.values.hub,
            r.ztunnel?.values.tag,
        ];
        const ambient = { version: "1.30.5", dataplane: "ambient" };
        assert.deepEqual(
            images(releasesFor(stackWith([AffinityMode.None], ambient))),
            [...Array(3).fill(["docker.io/istio", "1.30.5"])].flat(),
        );
        const mirrored = releasesFor(
            stackWith([AffinityMode.None], { ...ambient, hub: "registry.example.com:5000/istio" }),
        );
        assert.deepEqual(images(mirrored), [...Array(3).fill(["registry.example.com:5000/istio", "1.30.5"])].flat());
        // Sidecar stacks: istiod only (the gateway's and sidecars' proxy image comes from istiod's injection template).
        const sidecar = releasesFor(stackWith([AffinityMode.None]));
        assert.deepEqual(sidecar.istiod.values.global, { hub: "docker.io/istio", tag: "1.31.4" });
        assert.equal(sidecar.gateway.values.global, undefined);
    });
    it("takes the charts from a mirror or an OCI registry when the stack names one", () => {
        const r = releasesFor(stackWith([AffinityMode.None], { chartRepository: ISTIO_OCI_CHART_REPO }));
        assert.deepEqual(
            [r.base.repo, r.istiod.repo, r.gateway.repo],
            Array(3).fill("oci://ghcr.io/istio/release/charts"),
        );
        // An OCI chart is pulled by its full reference and takes no repository option.
        assert.deepEqual(chartSource(r.istiod), { chart: "oci://ghcr.io/istio/release/charts/istiod" });
        assert.deepEqual(chartSource({ repo: ISTIO_CHART_REPO, chart: "base" }), {
            chart: "base",
            repositoryOpts: { repo: ISTIO_CHART_REPO },
        });
    });
    it("keeps client addresses at the gateway when an app's direct-routing guard needs them", () => {
        const direct = { direct: { enabled: true, podCidr: "10.244.0.0/16" } };
        const stack = stackWith([AffinityMode.None], {}, direct);
        const gatewayService = (s: typeof stack) =>
            buildMeshReleases(meshForStack(s), { persistentSessions: false }).gateway.values.service;
        assert.deepEqual(gatewayService(stack), { type: "LoadBalancer", externalTrafficPolicy: "Local" });
        assert.deepEqual(
            gatewayService(stackWith([AffinityMode.None], { gateway: { serviceType: "NodePort" } }, direct)),
            {
                type: "NodePort",
                externalTrafficPolicy: "Local",
            },
        );
        // Not needed: no direct routing, a ClusterIP gateway, or a trusted proxy that passes the client on in X-Forwarded-For.
        assert.deepEqual(gatewayService(stackWith([AffinityMode.None])), { type: "LoadBalancer" });
        assert.deepEqual(
            gatewayService(stackWith([AffinityMode.None], { gateway: { serviceType: "ClusterIP" } }, direct)),
            { type: "ClusterIP" },
        );
        const proxied = buildMeshReleases(
            meshForStack(stackWith([AffinityMode.None], { gateway: { numTrustedProxies: 1 } }, direct)),
            {
                persistentSessions: false,
            },
        ).gateway.values;
        assert.deepEqual(proxied.service, { type: "LoadBalancer" });
        assert.deepEqual(JSON.parse((proxied.podAnnotations as any)["proxy.istio.io/config"]), {
            gatewayTopology: { numTrustedProxies: 1 },
        });
    });
    it("switches persistent sessions on in istiod (flat env) only when an app needs them", () => {
        assert.deepEqual(releasesFor(stackWith([AffinityMode.PersistentHeader])).istiod.values.env, {
            PILOT_ENABLE_PERSISTENT_SESSION_FILTER: "true",
        });
        assert.deepEqual(releasesFor(stackWith([AffinityMode.Cookie])).istiod.values.env, {});
    });
    it("keeps Istio 1.31's unhealthy endpoints (stickiness is as on 1.30), unless a mesh-wide minHealthPercent would let Envoy panic onto pods that are not ready", () => {
        const env = (mesh: Record<string, unknown>) =>
            releasesFor(stackWith([AffinityMode.Header], mesh)).istiod.values.env as Record<string, string>;
        const baseline = { meshConfig: { defaultTrafficPolicy: { outlierDetection: { minHealthPercent: 50 } } } };
        assert.deepEqual(env({}), {});
        assert.deepEqual(env({ values: { istiod: baseline } }), { PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS: "false" });
        // The switch does not exist before 1.31; a value the user sets wins; no panic threshold, nothing to guard.
        assert.deepEqual(env({ version: "1.30.5", values: { istiod: baseline } }), {});
        assert.deepEqual(
            env({ values: { istiod: { ...baseline, env: { PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS: "true" } } } }),
            {
                PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS: "true",
            },
        );
        assert.deepEqual(
            env({
                values: {
                    istiod: { meshConfig: { defaultTrafficPolicy: { outlierDetection: { minHealthPercent: 0 } } } },
                },
            }),
            {},
        );
    });
    it("merges per-chart overrides over its own values", () => {
        const r = releasesFor(
            stackWith([AffinityMode.None], {
                values: {
                    istiod: { meshConfig: { enableTracing: true }, pilot: { resources: { requests: { cpu: "1" } } } },
                    gateway: { service: { annotations: { "example.com/lb": "internal" } } },
                },
            }),
        );
        assert.deepEqual(r.istiod.values.meshConfig, { accessLogFile: "/dev/stdout", enableTracing: true });
        assert.deepEqual(r.gateway.values.service, {
            type: "LoadBalancer",
            annotations: { "example.com/lb": "internal" },
        });
        assert.deepEqual(mergeValues({ a: [1, 2], b: { c: 1 } }, { a: [3], b: { d: 2 } }), {
            a: [3],
            b: { c: 1, d: 2 },
        });
    });
    it("passes an Istio revision to istiod and the gateway", () => {
        const r = releasesFor(stackWith([AffinityMode.None], { revision: "canary" }));
        assert.equal(r.istiod.name, "istiod-canary");
        assert.equal(r.istiod.values.revision, "canary");
        assert.equal(r.gateway.values.revision, "canary");
    });
    it("keeps every release as it is when an app's hash policy or replicas change", () => {
        const before = releasesFor(stackWith([AffinityMode.Header], {}, { replicas: 2 }));
        for (const mode of [
            AffinityMode.Cookie,
            AffinityMode.QueryParameter,
            AffinityMode.SourceIp,
            AffinityMode.None,
        ]) {
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
