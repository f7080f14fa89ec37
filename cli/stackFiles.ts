import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/** The folder holding Pulumi.yaml (this project). */
export const PROJECT_DIR = path.join(__dirname, "..");

/** Where Pulumi.yaml says the stack files are (`stackConfigDir`), else next to it. */
export function stackConfigDir(projectDir: string): string {
    const project = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) ?? {};
    return path.join(projectDir, typeof project.stackConfigDir === "string" ? project.stackConfigDir : ".");
}

export function listStacks(projectDir: string): string[] {
    const dir = stackConfigDir(projectDir);
    return fs.existsSync(dir)
        ? fs.readdirSync(dir).flatMap((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1] ?? []).sort()
        : [];
}

/** The `config:` map of stack `stack`, as `pulumi up -s <stack>` would see it. */
export function readStackConfig(projectDir: string, stack: string): Record<string, unknown> {
    const dir = stackConfigDir(projectDir);
    const file = ["yaml", "yml"].map((ext) => path.join(dir, `Pulumi.${stack}.${ext}`)).find((f) => fs.existsSync(f));
    if (!file) {
        const known = listStacks(projectDir);
        throw new Error(`no stack "${stack}" in ${path.relative(process.cwd(), dir) || "."} (stacks: ${known.join(", ") || "none"})`);
    }
    const doc = parse(fs.readFileSync(file, "utf8")) ?? {};
    const config = doc.config ?? {};
    if (typeof config !== "object" || Array.isArray(config)) {
        throw new Error(`${file}: "config" must be a map`);
    }
    return config as Record<string, unknown>;
}
