/**
 * Which pods get a sidecar, computed the way the API server decides it: the real istiod
 * chart's MutatingWebhookConfigurations (rendered with the plan's istiod values, or for an
 * existing Istio with its revision) and their namespaceSelector and objectSelector, held
 * against every Namespace and pod template a plan creates, and the gateway chart's pods.
 * With sidecars every app pod and the gateway pods must be injected exactly once, by the
 * plan's revision; in ambient no app pod may be (a pod with a sidecar leaves ambient), while
 * the gateway's still must be (its image is "auto"). Needs ../shared/charts and helm.
 */
import { strict as assert } from "assert";
import {
    buildPlan,
    planDocuments,
    parseStackConfig,
    StackSettings,
    Dataplane,
    StickyApp,
    AffinityMode,
} from "istio-sticky";
import { releaseOfDocument, type K8sObject } from "../../components/manifests/types";
import { istioLine } from "istio-sticky/plan";
import { listStacks, PROJECT_DIR, readStackConfig } from "../../cli/stackFiles";
import { ensureHelm, findCharts, helmTemplate, IstioCharts } from "../support/helm";
import { generatedConfigs } from "../support/fixtures";
import { installMocks, Recorder, settle } from "../support/mocks";
import { PodInNamespace, selectorMatches, webhooksFor } from "../support/webhooks";

const CHARTS = findCharts();

/** The MutatingWebhookConfiguration name istiod's chart gives a revision (in istio-system). */
const injectorOf = (revision: string | undefined) => `istio-sidecar-injector${revision ? `-${revision}` : ""}`;

describe("sidecar injection: the real istiod chart's webhooks over every pod a plan creates", function () {
    this.timeout(600_000);
    let helm: string;
    const rendered = new Map<string, any[]>();
    /** helm template, once per chart and values. */
    const template = (chart: string, release: string, namespace: string, values: Record<string, unknown>) => {
        const key = JSON.stringify([chart, release, namespace, values]);
        if (!rendered.has(key)) rendered.set(key, helmTemplate(helm, chart, release, namespace, values));
        return rendered.get(key)!;
    };

    before(function () {
        if (!CHARTS) {
            console.log(
                "      skipped: needs ../shared/charts (Istio's istiod and gateway charts; or set ISTIO_STICKY_CHARTS)",
            );
            this.skip();
        }
        helm = ensureHelm();
    });

    const chartsFor = (stack: StackSettings): IstioCharts =>
        CHARTS!.istio.find((c) => c.minor === istioLine(stack.mesh.version).minor)!;

    /** The injection webhooks of the plan's istiod, or of the existing Istio it requires (by its revision). */
    function injectors(stack: StackSettings, docs: readonly K8sObject[]): any[] {
        const istiod = docs.find((d) => d.kind === "HelmRelease" && d.spec.chart === "istiod");
        const r = istiod ? releaseOfDocument(istiod) : undefined;
        const values = r?.values ?? (stack.mesh.revision ? { revision: stack.mesh.revision } : {});
        return template(chartsFor(stack).istiod, r?.name ?? "istiod", "istio-system", values).filter(
            (d) => d.kind === "MutatingWebhookConfiguration",
        );
    }

    /** Every pod the plan creates: its apps' pod templates, and the gateway chart's pods when it installs the gateway. */
    function podsOf(stack: StackSettings, docs: readonly K8sObject[]): PodInNamespace[] {
        /** A Deployment's pods, in the namespace the plan gives them (a namespace it does not create has no labels). */
        const podsOfDeployment = (what: string, namespace: string, d: any): PodInNamespace => ({
            who: `${what} ${namespace}/${d.metadata.name}`,
            namespace,
            namespaceLabels:
                docs.find((n) => n.kind === "Namespace" && n.metadata.name === namespace)?.metadata.labels ?? {},
            podLabels: d.spec.template.metadata.labels,
        });
        const apps = docs
            .filter((d) => d.kind === "Deployment")
            .map((d) => podsOfDeployment("app", d.metadata.namespace!, d));
        const gw = docs.find((d) => d.kind === "HelmRelease" && d.spec.chart === "gateway");
        const gateway = gw
            ? template(chartsFor(stack).gateway, gw.metadata.name, gw.metadata.namespace!, releaseOfDocument(gw).values)
                  .filter((d) => d.kind === "Deployment")
                  .map((d) => podsOfDeployment("gateway", gw.metadata.namespace!, d))
            : [];
        return [...apps, ...gateway];
    }

    /** Problems with who gets a sidecar: [] when every pod gets exactly what the data plane asks for. */
    function injectionProblems(stack: StackSettings, docs: readonly K8sObject[]): string[] {
        const configurations = injectors(stack, docs);
        const expected = `${injectorOf(stack.mesh.revision)}/`;
        return podsOf(stack, docs).flatMap((pod) => {
            const hooks = webhooksFor(configurations, pod);
            const wantSidecar = pod.who.startsWith("gateway") || stack.mesh.dataplane === Dataplane.Sidecar;
            if (!wantSidecar)
                return hooks.length
                    ? [`${pod.who} gets a sidecar in ambient from ${hooks.join(", ")}: it leaves ambient`]
                    : [];
            if (hooks.length !== 1)
                return [
                    `${pod.who} is injected by ${hooks.length} webhooks (${hooks.join(", ") || "none"}), not exactly one`,
                ];
            return hooks[0].startsWith(expected)
                ? []
                : [`${pod.who} is injected by ${hooks[0]}, not by the revision's ${expected}`];
        });
    }

    const docsOf = (stack: StackSettings) => planDocuments(buildPlan(stack, { demoAppSource: "// app" }));

    it("evaluates label selectors as Kubernetes does", () => {
        const sel = {
            matchLabels: { a: "1" },
            matchExpressions: [
                { key: "b", operator: "NotIn" as const, values: ["false"] },
                { key: "c", operator: "DoesNotExist" as const },
            ],
        };
        assert.ok(selectorMatches(sel, { a: "1" }));
        assert.ok(selectorMatches(sel, { a: "1", b: "true" }));
        assert.ok(!selectorMatches(sel, { a: "1", b: "false" }));
        assert.ok(!selectorMatches(sel, { a: "1", c: "" }));
        assert.ok(!selectorMatches(sel, { a: "2" }));
        assert.ok(selectorMatches({ matchExpressions: [{ key: "x", operator: "In", values: ["y"] }] }, { x: "y" }));
        assert.ok(selectorMatches({}, {}));
    });

    const configs: [string, Record<string, unknown>][] = [
        ...listStacks(PROJECT_DIR).map(
            (s) => [`the ${s} stack`, readStackConfig(PROJECT_DIR, s)] as [string, Record<string, unknown>],
        ),
        ...generatedConfigs(),
    ];
    it(`gives exactly the pods the data plane asks for a sidecar, by the plan's revision, in every stack and ${configs.length - listStacks(PROJECT_DIR).length} generated configs`, () => {
        const seen = { sidecar: 0, ambient: 0, revision: 0 };
        for (const [what, config] of configs) {
            const stack = parseStackConfig(config).value;
            const docs = docsOf(stack);
            assert.deepEqual(injectionProblems(stack, docs), [], what);
            seen[stack.mesh.dataplane === Dataplane.Ambient ? "ambient" : "sidecar"]++;
            if (stack.mesh.revision) seen.revision++;
        }
        assert.ok(seen.sidecar > 10 && seen.ambient > 10 && seen.revision > 3, JSON.stringify(seen));
    });

    describe("catches a broken object", () => {
        const stackOf = (mesh: Record<string, unknown>) =>
            parseStackConfig({
                "istio-sticky:apps": [{ name: "web", affinity: { mode: "header", headerName: "x-user" } }],
                "istio-sticky:mesh": mesh,
            }).value;
        const broken = (mesh: Record<string, unknown>, breakIt: (docs: K8sObject[]) => void) => {
            const stack = stackOf(mesh);
            const docs = JSON.parse(JSON.stringify(docsOf(stack))) as K8sObject[];
            assert.deepEqual(injectionProblems(stack, docs), [], "before breaking it");
            breakIt(docs);
            return injectionProblems(stack, docs).join("\n");
        };
        const pod = (docs: K8sObject[]) => docs.find((d) => d.kind === "Deployment")!.spec.template.metadata.labels;
        const ns = (docs: K8sObject[]) =>
            docs.find((d) => d.kind === "Namespace" && d.metadata.name === "web")!.metadata.labels!;

        it("an ambient pod that asks for a sidecar (the object.sidecar-injector webhook selects sidecar.istio.io/inject=true)", () => {
            const found = broken({ dataplane: "ambient" }, (d) => (pod(d)["sidecar.istio.io/inject"] = "true"));
            assert.match(
                found,
                /app web\/web gets a sidecar in ambient from istio-sidecar-injector\/object\.sidecar-injector\.istio\.io/,
            );
        });
        it("an ambient namespace that is also labelled for injection", () => {
            const found = broken({ dataplane: "ambient" }, (d) => {
                ns(d)["istio-injection"] = "enabled";
                delete pod(d)["sidecar.istio.io/inject"];
            });
            assert.match(
                found,
                /gets a sidecar in ambient from istio-sidecar-injector\/namespace\.sidecar-injector\.istio\.io/,
            );
        });
        it("a sidecar pod in a namespace without its injection label, and not asking itself", () => {
            const found = broken({}, (d) => {
                delete ns(d)["istio-injection"];
                delete pod(d)["sidecar.istio.io/inject"];
            });
            assert.match(found, /app web\/web is injected by 0 webhooks \(none\)/);
        });
        it("a revision's pod in a namespace of the default revision", () => {
            const found = broken({ revision: "canary" }, (d) => {
                delete ns(d)["istio.io/rev"];
                ns(d)["istio-injection"] = "enabled";
            });
            assert.match(found, /app web\/web is injected by 0 webhooks/);
        });
        it("a gateway that names no revision under a revision's istiod", () => {
            const found = broken(
                { revision: "canary" },
                (d) =>
                    delete d.find((x) => x.kind === "HelmRelease" && x.spec.chart === "gateway")!.spec.values.revision,
            );
            assert.match(found, /gateway istio-ingress\/istio-ingressgateway is injected by 0 webhooks/);
        });
    });

    describe("StickyApp on its own (Pulumi mocks)", () => {
        const rec = new Recorder();
        before(() => installMocks(rec));
        beforeEach(() => rec.reset());

        for (const [what, revision, createNamespace] of [
            ["in a namespace it creates", undefined, true],
            ["in a namespace it creates, with a revision", "canary", true],
            ["in a namespace it does not create (no labels)", undefined, false],
            ["in a namespace it does not create, with a revision", "canary", false],
        ] as const) {
            it(`gets its sidecar ${what}`, async () => {
                new StickyApp("solo", {
                    name: "solo",
                    affinity: { mode: AffinityMode.Header, headerName: "x" },
                    revision,
                    createNamespace,
                });
                await settle(rec);
                const deployment = rec.byNameOf("solo-deployment").inputs;
                const namespace = createNamespace ? rec.byNameOf("solo-namespace").inputs : undefined;
                const stack = parseStackConfig({
                    "istio-sticky:apps": [{ name: "solo" }],
                    "istio-sticky:mesh": { install: false, ...(revision ? { revision } : {}) },
                }).value;
                const hooks = webhooksFor(injectors(stack, []), {
                    who: "solo",
                    namespace: "solo",
                    namespaceLabels: namespace?.metadata.labels ?? {},
                    podLabels: deployment.spec.template.metadata.labels,
                });
                assert.equal(hooks.length, 1, hooks.join(", "));
                assert.ok(hooks[0].startsWith(`${injectorOf(revision)}/`), hooks[0]);
            });
        }
    });
});
