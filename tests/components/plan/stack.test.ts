import { HELM_RELEASE_API_VERSION } from "istio-sticky/plan";
import { strict as assert } from "assert";
import { AffinityMode, buildPlan, ComponentType, planDocuments, parseStackConfig } from "istio-sticky";
import { readStackConfig, PROJECT_DIR, listStacks } from "../../../cli/stackFiles";
import { validateUpstream } from "../../support/schemas";
import { ALL_MODES, stackWith } from "../../support/fixtures";

describe("plan", () => {
    it("tells an existing Istio to keep client addresses for the direct-routing guard", () => {
        const existing = { install: false };
        const reqs = buildPlan(
            stackWith([AffinityMode.None], existing, { direct: { enabled: true, podCidr: "10.244.0.0/16" } }),
            {
                demoAppSource: "",
            },
        ).meshRequirements;
        assert.ok(
            reqs.some((r) => /externalTrafficPolicy: Local/.test(r)),
            reqs.join("\n"),
        );
        assert.ok(
            !buildPlan(stackWith([AffinityMode.None], existing), { demoAppSource: "" }).meshRequirements.some((r) =>
                /externalTrafficPolicy/.test(r),
            ),
        );
        const acme = parseStackConfig({
            "istio-sticky:apps": [{ name: "web" }],
            "istio-sticky:mesh": existing,
            "istio-sticky:tls": {
                enabled: true,
                issuer: "acme",
                hosts: ["a.example.com"],
                acme: { email: "o@example.com" },
            },
        }).value;
        assert.ok(
            buildPlan(acme, { demoAppSource: "" }).meshRequirements.some((r) =>
                /ACME HTTP-01 .*"ingressClass":"istio".*"K8S_INGRESS_NS":"istio-ingress"/.test(r),
            ),
        );
    });

    it("sizes every maglev table, as istiod's webhook requires", () => {
        const stack = stackWith(
            [AffinityMode.Header],
            {},
            { affinity: { mode: "header", headerName: "x-user", algorithm: "maglev" } },
        );
        const dr = buildPlan(stack, { demoAppSource: "" }).objects.find(
            (o) => o.object.kind === "DestinationRule",
        )!.object;
        assert.deepEqual(dr.spec.trafficPolicy.loadBalancer.consistentHash, {
            httpHeaderName: "x-user",
            maglev: { tableSize: 65537 },
        });
    });

    it("validates every object of every mode against the upstream schemas", async () => {
        const docs = planDocuments(buildPlan(stackWith(ALL_MODES), { demoAppSource: "// app" }));
        const k8s = docs.filter((d) => d.apiVersion !== HELM_RELEASE_API_VERSION);
        assert.equal(k8s.filter((d) => d.kind === "DestinationRule").length, ALL_MODES.length);
        for (const doc of k8s) await validateUpstream(doc);
    });

    it("validates every object of every mode with direct routing, autoscaling and header routing", async () => {
        const stack = stackWith(ALL_MODES, {}, (i) => ({
            path: "/shared",
            match: { headers: { target: `backend-${i}` } },
            direct: { enabled: true, podCidr: "10.244.0.0/16", contexts: ["gateway", "sidecar"] },
            autoscaling: { minReplicas: 2, maxReplicas: 5 },
        }));
        const docs = planDocuments(buildPlan(stack, { demoAppSource: "// app" })).filter(
            (d) => d.apiVersion !== HELM_RELEASE_API_VERSION,
        );
        const kinds = new Set(docs.map((d) => d.kind));
        for (const kind of ["EnvoyFilter", "HorizontalPodAutoscaler", "PodDisruptionBudget", "VirtualService"])
            assert.ok(kinds.has(kind), kind);
        for (const doc of docs) await validateUpstream(doc);
    });

    for (const stack of ["dev", "staging", "prod", "ambient"]) {
        it(`validates every object of the ${stack} stack against the upstream schemas`, async () => {
            const { value } = parseStackConfig(readStackConfig(PROJECT_DIR, stack));
            for (const doc of planDocuments(buildPlan(value, { demoAppSource: "// app" })).filter(
                (d) => d.apiVersion !== HELM_RELEASE_API_VERSION,
            ))
                await validateUpstream(doc);
        });
    }

    it("has the stacks the project promises", () => {
        assert.deepEqual(listStacks(PROJECT_DIR), ["ambient", "dev", "prod", "staging"]);
    });

    it("fails the schema check on a broken object (the check can fail)", async () => {
        const docs = planDocuments(buildPlan(stackWith([AffinityMode.Header]), { demoAppSource: "// app" }));
        const dr = structuredClone(docs.find((d) => d.kind === "DestinationRule")!);
        dr.spec.trafficPolicy.loadBalancer.simple = "ROUND_ROBIN"; // both simple and consistentHash: Istio's oneOf forbids it
        await assert.rejects(validateUpstream(dr), /oneOf|not/);
        const dep = structuredClone(docs.find((d) => d.kind === "Deployment")!);
        dep.spec.replicas = "three";
        await assert.rejects(validateUpstream(dep), /replicas/);
    });

    it("orders documents as a deploy creates them", () => {
        const kinds = planDocuments(buildPlan(stackWith([AffinityMode.Header]), { demoAppSource: "// app" })).map(
            (d) => `${d.kind}/${d.metadata.name}`,
        );
        assert.deepEqual(kinds, [
            "Namespace/istio-system",
            "Namespace/istio-ingress",
            "HelmRelease/istio-base",
            "HelmRelease/istiod",
            "HelmRelease/istio-ingressgateway",
            "Namespace/app-0",
            "ConfigMap/istio-sticky-demo-app",
            "Gateway/sticky-gateway",
            "Deployment/app-0",
            "Service/app-0",
            "DestinationRule/app-0",
            "PeerAuthentication/app-0",
            "VirtualService/path-app-0",
        ]);
    });

    it("creates a shared namespace once and lists what an existing mesh must provide", () => {
        const stack = parseStackConfig({
            "istio-sticky:mesh": { install: false },
            "istio-sticky:apps": [
                { name: "a", namespace: "shop", affinity: { mode: "persistentHeader", headerName: "x-pod" } },
                { name: "b", namespace: "shop" },
            ],
        }).value;
        const plan = buildPlan(stack, { demoAppSource: "// app" });
        assert.deepEqual(
            plan.components.map((c) => c.type),
            [ComponentType.StickySessions, ComponentType.StickyApp, ComponentType.StickyApp],
        );
        assert.deepEqual(
            plan.objects.filter((o) => o.object.kind === "Namespace").map((o) => o.object.metadata.name),
            ["shop"],
        );
        assert.deepEqual(
            plan.objects.filter((o) => o.object.kind === "ConfigMap").map((o) => [o.key, o.object.metadata.namespace]),
            [["sticky-demo-app-shop", "shop"]],
            "one demo script per namespace",
        );
        assert.ok(
            plan.meshRequirements.some((r) => /PILOT_ENABLE_PERSISTENT_SESSION_FILTER=true \(needed by a\)/.test(r)),
        );
        assert.ok(
            plan.meshRequirements.some((r) =>
                /labelled \{"app":"istio-ingressgateway","istio":"ingressgateway"\}/.test(r),
            ),
        );
    });
});
