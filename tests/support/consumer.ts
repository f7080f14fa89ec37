/**
 * What the consumer tests share: packing this package, a scratch program that depends on the
 * tarball and on the SDK versions a test picks, and running the consumer's programs
 * (tests/consumer/*.ts) there, type-checked, under mocks.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync, SpawnSyncReturns } from "child_process";

/** The consumer's program files (tests/consumer), compiled together in the scratch project. */
const PROGRAMS = ["program.ts", "stacks.ts", "guideMocks.ts", "underMocks.ts", "viaTsNode.ts"];

/**
 * The TypeScript lines a consumer may use, newest patches, each installed in the scratch project under
 * an alias; its `typescript` (what Pulumi's ts-node and `npx tsc` take) is the one a test picks.
 */
export const TYPESCRIPTS: Record<string, { version: string; module: string }> = {
    "5": { version: "5.9.3", module: "ts5" },
    "6": { version: "6.0.3", module: "ts6" },
    "7": { version: "7.0.2", module: "ts7" },
};

export const ROOT = path.join(__dirname, "..", "..");
export const pkg = require("../../package.json");

export function run(
    cmd: string,
    args: string[],
    cwd: string,
    timeout = 240000,
    env: Record<string, string> = {},
): SpawnSyncReturns<string> {
    // npm's own variables (npm test runs this) stay out: a program a user runs does not see them.
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
    return spawnSync(cmd, args, {
        cwd,
        encoding: "utf8",
        timeout,
        env: {
            ...clean,
            npm_config_update_notifier: "false",
            npm_config_fund: "false",
            npm_config_audit: "false",
            ...env,
        },
    });
}

export function ok(r: SpawnSyncReturns<string>, what: string): string {
    assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stderr}\n${r.stdout}`.slice(0, 4000));
    return r.stdout;
}

/** npm pack of a package folder into `dest`, scripts off (npm test has just built it); returns the tarball's path. */
export function pack(dir: string, dest: string): string {
    const out = ok(
        run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], dir),
        `npm pack in ${dir}`,
    );
    return path.join(dest, JSON.parse(out)[0].filename);
}

/** Every copy of package `name` installed under `dir`, by path. */
export function copiesOf(dir: string, name: string): string[] {
    const found: string[] = [];
    const walk = (nm: string) => {
        if (!fs.existsSync(nm)) return;
        for (const entry of fs.readdirSync(nm)) {
            if (entry.startsWith(".")) continue;
            const names = entry.startsWith("@")
                ? fs.readdirSync(path.join(nm, entry)).map((e) => `${entry}/${e}`)
                : [entry];
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

/** The code blocks of a doc, by language, in order. */
export function blocksOf(doc: string, lang: string): string[] {
    const text = fs.readFileSync(path.join(ROOT, "docs", doc), "utf8");
    return [...text.matchAll(/```(\w+)\n([\s\S]*?)```/g)].filter((m) => m[1] === lang).map((m) => m[2]);
}

/** The tsconfig.json docs/use-in-your-program.md gives consumers. */
export function documentedTsconfig(): { compilerOptions: Record<string, unknown>; files: string[] } {
    return JSON.parse(blocksOf("use-in-your-program.md", "json")[0]);
}

/** The whole programs of docs/use-in-your-program.md (its TypeScript blocks under "### Programs"). */
export function documentedPrograms(): string[] {
    const text = fs.readFileSync(path.join(ROOT, "docs", "use-in-your-program.md"), "utf8");
    const section = text.slice(text.indexOf("### Programs"), text.indexOf("\n## ", text.indexOf("### Programs")));
    return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/**
 * A scratch program that depends on the packed package and the SDK versions given, with TypeScript 5, 6 and 7
 * and mocha beside them; `typescript` is the line of its own `typescript` (6; 5 for @pulumi/pulumi before
 * 3.229.0, which declares the optional peer typescript < 6).
 */
export function scratchProgram(dir: string, tarball: string, sdks: Record<string, string>, typescript = "6"): void {
    fs.mkdirSync(dir, { recursive: true });
    const typescripts = {
        typescript: TYPESCRIPTS[typescript].version,
        ...Object.fromEntries(
            Object.values(TYPESCRIPTS).map(({ version, module }) => [module, `npm:typescript@${version}`]),
        ),
    };
    const dev = pkg.devDependencies;
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify(
            {
                name: "consumer",
                private: true,
                dependencies: { "istio-sticky": `file:${tarball}`, ...sdks },
                devDependencies: {
                    ...typescripts,
                    "@types/node": "^22",
                    mocha: dev.mocha,
                    "@types/mocha": dev["@types/mocha"],
                },
            },
            null,
            2,
        ),
    );
    for (const file of PROGRAMS) fs.copyFileSync(path.join(ROOT, "tests", "consumer", file), path.join(dir, file));
    writeTsconfig(dir, PROGRAMS);
}

/** The documented tsconfig.json in `dir`, compiling `files`. */
export function writeTsconfig(dir: string, files: string[], types?: string[]): void {
    const config = documentedTsconfig();
    fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify(
            { ...config, compilerOptions: { ...config.compilerOptions, ...(types ? { types } : {}) }, files },
            null,
            4,
        ),
    );
}

/** Compiles the project in `dir` with the scratch project's TypeScript `line` ("5", "6" or "7"), installed in `root`. */
export function compileWith(root: string, dir: string, line: string): void {
    const tsc = path.join(root, "node_modules", TYPESCRIPTS[line].module, "bin", "tsc");
    ok(run("node", [tsc, "-p", "."], dir), `tsc ${TYPESCRIPTS[line].version} in ${dir}`);
}

/** Type-checks and compiles the consumer's programs against what was installed, with its own TypeScript. */
export function compilePrograms(dir: string): void {
    ok(run("node", [path.join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", "."], dir), `tsc in ${dir}`);
}

/** Runs a compiled program (with `node`, a Node.js binary) and returns the JSON it printed on its last line. */
export function runCompiled<T>(dir: string, program: string, args: string[] = [], node = "node"): T {
    const out = ok(
        run(node, [path.join(documentedTsconfig().compilerOptions.outDir as string, program), ...args], dir, 60000),
        `the consumer's ${program} on ${node}`,
    );
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
    if (install.status !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|offline/.test(install.stderr))
        return undefined;
    return ok(install, `npm install in ${dir}`);
}
