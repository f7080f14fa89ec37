/**
 * Any Pulumi language, for real: the example programs (examples/<language>) through `pulumi up` on
 * the harness's cluster, TypeScript first, then Python, Go and YAML through the SDKs the CLI
 * generated from this repository (lab/cluster/programs.ts prepares them outside the network
 * namespace). Each prints one line, e.g. `program python: up ok, 40 resources, as TypeScript,
 * no-change preview, destroyed`. The .NET SDK is generated from the schema the CLI reads; no .NET
 * SDK can be installed here, so it is not compiled.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../../build";
import { ensureArtifacts, serveArtifacts, type ArtifactServer } from "../../cluster/artifacts";
import { ensureControlPlane, startCluster, type Cluster } from "../../cluster/controlplane";
import {
    asSchemaSpec,
    preparedProgram,
    PROGRAM_LANGUAGES,
    PROGRAM_STEP,
    runProgram,
    schemaAndDotnetSdk,
    type ProgramRun,
} from "../../cluster/programs";
import { startStackWorld, type StackWorld } from "../../cluster/stackWorld";
import { ensurePulumiToolchain } from "../../cluster/toolchain";
import { assertStepPassed, stepLines } from "../support/steps";

const unavailable = () =>
    !process.env.ISTIO_STICKY_CLUSTER
        ? "set ISTIO_STICKY_CLUSTER=1 (npm run test:cluster does) to build and run the harness"
        : !process.env.ISTIO_STICKY_NETNS
          ? "run inside lab/cluster/netns.sh (npm run test:cluster does): the API server calls the webhooks at pod IPs"
          : undefined;

function skipUnlessCluster(this: Mocha.Context) {
    const why = unavailable();
    if (why) {
        console.log(`      skipped: ${why}`);
        this.skip();
    }
}

describe("any Pulumi language: the example programs through pulumi up, offline", function () {
    this.timeout(120 * 60_000);

    describe("the SDKs the Pulumi CLI generates from this repository", function () {
        before(skipUnlessCluster);

        it("pulumi package add generated the Python SDK and installed it, with pulumi from PyPI, into the venv", () => {
            const p = preparedProgram("python");
            assert.deepEqual(
                p.commands.map((c) => [c.command, c.code]),
                [
                    [`pulumi package add ${PROJECT_DIR}`, 0],
                    ["npm ci", 0],
                ],
            );
            const lib = path.join(p.dir, "venv", "lib");
            const site = fs.readdirSync(lib).map((v) => path.join(lib, v, "site-packages"));
            for (const pkg of ["pulumi_istio_sticky/sticky_app.py", "pulumi/__init__.py"])
                assert.ok(
                    site.some((s) => fs.existsSync(path.join(s, pkg))),
                    `${pkg} installed in the venv`,
                );
            assert.match(fs.readFileSync(path.join(p.dir, "requirements.txt"), "utf8"), /^sdks\/istio-sticky$/m);
        });

        it("pulumi package add generated the Go SDK and the program builds against it through the replace", () => {
            const p = preparedProgram("go");
            assert.deepEqual(
                p.commands.map((c) => [c.command, c.code]),
                [
                    [`pulumi package add ${PROJECT_DIR}`, 0],
                    ["npm ci", 0],
                    ["go build ./...", 0],
                ],
            );
            assert.ok(fs.existsSync(path.join(p.dir, "sdks", "istio-sticky", "istiosticky", "stickyApp.go")));
            assert.match(
                fs.readFileSync(path.join(p.dir, "go.mod"), "utf8"),
                /^replace example\.com\/pulumi-istio-sticky\/sdk\/go => \.\/sdks\/istio-sticky$/m,
            );
        });

        it("YAML needs no SDK; pulumi package add fails there (pulumi-language-yaml v1.25.0 has no Link), so the packages entry is written by hand", () => {
            const p = preparedProgram("yaml");
            assert.deepEqual(
                p.commands.map((c) => c.command),
                [`pulumi package add ${PROJECT_DIR}`, "npm ci"],
            );
            assert.notEqual(p.commands[0].code, 0);
            assert.match(p.commands[0].tail, /linking package: method Link not implemented/);
        });

        it("the schema the CLI reads from the plugin is schema.json, as the CLI's Go types write it; .NET's SDK is generated from it", async () => {
            const toolchain = ensurePulumiToolchain();
            const out = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-dotnet-"));
            try {
                const { schema, files } = await schemaAndDotnetSdk(toolchain.bin, [], out);
                const committed = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "schema.json"), "utf8"));
                assert.deepEqual(asSchemaSpec(schema), asSchemaSpec(committed));
                for (const f of [
                    "Pulumi.IstioSticky.csproj",
                    "IstioMesh.cs",
                    "StickyApp.cs",
                    "StickySessions.cs",
                    "GatewayTls.cs",
                    "Inputs/AffinityArgs.cs",
                ])
                    assert.ok(files.includes(f), `${f} among ${files.join(", ")}`);
                assert.match(
                    fs.readFileSync(path.join(out, "StickyApp.cs"), "utf8"),
                    /public Input<bool>\? MeshPersistentSessions/,
                );
            } finally {
                fs.rmSync(out, { recursive: true, force: true });
            }
        });
    });

    let served: ArtifactServer | undefined;
    let reference: ProgramRun["resources"] | undefined;
    const lines: string[] = [];
    after(async () => {
        await served?.close();
        if (lines.length) console.log(lines.map((l) => `      ${l}`).join("\n"));
    });

    for (const language of PROGRAM_LANGUAGES) {
        describe(`program ${language} (examples/${language})`, function () {
            let run: ProgramRun | undefined;
            let cluster: Cluster | undefined;
            let world: StackWorld | undefined;

            before(async function () {
                skipUnlessCluster.call(this);
                const toolchain = ensurePulumiToolchain();
                ensureControlPlane();
                cluster = await startCluster({ gatedJobs: true });
                served ??= await serveArtifacts(ensureArtifacts().dir);
                world = await startStackWorld(cluster, { served });
                run = await runProgram(
                    language,
                    cluster,
                    toolchain.bin,
                    {
                        chartRepository: served.istioChartRepository,
                        istioRelease: world.istioRelease,
                        plugins: world.plugins,
                    },
                    reference,
                );
                if (language === "typescript" && run.steps.every((s) => s.ok)) reference = run.resources;
                lines.push(run.line);
                console.log(`      ${run.line}\n${stepLines(run.steps)}`);
                if (run.steps.some((s) => !s.ok) && process.env.ISTIO_STICKY_CLUSTER_LOGS) console.log(world.logs());
            });

            after(async () => {
                await world?.stop();
                await cluster?.stop();
            });

            for (const name of Object.values(PROGRAM_STEP)) {
                it(name, function () {
                    if (name === PROGRAM_STEP.SAME && language !== "typescript" && !reference)
                        assert.fail("the TypeScript program did not pass: there is no reference");
                    assertStepPassed(run!.steps, name);
                });
            }
        });
    }
});
