import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync, SpawnSyncReturns } from "child_process";

const ROOT = path.join(__dirname, "..", "..");
const pkg = require("../../package.json");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

function run(cmd: string, args: string[], cwd: string, timeout = 240000): SpawnSyncReturns<string> {
    return spawnSync(cmd, args, {
        cwd,
        encoding: "utf8",
        timeout,
        env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" },
    });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
    assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stderr}\n${r.stdout}`.slice(0, 4000));
    return r.stdout;
}

/** npm pack of a package folder into `dest`, scripts off (npm test has just built it); returns the tarball's path. */
function pack(dir: string, dest: string): string {
    const out = ok(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], dir), `npm pack in ${dir}`);
    return path.join(dest, JSON.parse(out)[0].filename);
}

/** Every copy of package `name` installed under `dir`, by path. */
function copiesOf(dir: string, name: string): string[] {
    const found: string[] = [];
    const walk = (nm: string) => {
        if (!fs.existsSync(nm)) return;
        for (const entry of fs.readdirSync(nm)) {
            if (entry.startsWith(".")) continue;
            const names = entry.startsWith("@") ? fs.readdirSync(path.join(nm, entry)).map((e) => `${entry}/${e}`) : [entry];
            for (const n of names) {
                const p = path.join(nm, n);
                if (n === name) found.push(p);
                walk(path.join(p, "node_modules"));
            }
        }
    };
    walk(path.join(dir, "node_modules"));
    return found;
}

/** The packages npm installed because `root` depends on them, transitively, not counting its peers (the program's own). */
function broughtBy(tree: any, root: string, peers: string[]): Set<string> {
    const seen = new Set<string>();
    const walk = (deps: Record<string, any> | undefined) => {
        for (const [name, d] of Object.entries(deps ?? {})) {
            if (seen.has(name) || peers.includes(name)) continue;
            seen.add(name);
            walk(d.dependencies);
        }
    };
    walk(tree.dependencies?.[root]?.dependencies);
    return seen;
}

/** The TypeScript example of README's "Use it in your own program". */
function readmeExample(): string {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Use it in your own program"));
    return /```ts\n([\s\S]*?)```/.exec(section)![1];
}

/** A scratch program that depends on the packed package and the SDK versions given. */
function scratchProgram(dir: string, tarball: string, sdks: Record<string, string>): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "consumer", private: true, dependencies: { "istio-sticky": `file:${tarball}`, ...sdks } }, null, 2),
    );
    fs.copyFileSync(path.join(__dirname, "program.ts"), path.join(dir, "program.ts"));
    fs.writeFileSync(path.join(dir, "readme.ts"), readmeExample());
    fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: { target: "ES2022", module: "commonjs", moduleResolution: "node", strict: true, esModuleInterop: true, outDir: "out", types: [] },
            files: ["program.ts", "readme.ts"],
        }),
    );
}

/** Type-checks and compiles the program against what was installed, runs it under mocks and returns what it printed. */
function runProgram(dir: string): { affinity: string; registered: { type: string; name: string; inputs: any }[] } {
    ok(run("node", [TSC, "-p", "."], dir), "tsc in the consumer program");
    const out = ok(run("node", [path.join("out", "program.js")], dir, 60000), "the consumer program");
    return JSON.parse(out.trim().split("\n").pop()!);
}

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
        const install = run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], app);
        if (install.status !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|offline/.test(install.stderr)) {
            console.log("      skipped: needs the npm registry (or npm's cache) to install the Pulumi SDKs");
            this.skip();
        }
        ok(install, "npm install in the consumer program");
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

    it("works with the oldest SDKs of the peer ranges (@pulumi/pulumi 3.142.0, @pulumi/kubernetes 4.32.0)", () => {
        const floor = path.join(work, "floor");
        const oldest = (range: string) => range.replace(/^\^/, "");
        scratchProgram(floor, tarball, {
            "@pulumi/pulumi": oldest(pkg.peerDependencies["@pulumi/pulumi"]),
            "@pulumi/kubernetes": oldest(pkg.peerDependencies["@pulumi/kubernetes"]),
        });
        ok(run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], floor), "npm install of the oldest SDKs");
        assert.equal(require(path.join(floor, "node_modules", "@pulumi", "pulumi", "package.json")).version, "3.142.0");
        assert.deepEqual(copiesOf(floor, "@pulumi/pulumi").length, 1);
        const { registered } = runProgram(floor);
        assert.ok(registered.some((r) => r.name === "cart-deployment"));
    });
});
