import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    GATEWAY_SERVICE_TYPE,
    installMocks,
    READY_PODS_TYPE,
    Recorder,
    Registered,
    settle,
    valueOf,
} from "./support/mocks";
import { generatedConfigs } from "./support/fixtures";
import { PROJECT_DIR, readStackConfig, listStacks } from "../cli/stackFiles";
import { parseStackConfig, demoAppSource } from "istio-sticky";
import { buildPlan, DEFAULT_STACK_NAME, Plan } from "../components/plan/stack";
import { CERT_MANAGER_TYPE, HELM_RELEASE_TYPE, MANIFEST_FILE_TYPE } from "istio-sticky/plan";
import { chartSource, HELM_RELEASE_POLICY } from "../components/manifests/types";
import { DEFAULT_ISTIO_VERSION } from "../components/settings/versions";

/** Loads the program with a stack's config, as `pulumi up -s <stack>` would. */
function runProgram(config: Record<string, unknown>): Record<string, pulumi.Output<any> | string> {
    // Pulumi hands structured values to the program as JSON text.
    pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
    );
    const path = require.resolve("../index");
    delete require.cache[path];
    return require(path);
}

/** What render prints for a config: the same plan index.ts builds. */
function renderedPlan(config: Record<string, unknown>): Plan {
    return buildPlan(parseStackConfig(config).value, { name: DEFAULT_STACK_NAME, demoAppSource: demoAppSource() });
}

/** Registered inputs as the engine gets them: fields that are undefined are not sent. */
const sent = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/**
 * Asserts that what was registered is exactly the plan: the same keys, each
 * with the planned owner, waits and content (Helm releases by chart, version,
 * repository and values), and nothing besides the components and reads.
 */
function assertRegisteredIsPlan(what: string, registered: readonly Registered[], plan: Plan): void {
    const byName = new Map(registered.map((r) => [r.name, r]));
    for (const o of plan.objects) {
        const r = byName.get(o.key);
        assert.ok(r, `${what}: ${o.key} is planned (rendered) but not registered`);
        assert.equal(r.parent, o.owner, `${what}: ${o.key} parent`);
        // A patch of an existing Service also waits for the check of the live Service (registration/reads.ts checkedExistingService).
        const checked = o.patch && o.object.kind === "Service" ? [`${o.key}-existing`] : [];
        assert.deepEqual([...r.dependsOn].sort(), [...o.dependsOn, ...checked].sort(), `${what}: ${o.key} waits`);
        if (o.object.kind === MANIFEST_FILE_TYPE.kind && o.object.apiVersion === MANIFEST_FILE_TYPE.apiVersion) {
            assert.deepEqual(
                [r.type, r.inputs.file],
                ["kubernetes:yaml/v2:ConfigFile", o.object.spec.url],
                `${what}: manifest ${o.key}`,
            );
        } else if (o.object.apiVersion === HELM_RELEASE_TYPE.apiVersion && o.object.kind === HELM_RELEASE_TYPE.kind) {
            const spec = o.object.spec;
            const source = chartSource(spec);
            assert.deepEqual(
                {
                    name: r.inputs.name,
                    namespace: r.inputs.namespace,
                    chart: r.inputs.chart,
                    version: r.inputs.version,
                    repo: r.inputs.repositoryOpts?.repo,
                    values: r.inputs.values,
                },
                sent({
                    name: o.object.metadata.name,
                    namespace: o.object.metadata.namespace,
                    chart: source.chart,
                    version: spec.version,
                    repo: source.repositoryOpts?.repo,
                    values: spec.values,
                }),
                `${what}: release ${o.key}`,
            );
            assert.deepEqual(
                [r.inputs.atomic, r.inputs.cleanupOnFail, r.inputs.timeout, r.inputs.maxHistory],
                [true, true, 600, HELM_RELEASE_POLICY.maxHistory],
            );
        } else if (o.object.apiVersion === CERT_MANAGER_TYPE.apiVersion && o.object.kind === CERT_MANAGER_TYPE.kind) {
            // @pulumi/kubernetes-cert-manager's remote component, with exactly the planned helmOptions.
            assert.deepEqual(
                [r.type, r.custom],
                ["kubernetes-cert-manager:index:CertManager", false],
                `${what}: ${o.key}`,
            );
            assert.deepEqual(
                r.inputs,
                sent({ helmOptions: o.object.spec.helmOptions }),
                `${what}: ${o.key} helmOptions`,
            );
        } else {
            const { apiVersion, kind, metadata, spec, data } = r.inputs;
            assert.deepEqual(
                sent({ apiVersion, kind, metadata, spec, data }),
                sent({ ...o.object }),
                `${what}: ${o.key} field by field`,
            );
        }
    }
    const expected = new Set([
        ...plan.objects.map((o) => o.key),
        ...plan.components.map((c) => c.key),
        // The check of each existing Service a patch waits for.
        ...plan.objects.filter((o) => o.patch && o.object.kind === "Service").map((o) => `${o.key}-existing`),
    ]);
    // Both reads are dynamic resources: the ready pods, and the gateway Service's address.
    const readTypes: Record<string, string> = { readyPods: READY_PODS_TYPE, gatewayService: GATEWAY_SERVICE_TYPE };
    for (const read of plan.reads) {
        const r = byName.get(read.key);
        assert.ok(
            r && r.type === readTypes[read.kind],
            `${what}: read ${read.key} (${read.kind}) registered as ${r?.type}`,
        );
        assert.deepEqual([r.inputs.namespace, r.inputs.service, r.parent], [read.namespace, read.service, read.owner]);
        assert.deepEqual([...r.dependsOn].sort(), [...read.dependsOn].sort());
        expected.add(read.key);
    }
    const extra = registered.filter((r) => !expected.has(r.name)).map((r) => `${r.type} ${r.name}`);
    assert.deepEqual(extra, [], `${what}: registered but not planned`);
    for (const c of plan.components) assert.equal(byName.get(c.key)?.type, c.type, `${what}: component ${c.key}`);
}

describe("index.ts (the program, under Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec, { gatewayService: { type: "NodePort" } }));
    beforeEach(() => rec.reset());
    after(() => pulumi.runtime.setAllConfig({}));

    it("deploys the dev stack and exports the ingress and the app", async () => {
        const out = runProgram(readStackConfig(PROJECT_DIR, "dev"));
        const apps = await valueOf(out.apps as pulumi.Output<any>);
        const ingress = await valueOf(out.ingress as pulumi.Output<any>);
        await settle(rec);
        assert.equal(ingress.type, "NodePort");
        assert.deepEqual(Object.keys(apps), ["sticky"]);
        assert.match(apps.sticky.affinity, /header x-user/);
        assert.equal(out.istioVersion, DEFAULT_ISTIO_VERSION);
        assert.deepEqual(await valueOf(out.pods as pulumi.Output<any>), {
            sticky: [
                { name: "sticky-7d9f-a", ip: "10.244.1.11" },
                { name: "sticky-7d9f-b", ip: "10.244.2.12" },
            ],
        });
        assert.equal(apps.sticky.directCurls.length, 2);
        assert.equal(rec.byNameOf("sticky-mesh-gateway").inputs.values.service.type, "NodePort");
        assert.equal(rec.byNameOf("sticky-sticky-deployment").inputs.spec.replicas, 3);
    });

    it("stops on an unknown config key before registering anything", async () => {
        assert.throws(
            () => runProgram({ "istio-sticky:apps": [{ name: "a" }], "istio-sticky:mesh:": {} }),
            /istio-sticky:mesh:: unknown config key/,
        );
        await settle(rec);
        assert.equal(rec.resources.length, 0);
    });
});

/** Keeps the runs quiet: warnings are tested where they are made. */
function muteWarnings(): void {
    const warn = pulumi.log.warn;
    before(() => void ((pulumi.log as any).warn = async () => {}));
    after(() => void ((pulumi.log as any).warn = warn));
}

describe("render is deploy: what index.ts registers equals what render prints", () => {
    const rec = new Recorder();
    before(() => installMocks(rec, { gatewayService: { type: "NodePort" } }));
    beforeEach(() => rec.reset());
    after(() => pulumi.runtime.setAllConfig({}));
    muteWarnings();

    async function registered(config: Record<string, unknown>): Promise<Registered[]> {
        const out = runProgram(config);
        await valueOf(pulumi.all([out.apps as pulumi.Output<any>, out.meshRequirements as pulumi.Output<any>]));
        await settle(rec);
        return [...rec.resources];
    }

    const configs: [string, Record<string, unknown>][] = [
        ...listStacks(PROJECT_DIR).map(
            (s) => [`stack ${s}`, readStackConfig(PROJECT_DIR, s)] as [string, Record<string, unknown>],
        ),
        ...generatedConfigs(),
    ];
    it(`covers every stack and ${configs.length - listStacks(PROJECT_DIR).length} generated configs`, () => {
        assert.ok(configs.length > 50);
    });
    for (const [what, config] of configs) {
        it(what, async () => assertRegisteredIsPlan(what, await registered(config), renderedPlan(config)));
    }

    it("the comparison fails when one field differs (it can fail)", async () => {
        const config = readStackConfig(PROJECT_DIR, "dev");
        const regs = await registered(config);
        const plan = renderedPlan(config);
        const dr = plan.objects.find((o) => o.object.kind === "DestinationRule")!;
        dr.object = structuredClone(dr.object);
        dr.object.spec.trafficPolicy.loadBalancer = { simple: "ROUND_ROBIN" };
        assert.throws(() => assertRegisteredIsPlan("dev", regs, plan), /field by field/);
        const release = plan.objects.find((o) => o.object.kind === "HelmRelease")!;
        const plan2 = renderedPlan(config);
        plan2.objects.find((o) => o.key === release.key)!.object.spec.values = { changed: true };
        assert.throws(() => assertRegisteredIsPlan("dev", regs, plan2), /release/);
    });
});

describe("preview and up register the same set", () => {
    after(() => pulumi.runtime.setAllConfig({}));
    muteWarnings();
    for (const stack of ["dev", "staging", "prod", "ambient"]) {
        it(`stack ${stack}`, async () => {
            const sets: string[][] = [];
            for (const preview of [true, false]) {
                const rec = new Recorder();
                await installMocks(rec, { preview, gatewayService: { type: "NodePort" } });
                runProgram(readStackConfig(PROJECT_DIR, stack));
                await settle(rec);
                sets.push(rec.resources.map((r) => `${r.type} ${r.name} <- ${r.dependsOn.join(",")}`).sort());
            }
            assert.ok(
                sets[0].some((r) => r.startsWith(READY_PODS_TYPE)),
                "the pods are read in preview too",
            );
            assert.deepEqual(sets[0], sets[1]);
        });
    }
});
