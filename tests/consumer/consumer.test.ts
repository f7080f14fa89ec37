import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { broughtBy, copiesOf, installScratch, ok, pack, pkg, ProgramOutput, ROOT, run, runCompiled, runProgram, scratchProgram } from "../support/consumer";
import { ensureNode } from "../support/nodeReleases";

/**
 * What another project gets from `npm install istio-sticky`: the packed tarball installed next to
 * the Pulumi SDKs the program already has, one copy of each, and a program that type-checks and
 * runs. Needs the npm registry (or npm's cache) for the SDKs.
 */
describe("a consumer program: npm pack, installed into a scratch project (needs the npm registry)", function () {
    this.timeout(600000);
    let work: string;
    let tarball: string;
    let app: string;

    before(function () {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-consumer-"));
        tarball = pack(ROOT, work);
        app = path.join(work, "app");
        scratchProgram(app, tarball, {
            "@pulumi/pulumi": pkg.devDependencies["@pulumi/pulumi"],
            "@pulumi/kubernetes": pkg.devDependencies["@pulumi/kubernetes"],
        });
        if (installScratch(app) === undefined) {
            console.log("      skipped: needs the npm registry (or npm's cache) to install the Pulumi SDKs");
            this.skip();
        }
    });
    after(() => fs.rmSync(work, { recursive: true, force: true }));

    it("ships only what a consumer needs (npm pack --dry-run)", () => {
        const files: string[] = JSON.parse(ok(run("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], ROOT), "npm pack --dry-run"))[0].files.map(
            (f: { path: string }) => f.path,
        );
        const outside = files.filter(
            (f) => !/^dist\/(components|cli)\/.+\.(js|d\.ts)$/.test(f) && !["dist/app/server.js", "LICENSE", "README.md", "package.json"].includes(f),
        );
        assert.deepEqual(outside, []);
        for (const needed of ["LICENSE", "dist/app/server.js", "dist/components/index.js", "dist/components/index.d.ts", "dist/cli/render.js"])
            assert.ok(files.includes(needed), needed);
        assert.ok(!files.some((f) => f.startsWith("dist/cli/schema")), "the schema tool stays in the repository");
    });

    it("installs one copy of each Pulumi SDK, the program's own, and no HTTP client of the verify tool", () => {
        for (const sdk of ["@pulumi/pulumi", "@pulumi/kubernetes"]) {
            const copies = copiesOf(app, sdk);
            assert.deepEqual(copies, [path.join(app, "node_modules", sdk)], `${sdk}: ${copies.join(", ")}`);
            assert.equal(require(path.join(copies[0], "package.json")).version, pkg.devDependencies[sdk]);
        }
        // The cert-manager component's SDK is the package's dependency, resolved against the program's SDKs.
        assert.equal(copiesOf(app, "@pulumi/kubernetes-cert-manager").length, 1);
        const tree = JSON.parse(ok(run("npm", ["ls", "--all", "--json"], app), "npm ls (no missing or invalid peers)"));
        const brought = broughtBy(tree, "istio-sticky", Object.keys(pkg.peerDependencies));
        assert.ok(brought.has("zod") && brought.has("yaml"), "the walk sees istio-sticky's own dependencies");
        for (const heavy of ["undici", "tough-cookie", "istio-sticky-verify"]) assert.ok(!brought.has(heavy), `istio-sticky brings ${heavy}`);
    });

    it("type-checks and runs a program with an IstioMesh, a StickyApp with the demo app and a GatewayTls, under mocks", () => {
        const { affinity, registered } = runProgram(app);
        const certManager = registered.find((r) => r.name === "tls-cert-manager")!;
        assert.deepEqual(
            [certManager.type, certManager.inputs.helmOptions.chart, certManager.inputs.helmOptions.values],
            ["kubernetes-cert-manager:index:CertManager", "oci://quay.io/jetstack/charts/cert-manager", { crds: { enabled: true, keep: true } }],
        );
        assert.equal(affinity, "consistent hash on cookie cart-session, set by Envoy with ttl 0s");
        const names = registered.map((r) => r.name);
        for (const n of ["mesh-base", "mesh-istiod", "mesh-gateway", "cart-deployment", "cart-destinationrule", "cart-script"])
            assert.ok(names.includes(n), `${n} in ${names}`);
        const script = registered.find((r) => r.name === "cart-script")!;
        assert.match(Object.values<string>(script.inputs.data).join(), /SessionCounters/, "the demo app ships inside the package");
        const rule = registered.find((r) => r.name === "cart-destinationrule")!;
        assert.equal(rule.inputs.spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name, "cart-session");
    });

    it("runs the package's render bin for the consumer's own stack files (npx istio-sticky-render)", () => {
        fs.writeFileSync(path.join(app, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\nstackConfigDir: stacks\n");
        fs.mkdirSync(path.join(app, "stacks"), { recursive: true });
        fs.copyFileSync(path.join(ROOT, "stacks", "Pulumi.dev.yaml"), path.join(app, "stacks", "Pulumi.dev.yaml"));
        const out = ok(run("npx", ["--no-install", "istio-sticky-render", "--stack", "dev"], app), "npx istio-sticky-render");
        assert.match(out, /^kind: HelmRelease$/m);
        assert.match(out, /^kind: DestinationRule$/m);
    });

    it("installs the verify tool on its own and runs its bin (npx istio-sticky-verify)", () => {
        const tool = path.join(work, "tool");
        fs.mkdirSync(tool);
        const verifyTarball = pack(path.join(ROOT, "verify"), work);
        fs.writeFileSync(
            path.join(tool, "package.json"),
            JSON.stringify({ name: "tool", private: true, dependencies: { "istio-sticky-verify": `file:${verifyTarball}` } }),
        );
        ok(run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], tool), "npm install istio-sticky-verify");
        const help = ok(run("npx", ["--no-install", "istio-sticky-verify", "--help"], tool), "npx istio-sticky-verify --help");
        assert.match(help, /usage: istio-sticky-verify --url <URL>/);
        assert.deepEqual(copiesOf(tool, "@pulumi/pulumi"), [], "the verify tool needs no Pulumi SDK");
        const refused = run("npx", ["--no-install", "istio-sticky-verify", "--url", "http://127.0.0.1:1/", "--sessions", "1", "--requests", "1"], tool);
        assert.equal(refused.status, 1);
        // And as a library, from its package main.
        const lib = run(
            "node",
            [
                "-e",
                "const v = require('istio-sticky-verify'); console.log([typeof v.verifyStickiness, typeof v.parseVerifyOptions, typeof v.formatReport].join())",
            ],
            tool,
        );
        assert.equal(ok(lib, "require('istio-sticky-verify')").trim(), "function,function,function");
    });

    it("works with the oldest SDKs of the peer ranges (@pulumi/pulumi 3.142.0, @pulumi/kubernetes 4.32.0), on this Node.js and on Node.js 22", () => {
        const floor = path.join(work, "floor");
        const oldest = (range: string) => range.replace(/^\^/, "");
        scratchProgram(floor, tarball, {
            "@pulumi/pulumi": oldest(pkg.peerDependencies["@pulumi/pulumi"]),
            "@pulumi/kubernetes": oldest(pkg.peerDependencies["@pulumi/kubernetes"]),
        });
        assert.ok(installScratch(floor) !== undefined, "npm install of the oldest SDKs");
        assert.equal(require(path.join(floor, "node_modules", "@pulumi", "pulumi", "package.json")).version, "3.142.0");
        assert.deepEqual(copiesOf(floor, "@pulumi/pulumi").length, 1);
        const { registered } = runProgram(floor);
        assert.ok(registered.some((r) => r.name === "cart-deployment"));
        // The oldest Node.js the package supports (engines), with the oldest SDKs.
        const on22 = runCompiled<ProgramOutput>(floor, "program.js", [], ensureNode(22));
        assert.ok(on22.registered.some((r) => r.name === "tls-cert-manager"));
    });
});
