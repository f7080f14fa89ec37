import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { inputValidator, PulumiSchema } from "../support/pulumiSchema";
import { installMocks, Recorder, settle, valueOf } from "../support/mocks";
import { ISTIO_CHART_REPO } from "../../components/settings/artifacts";
import { DEFAULT_ISTIO_VERSION } from "../../components/settings/versions";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "yaml", "Pulumi.yaml");
const schema: PulumiSchema = JSON.parse(fs.readFileSync(path.join(ROOT, "schema.json"), "utf8"));

interface YamlResource {
    type: string;
    properties?: Record<string, unknown>;
    options?: { dependsOn?: string[] };
}

/** `${name}` or `${name.output}`: a reference to another resource or one of its outputs. */
const REF = /^\$\{([A-Za-z][\w-]*)(?:\.([A-Za-z]\w*))?\}$/;

/** What is wrong with a YAML program's use of the components, checked against schema.json. */
function problemsOf(program: {
    resources: Record<string, YamlResource>;
    config?: Record<string, { type: string; default?: unknown }>;
}): string[] {
    const problems: string[] = [];
    for (const [name, r] of Object.entries(program.resources)) {
        const resource = schema.resources[r.type];
        if (!resource) {
            problems.push(`${name}: no type ${r.type}`);
            continue;
        }
        const known: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(r.properties ?? {})) {
            const ref = typeof value === "string" ? REF.exec(value) : null;
            if (!ref) {
                known[key] = value;
                continue;
            }
            const target = program.resources[ref[1]];
            const config = program.config?.[ref[1]];
            if (config && !ref[2]) {
                // A config value: known before anything runs, so a plain property may take it too.
                known[key] = config.default;
                continue;
            }
            if (!target) problems.push(`${name}.${key}: no resource ${ref[1]}`);
            else if (ref[2] && !schema.resources[target.type]?.properties[ref[2]])
                problems.push(`${name}.${key}: ${ref[1]} has no output ${ref[2]}`);
            if (resource.inputProperties[key]?.plain)
                problems.push(
                    `${name}.${key}: is plain (it decides which resources exist), so it cannot take an output`,
                );
            known[key] = undefined;
        }
        const refs = Object.fromEntries(Object.entries(known).filter(([, v]) => v !== undefined));
        // Properties given as references count as present for the required check.
        const present = { ...refs, ...Object.fromEntries(Object.keys(known).map((k) => [k, refs[k] ?? "ref"])) };
        const errors = inputValidator(
            schema,
            r.type,
        )(refs).filter(
            (e) => !/must have required property/.test(e) || !Object.keys(present).some((k) => e.includes(`"${k}"`)),
        );
        problems.push(...errors.map((e) => `${name}: ${e}`));
        for (const dep of r.options?.dependsOn ?? [])
            if (!program.resources[REF.exec(dep)?.[1] ?? ""])
                problems.push(`${name}: dependsOn ${dep} names no resource`);
    }
    return problems;
}

describe("examples/yaml: the components from Pulumi YAML", function () {
    this.timeout(60000);
    const program = parse(fs.readFileSync(EXAMPLE, "utf8"));

    it("is the whole program docs/use-in-your-program.md shows", () => {
        const doc = fs.readFileSync(path.join(ROOT, "docs", "use-in-your-program.md"), "utf8");
        const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
        assert.ok(
            blocks.includes(fs.readFileSync(EXAMPLE, "utf8")),
            "the doc's YAML block is examples/yaml/Pulumi.yaml",
        );
    });

    it("is a YAML program that adds this repository as a package", () => {
        assert.equal(program.runtime, "yaml");
        const source = path.resolve(path.dirname(EXAMPLE), program.packages["istio-sticky"]);
        assert.equal(source, ROOT);
        assert.ok(fs.existsSync(path.join(source, "PulumiPlugin.yaml")));
    });

    it("defaults its config to the package's own Istio release and chart repository", () => {
        assert.equal(program.config.istioVersion.default, DEFAULT_ISTIO_VERSION);
        assert.equal(program.config.chartRepository.default, ISTIO_CHART_REPO);
    });

    it("uses only types, properties, enum values and outputs the schema has, and no output where a value must be plain", () => {
        assert.deepEqual(problemsOf(program), []);
    });

    it("would be refused with a wrong mode, an unknown property, a missing name or an output in a plain property", () => {
        const broken = structuredClone(program);
        broken.resources.shop.properties.affinity.mode = "sticky";
        broken.resources.shop.properties.replica = 2;
        delete broken.resources.cart.properties.name;
        broken.resources.cart.properties.autoscaling = "${mesh.version}";
        broken.resources.cart.properties.gatewayNamespace = "${mesh.namespace}";
        const problems = problemsOf(broken).join("\n");
        assert.match(problems, /shop: \/affinity\/mode must be equal to one of the allowed values/);
        assert.match(problems, /shop: \/ must NOT have additional properties {"additionalProperty":"replica"}/);
        assert.match(problems, /cart: \/ must have required property 'name'/);
        assert.match(problems, /cart\.autoscaling: is plain/);
        assert.match(problems, /cart\.gatewayNamespace: mesh has no output namespace/);
    });

    describe("run as the plugin host runs it (Pulumi mocks)", () => {
        const rec = new Recorder();
        before(() => installMocks(rec));

        it("constructs the mesh and the apps, each app waiting for the mesh, and resolves the outputs", async () => {
            const provider = new ComponentProvider({
                components: getPulumiComponents(require(ROOT)),
                dirname: ROOT,
                name: "istio-sticky",
            });
            const built: Record<string, { urn: pulumi.Output<string>; state: Record<string, any> }> = {};
            const resolve = (value: unknown): unknown => {
                const ref = typeof value === "string" ? REF.exec(value) : null;
                if (!ref) return value;
                if (program.config?.[ref[1]]) return program.config[ref[1]].default;
                return ref[2] ? built[ref[1]].state[ref[2]] : built[ref[1]];
            };
            for (const [name, r] of Object.entries<YamlResource>(program.resources)) {
                const inputs = Object.fromEntries(Object.entries(r.properties ?? {}).map(([k, v]) => [k, resolve(v)]));
                // Another language's dependsOn reaches the plugin as references by URN.
                const dependsOn = (r.options?.dependsOn ?? []).map(
                    (d) => new pulumi.DependencyResource(built[REF.exec(d)![1]].urn as any),
                );
                built[name] = (await provider.construct(name, r.type, inputs, { dependsOn })) as any;
            }
            await settle(rec);
            for (const app of ["shop", "cart"]) {
                assert.ok(rec.byNameOf(`${app}-deployment`).dependsOn.includes("mesh"), `${app} waits for the mesh`);
                assert.equal(
                    rec.byNameOf(`${app}-gateway`).inputs.metadata.namespace,
                    app === "shop" ? "storefront" : app,
                );
                assert.deepEqual(rec.byNameOf(`${app}-gateway`).inputs.spec.selector, {
                    app: "istio-ingressgateway",
                    istio: "ingressgateway",
                });
            }
            assert.equal(rec.byNameOf("cart-hpa").inputs.spec.maxReplicas, 6);
            // The existing Service, from the schema's ExistingService: a patch, no workload, no namespace of its own.
            const patch = rec.byNameOf("orders-service-patch");
            assert.equal(patch.type, "kubernetes:core/v1:ServicePatch");
            assert.deepEqual(
                [patch.inputs.metadata.name, patch.inputs.spec.ports],
                ["orders-api", [{ port: 80, protocol: "TCP", appProtocol: "http" }]],
            );
            assert.ok(patch.dependsOn.includes("mesh"), "the patch waits for the mesh");
            assert.ok(!rec.resources.some((r) => /^orders-(deployment|service|namespace|script)$/.test(r.name)));
            assert.deepEqual(rec.byNameOf("mesh-istiod").inputs.values.env, {
                PILOT_ENABLE_PERSISTENT_SESSION_FILTER: "true",
            });
            assert.equal(rec.byNameOf("mesh-gateway").inputs.values.service.type, "NodePort");
            assert.ok((await valueOf(built.mesh.state.ingress)).howToReach);
            assert.equal((await valueOf(built.shop.state.pods)).length, 2);
        });
    });
});
