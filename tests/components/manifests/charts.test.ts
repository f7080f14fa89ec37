/**
 * The Helm releases of every stack held against the real charts
 * (../shared/charts: Istio 1.30's and 1.31's, cert-manager's, and the Gateway API's
 * CRDs), rendered with `helm template` and exactly the values the stack renders,
 * each stack once per Istio release found (at that minor's newest patch). Without
 * those charts (a fresh machine elsewhere) the suite prints one "skipped: …" line.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { buildPlan, planDocuments } from "istio-sticky";
import { releaseOfDocument, type HelmReleaseSpec, type K8sObject } from "../../../components/manifests/types";
import { needsPersistentSessions } from "../../../components/settings/schema";
import { parseStackConfig, StackSettings, APPS_KEY, MESH_KEY, TLS_KEY } from "../../../components/settings/validate";
import { PERSISTENT_SESSION_ENV } from "istio-sticky/plan";
import { listStacks, PROJECT_DIR, readStackConfig } from "../../../cli/stackFiles";
import {
    ensureHelm,
    findCharts,
    gatewayApiCrds as gatewayApiCrdsOf,
    helmTemplate,
    IstioCharts,
} from "../../support/helm";
import { CrdValidator } from "../../support/crds";
import { chartGatewayPodLabels } from "../../support/istioRules";
import { ISTIO_LINES, gatewayApiVersionFor } from "../../../components/settings/versions";
import { retiredHostOf } from "../../../components/settings/artifacts";

/** Values the charts pass through whole (toYaml into a ConfigMap, env or metadata): any key is used. */
const FREE_FORM: Record<string, readonly string[]> = {
    base: [],
    istiod: ["meshConfig", "env"],
    gateway: ["labels", "podAnnotations", "env", "service.annotations"],
    cni: [],
    ztunnel: [],
    "cert-manager": [],
};

/** Values a chart's templates read without declaring them in values.yaml: `profile`, read by templates/zzz_profile.yaml (files/profile-<name>.yaml). */
/**
 * The Helm release @pulumi/kubernetes-cert-manager's component makes of a CertManager document: its
 * helmOptions as they are (chart, version, name, namespace, values; the component adds no values of its
 * own when no typed arg is set: pulumi-go-helmbase base.go InitDefaults).
 */
function certManagerRelease(doc: K8sObject): HelmReleaseSpec {
    const o = doc.spec.helmOptions;
    return {
        name: o.name,
        namespace: o.namespace,
        chart: "cert-manager",
        repo: o.repositoryOpts?.repo ?? o.chart,
        version: o.version,
        values: o.values,
    };
}

/** Images of a rendered release's workloads (containers and init containers). */
const imagesOf = (docs: any[]) =>
    docs
        .filter((d) => ["Deployment", "DaemonSet"].includes(d.kind))
        .flatMap((d) =>
            [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].map(
                (c: any) => c.image as string,
            ),
        );

/** Every string in a rendered document that names a retired host. */
function retiredIn(v: unknown, at = ""): string[] {
    if (typeof v === "string")
        return retiredHostOf(v) || /registry\.istio\.io|gcr\.io\/istio-release|istio-release\.storage/.test(v)
            ? [`${at}: ${v}`]
            : [];
    if (v === null || typeof v !== "object") return [];
    return Object.entries(v).flatMap(([k, x]) => retiredIn(x, `${at}.${k}`));
}

const READ_BY_TEMPLATES: Record<string, readonly string[]> = {
    istiod: ["profile"],
    cni: ["profile"],
    ztunnel: ["profile"],
};

/** Leaf paths of a values map ("service.type"), stopping at free-form maps. */
function leafPaths(v: Record<string, unknown>, freeForm: readonly string[], prefix = ""): string[] {
    return Object.entries(v).flatMap(([k, x]) => {
        const p = prefix ? `${prefix}.${k}` : k;
        if (freeForm.includes(p) || x === null || typeof x !== "object" || Array.isArray(x)) return [p];
        return leafPaths(x as Record<string, unknown>, freeForm, p);
    });
}

/** True when the chart's values.yaml declares the path (at its root or under _internal_defaults_do_not_set). */
function chartDeclares(chartDir: string, dotted: string): boolean {
    const values = parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8")) ?? {};
    const has = (root: any) =>
        dotted
            .split(".")
            .reduce<any>(
                (v, k) => (v !== undefined && v !== null && typeof v === "object" && k in v ? v[k] : undefined),
                root,
            ) !== undefined;
    return has(values) || has(values._internal_defaults_do_not_set);
}

/** A stack's config on Istio `version` (every other setting as it is). */
function atVersion(config: Record<string, unknown>, version: string): StackSettings {
    const mesh =
        typeof config[MESH_KEY] === "string" ? JSON.parse(config[MESH_KEY] as string) : (config[MESH_KEY] ?? {});
    return parseStackConfig({ ...JSON.parse(JSON.stringify(config)), [MESH_KEY]: { ...mesh, version } }).value;
}

const shippedStacks = (version: string) =>
    listStacks(PROJECT_DIR).map(
        (s) => [`the ${s} stack`, atVersion(readStackConfig(PROJECT_DIR, s), version)] as const,
    );

/** More configs: the options that change Helm values. */
const generatedStacks = (version: string): (readonly [string, StackSettings])[] =>
    (
        [
            [
                "a revision, a trusted proxy and direct routing",
                {
                    [APPS_KEY]: [{ name: "web", direct: { enabled: true, podCidr: "10.244.0.0/16" } }],
                    [MESH_KEY]: { revision: "canary", gateway: { numTrustedProxies: 2 } },
                },
            ],
            [
                "NodePort, direct routing (client addresses kept), persistent header",
                {
                    [APPS_KEY]: [
                        {
                            name: "web",
                            affinity: { mode: "persistentHeader", headerName: "x-pod" },
                            direct: { enabled: true, podCidr: "10.244.0.0/16" },
                        },
                    ],
                    [MESH_KEY]: { gateway: { serviceType: "NodePort" } },
                },
            ],
            [
                "ACME on a gateway with its own name, namespace and labels",
                {
                    [APPS_KEY]: [{ name: "web" }],
                    [MESH_KEY]: {
                        gateway: {
                            name: "edge",
                            namespace: "edge-ns",
                            labels: { "example.com/role": "edge", istio: "edge" },
                        },
                    },
                    [TLS_KEY]: {
                        enabled: true,
                        issuer: "acme",
                        hosts: ["a.example.com"],
                        acme: { email: "o@example.com" },
                    },
                },
            ],
            [
                "ClusterIP and user values for every chart",
                {
                    [APPS_KEY]: [{ name: "web" }],
                    [MESH_KEY]: {
                        gateway: { serviceType: "ClusterIP" },
                        values: {
                            base: {},
                            istiod: { meshConfig: { enableTracing: true } },
                            gateway: { service: { annotations: { "example.com/lb": "internal" } } },
                        },
                    },
                },
            ],
            [
                "a mesh-wide outlier detection with minHealthPercent (the unhealthy-endpoint switch on 1.31)",
                {
                    [APPS_KEY]: [{ name: "web", affinity: { mode: "header", headerName: "x-user" } }],
                    [MESH_KEY]: {
                        values: {
                            istiod: {
                                meshConfig: { defaultTrafficPolicy: { outlierDetection: { minHealthPercent: 50 } } },
                            },
                        },
                    },
                },
            ],
            [
                "ambient from a mirror hub, with a waypoint",
                {
                    [APPS_KEY]: [{ name: "web", affinity: { mode: "cookie", cookie: { name: "c", ttl: "0s" } } }],
                    [MESH_KEY]: {
                        dataplane: "ambient",
                        hub: "registry.example.com:5000/mirror/istio",
                        gateway: { serviceType: "NodePort" },
                    },
                },
            ],
        ] as [string, Record<string, unknown>][]
    ).map(([what, config]) => [what, atVersion(config, version)] as const);

const CHARTS = findCharts();

describe("the real charts (helm template with each stack's exact values)", function () {
    this.timeout(600_000);
    let helm: string;

    before(function () {
        if (!CHARTS) {
            console.log(
                "      skipped: needs ../shared/charts (Istio 1.30 and 1.31, cert-manager and Gateway API charts; or set ISTIO_STICKY_CHARTS)",
            );
            this.skip();
        }
        helm = ensureHelm();
    });

    it("has a chart set for every supported Istio minor, cert-manager's minor and every Gateway API release the stacks install", () => {
        assert.deepEqual(
            CHARTS!.istio.map((c) => c.minor),
            ISTIO_LINES.map((l) => l.minor),
        );
        for (const line of ISTIO_LINES) {
            const crds = gatewayApiCrdsOf(CHARTS!, line.gatewayApi);
            assert.ok(crds.length >= 8, `gateway-api-${line.gatewayApi}: ${crds.length} CRDs`);
            for (const crd of crds)
                assert.equal(crd.metadata.annotations["gateway.networking.k8s.io/bundle-version"], line.gatewayApi);
        }
        assert.ok(CHARTS!.certManager["1.21"], "cert-manager 1.21");
        assert.throws(
            () => helmTemplate(helm, CHARTS!.istio[0].gateway, "g", "g", { notAValue: true }),
            /additional properties|notAValue/,
        );
    });

    for (const istio of CHARTS?.istio ?? []) describeIstio(istio);

    function describeIstio(charts: IstioCharts): void {
        const line = ISTIO_LINES.find((l) => l.minor === charts.minor);
        if (!line) return;
        describe(`Istio's charts from ${charts.release}, stacks at ${line.latest}`, () => {
            let istioCrds: CrdValidator;
            let certManagerCrds: CrdValidator;
            let gatewayApiCrds: CrdValidator;
            before(async () => {
                istioCrds = await CrdValidator.from(helmTemplate(helm, charts.base, "istio-base", "istio-system", {}));
                gatewayApiCrds = await CrdValidator.from(gatewayApiCrdsOf(CHARTS!, gatewayApiVersionFor(line.latest)));
            });

            const certManagerChart = (version: string) =>
                CHARTS!.certManager[version.replace(/^v(\d+\.\d+)\..*$/, "$1")];
            const chartDir = (r: HelmReleaseSpec) =>
                ({
                    base: charts.base,
                    istiod: charts.istiod,
                    gateway: charts.gateway,
                    cni: charts.cni,
                    ztunnel: charts.ztunnel,
                    "cert-manager": certManagerChart(r.version),
                })[r.chart]!;
            const render = (r: HelmReleaseSpec) => helmTemplate(helm, chartDir(r), r.name, r.namespace, r.values);

            it("holds Istio's own CRDs, whose schema and CEL rules refuse what istiod's would", () => {
                assert.ok(istioCrds.kinds.includes("networking.istio.io/v1/DestinationRule"));
                const dr = {
                    apiVersion: "networking.istio.io/v1",
                    kind: "DestinationRule",
                    metadata: { name: "x", namespace: "y" },
                    spec: { host: "x", trafficPolicy: { loadBalancer: { bogus: 1 } } },
                };
                assert.match(istioCrds.problems(dr).join("\n"), /must NOT have additional properties \(bogus\)/);
                // A CEL rule of the CRD (x-kubernetes-validations), evaluated.
                const cel = {
                    ...dr,
                    spec: { host: "x", trafficPolicy: { connectionPool: { tcp: { connectTimeout: "0s" } } } },
                };
                assert.match(
                    istioCrds.problems(cel).join("\n"),
                    /connectTimeout: must be a valid duration greater than 1ms/,
                );
                assert.deepEqual(
                    istioCrds.problems({
                        ...cel,
                        spec: { host: "x", trafficPolicy: { connectionPool: { tcp: { connectTimeout: "2s" } } } },
                    }),
                    [],
                );
            });

            it("holds the Gateway API's CRDs, whose CEL rules refuse a broken route", () => {
                const route = {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: { name: "r", namespace: "n" },
                    spec: {
                        parentRefs: [{ name: "g" }],
                        rules: [
                            {
                                matches: [{ path: { type: "PathPrefix", value: "/a" } }],
                                // ReplacePrefixMatch needs a PathPrefix match (a CEL rule of the CRD).
                                filters: [
                                    {
                                        type: "URLRewrite",
                                        urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } },
                                    },
                                ],
                                backendRefs: [{ name: "s", port: 80 }],
                            },
                        ],
                    },
                };
                assert.deepEqual(gatewayApiCrds.problems(route), []);
                route.spec.rules[0].matches[0].path.type = "Exact";
                assert.match(gatewayApiCrds.problems(route).join("\n"), /replacePrefixMatch|PathPrefix/i);
            });

            for (const [what, stack] of [...shippedStacks(line.latest), ...generatedStacks(line.latest)]) {
                describe(what, () => {
                    const plan = buildPlan(stack, { demoAppSource: "// app" });
                    const docs = planDocuments(plan);
                    const releases = [
                        ...docs.filter((d) => d.kind === "HelmRelease").map(releaseOfDocument),
                        ...docs.filter((d) => d.kind === "CertManager").map(certManagerRelease),
                    ];
                    const release = (chart: string) => releases.find((r) => r.chart === chart);

                    it("every chart renders with those values, and no value is silently ignored", () => {
                        for (const r of releases) {
                            assert.ok(render(r).length > 0, r.chart);
                            for (const key of READ_BY_TEMPLATES[r.chart] ?? [])
                                if (key in r.values)
                                    assert.match(
                                        fs.readFileSync(
                                            path.join(chartDir(r), "templates", "zzz_profile.yaml"),
                                            "utf8",
                                        ),
                                        /\(\$\.Values\)\.profile/,
                                        `${r.chart} reads ${key}`,
                                    );
                            const unknown = leafPaths(r.values, FREE_FORM[r.chart])
                                .filter((p) => !(READ_BY_TEMPLATES[r.chart] ?? []).includes(p))
                                .filter((p) => !chartDeclares(chartDir(r), p));
                            assert.deepEqual(unknown, [], `${r.chart} values the chart does not declare`);
                        }
                    });

                    it("every Istio image comes from the stack's hub at its version, and nothing rendered names a retired host", () => {
                        const { hub, version } = stack.mesh;
                        let checked = 0;
                        for (const r of releases) {
                            const out = render(r);
                            assert.deepEqual(retiredIn(out), [], `${r.chart} names a retired host`);
                            if (!["istiod", "cni", "ztunnel"].includes(r.chart)) continue;
                            // The ambient profile picks the distroless variant (files/profile-ambient.yaml: variant).
                            for (const image of imagesOf(out)) {
                                assert.ok(
                                    image.startsWith(`${hub}/`) &&
                                        /^[a-z-]+$/.test(image.slice(hub.length + 1).split(":")[0]),
                                    `${r.chart}: ${image}`,
                                );
                                assert.match(
                                    image.split(":").at(-1)!,
                                    new RegExp(`^${version.replace(/\./g, "\\.")}(-distroless)?$`),
                                    `${r.chart}: ${image}`,
                                );
                                checked++;
                            }
                            if (r.chart === "istiod") {
                                // The injector's values: the gateway's and every sidecar's proxy image (image: auto).
                                const injector = out.find(
                                    (d) =>
                                        d.kind === "ConfigMap" && d.metadata.name.startsWith("istio-sidecar-injector"),
                                );
                                const values = JSON.parse(injector.data.values);
                                assert.deepEqual([values.global.hub, values.global.tag], [hub, version]);
                            }
                        }
                        assert.equal(checked > 0, stack.mesh.install);
                        const gateway = release("gateway");
                        if (gateway)
                            assert.deepEqual(
                                imagesOf(render(gateway)),
                                ["auto"],
                                "the gateway's proxy comes from istiod's injector",
                            );
                    });

                    const gw = release("gateway");
                    if (gw)
                        it("the gateway pods carry every label a selector aimed at them names, and the Service keeps clients as planned", () => {
                            const out = render(gw);
                            const deployment = out.find((d) => d.kind === "Deployment");
                            const service = out.find((d) => d.kind === "Service");
                            const podLabels: Record<string, string> = deployment.spec.template.metadata.labels;
                            assert.equal(deployment.metadata.namespace ?? gw.namespace, gw.namespace);
                            // The oracle's model of the chart is the chart.
                            for (const [k, v] of Object.entries(chartGatewayPodLabels(gw.values, gw.name)))
                                assert.equal(podLabels[k], v, k);
                            const selectors: [string, Record<string, string> | undefined][] = [];
                            let bound = false;
                            for (const d of docs as K8sObject[]) {
                                if (d.kind === "Gateway" && d.apiVersion.startsWith("networking.istio.io/"))
                                    selectors.push([`Gateway ${d.metadata.name}`, d.spec.selector]);
                                // A Gateway API Gateway reaches the pods through the Service its address names.
                                if (
                                    d.kind === "Gateway" &&
                                    d.apiVersion.startsWith("gateway.networking.k8s.io/") &&
                                    d.spec.gatewayClassName === "istio"
                                ) {
                                    assert.deepEqual(
                                        [d.spec.addresses[0].value, d.metadata.namespace],
                                        [service.metadata.name, service.metadata.namespace ?? gw.namespace],
                                        "the Gateway API Gateway names the Service the chart renders",
                                    );
                                    bound = true;
                                }
                                if (d.kind === "EnvoyFilter" && d.metadata.namespace === gw.namespace)
                                    selectors.push([`EnvoyFilter ${d.metadata.name}`, d.spec.workloadSelector?.labels]);
                                if (d.kind === "AuthorizationPolicy" && d.metadata.namespace === gw.namespace)
                                    selectors.push([
                                        `AuthorizationPolicy ${d.metadata.name}`,
                                        d.spec.selector?.matchLabels,
                                    ]);
                                if (d.kind === "NetworkPolicy") {
                                    for (const rule of d.spec.ingress)
                                        for (const from of rule.from ?? [])
                                            if (from.podSelector)
                                                selectors.push([
                                                    `NetworkPolicy ${d.metadata.name}`,
                                                    from.podSelector.matchLabels,
                                                ]);
                                }
                            }
                            assert.ok(selectors.length > 0 || bound);
                            for (const [who, sel] of selectors) {
                                assert.ok(sel && Object.keys(sel).length, `${who} has a selector`);
                                for (const [k, v] of Object.entries(sel!))
                                    assert.equal(
                                        podLabels[k],
                                        v,
                                        `${who} selects ${k}=${v}; the pods have ${JSON.stringify(podLabels)}`,
                                    );
                            }
                            assert.equal(service.spec.type, stack.mesh.gateway.serviceType);
                            assert.equal(
                                service.spec.externalTrafficPolicy,
                                gw.values.service && (gw.values.service as any).externalTrafficPolicy,
                                "externalTrafficPolicy reaches the Service",
                            );
                            for (const [k, v] of Object.entries(
                                (gw.values.podAnnotations as Record<string, string>) ?? {},
                            ))
                                assert.equal(deployment.spec.template.metadata.annotations[k], v);
                        });

                    const istiod = release("istiod");
                    if (istiod)
                        it("istiod runs with the persistent-session switch exactly when an app needs it, and with every env and meshConfig value", () => {
                            const out = render(istiod);
                            const env = Object.fromEntries(
                                out
                                    .find((d) => d.kind === "Deployment")
                                    .spec.template.spec.containers.find((c: any) => c.name === "discovery")
                                    .env.map((e: any) => [e.name, e.value]),
                            );
                            assert.equal(
                                env[PERSISTENT_SESSION_ENV] === "true",
                                needsPersistentSessions(stack.apps),
                                PERSISTENT_SESSION_ENV,
                            );
                            for (const [k, v] of Object.entries((istiod.values.env as Record<string, string>) ?? {}))
                                assert.equal(env[k], v, k);
                            const meshCm = out.find(
                                (d) =>
                                    d.kind === "ConfigMap" &&
                                    d.metadata.name ===
                                        (stack.mesh.revision ? `istio-${stack.mesh.revision}` : "istio"),
                            );
                            const mesh = parse(meshCm.data.mesh);
                            for (const [k, v] of Object.entries(
                                (istiod.values.meshConfig as Record<string, unknown>) ?? {},
                            ))
                                assert.deepEqual(mesh[k], v, `meshConfig.${k}`);
                        });

                    const tls = docs.filter((d) => d.kind === "ClusterIssuer" || d.kind === "Certificate");
                    if (tls.length)
                        it("cert-manager keeps its CRDs, and the issuer and certificate pass them", async () => {
                            const cm = release("cert-manager");
                            const version = cm?.version ?? stack.tls.certManagerVersion;
                            certManagerCrds ??= await CrdValidator.from(
                                helmTemplate(helm, certManagerChart(version), "cert-manager", "cert-manager", {
                                    crds: { enabled: true },
                                }),
                            );
                            if (cm) {
                                const crds = render(cm).filter((d) => d.kind === "CustomResourceDefinition");
                                assert.equal(crds.length, 6);
                                for (const crd of crds)
                                    assert.equal(
                                        crd.metadata.annotations?.["helm.sh/resource-policy"],
                                        "keep",
                                        crd.metadata.name,
                                    );
                            }
                            assert.equal(tls.length, 2);
                            for (const o of tls)
                                assert.deepEqual(certManagerCrds.problems(o), [], `${o.kind} ${o.metadata.name}`);
                        });

                    it("every Istio object passes the CRDs (schema and CEL rules) that base renders", () => {
                        const istio = (docs as K8sObject[]).filter((d) => /\.istio\.io\//.test(d.apiVersion));
                        assert.ok(istio.length >= 3);
                        for (const o of istio)
                            assert.deepEqual(
                                istioCrds.problems(o),
                                [],
                                `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`,
                            );
                    });

                    const gatewayApi = (docs as K8sObject[]).filter((d) =>
                        d.apiVersion.startsWith("gateway.networking.k8s.io/"),
                    );
                    if (gatewayApi.length)
                        it(`every Gateway API object passes the ${gatewayApiVersionFor(line.latest)} CRDs the stack installs (schema and CEL rules)`, () => {
                            for (const o of gatewayApi)
                                assert.deepEqual(
                                    gatewayApiCrds.problems(o),
                                    [],
                                    `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`,
                                );
                        });
                });
            }
        });
    }
});
