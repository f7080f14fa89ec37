import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { packagesImportedBy, sourceFiles } from "./support/imports";
import { NEWEST_SDKS, NODE_MAJORS } from "./support/nodeReleases";

describe("the built package (what other programs import)", () => {
    const pkg = require("../package.json");
    const entry = path.join(__dirname, "..", pkg.main);

    it("exports the components, enums and pure layer from package.json main", () => {
        const lib = require(entry);
        for (const name of [
            "IstioMesh",
            "StickyApp",
            "StickySessions",
            "GatewayTls",
            "parseStackConfig",
            "parseStack",
            "buildPlan",
            "planDocuments",
            "planYaml",
            "AffinityMode",
            "HashAlgorithm",
            "GatewayServiceType",
            "IngressApi",
            "Dataplane",
            "demoAppSource",
        ]) {
            assert.ok(lib[name], `${name} is not exported by ${pkg.main}`);
        }
        assert.equal(lib.AffinityMode.PersistentCookie, "persistentCookie");
    });

    it("declares one constructor per component, the handoff from StickySessions its last, optional parameter", () => {
        const dist = path.dirname(entry);
        for (const [component, args] of [
            ["StickyApp", "args: StickyAppArgs"],
            ["IstioMesh", "args?: IstioMeshArgs"],
            ["GatewayTls", "args: GatewayTlsArgs"],
        ]) {
            const declared = fs.readFileSync(path.join(dist, `${component}.d.ts`), "utf8");
            assert.deepEqual(declared.match(/constructor\(.*\);/g), [
                `constructor(name: string, ${args}, opts?: pulumi.ComponentResourceOptions, handoff?: Handoff);`,
            ]);
            assert.match(declared, /import type \{ Handoff \} from "\.\/handoff";/);
        }
        assert.match(fs.readFileSync(path.join(dist, "handoff.d.ts"), "utf8"), /export interface Handoff \{/);
    });

    it("finds the demo app from the built files", () => {
        const { demoAppSource } = require(entry);
        assert.match(demoAppSource(), /SessionCounters/);
    });
});

describe("the package's dependencies", () => {
    const pkg = require("../package.json");
    const root = path.join(__dirname, "..");
    // What the tarball holds: the components, the render, import and verify bins (not the schema and args tools).
    const shipped = [
        ...sourceFiles(path.join(root, "components")),
        ...sourceFiles(path.join(root, "cli")).filter(
            (f) => ![path.join("cli", "schema.ts"), path.join("cli", "args.ts")].includes(path.relative(root, f)),
        ),
        ...sourceFiles(path.join(root, "verify")),
    ];

    it("declares every package the shipped code loads, the Pulumi SDKs as peers", () => {
        const used = [...new Set(shipped.flatMap(packagesImportedBy))].sort();
        const declared = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)].sort();
        assert.deepEqual(used, declared);
        assert.deepEqual(Object.keys(pkg.peerDependencies).sort(), ["@pulumi/kubernetes", "@pulumi/pulumi"]);
        for (const sdk of Object.keys(pkg.peerDependencies)) {
            assert.ok(!(sdk in pkg.dependencies), `${sdk} is a peer, not a dependency (one copy per program)`);
            assert.match(pkg.devDependencies[sdk], /^\d+\.\d+\.\d+$/, `${sdk} is pinned exactly for development`);
        }
    });

    it("asks for @pulumi/kubernetes ≥ 4.32.0, the first that resolves Helm-installed CRDs in preview (pulumi/pulumi-kubernetes#3176, #4419)", () => {
        assert.equal(pkg.peerDependencies["@pulumi/kubernetes"], "^4.32.0");
    });

    it("supports the Node.js majors it is tested on (the oldest of them is engines' floor), and their newest SDKs lie in the peer ranges", () => {
        assert.equal(pkg.engines.node, `>=${Math.min(...NODE_MAJORS)}`);
        for (const [sdk, version] of Object.entries<string>(NEWEST_SDKS)) {
            const [major] = pkg.peerDependencies[sdk].replace(/^\^/, "").split(".");
            assert.equal(version.split(".")[0], major, `${sdk} ${version} within ${pkg.peerDependencies[sdk]}`);
        }
        // The cert-manager component's SDK takes the program's SDKs (its dependency ranges hold the peer floors).
        const cm = require("@pulumi/kubernetes-cert-manager/package.json");
        assert.deepEqual(
            [cm.dependencies["@pulumi/pulumi"], cm.dependencies["@pulumi/kubernetes"]],
            ["^3.142.0", "^4.0.0"],
        );
    });
});
