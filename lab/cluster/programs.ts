/**
 * The example programs, examples/<language>, through the harness's scenario as their users run
 * them: TypeScript with the package from npm, and Python, Go and YAML with the SDKs the Pulumi CLI
 * generates from this repository as a source-based package (`PulumiPlugin.yaml`, `runtime: nodejs`).
 * Each deploys an IstioMesh and three StickyApps (a cookie hash, a persistent header, a Service of
 * the team's own), and each must leave the same objects in the cluster as the TypeScript program.
 *
 * `preparePrograms` runs outside the harness's network namespace, where PyPI and the Go module
 * proxy can be reached: it copies each example into the cache and runs `pulumi package add` on this
 * repository there, which generates the SDK, creates the Python venv (pip installs `pulumi` from
 * PyPI and the SDK) and writes the Go module's replace; Go modules are then downloaded and the
 * program built once, so its `pulumi up` needs nothing from outside. `runProgram` copies a
 * prepared program and runs it against a started cluster.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR, labCache } from "../build";
import { checkRendered, leftBehind, missingFields, type Objects } from "./checks";
import { getObject, type Kubectl } from "./kubectl";
import { pulumi, resourceName, type PulumiContext } from "./pulumi";
import { EXISTING, seedTheirWorkload } from "./seed";
import { stepRecorder, tail, type Step } from "./steps";

export const PROGRAM_LANGUAGES = ["typescript", "python", "go", "yaml"] as const;
export type ProgramLanguage = (typeof PROGRAM_LANGUAGES)[number];

const EXAMPLES_DIR = path.join(PROJECT_DIR, "examples");
/** What `pulumi package add`, installs and builds write into a program's folder: never copied from examples/. */
const WRITTEN = new Set(["sdks", "venv", "node_modules", "bin", "__pycache__", ".pulumi-state"]);

/** The stack each program runs as. */
const STACK = "harness";

/**
 * The pods each app of the examples must export. The cart app autoscales: its Deployment leaves the
 * count to the HorizontalPodAutoscaler, which scales nothing here (no metrics), so it runs one.
 */
export const PROGRAM_PODS: Record<string, number> = { shopPods: 3, cartPods: 1 };

function programsRoot(): string {
    return path.join(labCache(), "..", "cluster", "programs");
}

/** The Pulumi home the programs share: the Kubernetes and cert-manager plugins installed from the harness's builds. */
function programsHome(): string {
    return path.join(programsRoot(), ".pulumi-home");
}

export interface PluginFile {
    name: string;
    version: string;
    file: string;
}

export interface PreparedProgram {
    language: ProgramLanguage;
    dir: string;
    /** The commands run to prepare it, as a user types them, with their outcome. */
    commands: { command: string; code: number; seconds: number; tail: string }[];
    seconds: number;
}

function copyExample(language: ProgramLanguage, to: string): void {
    fs.rmSync(to, { recursive: true, force: true });
    fs.cpSync(path.join(EXAMPLES_DIR, language), to, {
        recursive: true,
        filter: (src) => !WRITTEN.has(path.basename(src)),
    });
}

/** The environment a program's commands run with (Go: modules only from the cache, as inside the namespace). */
function programEnv(language: ProgramLanguage, dir: string, offline: boolean): Record<string, string> {
    return {
        PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}`,
        ...(language === "go" && offline ? { GOPROXY: "off", GOFLAGS: "-mod=readonly" } : {}),
    };
}

/**
 * Copies each example into the cache and makes it runnable offline: `pulumi package add <this
 * repository>` and `npm ci` (Python, Go, YAML), then for Go the program's build. Throws with the
 * command's output when one fails (but YAML's `package add`, which fails as expected).
 */
export async function preparePrograms(
    bin: string,
    plugins: PluginFile[],
    pluginDirs: string[],
): Promise<PreparedProgram[]> {
    const root = programsRoot();
    fs.mkdirSync(root, { recursive: true });
    const base = { bin, plugins: pluginDirs, kubeconfig: "", home: programsHome() };
    for (const p of plugins) {
        const r = await pulumi({ ...base, cwd: root }, [
            "plugin",
            "install",
            "resource",
            p.name,
            p.version,
            "--file",
            p.file,
        ]);
        if (r.code !== 0) throw new Error(`pulumi plugin install resource ${p.name} ${p.version}: ${tail(r)}`);
    }
    const out: PreparedProgram[] = [];
    for (const language of PROGRAM_LANGUAGES) {
        const started = performance.now();
        const dir = path.join(root, language);
        copyExample(language, dir);
        const commands: PreparedProgram["commands"] = [];
        const ctx: PulumiContext = { ...base, cwd: dir, env: programEnv(language, dir, false) };
        const run = async (command: string, f: () => Promise<{ code: number; out: string }>, mayFail = false) => {
            const t = performance.now();
            const r = await f();
            commands.push({ command, code: r.code, seconds: (performance.now() - t) / 1000, tail: r.out });
            if (r.code !== 0 && !mayFail)
                throw new Error(`examples/${language}: ${command} → exit ${r.code}\n${r.out}`);
        };
        if (language === "typescript") {
            // The package and its peers as npm installs them: here the repository's own node_modules, which hold both.
            fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
        } else {
            // pulumi-language-yaml v1.25.0 has no Link: there `package add` fails after generating, and a YAML
            // program's packages entry is written by hand (the example's is; here it is pointed at this repository).
            await run(
                `pulumi package add ${PROJECT_DIR}`,
                async () => {
                    const r = await pulumi(ctx, ["package", "add", PROJECT_DIR]);
                    return { code: r.code, out: tail(r, 20) };
                },
                language === "yaml",
            );
        }
        if (language === "yaml") {
            const file = path.join(dir, "Pulumi.yaml");
            const text = fs.readFileSync(file, "utf8");
            const entry = /^(\s+istio-sticky: )\.\.\/\.\.$/m;
            if (!entry.test(text)) throw new Error("examples/yaml/Pulumi.yaml: no packages entry istio-sticky: ../..");
            fs.writeFileSync(file, text.replace(entry, `$1${PROJECT_DIR}`));
            fs.rmSync(path.join(dir, "sdks"), { recursive: true, force: true });
        }
        if (language !== "typescript") {
            // Pulumi starts a Node.js dynamic provider (the package's cluster reads) from the program's folder, and
            // it must find @pulumi/pulumi there (pulumi/pulumi#5455): the example's package.json names it.
            await run("npm ci", async () => command("npm", ["ci", "--no-audit", "--no-fund"], dir));
        }
        if (language === "go")
            await run("go build ./...", async () => command("go", ["build", "-o", os.devNull, "."], dir));
        const prepared = { language, dir, commands, seconds: (performance.now() - started) / 1000 };
        fs.writeFileSync(path.join(dir, ".prepared.json"), JSON.stringify(prepared, null, 4) + "\n");
        out.push(prepared);
    }
    return out;
}

/** Runs a command (bounded); its exit code and, when it fails, its stderr. */
function command(file: string, args: string[], cwd: string): { code: number; out: string } {
    try {
        execFileSync(file, args, { cwd, stdio: ["ignore", "pipe", "pipe"], timeout: 30 * 60_000 });
        return { code: 0, out: "" };
    } catch (e) {
        return { code: 1, out: String((e as { stderr?: Buffer }).stderr ?? e) };
    }
}

/** A program preparePrograms made; throws when it has not run. */
export function preparedProgram(language: ProgramLanguage): PreparedProgram {
    const file = path.join(programsRoot(), language, ".prepared.json");
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run "npx tsx lab/cluster/prepare.ts" first`);
    return JSON.parse(fs.readFileSync(file, "utf8")) as PreparedProgram;
}

/** One resource of a stack's state (`pulumi stack export`). */
interface StateResource {
    urn: string;
    type: string;
    inputs?: Record<string, any>;
    outputs?: Record<string, any>;
    dependencies?: string[];
}

/** The resources that are neither components nor the stack nor providers: what the program made happen. */
function customResources(state: StateResource[]): StateResource[] {
    return state.filter((r) => !r.type.startsWith("istio-sticky:") && !r.type.startsWith("pulumi:"));
}

/** The state's Kubernetes objects as the checks read a plan: the inputs sent, a patch for the `…Patch` types. */
export function stateObjects(state: StateResource[]): Objects {
    return {
        objects: customResources(state)
            .filter((r) => r.type.startsWith("kubernetes:") && r.inputs?.kind && r.inputs?.metadata?.name)
            .map((r) => ({
                key: resourceName(r.urn),
                object: r.inputs as Objects["objects"][number]["object"],
                patch: r.type.endsWith("Patch") || undefined,
            })),
    };
}

/**
 * Each custom resource's type and inputs by name. Left out of the package's reads (dynamic
 * resources): their serialized code, and the digests of the live objects they wait for (`after`),
 * which hold what each cluster assigns (a Service's clusterIP).
 */
export function comparableResources(state: StateResource[]): Record<string, { type: string; inputs: unknown }> {
    return Object.fromEntries(
        customResources(state).map((r) => {
            const { __provider: _, after: __, ...read } = r.inputs ?? {};
            return [
                resourceName(r.urn),
                { type: r.type, inputs: r.type.startsWith("pulumi-nodejs:dynamic") ? read : r.inputs },
            ];
        }),
    );
}

/** Where `got` differs from `want` (resources missing, extra, or with other types or inputs), at most `limit` lines. */
export function resourceDifferences(
    want: Record<string, { type: string; inputs: unknown }>,
    got: Record<string, { type: string; inputs: unknown }>,
    limit = 20,
): string[] {
    const out: string[] = [];
    for (const [name, w] of Object.entries(want)) {
        const g = got[name];
        if (!g) out.push(`${name}: missing`);
        else if (g.type !== w.type) out.push(`${name}: ${g.type}, want ${w.type}`);
        else {
            out.push(...missingFields(w.inputs, g.inputs).map((d) => `${name}: ${d}`));
            out.push(...missingFields(g.inputs, w.inputs).map((d) => `${name}: extra ${d}`));
        }
    }
    for (const name of Object.keys(got)) if (!want[name]) out.push(`${name}: not in the TypeScript program's state`);
    return out.length > limit ? [...out.slice(0, limit), `… and ${out.length - limit} more`] : out;
}

/**
 * How an app's objects wait for the mesh: in TypeScript for the mesh's own objects each needs
 * (the mesh component is not among their dependencies); from another language for the mesh
 * component itself, the whole mesh. Problems, or none.
 */
export function meshWaits(language: ProgramLanguage, state: StateResource[], app: string): string[] {
    const mesh = state.find((r) => r.type === "istio-sticky:index:IstioMesh");
    const deployment = state.find(
        (r) => r.type === "kubernetes:apps/v1:Deployment" && resourceName(r.urn) === `${app}-deployment`,
    );
    if (!mesh || !deployment) return [`no IstioMesh or no ${app}-deployment in the state`];
    const deps = deployment.dependencies ?? [];
    const meshObjects = deps.filter((d) => d.includes("istio-sticky:index:IstioMesh$"));
    if (language === "typescript")
        return deps.includes(mesh.urn) || meshObjects.length === 0
            ? [
                  `${app}-deployment waits for ${JSON.stringify(deps.map(resourceName))}: want some of the mesh's objects, not the mesh`,
              ]
            : [];
    return deps.includes(mesh.urn)
        ? []
        : [`${app}-deployment waits for ${JSON.stringify(deps.map(resourceName))}: want the mesh`];
}

/**
 * The checks of a program's outputs: the ingress's node port, each app's pods with IPs, no
 * requirement left on the mesh. Python exports an output type with its Python names
 * (`node_ports`), the other languages with the schema's (`nodePorts`).
 */
export function outputProblems(language: ProgramLanguage, out: Record<string, any>): string[] {
    const problems: string[] = [];
    const nodePorts = language === "python" ? "node_ports" : "nodePorts";
    if (!out.ingress?.[nodePorts]?.http) problems.push(`ingress.${nodePorts}.http: ${JSON.stringify(out.ingress)}`);
    for (const [key, want] of Object.entries(PROGRAM_PODS)) {
        const pods = out[key] ?? [];
        if (pods.length !== want || !pods.every((p: { ip?: string }) => /^\d+\.\d+\.\d+\.\d+$/.test(p.ip ?? "")))
            problems.push(`${key}: ${JSON.stringify(pods)} (want ${want} with IPs)`);
    }
    if (JSON.stringify(out.cartMeshRequirements) !== "[]")
        problems.push(`cartMeshRequirements: ${JSON.stringify(out.cartMeshRequirements)} (want [])`);
    return problems;
}

export const PROGRAM_STEP = {
    INIT: "pulumi stack init",
    CONFIG: "pulumi config set istioVersion and chartRepository (the harness's Istio release and chart mirror)",
    SEED: "the team's own workload runs (namespace shop, Service orders-api)",
    PREVIEW: "pulumi preview",
    UP: "pulumi up",
    OBJECTS: "every Kubernetes object in the stack's state exists in the cluster with its inputs",
    RELEASES: "Istio's Helm releases are deployed",
    SAME: "the same resources with the same inputs as the TypeScript program",
    OUTPUTS: "the stack outputs hold the ingress address, each app's pods with their IPs, and no mesh requirement",
    WAITS: "each app's objects wait for the mesh (TypeScript: the mesh objects each needs; other languages: the whole mesh)",
    NO_CHANGE: "pulumi preview shows no changes",
    REFRESH: "pulumi refresh shows no changes",
    AFTER_REFRESH: "pulumi preview after the refresh shows no changes",
    DESTROY: "pulumi destroy",
    NOTHING_LEFT: "pulumi destroy leaves nothing behind, and the team's Service as it was",
} as const;

export interface ProgramRun {
    language: ProgramLanguage;
    steps: Step[];
    /** The custom resources the stack held after `pulumi up`, by name (the TypeScript run is the others' reference). */
    resources: Record<string, { type: string; inputs: unknown }>;
    /** "program python: up ok, 23 resources, no-change preview, destroyed". */
    line: string;
}

export interface ProgramWorld {
    /** Where Istio's charts are served, and the Istio release built here. */
    chartRepository: string;
    istioRelease: string;
    /** Plugin folders besides bin (cert-manager's component plugin). */
    plugins: string[];
}

/** Runs a prepared program through the scenario; `reference` is the TypeScript run's resources (absent for that run). */
export async function runProgram(
    language: ProgramLanguage,
    cluster: Kubectl,
    bin: string,
    world: ProgramWorld,
    reference?: ProgramRun["resources"],
): Promise<ProgramRun> {
    const prepared = preparedProgram(language);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sticky-program-${language}-`));
    fs.cpSync(prepared.dir, dir, { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(dir, ".pulumi-state"));
    const ctx: PulumiContext = {
        cwd: dir,
        bin,
        plugins: world.plugins,
        kubeconfig: cluster.kubeconfig,
        home: programsHome(),
        env: programEnv(language, dir, true),
    };
    const { steps, step, check, cli } = stepRecorder(ctx);
    let resources: ProgramRun["resources"] = {};
    let objects: Objects = { objects: [] };
    const exportState = async (): Promise<StateResource[]> => {
        const r = await pulumi(ctx, ["stack", "export"]);
        if (r.code !== 0) throw new Error(tail(r));
        return (JSON.parse(r.stdout).deployment?.resources ?? []) as StateResource[];
    };
    try {
        let ran =
            (await cli(PROGRAM_STEP.INIT, ["stack", "init", STACK, "--secrets-provider", "passphrase"])) &&
            (await step(PROGRAM_STEP.CONFIG, async () => {
                for (const [key, value] of [
                    ["istioVersion", world.istioRelease],
                    ["chartRepository", world.chartRepository],
                ]) {
                    const r = await pulumi(ctx, ["config", "set", key, value]);
                    if (r.code !== 0) return { ok: false, detail: tail(r) };
                }
                return {
                    ok: true,
                    detail: `istioVersion ${world.istioRelease}, chartRepository ${world.chartRepository}`,
                };
            })) &&
            (await step(PROGRAM_STEP.SEED, () => {
                seedTheirWorkload(cluster);
                return { ok: true, detail: "seeded" };
            })) &&
            (await cli(PROGRAM_STEP.PREVIEW, ["preview", "--diff"])) &&
            (await cli(PROGRAM_STEP.UP, ["up", "--yes", "--skip-preview"]));
        const state = ran ? await exportState() : [];
        objects = stateObjects(state);
        resources = comparableResources(state);
        ran =
            ran &&
            (await check(
                PROGRAM_STEP.OBJECTS,
                () =>
                    checkRendered(cluster, objects)
                        .filter((c) => c.problems.length)
                        .map((c) => `${c.kind} ${c.name}: ${c.problems.join("; ")}`),
                `${objects.objects.length} objects checked`,
            )) &&
            (await check(
                PROGRAM_STEP.RELEASES,
                () => {
                    const releases = state.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
                    const bad = releases.filter((r) => r.outputs?.status?.status !== "deployed");
                    return releases.length === 0
                        ? ["no Helm release in the state"]
                        : bad.map((r) => `${resourceName(r.urn)}: ${r.outputs?.status?.status}`);
                },
                "deployed",
            )) &&
            (await check(
                PROGRAM_STEP.SAME,
                () => (reference ? resourceDifferences(reference, resources) : []),
                reference
                    ? `${Object.keys(resources).length} resources, as the TypeScript program's`
                    : `the reference: ${Object.keys(resources).length} resources`,
            )) &&
            (await step(PROGRAM_STEP.OUTPUTS, async () => {
                const r = await pulumi(ctx, ["stack", "output", "--json", "--show-secrets"]);
                const out = JSON.parse(r.stdout || "{}");
                const problems = outputProblems(language, out);
                return {
                    ok: problems.length === 0,
                    detail:
                        problems.join("\n") ||
                        JSON.stringify({ ingress: out.ingress, shopPods: out.shopPods, cartPods: out.cartPods }),
                };
            })) &&
            (await check(
                PROGRAM_STEP.WAITS,
                () => ["shop", "cart"].flatMap((app) => meshWaits(language, state, app)),
                "as expected",
            )) &&
            (await cli(PROGRAM_STEP.NO_CHANGE, ["preview", "--expect-no-changes"]));
        if (ran) {
            await cli(PROGRAM_STEP.REFRESH, ["refresh", "--yes", "--expect-no-changes", "--skip-preview", "--diff"]);
            await cli(PROGRAM_STEP.AFTER_REFRESH, ["preview", "--expect-no-changes", "--diff"]);
        }
        if (steps.some((s) => s.name === PROGRAM_STEP.INIT && s.ok)) {
            await cli(PROGRAM_STEP.DESTROY, ["destroy", "--yes", "--skip-preview"]);
            await check(
                PROGRAM_STEP.NOTHING_LEFT,
                () => [
                    ...leftBehind(cluster, objects),
                    ...(getObject(cluster, {
                        apiVersion: "v1",
                        kind: "Service",
                        metadata: { name: EXISTING.service, namespace: EXISTING.namespace },
                    })
                        ? []
                        : ["the team's Service is gone"]),
                ],
                "nothing left",
            );
        }
    } finally {
        if (!process.env.KEEP_HARNESS) fs.rmSync(dir, { recursive: true, force: true });
    }
    return { language, steps, resources, line: resultLine(language, steps, Object.keys(resources).length) };
}

/** One line per language: how far it got. */
export function resultLine(language: ProgramLanguage, steps: Step[], resources: number): string {
    const ok = (name: string) => steps.some((s) => s.name === name && s.ok);
    const failed = steps.filter((s) => !s.ok).map((s) => s.name);
    const parts = [
        ok(PROGRAM_STEP.UP) ? `up ok, ${resources} resources` : "up failed",
        ...(ok(PROGRAM_STEP.SAME) ? ["as TypeScript"] : []),
        ...(ok(PROGRAM_STEP.NO_CHANGE) ? ["no-change preview"] : []),
        ...(ok(PROGRAM_STEP.DESTROY) && ok(PROGRAM_STEP.NOTHING_LEFT) ? ["destroyed"] : []),
        ...(failed.length ? [`FAILED: ${failed.join("; ")}`] : []),
    ];
    return `program ${language}: ${parts.join(", ")}`;
}

/**
 * The package's schema as the CLI reads it from the plugin (`pulumi package get-schema <this
 * repository>`), and the .NET SDK generated from it by dotnetgen (the toolchain's build of Pulumi's
 * .NET generator) into `out`: the files written, relative to `out`.
 */
export async function schemaAndDotnetSdk(
    bin: string,
    pluginDirs: string[],
    out: string,
): Promise<{ schema: Record<string, unknown>; files: string[] }> {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-schema-"));
    try {
        const r = await pulumi({ cwd, bin, plugins: pluginDirs, kubeconfig: "", home: programsHome() }, [
            "package",
            "get-schema",
            PROJECT_DIR,
        ]);
        if (r.code !== 0) throw new Error(`pulumi package get-schema → exit ${r.code}\n${tail(r)}`);
        const schemaFile = path.join(cwd, "schema.json");
        fs.writeFileSync(schemaFile, r.stdout);
        fs.rmSync(out, { recursive: true, force: true });
        execFileSync(path.join(bin, "dotnetgen"), ["-schema", schemaFile, "-out", out], {
            stdio: ["ignore", "pipe", "pipe"],
            timeout: 5 * 60_000,
        });
        const files = fs.readdirSync(out, { recursive: true, withFileTypes: true });
        return {
            schema: JSON.parse(r.stdout) as Record<string, unknown>,
            files: files
                .filter((f) => f.isFile())
                .map((f) => path.relative(out, path.join(f.parentPath, f.name)))
                .sort(),
        };
    } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
    }
}

/**
 * A schema as the CLI's Go types write it back: the analyzer's `optional` markers dropped (the
 * schema spec has no such field; required lists say it) and empty lists, empty maps and `false`
 * left out, as Go's `omitempty` does.
 */
export function asSchemaSpec(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(asSchemaSpec);
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (k === "optional") continue;
        const n = asSchemaSpec(v);
        const empty =
            n === false ||
            (Array.isArray(n) && n.length === 0) ||
            (n !== null && typeof n === "object" && !Array.isArray(n) && Object.keys(n).length === 0);
        if (!empty) out[k] = n;
    }
    return out;
}
