/**
 * The project as `pulumi up` runs it, in a folder of its own: Pulumi.yaml (its state in that
 * folder), the program and the package's sources, the built demo app, and the repository's
 * node_modules linked in. The repository's own stack files and state are never touched.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { PROJECT_DIR } from "../build";

/** What the program needs to run, besides node_modules. */
const PROGRAM_FILES = ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json"];
const PROGRAM_DIRS = ["components", path.join("dist", "app")];

export interface ProjectCopy {
    dir: string;
    /** The file backend's folder (Pulumi.yaml's backend.url points at it). */
    state: string;
    /** Writes stacks/Pulumi.<stack>.yaml with this config (keys as in a stack file: "istio-sticky:apps", …). */
    writeStack(stack: string, config: Record<string, unknown>): void;
    remove(): void;
}

export function projectCopy(): ProjectCopy {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-cluster-project-"));
    const state = path.join(dir, ".pulumi-state");
    fs.mkdirSync(state);
    fs.mkdirSync(path.join(dir, "stacks"));
    for (const f of PROGRAM_FILES) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    for (const d of PROGRAM_DIRS) {
        const from = path.join(PROJECT_DIR, d);
        if (!fs.existsSync(from)) throw new Error(`${from} is missing: run "npm run build:app"`);
        fs.cpSync(from, path.join(dir, d), { recursive: true });
    }
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
    const pulumiYaml = path.join(dir, "Pulumi.yaml");
    const yaml = fs.readFileSync(pulumiYaml, "utf8");
    if (!/url: file:\/\/\.\/\.pulumi-state/.test(yaml))
        throw new Error("Pulumi.yaml no longer names the file backend ./.pulumi-state");
    fs.writeFileSync(pulumiYaml, yaml.replace(/url: file:\/\/\.\/\.pulumi-state/, `url: file://${state}`));
    return {
        dir,
        state,
        writeStack: (stack, config) =>
            fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), stringify({ config })),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}
