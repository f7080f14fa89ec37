import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    blocksOf,
    compileWith,
    copiesOf,
    documentedPrograms,
    installScratch,
    ok,
    pack,
    pkg,
    ProgramOutput,
    ROOT,
    run,
    runCompiled,
    runProgram,
    scratchProgram,
    TYPESCRIPTS,
    writeTsconfig,
} from "../support/consumer";
import { ensureNode } from "../support/nodeReleases";
import { startStickyBackend, StickyBackend } from "../support/stickyBackend";

interface UnderMocks {
    registered: { type: string; name: string; parent: string; custom: boolean }[];
    outputs: Record<string, any>;
}

/** The (type, name) pairs registered more than once. */
const twice = (r: UnderMocks) => {
    const seen = new Set<string>();
    return r.registered.map((x) => `${x.type} ${x.name}`).filter((k) => seen.has(k) || !seen.add(k));
};

/**
 * What another project gets from `npm install istio-sticky`: the packed tarball installed next to
 * the Pulumi SDKs the program already has, one copy of each, and programs that type-checks and
 * run: the consumer's own, every program of the docs exactly as written, with TypeScript 5, 6
 * and 7, under Pulumi's guide mocks. Needs the npm registry (or npm's cache) for the SDKs.
 */
describe("a consumer program: npm pack, installed into a scratch project (needs the npm registry)", function () {
    this.timeout(900_000);
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

    it("ships what a consumer needs (npm pack --dry-run): the built package, its three bins, the demo app, README, docs and the example programs", () => {
        const files: string[] = JSON.parse(
            ok(run("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], ROOT), "npm pack --dry-run"),
        )[0].files.map((f: { path: string }) => f.path);
        const outside = files.filter(
            (f) =>
                !/^dist\/(components|cli|verify)\/.+\.(js|d\.ts)$/.test(f) &&
                !/^docs\/[a-z-]+\.md$/.test(f) &&
                // The example programs' own files: never what `pulumi package add` or an install writes beside them.
                !/^examples\/(typescript|python|go|yaml)\/[^/]+$/.test(f) &&
                !["dist/app/server.js", "LICENSE", "README.md", "package.json"].includes(f),
        );
        assert.deepEqual(outside, []);
        for (const needed of [
            "LICENSE",
            "dist/app/server.js",
            "dist/components/index.js",
            "dist/components/index.d.ts",
            "dist/cli/render.js",
            "dist/verify/cli.js",
            "examples/typescript/index.ts",
            "examples/python/__main__.py",
            "examples/go/main.go",
            "examples/yaml/Pulumi.yaml",
        ])
            assert.ok(files.includes(needed), needed);
        assert.ok(!files.some((f) => f.startsWith("dist/cli/schema")), "the schema tool stays in the repository");
        assert.ok(!files.some((f) => f.startsWith("dist/cli/args")), "the args generator stays in the repository");
    });

    it("installs one copy of each Pulumi SDK, the program's own", () => {
        for (const sdk of ["@pulumi/pulumi", "@pulumi/kubernetes"]) {
            const copies = copiesOf(app, sdk);
            assert.deepEqual(copies, [path.join(app, "node_modules", sdk)], `${sdk}: ${copies.join(", ")}`);
            assert.equal(require(path.join(copies[0], "package.json")).version, pkg.devDependencies[sdk]);
        }
        // The cert-manager component's SDK is the package's dependency, resolved against the program's SDKs.
        assert.equal(copiesOf(app, "@pulumi/kubernetes-cert-manager").length, 1);
        ok(run("npm", ["ls", "--all", "--json"], app), "npm ls (no missing or invalid peers)");
    });

    it("type-checks and runs a program with an IstioMesh, a StickyApp with the demo app and a GatewayTls, under Pulumi's guide mocks", () => {
        const { affinity, registered } = runProgram(app);
        const certManager = registered.find((r) => r.name === "tls-cert-manager")!;
        assert.deepEqual(
            [certManager.type, certManager.inputs.helmOptions.chart, certManager.inputs.helmOptions.values],
            [
                "kubernetes-cert-manager:index:CertManager",
                "oci://quay.io/jetstack/charts/cert-manager",
                { crds: { enabled: true, keep: true } },
            ],
        );
        assert.equal(affinity, "consistent hash on cookie cart-session, set by Envoy with ttl 0s");
        const names = registered.map((r) => r.name);
        for (const n of [
            "mesh-base",
            "mesh-istiod",
            "mesh-gateway",
            "cart-deployment",
            "cart-destinationrule",
            "cart-script",
        ])
            assert.ok(names.includes(n), `${n} in ${names}`);
        const script = registered.find((r) => r.name === "cart-script")!;
        assert.match(
            Object.values<string>(script.inputs.data).join(),
            /SessionCounters/,
            "the demo app ships inside the package",
        );
        const rule = registered.find((r) => r.name === "cart-destinationrule")!;
        assert.equal(rule.inputs.spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name, "cart-session");
    });

    describe("every program of docs/use-in-your-program.md, as written, with the documented tsconfig.json", () => {
        const programs = documentedPrograms();

        it("is a whole program: at least three of them, each importing what it uses", () => {
            assert.ok(programs.length >= 3, `${programs.length} programs`);
            for (const p of programs) assert.match(p, /^import .* from "istio-sticky";$/m);
        });

        for (const line of Object.keys(TYPESCRIPTS)) {
            it(`compiles with TypeScript ${TYPESCRIPTS[line].version} and runs under Pulumi's guide mocks, no (type, name) twice`, () => {
                programs.forEach((code, i) => {
                    const dir = path.join(app, "docs-programs", `${i}-ts${line}`);
                    fs.mkdirSync(dir, { recursive: true });
                    fs.writeFileSync(path.join(dir, "index.ts"), code);
                    writeTsconfig(dir, ["index.ts"]);
                    compileWith(app, dir, line);
                    const out = runCompiled<UnderMocks>(app, "underMocks.js", [path.join(dir, "bin", "index.js")]);
                    assert.deepEqual(twice(out), [], `program ${i}`);
                    assert.ok(
                        out.registered.some((r) => r.custom && r.type.startsWith("kubernetes:")),
                        `program ${i} registers Kubernetes objects`,
                    );
                    assert.ok(Object.keys(out.outputs).length > 0, `program ${i} exports its outputs`);
                });
            });
        }

        it("each does what its text says: one mesh installed at most, the apps' policies, what an existing Istio must provide", () => {
            const outs = programs.map((_, i) =>
                runCompiled<UnderMocks>(app, "underMocks.js", [
                    path.join(app, "docs-programs", `${i}-ts6`, "bin", "index.js"),
                ]),
            );
            const releases = (o: UnderMocks) =>
                o.registered.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.name);
            assert.deepEqual(
                releases(outs[0]),
                ["shop-mesh-base", "shop-mesh-istiod", "shop-mesh-gateway"].filter((n) =>
                    releases(outs[0]).includes(n),
                ),
            );
            assert.equal(outs[0].outputs.ingress.type, "NotRead");
            assert.match(
                outs[0].outputs.endpoints.search.verify,
                /^npx istio-sticky-verify --url "\$INGRESS\/search\/" --mode header --key x-user/,
            );
            assert.equal(releases(outs[1]).length, 3, "one mesh");
            assert.ok(outs[1].registered.some((r) => r.name === "orders-service-patch"));
            assert.deepEqual(outs[1].outputs.basketPods, []);
            assert.equal(releases(outs[2]).length, 0, "no Istio installed");
            assert.match(outs[2].outputs.meshRequirements.join(), /PILOT_ENABLE_PERSISTENT_SESSION_FILTER=true/);
        });

        it("refuses the pieces pasted together as one program: a second mesh for the same cluster, naming the first", () => {
            const dir = path.join(app, "docs-programs", "pasted");
            fs.mkdirSync(dir, { recursive: true });
            // The first two programs in one file, as people paste them: their imports merged, the provider declared once.
            const [first, second] = programs;
            const body = (p: string) => p.replace(/^import .*\n/gm, "").replace(/^const provider = .*\n/m, "");
            const pasted = `${first.match(/^import .*\n/gm)!.join("")}import { AppProtocol, IstioMesh, StickyApp } from "istio-sticky";\n${first.replace(/^import .*\n/gm, "")}${body(second).replace(/^export const ingress = .*\n/m, "")}`;
            fs.writeFileSync(path.join(dir, "index.ts"), pasted);
            writeTsconfig(dir, ["index.ts"]);
            compileWith(app, dir, "6");
            const r = run("node", [path.join(app, "bin", "underMocks.js"), path.join(dir, "bin", "index.js")], app);
            assert.notEqual(r.status, 0);
            assert.match(
                r.stderr,
                /IstioMesh mesh: installs a second Istio on a cluster where StickySessions shop \(it installs Istio: mesh.install\) installs one/,
            );
        });
    });

    it("runs docs/testing-your-program.md as written, in a new folder: its three files and its commands line by line through sh, then its TypeScript 7 line", () => {
        const dir = path.join(work, "testing-doc");
        fs.mkdirSync(dir, { recursive: true });
        const [program, test] = blocksOf("testing-your-program.md", "ts");
        fs.writeFileSync(path.join(dir, "index.ts"), program);
        fs.writeFileSync(path.join(dir, "index.test.ts"), test);
        fs.writeFileSync(path.join(dir, "tsconfig.json"), blocksOf("testing-your-program.md", "json")[0]);
        assert.match(
            test,
            /newResource: function\(args: pulumi\.runtime\.MockResourceArgs\)[^]*id: args\.inputs\.name \+ "_id",\n\s+state: args\.inputs,/,
            "the guide's mocks",
        );
        const [lines, ts7] = blocksOf("testing-your-program.md", "bash").map((b) => b.trim().split("\n"));
        assert.deepEqual(
            [lines[0], lines.at(-1), ts7],
            [
                "npm init -y",
                "npx tsc && npx mocha bin/index.test.js",
                ["npx --yes -p typescript@7 tsc && npx mocha bin/index.test.js"],
            ],
        );
        for (const line of [...lines, ...ts7]) {
            // The package is not on the registry: its tarball stands in for its name.
            const pasted = line.replace(/^npm install istio-sticky /, `npm install ${tarball} `);
            fs.rmSync(path.join(dir, "bin"), { recursive: true, force: true });
            const r = run("sh", ["-c", pasted], dir, 600_000);
            assert.equal(r.status, 0, `${pasted}\n${r.stdout}\n${r.stderr}`.slice(0, 4000));
            if (line.includes("npx mocha")) assert.match(r.stdout, /2 passing/);
        }
        assert.equal(require(path.join(dir, "node_modules", "typescript", "package.json")).version.split(".")[0], "6");
    });

    it("fails as the docs say with TypeScript 7 installed as the project's typescript: Pulumi cannot serialize the package's dynamic providers", () => {
        const dir = path.join(work, "ts7-as-typescript");
        fs.mkdirSync(dir, { recursive: true });
        for (const line of [
            "npm init -y",
            "npm pkg set 'overrides.typescript=$typescript'",
            `npm install --save-dev typescript@${TYPESCRIPTS["7"].version}`,
            `npm install ${tarball} @pulumi/pulumi@${pkg.devDependencies["@pulumi/pulumi"]} @pulumi/kubernetes@${pkg.devDependencies["@pulumi/kubernetes"]}`,
        ])
            ok(run("sh", ["-c", line], dir, 600_000), line);
        // The first documented program, compiled by TypeScript 7, and the runner, in that project (they load its packages).
        fs.mkdirSync(path.join(dir, "bin"));
        for (const f of ["underMocks.js", "guideMocks.js"])
            fs.copyFileSync(path.join(app, "bin", f), path.join(dir, "bin", f));
        const compiled = path.join(app, "docs-programs", "ts7-as-typescript");
        fs.mkdirSync(compiled, { recursive: true });
        fs.writeFileSync(path.join(compiled, "index.ts"), documentedPrograms()[0]);
        writeTsconfig(compiled, ["index.ts"]);
        compileWith(app, compiled, "7");
        fs.copyFileSync(path.join(compiled, "bin", "index.js"), path.join(dir, "bin", "index.js"));
        const r = run("node", [path.join("bin", "underMocks.js"), path.join("bin", "index.js")], dir, 120_000);
        assert.notEqual(r.status, 0);
        assert.match(
            r.stderr,
            /error serializing property "__provider": Cannot read properties of undefined \(reading 'Latest'\)/,
        );
    });

    it("runs a documented program as pulumi up does (Pulumi's ts-node, TypeScript 6), where the older tsconfig fails with TS5107", () => {
        const dir = path.join(app, "ts-node");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "index.ts"), documentedPrograms()[0]);
        writeTsconfig(dir, ["index.ts"]);
        const viaTsNode = path.join(app, "bin", "viaTsNode.js");
        const out = JSON.parse(
            ok(run("node", [viaTsNode], dir), "the program through ts-node")
                .trim()
                .split("\n")
                .pop()!,
        );
        assert.deepEqual([out.typescript, out.exported], [TYPESCRIPTS["6"].version, ["ingress", "endpoints"]]);
        assert.ok(out.registered > 20);
        // The tsconfig of older templates.
        const old = {
            compilerOptions: {
                strict: true,
                outDir: "bin",
                target: "es2020",
                module: "commonjs",
                moduleResolution: "node",
            },
            files: ["index.ts"],
        };
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(old));
        const refused = run("node", [viaTsNode], dir);
        assert.notEqual(refused.status, 0);
        assert.match(refused.stderr, /TS5107: Option 'moduleResolution=node10' is deprecated/);
    });

    it("runs the package's render bin for the consumer's own stack files (npx istio-sticky-render)", () => {
        fs.writeFileSync(path.join(app, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\nstackConfigDir: stacks\n");
        fs.mkdirSync(path.join(app, "stacks"), { recursive: true });
        fs.copyFileSync(path.join(ROOT, "stacks", "Pulumi.dev.yaml"), path.join(app, "stacks", "Pulumi.dev.yaml"));
        const out = ok(
            run("npx", ["--no-install", "istio-sticky-render", "--stack", "dev"], app),
            "npx istio-sticky-render",
        );
        assert.match(out, /^kind: HelmRelease$/m);
        assert.match(out, /^kind: DestinationRule$/m);
    });

    describe("the verify tool where the package is installed (nginx and demo apps on 127.0.0.1)", () => {
        let proxy: StickyBackend;
        before(async () => (proxy = await startStickyBackend("cart")));
        after(() => proxy?.stop());

        it("runs the verify line a documented program exports, through sh, with $INGRESS set", () => {
            const out = runCompiled<UnderMocks>(app, "underMocks.js", [
                path.join(app, "docs-programs", "0-ts6", "bin", "index.js"),
            ]);
            const line: string = out.outputs.endpoints.search.verify;
            const r = run("sh", ["-c", line], app, 120_000, { INGRESS: proxy.base });
            assert.equal(r.status, 0, `${line}\n${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, /^result +PASS/m);
        });

        it("runs docs/verify.md's library script as written (istio-sticky/dist/verify)", () => {
            const dir = path.join(app, "verify-doc");
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "index.ts"), blocksOf("verify.md", "ts")[0]);
            writeTsconfig(dir, ["index.ts"]);
            compileWith(app, dir, "6");
            const r = run("node", [path.join(dir, "bin", "index.js"), `${proxy.url}cart/`], app);
            assert.equal(r.status, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /^stickiness 100\.0 %/m);
        });
    });

    it("works with the oldest SDKs of the peer ranges (@pulumi/pulumi 3.142.0, @pulumi/kubernetes 4.32.0), on this Node.js and on Node.js 22", () => {
        const floor = path.join(work, "floor");
        const oldest = (range: string) => range.replace(/^\^/, "");
        scratchProgram(
            floor,
            tarball,
            {
                "@pulumi/pulumi": oldest(pkg.peerDependencies["@pulumi/pulumi"]),
                "@pulumi/kubernetes": oldest(pkg.peerDependencies["@pulumi/kubernetes"]),
            },
            "5",
        );
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
