import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { formatSchema, inferSchema, providerNameOf, SCHEMA_FILE } from "../../cli/schema";
import { ComponentType } from "istio-sticky";
import { installMocks, Recorder, settle, valueOf } from "../support/mocks";

const ROOT = path.join(__dirname, "..", "..");
const pkg = require("../../package.json");

/**
 * Other languages use the components through `pulumi package add <this repository>`: Pulumi runs
 * the package as a plugin (PulumiPlugin.yaml), which finds the components exported by package.json
 * `main`, and the SDK's analyzer infers their schema from the TypeScript sources. It refuses union
 * types, anonymous object types, references to the package's own resources, and outputs that are
 * not Output<T> of such types (@pulumi/pulumi provider/experimental/analyzer).
 */
describe("multi-language use (the component analyzer's schema)", function () {
    this.timeout(60000);
    let schema: any;
    before(async () => {
        schema = await inferSchema(ROOT);
    });

    it("is a nodejs plugin whose entry point exports the four components under this package's name", () => {
        assert.deepEqual(parse(fs.readFileSync(path.join(ROOT, "PulumiPlugin.yaml"), "utf8")), { runtime: "nodejs" });
        const found = getPulumiComponents(require(path.join(ROOT, pkg.main))).map((c) => c.name);
        assert.deepEqual(found.sort(), ["GatewayTls", "IstioMesh", "StickyApp", "StickySessions"]);
        assert.equal(providerNameOf(pkg.name), "istio-sticky");
        assert.equal(providerNameOf("@acme/istio-sticky"), "istio-sticky");
    });

    it("accepts all four components, with the type tokens the components register", () => {
        assert.deepEqual(Object.keys(schema.resources).sort(), Object.values(ComponentType).sort());
        for (const r of Object.values<any>(schema.resources)) assert.equal(r.isComponent, true);
    });

    it("is the committed schema.json (run `npm run schema` after changing args or outputs)", () => {
        const committed = fs.readFileSync(path.join(ROOT, SCHEMA_FILE), "utf8");
        assert.equal(committed, formatSchema(schema), `${SCHEMA_FILE} is stale: run "npm run schema"`);
    });

    it("takes plain what decides which resources exist, and Inputs elsewhere", () => {
        const inputs = (c: string) => schema.resources[`istio-sticky:index:${c}`].inputProperties;
        const plain = (c: string) =>
            Object.entries<any>(inputs(c))
                .filter(([, p]) => p.plain)
                .map(([k]) => k)
                .sort();
        assert.deepEqual(plain("StickySessions"), ["apps", "mesh", "tls"]);
        assert.deepEqual(plain("StickyApp"), ["autoscaling", "createNamespace", "direct", "quiet", "route", "service"]);
        assert.deepEqual(plain("GatewayTls"), ["installCertManager"]);
        assert.deepEqual(plain("IstioMesh"), ["dataplane", "gateway"]);
        assert.equal(inputs("StickyApp").affinity.$ref, "#/types/istio-sticky:index:Affinity");
        assert.deepEqual(schema.types["istio-sticky:index:AffinityMode"].enum.map((e: any) => e.value).sort(), [
            "cookie",
            "header",
            "none",
            "persistentCookie",
            "persistentHeader",
            "queryParameter",
            "sourceIp",
        ]);
        // Free-form Helm values are the only Any.
        assert.deepEqual(schema.types["istio-sticky:index:MeshValues"].properties.istiod.additionalProperties, {
            $ref: "pulumi.json#/Any",
        });
        assert.deepEqual(JSON.stringify(schema).match(/pulumi\.json#\/Any/g)?.length, 5);
    });

    it("gives StickySessions' apps as a plain list of items that are not plain, so that the Go SDK compiles", () => {
        // Pulumi's Go generator names an AppArgs struct for plain items without generating it (pulumi/pulumi#9427's class).
        const apps = schema.resources["istio-sticky:index:StickySessions"].inputProperties.apps;
        assert.equal(apps.plain, true);
        assert.deepEqual(apps.items, { $ref: "#/types/istio-sticky:index:App" });
    });

    it("lets an app from another language say what the mesh runs (its dependsOn is only a reference)", () => {
        const app = schema.resources["istio-sticky:index:StickyApp"].inputProperties.meshPersistentSessions;
        assert.equal(app.type, "boolean");
        assert.ok(!app.plain);
        assert.equal(schema.resources["istio-sticky:index:IstioMesh"].properties.persistentSessions.type, "boolean");
    });

    it("names input types so the generated SDKs call them <Name>Args, as TypeScript does (no AffinityArgsArgs)", () => {
        for (const name of Object.keys(schema.types)) assert.doesNotMatch(name, /Args$/, name);
        for (const name of [
            "App",
            "Affinity",
            "Cookie",
            "Mesh",
            "Gateway",
            "Tls",
            "Acme",
            "Direct",
            "Autoscaling",
            "Match",
        ])
            assert.ok(schema.types[`istio-sticky:index:${name}`], name);
    });

    it("exports the outputs another language reads", () => {
        const outputs = (c: string) => Object.keys(schema.resources[`istio-sticky:index:${c}`].properties).sort();
        assert.deepEqual(outputs("StickySessions"), ["endpoints", "gatewayLabels", "ingress", "meshRequirements"]);
        assert.deepEqual(outputs("IstioMesh"), [
            "gatewayLabels",
            "gatewayNamespace",
            "gatewayServiceName",
            "ingress",
            "persistentSessions",
            "version",
        ]);
        assert.deepEqual(outputs("StickyApp"), [
            "affinity",
            "meshRequirements",
            "namespace",
            "path",
            "pods",
            "serviceHost",
        ]);
        assert.deepEqual(outputs("GatewayTls"), ["hosts", "issuerName", "secretName"]);
    });

    describe("constructed the way the plugin host constructs them (Pulumi mocks)", () => {
        const rec = new Recorder();
        before(() => installMocks(rec));
        beforeEach(() => rec.reset());
        let shared: ComponentProvider | undefined;
        const provider = () =>
            (shared ??= new ComponentProvider({
                components: getPulumiComponents(require(path.join(ROOT, pkg.main))),
                dirname: ROOT,
                name: "istio-sticky",
            }));
        new ComponentProvider({
            components: getPulumiComponents(require(path.join(ROOT, pkg.main))),
            dirname: ROOT,
            name: "istio-sticky",
        });

        it("StickySessions from plain inputs, as a YAML or Python program sends them", async () => {
            const result = await provider().construct(
                "sticky",
                "istio-sticky:index:StickySessions",
                {
                    apps: [
                        { name: "shop", affinity: { mode: "cookie", cookie: { name: "shop-session", ttl: "3600s" } } },
                    ],
                },
                {},
            );
            assert.deepEqual(Object.keys(result.state).sort(), [
                "endpoints",
                "gatewayLabels",
                "ingress",
                "meshRequirements",
            ]);
            const endpoints = await valueOf(result.state.endpoints as any);
            assert.equal(
                (endpoints as any).shop.affinity,
                "consistent hash on cookie shop-session, set by Envoy with ttl 3600s",
            );
            await settle(rec);
            assert.ok(rec.byNameOf("sticky-mesh-istiod"));
            assert.ok(rec.byNameOf("sticky-shop-deployment"));
        });

        it("StickyApp and GatewayTls with their outputs in the state", async () => {
            const app = await provider().construct(
                "web",
                "istio-sticky:index:StickyApp",
                { name: "web", affinity: { mode: "header", headerName: "x-user" } },
                {},
            );
            assert.equal(await valueOf(app.state.serviceHost as any), "web.web.svc.cluster.local");
            const tls = await provider().construct(
                "certs",
                "istio-sticky:index:GatewayTls",
                { hosts: ["a.test"], gatewayNamespace: "istio-ingress" },
                {},
            );
            assert.equal(await valueOf(tls.state.secretName as any), "sticky-gateway-tls");
            assert.deepEqual(await valueOf(tls.state.hosts as any), ["a.test"]);
        });
    });
});
