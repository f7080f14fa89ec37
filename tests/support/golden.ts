/**
 * Golden renders: what each shipped stack (stacks/Pulumi.<stack>.yaml) deploys, as `istio-sticky-render`
 * prints it, committed as tests/golden/<stack>.yaml so that a reviewer sees in a diff what a change
 * deploys. `npm run -s golden` rewrites them; tests/golden.test.ts fails while one is out of date.
 */
import * as fs from "fs";
import * as path from "path";
import { runRender } from "../../cli/render";

const ROOT = path.join(__dirname, "..", "..");
export const GOLDEN_DIR = path.join(ROOT, "tests", "golden");
export const UPDATE_GOLDEN = "npm run -s golden";

/** The shipped stacks, by name. */
export function shippedStacks(): string[] {
    return fs
        .readdirSync(path.join(ROOT, "stacks"))
        .map((f) => /^Pulumi\.([\w-]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The golden file of a stack. */
export function goldenFile(stack: string): string {
    return path.join(GOLDEN_DIR, `${stack}.yaml`);
}

/** The stack's render now, exactly as `npm run -s render -- --stack <stack>` prints it; throws with its errors. */
export function renderNow(stack: string): string {
    let out = "";
    let err = "";
    const status = runRender(["--stack", stack], { out: (s) => (out += s), err: (s) => (err += s) }, ROOT);
    if (status !== 0) throw new Error(`render --stack ${stack} exited ${status}: ${err}`);
    return out;
}

/** Rewrites every golden file from the stacks as they are, and removes those of stacks that are gone; returns what changed. */
export function updateGolden(): string[] {
    fs.mkdirSync(GOLDEN_DIR, { recursive: true });
    const stacks = shippedStacks();
    const changed: string[] = [];
    for (const stack of stacks) {
        const file = goldenFile(stack);
        const now = renderNow(stack);
        if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === now) continue;
        fs.writeFileSync(file, now);
        changed.push(path.relative(ROOT, file));
    }
    for (const f of fs.readdirSync(GOLDEN_DIR)) {
        if (stacks.includes(f.replace(/\.yaml$/, ""))) continue;
        fs.rmSync(path.join(GOLDEN_DIR, f));
        changed.push(`${path.relative(ROOT, path.join(GOLDEN_DIR, f))} (removed)`);
    }
    return changed;
}

if (require.main === module) {
    const changed = updateGolden();
    console.log(changed.length ? `updated: ${changed.join(", ")}` : "golden renders are up to date");
}
