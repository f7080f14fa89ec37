/**
 * How render scales: a stack of N apps on the dev stack's mesh, the apps cycling through every
 * affinity mode, rendered in this process (parseStackConfig → buildPlan → planYaml, each step
 * timed; the fastest of `runs` runs after a warm-up) and by the built CLI in a child process
 * (`node dist/cli/render.js --stack bench` in a throw-away Pulumi project holding the N apps, run
 * `npm run build` first), as a user runs it. Prints the figures against the targets (1,000 apps
 * in under 1 s, 5,000 in under 4 s, the cost growing linearly); it asserts nothing about time, but
 * a CLI run that fails or prints other YAML than the same render in this process fails the run.
 *
 * Standalone: `npx tsx tests/bench/render.ts [sizes...]` (default 100 1000 5000).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runAlone, table } from "./table";
import { stringify } from "yaml";
import { APPS_KEY, MESH_KEY, parseStackConfig } from "../../components/settings/validate";
import { buildPlan, planYaml, demoAppSource } from "istio-sticky";
import { PROJECT_DIR, readStackConfig } from "../../cli/stackFiles";
import { AFFINITY_BY_MODE, ALL_MODES } from "../support/fixtures";

const ROOT = path.join(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli", "render.js");
const STACK = "bench";

/** The targets: 1,000 apps in under 1 s, 5,000 in under 4 s; beyond, 0.8 ms per app. */
export const TARGET = { ms: 1000, apps: 1000, perAppMs: 0.8 };

/** The budget for n apps, in ms. */
export const budgetMs = (n: number): number => Math.max(TARGET.ms, n * TARGET.perAppMs);

export interface Row {
    apps: number;
    /** Objects in the plan (documents printed). */
    objects: number;
    /** MB of YAML printed. */
    yamlMb: number;
    /** In this process, the fastest run: parseStackConfig, buildPlan, planYaml, and the three together. */
    parseMs: number;
    planMs: number;
    yamlMs: number;
    totalMs: number;
    /** totalMs per app. */
    perAppMs: number;
    /** totalMs per app added since the previous (smaller) size: flat when the cost grows linearly. */
    marginalMs?: number;
    /** The built CLI in a child process, from spawn to exit, stdout to a file (fastest run); absent when not measured. */
    cliMs?: number;
    /** cliMs per app added since the previous size. */
    cliMarginalMs?: number;
    /** In-process total, and the CLI's wall time when measured, under budgetMs(apps). */
    met: boolean;
}

export interface BenchOptions {
    /** Timed runs per size, after a warm-up (default 3). */
    runs?: number;
    /** Also time the built CLI in a child process (default true). */
    cli?: boolean;
}

/** The dev stack's mesh with n apps, cycling through every affinity mode, as a stack's config map. */
export function configOf(n: number): Record<string, unknown> {
    const mesh = readStackConfig(PROJECT_DIR, "dev")[MESH_KEY];
    return {
        [MESH_KEY]: mesh,
        [APPS_KEY]: Array.from({ length: n }, (_, i) => ({
            name: `app-${i}`,
            affinity: AFFINITY_BY_MODE[ALL_MODES[i % ALL_MODES.length]],
        })),
    };
}

interface Run {
    parseMs: number;
    planMs: number;
    yamlMs: number;
    totalMs: number;
    objects: number;
    yaml: string;
}

const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

function renderInProcess(config: Record<string, unknown>): Run {
    const t0 = process.hrtime.bigint();
    const { value } = parseStackConfig(config);
    const parseMs = since(t0);
    const t1 = process.hrtime.bigint();
    const plan = buildPlan(value, { demoAppSource: demoAppSource() });
    const planMs = since(t1);
    const t2 = process.hrtime.bigint();
    const yaml = planYaml(plan);
    const yamlMs = since(t2);
    return { parseMs, planMs, yamlMs, totalMs: parseMs + planMs + yamlMs, objects: plan.objects.length, yaml };
}

/** A Pulumi project in `dir` with one stack, STACK, holding `config`. */
function writeProject(dir: string, config: Record<string, unknown>): void {
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: bench\nruntime: nodejs\nstackConfigDir: stacks\n");
    fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
    fs.writeFileSync(
        path.join(dir, "stacks", `Pulumi.${STACK}.yaml`),
        stringify({ config }, { aliasDuplicateObjects: false }),
    );
}

/** The built CLI's wall time for the project in `dir`; its stdout must be `expected`. */
async function runCli(dir: string, expected: string): Promise<number> {
    const [outFile, errFile] = ["stdout.yaml", "stderr.txt"].map((f) => path.join(dir, f));
    const fds = [outFile, errFile].map((f) => fs.openSync(f, "w"));
    const t0 = process.hrtime.bigint();
    const code = await new Promise<number | null>((resolve, reject) => {
        // As a user runs the bin: without the variables `npm run bench` sets (render reads npm's to find its banner).
        const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
        const child = spawn(process.execPath, [CLI, "--stack", STACK], {
            cwd: dir,
            env,
            stdio: ["ignore", fds[0], fds[1]],
        });
        child.on("error", reject);
        child.on("exit", (c) => resolve(c));
    });
    const ms = since(t0);
    fds.forEach((fd) => fs.closeSync(fd));
    const out = fs.readFileSync(outFile, "utf8");
    if (code !== 0 || out !== expected) {
        const err = fs.readFileSync(errFile, "utf8");
        throw new Error(
            `istio-sticky-render ${code !== 0 ? `exited with status ${code}` : "printed other YAML than planYaml in this process"}; stderr ends with:\n${err.slice(-2000)}`,
        );
    }
    fs.rmSync(outFile);
    return ms;
}

/** Renders n apps for each size, in this process and (unless options.cli is false) with the built CLI. */
export async function benchRender(sizes: number[], options: BenchOptions = {}): Promise<Row[]> {
    const runs = options.runs ?? 3;
    const cli = options.cli ?? true;
    if (cli && !fs.existsSync(CLI)) throw new Error(`${path.relative(ROOT, CLI)} is missing: run npm run build first`);
    const dir = cli ? fs.mkdtempSync(path.join(os.tmpdir(), "sticky-render-bench-")) : undefined;
    const rows: Row[] = [];
    try {
        for (const apps of [...new Set(sizes)].sort((a, b) => a - b)) {
            const config = configOf(apps);
            const warm = renderInProcess(config);
            let best = warm;
            for (let r = 0; r < runs; r++) {
                const run = renderInProcess(config);
                if (run.totalMs < best.totalMs || best === warm) best = run;
            }
            let cliMs: number | undefined;
            if (dir) {
                writeProject(dir, config);
                await runCli(dir, warm.yaml); // warm-up: the file cache, the module cache
                for (let r = 0; r < runs; r++) {
                    const ms = await runCli(dir, warm.yaml);
                    cliMs = cliMs === undefined ? ms : Math.min(cliMs, ms);
                }
            }
            const prev = rows[rows.length - 1];
            rows.push({
                apps,
                objects: best.objects,
                yamlMb: Buffer.byteLength(best.yaml) / 1024 / 1024,
                parseMs: best.parseMs,
                planMs: best.planMs,
                yamlMs: best.yamlMs,
                totalMs: best.totalMs,
                perAppMs: best.totalMs / apps,
                ...(prev ? { marginalMs: (best.totalMs - prev.totalMs) / (apps - prev.apps) } : {}),
                ...(cliMs !== undefined ? { cliMs } : {}),
                ...(cliMs !== undefined && prev?.cliMs !== undefined
                    ? { cliMarginalMs: (cliMs - prev.cliMs) / (apps - prev.apps) }
                    : {}),
                met: best.totalMs < budgetMs(apps) && (cliMs === undefined || cliMs < budgetMs(apps)),
            });
        }
    } finally {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
    return rows;
}

/** The rows as a table, with the targets. */
export function formatRenderRows(rows: readonly Row[]): string {
    const ms = (n: number | undefined) => (n === undefined ? "" : n.toFixed(0));
    const small = (n: number | undefined) => (n === undefined ? "" : n.toFixed(3));
    const head = [
        "apps",
        "objects",
        "YAML MB",
        "parse ms",
        "plan ms",
        "yaml ms",
        "total ms",
        "ms/app",
        "marginal",
        "CLI ms",
        "CLI marginal",
        "target",
    ];
    const cells = rows.map((r) => [
        String(r.apps),
        String(r.objects),
        r.yamlMb.toFixed(1),
        ms(r.parseMs),
        ms(r.planMs),
        ms(r.yamlMs),
        ms(r.totalMs),
        small(r.perAppMs),
        small(r.marginalMs),
        ms(r.cliMs),
        small(r.cliMarginalMs),
        `${r.met ? "met" : "MISSED"} (< ${ms(budgetMs(r.apps))})`,
    ]);
    return [
        `render: the dev stack's mesh with N apps cycling through every affinity mode (node ${process.version})`,
        "in this process: parseStackConfig, buildPlan, planYaml of the fastest run after a warm-up; CLI: node dist/cli/render.js in a child process, " +
            "stdout to a file, wall time of the fastest run",
        `targets: ${TARGET.apps} apps in under ${TARGET.ms} ms, 5000 in under ${5000 * TARGET.perAppMs} ms, in this process and through the CLI; ` +
            "marginal: ms per app added since the row above (flat when the cost grows linearly)",
        "",
        ...table(head, cells),
    ].join("\n");
}

if (require.main === module) runAlone("tests/bench/render.ts", "apps", benchRender, formatRenderRows);
