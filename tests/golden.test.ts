/**
 * Each shipped stack's render is committed (tests/golden/<stack>.yaml): a change to what a stack
 * deploys fails here until `npm run -s golden` rewrites the file, so the diff shows it.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { GOLDEN_DIR, goldenFile, renderNow, shippedStacks, UPDATE_GOLDEN } from "./support/golden";

/** The first line where two renders differ, for a message a reviewer can act on. */
function firstDifference(want: string, got: string): string {
    const [a, b] = [want.split("\n"), got.split("\n")];
    const i = a.findIndex((line, n) => line !== b[n]);
    const at = i === -1 ? a.length : i;
    return `line ${at + 1}: golden ${JSON.stringify(a[at] ?? "(end)")}, render ${JSON.stringify(b[at] ?? "(end)")}`;
}

/** Fails unless the render equals its golden file, saying how to update it. */
function assertGolden(stack: string, render: string): void {
    const file = goldenFile(stack);
    assert.ok(
        fs.existsSync(file),
        `no golden render for stack ${stack}: run ${UPDATE_GOLDEN} and commit ${path.relative(process.cwd(), file)}`,
    );
    const golden = fs.readFileSync(file, "utf8");
    if (golden !== render)
        assert.fail(
            `the render of stack ${stack} changed (${firstDifference(golden, render)}): review it, run ${UPDATE_GOLDEN} and commit the diff`,
        );
}

describe("golden renders: each shipped stack's render is committed", function () {
    this.timeout(60_000);

    for (const stack of shippedStacks()) {
        it(`stack ${stack} renders exactly tests/golden/${stack}.yaml`, () => assertGolden(stack, renderNow(stack)));
    }

    it("has a golden file for each shipped stack and for nothing else", () => {
        assert.deepEqual(
            fs.readdirSync(GOLDEN_DIR).sort(),
            shippedStacks().map((s) => `${s}.yaml`),
        );
    });

    it("fails when a render changes and its golden file does not, naming the line", () => {
        const [stack] = shippedStacks();
        const changed = renderNow(stack).replace(/replicas: 3/, "replicas: 4");
        assert.throws(
            () => assertGolden(stack, changed),
            /the render of stack \w+ changed \(line \d+: golden ".*replicas: 3", render ".*replicas: 4"\).*npm run -s golden/,
        );
    });
});
