/**
 * What the consumer tests share: packing this package, a scratch program that depends on the
 * tarball and on the SDK versions a test picks, and running the consumer's programs
 * (tests/consumer/*.ts) there, type-checked, under mocks.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync, SpawnSyncReturns } from "child_process";

/** The consumer's program files, compiled together in the scratch project. */
const PROGRAMS = ["program.ts", "stacks.ts"];

export const ROOT = path.join(__dirname, "..", "..");
export const pkg = require("../../package.json");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

export function run(cmd: string, args: string[], cwd: string, timeout = 240000): SpawnSyncReturns<string> {
    return spawnSync(cmd, args, {
        cwd,
        encoding: "utf8",
        timeout,
        env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" },
    });
}

export function ok(r: SpawnSyncReturns<string>, what: string): string {
    assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stderr}\n${r.stdout}`.slice(0, 4000));
    return r.stdout;
}

/** npm pack of a package folder into `dest`, scripts off (npm test has just built it); returns the tarball's path. */
export function pack(dir: string, dest: string): string {
    const out = ok(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], dir), `npm pack in ${dir}`);
    return path.join(dest, JSON.parse(out)[0].filename);
}

/** Every copy of package `name` installed under `dir`, by path. */
export function copiesOf(dir: string, name: string): string[] {
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
export function broughtBy(tree: any, root: string, peers: string[]): Set<string> {
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

/** The TypeScript example of docs/use-in-your-program.md. */
export function readmeExample(): string {
    const doc = fs.readFileSync(path.join(ROOT, "docs", "use-in-your-program.md"), "utf8");
    return /```ts\n([\s\S]*?)```/.exec(doc)![1];
}

/** A scratch program that depends on the packed package and the SDK versions given. */
export function scratchProgram(dir: string, tarball: string, sdks: Record<string, string>): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "consumer", private: true, dependencies: { "istio-sticky": `file:${tarball}`, ...sdks } }, null, 2),
    );
    for (const file of PROGRAMS) fs.copyFileSync(path.join(ROOT, "tests", "consumer", file), path.join(dir, file));
    fs.writeFileSync(path.join(dir, "readme.ts"), readmeExample());
    fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: { target: "ES2022", module: "commonjs", moduleResolution: "node", strict: true, esModuleInterop: true, outDir: "out", types: [] },
            files: [...PROGRAMS, "readme.ts"],
        }),
    );
}

/** Type-checks and compiles the consumer's programs against what was installed. */
export function compilePrograms(dir: string): void {
    ok(run("node", [TSC, "-p", "."], dir), "tsc in the consumer program");
}

/** Runs a compiled program (with `node`, a Node.js binary) and returns the JSON it printed on its last line. */
export function runCompiled<T>(dir: string, program: string, args: string[] = [], node = "node"): T {
    const out = ok(run(node, [path.join("out", program), ...args], dir, 60000), `the consumer's ${program} on ${node}`);
    return JSON.parse(out.trim().split("\n").pop()!);
}

/** What program.ts prints: the app's affinity and every registration. */
export interface ProgramOutput {
    affinity: string;
    registered: { type: string; name: string; inputs: any }[];
}

/** Type-checks and compiles the programs against what was installed, runs program.ts under mocks and returns what it printed. */
export function runProgram(dir: string): ProgramOutput {
    compilePrograms(dir);
    return runCompiled<ProgramOutput>(dir, "program.js");
}

/** npm install in a scratch program; undefined when the npm registry (and npm's cache) cannot be reached. */
export function installScratch(dir: string): string | undefined {
    const install = run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], dir);
    if (install.status !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|offline/.test(install.stderr)) return undefined;
    return ok(install, `npm install in ${dir}`);
}
