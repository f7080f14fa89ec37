import { strict as assert } from "assert";
import { parseStackConfig, SettingsError, APPS_KEY, MESH_KEY } from "../../../components/settings/validate";
import { buildPlan, planDocuments } from "istio-sticky";
import { HELM_RELEASE_API_VERSION } from "istio-sticky/plan";
import { validateUpstream } from "../../support/schemas";
import { DEFAULT_ISTIO_VERSION } from "../../../components/settings/versions";

const ambient = (apps: unknown[], mesh: Record<string, unknown> = {}) =>
    parseStackConfig({ [APPS_KEY]: apps, [MESH_KEY]: { dataplane: "ambient", ...mesh } }).value;
const planOf = (stack: ReturnType<typeof ambient>) => buildPlan(stack, { demoAppSource: "// app" });
const apps = [
    { name: "cart", affinity: { mode: "cookie", cookie: { name: "c", ttl: "0s" } } },
    { name: "search", namespace: "cart", affinity: { mode: "header", headerName: "x-user" } },
    { name: "catalog", affinity: { mode: "none" } },
];

describe("plan: Istio's ambient data plane", () => {
    it("installs istio-cni and ztunnel from the same chart repository, istiod with the ambient profile", () => {
        const plan = planOf(ambient(apps));
        const release = (key: string) => plan.objects.find((o) => o.key === key)!;
        assert.deepEqual(release("sticky-mesh-istiod").object.spec.values.profile, "ambient");
        for (const [key, chart] of [
            ["sticky-mesh-cni", "cni"],
            ["sticky-mesh-ztunnel", "ztunnel"],
        ]) {
            const r = release(key).object;
            assert.deepEqual(
                [r.spec.chart, r.metadata.namespace, r.spec.repo, r.spec.version, r.spec.values.profile],
                [
                    chart,
                    "istio-system",
                    release("sticky-mesh-istiod").object.spec.repo,
                    DEFAULT_ISTIO_VERSION,
                    "ambient",
                ],
            );
        }
        assert.ok(
            release("sticky-mesh-gateway-api-crds"),
            "waypoints are Gateway API Gateways: the CRDs come with ambient",
        );
    });

    it("enrols app namespaces without injection, and gives hash-mode apps a waypoint their Service uses", () => {
        const docs = planDocuments(planOf(ambient(apps)));
        const ns = (name: string) => docs.find((d) => d.kind === "Namespace" && d.metadata.name === name)!;
        assert.equal(ns("cart").metadata.labels!["istio.io/dataplane-mode"], "ambient");
        assert.equal(ns("cart").metadata.labels!["istio-injection"], undefined);
        const waypoints = docs.filter((d) => d.kind === "Gateway" && d.spec.gatewayClassName === "istio-waypoint");
        assert.deepEqual(
            waypoints.map((w) => `${w.metadata.namespace}/${w.metadata.name}`),
            ["cart/waypoint"],
            "one per namespace with a hash-mode app; round robin needs none",
        );
        assert.deepEqual(waypoints[0].spec.listeners, [{ name: "mesh", port: 15008, protocol: "HBONE" }]);
        const svc = (name: string) => docs.find((d) => d.kind === "Service" && d.metadata.name === name)!;
        assert.equal(svc("cart").metadata.labels!["istio.io/use-waypoint"], "waypoint");
        assert.equal(svc("search").metadata.labels!["istio.io/use-waypoint"], "waypoint");
        assert.equal(svc("catalog").metadata.labels!["istio.io/use-waypoint"], undefined);
        assert.equal(ns("catalog").metadata.labels!["istio.io/dataplane-mode"], "ambient");
    });

    it("keeps app pods out of every sidecar injector: they opt out (sidecar.istio.io/inject: false) instead of asking for one", () => {
        const docs = planDocuments(planOf(ambient(apps)));
        for (const d of docs.filter((x) => x.kind === "Deployment"))
            assert.equal(d.spec.template.metadata.labels["sidecar.istio.io/inject"], "false", d.metadata.name);
        const sidecar = planDocuments(
            planOf(parseStackConfig({ [APPS_KEY]: apps, [MESH_KEY]: { revision: "canary" } }).value),
        );
        for (const d of sidecar.filter((x) => x.kind === "Deployment"))
            assert.deepEqual(
                [
                    d.spec.template.metadata.labels["sidecar.istio.io/inject"],
                    d.spec.template.metadata.labels["istio.io/rev"],
                ],
                ["true", "canary"],
                d.metadata.name,
            );
    });

    it("on Istio 1.30 gives each hash-mode app a mesh VirtualService, the only routes a 1.30 waypoint hashes on; 1.31 needs none", () => {
        const plan = planOf(ambient(apps, { version: "1.30.5" }));
        // The apps' own VirtualServices (the gateway's routes are the stack's).
        const routes = plan.objects.filter((o) => o.object.kind === "VirtualService" && o.owner !== "sticky");
        assert.deepEqual(
            routes.map((o) => [o.key, o.owner, o.object.metadata.namespace, o.object.metadata.name]),
            [
                ["sticky-cart-waypoint-virtualservice", "sticky-cart", "cart", "cart-waypoint"],
                ["sticky-search-waypoint-virtualservice", "sticky-search", "cart", "search-waypoint"],
            ],
        );
        // Bound to the mesh (no gateways), the Service's host, one route to its port: the DestinationRule supplies the hash.
        assert.deepEqual(routes[1].object.spec, {
            hosts: ["search.cart.svc.cluster.local"],
            http: [
                {
                    name: "waypoint",
                    route: [{ destination: { host: "search.cart.svc.cluster.local", port: { number: 8080 } } }],
                },
            ],
        });
        assert.ok(
            routes.every((o) => o.dependsOn.includes("sticky-mesh-istiod") && o.dependsOn.includes("sticky-ns-cart")),
        );
        assert.equal(
            planOf(ambient(apps)).objects.filter((o) => o.object.kind === "VirtualService" && o.owner !== "sticky")
                .length,
            0,
        );
    });

    it("passes the upstream schemas", async () => {
        for (const mesh of [{ gateway: { api: "gatewayApi" } }, { version: "1.30.5" }])
            for (const doc of planDocuments(planOf(ambient(apps, mesh))).filter(
                (d) => d.apiVersion !== HELM_RELEASE_API_VERSION,
            ))
                await validateUpstream(doc);
    });

    it("refuses persistent sessions, direct routing and a revision, saying why", () => {
        const refusal = (app: Record<string, unknown>, mesh: Record<string, unknown> = {}) => {
            try {
                ambient([{ name: "x", ...app }], mesh);
            } catch (e) {
                assert.ok(e instanceof SettingsError);
                return e.message;
            }
            return "";
        };
        assert.match(
            refusal({ affinity: { mode: "persistentCookie", cookie: { name: "p" } } }),
            /not honoured with istio-sticky:mesh\.dataplane "ambient": Envoy's stateful-session filter runs on sidecar and gateway routes, not on waypoints/,
        );
        assert.match(
            refusal({
                affinity: { mode: "header", headerName: "h" },
                direct: { enabled: true, podCidr: "10.244.0.0/16" },
            }),
            /direct: is not available with .*outside ztunnel's HBONE tunnel/,
        );
        assert.match(refusal({}, { revision: "canary" }), /revision: is not supported with dataplane "ambient"/);
        assert.equal(refusal({ affinity: { mode: "sourceIp" } }), "");
    });

    it("with an existing Istio: ambient and the Gateway API's CRDs are requirements", () => {
        const plan = planOf(ambient(apps, { install: false }));
        assert.ok(plan.meshRequirements.some((r) => /ambient data plane/.test(r)));
        assert.ok(plan.meshRequirements.some((r) => /Gateway API's standard-channel CRDs/.test(r)));
        assert.equal(plan.objects.filter((o) => o.object.kind === "HelmRelease").length, 0);
    });
});
