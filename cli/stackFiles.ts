import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/** Parses a YAML file; a syntax error names the file as well as the line and column. */
function parseYamlFile(file: string): any {
    try {
        return parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`${path.relative(process.cwd(), file) || file}: ${(e as Error).message}`);
    }
}

/** The folder holding this repository's Pulumi.yaml. */
export const PROJECT_DIR = path.join(__dirname, "..");

/** Where Pulumi.yaml says the stack files are (`stackConfigDir`), else next to it. */
function readProject(projectDir: string): Record<string, unknown> {
    return parseYamlFile(path.join(projectDir, "Pulumi.yaml")) ?? {};
}

function configDirOf(projectDir: string, project: Record<string, unknown>): string {
    return path.join(projectDir, typeof project.stackConfigDir === "string" ? project.stackConfigDir : ".");
}

export function stackConfigDir(projectDir: string): string {
    return configDirOf(projectDir, readProject(projectDir));
}

export function listStacks(projectDir: string): string[] {
    const dir = stackConfigDir(projectDir);
    return fs.existsSync(dir)
        ? fs
              .readdirSync(dir)
              .flatMap((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1] ?? [])
              .sort()
        : [];
}

/** The `config:` map of stack `stack`, as `pulumi up -s <stack>` would see it. */
export function readStackConfig(projectDir: string, stack: string): Record<string, unknown> {
    const project = readProject(projectDir);
    const dir = configDirOf(projectDir, project);
    const file = ["yaml", "yml"].map((ext) => path.join(dir, `Pulumi.${stack}.${ext}`)).find((f) => fs.existsSync(f));
    if (!file) {
        const known = listStacks(projectDir);
        throw new Error(
            `no stack "${stack}" in ${path.relative(process.cwd(), dir) || "."} (stacks: ${known.join(", ") || "none"})`,
        );
    }
    const doc = parseYamlFile(file) ?? {};
    const config = doc.config ?? {};
    if (typeof config !== "object" || Array.isArray(config)) {
        throw new Error(`${file}: "config" must be a map`);
    }
    // Pulumi reads a key without a namespace as "<project name>:key".
    const name = project.name;
    return Object.fromEntries(
        Object.entries(config).map(([k, v]) => [k.includes(":") || typeof name !== "string" ? k : `${name}:${k}`, v]),
    );
}
