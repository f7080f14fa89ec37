/**
 * The oracles of the example programs' runs (lab/cluster/programs.ts), on states shaped as
 * `pulumi stack export` writes them: each catches the broken case it exists for.
 */
import { strict as assert } from "assert";
import {
    asSchemaSpec,
    comparableResources,
    meshWaits,
    outputProblems,
    resourceDifferences,
    stateObjects,
} from "../cluster/programs";

const URN = "urn:pulumi:harness::sticky-python::";
const mesh = { urn: `${URN}istio-sticky:index:IstioMesh::mesh`, type: "istio-sticky:index:IstioMesh" };
const istiod = {
    urn: `${URN}istio-sticky:index:IstioMesh$kubernetes:helm.sh/v3:Release::mesh-istiod`,
    type: "kubernetes:helm.sh/v3:Release",
    inputs: { chart: "istiod", values: { pilot: { env: { PILOT_ENABLE_PERSISTENT_SESSION_FILTER: "true" } } } },
};
const deployment = (dependencies: string[], replicas = 3) => ({
    urn: `${URN}istio-sticky:index:StickyApp$kubernetes:apps/v1:Deployment::shop-deployment`,
    type: "kubernetes:apps/v1:Deployment",
    inputs: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "shop", namespace: "storefront" },
        spec: { replicas },
    },
    dependencies,
});
const patch = {
    urn: `${URN}istio-sticky:index:StickyApp$kubernetes:core/v1:ServicePatch::orders-service-patch`,
    type: "kubernetes:core/v1:ServicePatch",
    inputs: { apiVersion: "v1", kind: "Service", metadata: { name: "orders-api", namespace: "shop" } },
};
const read = (after: string) => ({
    urn: `${URN}istio-sticky:index:StickyApp$pulumi-nodejs:dynamic/istio-sticky:ReadyPods::shop-ready-pods`,
    type: "pulumi-nodejs:dynamic/istio-sticky:ReadyPods",
    inputs: { namespace: "storefront", service: "shop", after: [after], __provider: "exports.handler = …" },
});

describe("the example programs' oracles (lab/cluster/programs.ts)", () => {
    it("reads the state's Kubernetes objects as the checks read a plan, a …Patch type as a patch", () => {
        const objects = stateObjects([mesh, istiod, deployment([]), patch]).objects;
        assert.deepEqual(
            objects.map((o) => [o.key, o.object.kind, o.patch]),
            [
                ["shop-deployment", "Deployment", undefined],
                ["orders-service-patch", "Service", true],
            ],
        );
    });

    it("finds a program whose resources differ from the TypeScript program's, and none where only a cluster's digests do", () => {
        const reference = comparableResources([mesh, istiod, deployment([]), read("storefront/shop@aaaaaaaaaaaa")]);
        const same = comparableResources([mesh, istiod, deployment([]), read("storefront/shop@bbbbbbbbbbbb")]);
        assert.deepEqual(resourceDifferences(reference, same), []);
        const scaled = comparableResources([mesh, istiod, deployment([], 4), read("x")]);
        assert.deepEqual(resourceDifferences(reference, scaled), [
            "shop-deployment: spec.replicas: want 3, have 4",
            "shop-deployment: extra spec.replicas: want 4, have 3",
        ]);
        const missing = comparableResources([mesh, deployment([]), read("x"), patch]);
        assert.deepEqual(resourceDifferences(reference, missing), [
            "mesh-istiod: missing",
            "orders-service-patch: not in the TypeScript program's state",
        ]);
    });

    it("tells how an app waits for the mesh: its objects from TypeScript, the component from another language", () => {
        const state = (deps: string[]) => [mesh, istiod, deployment(deps)];
        assert.deepEqual(meshWaits("typescript", state([istiod.urn]), "shop"), []);
        assert.deepEqual(meshWaits("python", state([mesh.urn]), "shop"), []);
        assert.match(meshWaits("typescript", state([mesh.urn]), "shop").join(), /want some of the mesh's objects/);
        assert.match(meshWaits("go", state([]), "shop").join(), /want the mesh/);
        assert.match(meshWaits("yaml", [mesh], "shop").join(), /no IstioMesh or no shop-deployment/);
    });

    it("checks the outputs: node port by each language's names, the pods with IPs, no requirement left", () => {
        const pods = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}`, ip: `10.244.0.${i + 2}` }));
        const good = { shopPods: pods(3), cartPods: pods(1), cartMeshRequirements: [] };
        assert.deepEqual(outputProblems("go", { ...good, ingress: { nodePorts: { http: 32400 } } }), []);
        assert.deepEqual(outputProblems("python", { ...good, ingress: { node_ports: { http: 32400 } } }), []);
        const bad = outputProblems("yaml", {
            ingress: { node_ports: { http: 32400 } },
            shopPods: [...pods(2), { name: "p9" }],
            cartPods: pods(1),
            cartMeshRequirements: ["istiod with env PILOT_ENABLE_PERSISTENT_SESSION_FILTER=true"],
        });
        assert.equal(bad.length, 3, bad.join("\n"));
        assert.match(bad[0], /^ingress\.nodePorts\.http/);
        assert.match(bad[1], /^shopPods: .* \(want 3 with IPs\)/);
        assert.match(bad[2], /^cartMeshRequirements/);
    });

    it("compares a schema as the CLI's Go types write it back: no optional markers, no empty lists or false", () => {
        const analyzer = { a: { type: "string", optional: true, plain: false }, required: [], config: {} };
        assert.deepEqual(asSchemaSpec(analyzer), { a: { type: "string" } });
        assert.notDeepEqual(asSchemaSpec({ a: { type: "number" } }), asSchemaSpec(analyzer));
    });
});
