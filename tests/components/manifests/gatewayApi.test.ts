import { strict as assert } from "assert";
import { parseStackConfig, SettingsError, APPS_KEY, MESH_KEY, TLS_KEY } from "../../../components/settings/validate";
import { buildPlan, IstioMesh, IngressApi, planDocuments } from "istio-sticky";
import { gatewayApiCrdsUrl } from "../../../components/settings/versions";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, Recorder, settle } from "../../support/mocks";
import { validateUpstream } from "../../support/schemas";
import { HELM_RELEASE_API_VERSION } from "istio-sticky/plan";

const gatewayApi = (tls: Record<string, unknown> = {}, mesh: Record<string, unknown> = {}, apps?: unknown[]) =>
    parseStackConfig({
        [APPS_KEY]: apps ?? [
            { name: "shop", affinity: { mode: "cookie", cookie: { name: "s", ttl: "0s" } } },
            {
                name: "b1",
                namespace: "backends",
                path: "/b",
                match: { headers: { target: "b1" } },
                affinity: { mode: "header", headerName: "x-user" },
            },
            {
                name: "b2",
                namespace: "backends",
                path: "/b",
                affinity: { mode: "persistentCookie", cookie: { name: "pod" } },
            },
        ],
        [MESH_KEY]: {
            ...mesh,
            gateway: { api: "gatewayApi", hosts: ["shop.example.com"], ...((mesh.gateway as object) ?? {}) },
        },
        [TLS_KEY]: tls,
    }).value;
const planOf = (stack = gatewayApi()) => buildPlan(stack, { demoAppSource: "// app" });
const byKey = (plan: ReturnType<typeof planOf>, key: string) => plan.objects.find((o) => o.key === key)!;

describe("manifests/gatewayApi: the stack on the Kubernetes Gateway API", () => {
    it("installs the standard-channel CRDs at the version the Istio minor builds against, before istiod", () => {
        const plan = planOf();
        const crds = byKey(plan, "sticky-mesh-gateway-api-crds");
        assert.deepEqual(
            [crds.object.kind, crds.object.spec.version, crds.object.spec.url],
            [
                "ManifestFile",
                "v1.6.3",
                "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.3/standard-install.yaml",
            ],
        );
        // Istio 1.30 builds against v1.5.1; a mirror keeps the releases' layout (<mirror>/<version>/standard-install.yaml).
        const on130 = byKey(planOf(gatewayApi({}, { version: "1.30.5" })), "sticky-mesh-gateway-api-crds").object.spec;
        assert.deepEqual(
            [on130.version, on130.url],
            ["v1.5.1", "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"],
        );
        const mirrored = byKey(
            planOf(gatewayApi({}, { gatewayApiCrdsRepository: "https://mirror.example.com/gateway-api" })),
            "sticky-mesh-gateway-api-crds",
        );
        assert.equal(mirrored.object.spec.url, "https://mirror.example.com/gateway-api/v1.6.3/standard-install.yaml");
        assert.ok(byKey(plan, "sticky-mesh-istiod").dependsOn.includes(crds.key));
        for (const key of ["sticky-gateway", "sticky-route-path-b", "sticky-grant-backends"])
            assert.ok(byKey(plan, key).dependsOn.includes(crds.key), key);
        assert.equal(plan.objects.filter((o) => o.object.kind === "VirtualService" && o.owner === "sticky").length, 0);
    });

    it("binds a Gateway of class istio to the Helm-installed gateway's Service, with one HTTPRoute per path", () => {
        const plan = planOf();
        const gw = byKey(plan, "sticky-gateway").object;
        assert.equal(gw.apiVersion, "gateway.networking.k8s.io/v1");
        assert.deepEqual(
            [gw.spec.gatewayClassName, gw.spec.addresses],
            ["istio", [{ type: "Hostname", value: "istio-ingressgateway" }]],
        );
        const route = byKey(plan, "sticky-route-path-b").object;
        assert.deepEqual(route.spec.hostnames, ["shop.example.com"]);
        // The matched app first, the fallback last; both have the prefix replaced by "/".
        assert.deepEqual(
            route.spec.rules.map((r: any) => [
                r.backendRefs[0].name,
                r.matches[0].headers?.[0].value ?? null,
                r.filters[0].urlRewrite.path.replacePrefixMatch,
            ]),
            [
                ["b1", "b1", "/"],
                ["b2", null, "/"],
            ],
        );
        const grant = byKey(plan, "sticky-grant-backends");
        assert.deepEqual(grant.object.spec.from, [
            { group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "istio-ingress" },
        ]);
        assert.ok(grant.dependsOn.includes("sticky-ns-backends"));
    });

    it("with TLS: an HTTPS listener from the certificate's Secret and HTTP redirected; ACME answers through cert-manager's Gateway solver", () => {
        const selfSigned = planOf(gatewayApi({ enabled: true, hosts: ["shop.example.com"] }));
        const listeners = byKey(selfSigned, "sticky-gateway").object.spec.listeners;
        assert.deepEqual(
            listeners.map((l: any) => [l.name, l.port, l.hostname ?? null, l.tls?.certificateRefs[0].name ?? null]),
            [
                ["http", 80, null, null],
                ["https", 443, "shop.example.com", "sticky-gateway-tls"],
            ],
        );
        // One HTTPS listener per host of the certificate, as an Istio Gateway server lists them:
        // without a hostname, the gateway would answer any SNI and Host with this certificate.
        const twoHosts = planOf(
            gatewayApi(
                { enabled: true, hosts: ["shop.example.com", "*.shop.example.com"] },
                { gateway: { hosts: ["shop.example.com", "*.shop.example.com"] } },
            ),
        );
        assert.deepEqual(
            byKey(twoHosts, "sticky-gateway")
                .object.spec.listeners.filter((l: any) => l.protocol === "HTTPS")
                .map((l: any) => [l.name, l.hostname]),
            [
                ["https", "shop.example.com"],
                ["https-2", "*.shop.example.com"],
            ],
        );
        assert.deepEqual(
            byKey(twoHosts, "sticky-route-path-b").object.spec.parentRefs.map((p: any) => p.sectionName),
            ["https", "https-2"],
        );
        assert.deepEqual(
            byKey(selfSigned, "sticky-route-https-redirect").object.spec.rules[0].filters[0].requestRedirect,
            {
                scheme: "https",
                statusCode: 301,
            },
        );
        assert.deepEqual(byKey(selfSigned, "sticky-route-path-b").object.spec.parentRefs, [
            { name: "sticky-gateway", sectionName: "https" },
        ]);

        const acme = planOf(
            gatewayApi({
                enabled: true,
                issuer: "acme",
                hosts: ["shop.example.com"],
                acme: { email: "o@example.com" },
            }),
        );
        assert.equal(
            acme.objects.find((o) => o.key === "sticky-route-https-redirect"),
            undefined,
            "HTTP-01 answers on port 80",
        );
        assert.deepEqual(
            byKey(acme, "sticky-route-path-b").object.spec.parentRefs.map((p: any) => p.sectionName),
            ["http", "https"],
        );
        assert.deepEqual(byKey(acme, "sticky-tls-issuer").object.spec.acme.solvers, [
            {
                http01: {
                    gatewayHTTPRoute: {
                        parentRefs: [
                            {
                                name: "sticky-gateway",
                                namespace: "istio-ingress",
                                kind: "Gateway",
                                sectionName: "http",
                            },
                        ],
                    },
                },
            },
        ]);
        const certManager = byKey(acme, "sticky-tls-cert-manager");
        assert.equal(certManager.object.spec.helmOptions.values.config.enableGatewayAPI, true);
        assert.ok(
            certManager.dependsOn.includes("sticky-mesh-gateway-api-crds"),
            "cert-manager starts with the Gateway API's kinds",
        );
        assert.equal(
            byKey(acme, "sticky-mesh-istiod").object.spec.values.meshConfig.ingressClass,
            undefined,
            "no Ingress for istiod to serve",
        );
        assert.equal(byKey(selfSigned, "sticky-tls-cert-manager").object.spec.helmOptions.values.config, undefined);
    });

    it("passes the upstream schemas (@kubernetes-models/gateway-api) with and without TLS", async () => {
        for (const tls of [
            {},
            { enabled: true, issuer: "acme", hosts: ["shop.example.com"], acme: { email: "o@example.com" } },
        ]) {
            const docs = planDocuments(planOf(gatewayApi(tls)));
            const gatewayKinds = docs
                .filter((d) => d.apiVersion.startsWith("gateway.networking.k8s.io/"))
                .map((d) => d.kind);
            assert.deepEqual([...new Set(gatewayKinds)].sort(), ["Gateway", "HTTPRoute", "ReferenceGrant"]);
            for (const doc of docs.filter((d) => d.apiVersion !== HELM_RELEASE_API_VERSION))
                await validateUpstream(doc);
        }
    });

    it("refuses direct routing at the gateway and says why; in-mesh direct routing stays", () => {
        const direct = (contexts: string[]) => [
            {
                name: "d",
                affinity: { mode: "header", headerName: "x" },
                direct: { enabled: true, podCidr: "10.244.0.0/16", contexts },
            },
        ];
        assert.throws(
            () => gatewayApi({}, {}, direct(["gateway"])),
            (e: unknown) =>
                e instanceof SettingsError &&
                /direct\.contexts: "gateway" cannot be offered with .*an HTTPRoute can only name Services/.test(
                    e.message,
                ),
        );
        assert.equal(
            gatewayApi({}, { gateway: { externalTrafficPolicy: "Local" } }, direct(["sidecar"])).apps[0].direct.enabled,
            true,
        );
    });

    it("with an existing Istio: the CRDs are a requirement, not installed", () => {
        const plan = planOf(gatewayApi({}, { install: false }));
        assert.equal(plan.objects.filter((o) => o.object.kind === "ManifestFile").length, 0);
        assert.ok(
            plan.meshRequirements.some((r) =>
                /Gateway API's standard-channel CRDs at v1\.6\.3 or newer \(the release Istio 1\.31 is built against, at its newest patch\)/.test(
                    r,
                ),
            ),
        );
    });

    describe("IstioMesh on its own (Pulumi mocks)", () => {
        const rec = new Recorder();
        before(() => installMocks(rec));
        beforeEach(() => rec.reset());

        it("applies the CRDs from their release URL when gateway.api asks for them, and needs gateway known", async () => {
            new IstioMesh("gm", { gateway: { api: IngressApi.GatewayApi } });
            await settle(rec);
            const crds = rec.byNameOf("gm-gateway-api-crds");
            assert.deepEqual(
                [crds.type, crds.inputs.file],
                ["kubernetes:yaml/v2:ConfigFile", gatewayApiCrdsUrl("v1.6.3")],
            );
            assert.ok(rec.byNameOf("gm-istiod").dependsOn.includes("gm-gateway-api-crds"));
            rec.reset();
            new IstioMesh("plain", {});
            await settle(rec);
            assert.equal(rec.resources.filter((r) => r.name === "plain-gateway-api-crds").length, 0);
            rec.reset();
            assert.throws(
                () => new IstioMesh("late", { gateway: pulumi.output({ api: IngressApi.GatewayApi }) as never }),
                /gateway: must be known/,
            );
        });
    });
});
