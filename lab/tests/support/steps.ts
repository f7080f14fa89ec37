/** How the cluster suites print and assert a scenario's recorded steps (lab/cluster/steps.ts). */
import { strict as assert } from "assert";
import type { Step } from "../../cluster/steps";

/** One line per step: ok or FAIL, its name, how long it took. */
export function stepLines(steps: readonly Step[]): string {
    return steps.map((s) => `      ${s.ok ? "ok  " : "FAIL"} ${s.name} (${s.seconds.toFixed(1)} s)`).join("\n");
}

/** Fails unless the step named ran and passed; a step not reached names the steps that failed before it. */
export function assertStepPassed(steps: readonly Step[], name: string): void {
    const s = steps.find((x) => x.name === name);
    assert.ok(
        s,
        `not reached: an earlier step failed (${steps
            .filter((x) => !x.ok)
            .map((x) => x.name)
            .join(", ")})`,
    );
    assert.ok(s.ok, s.detail);
}
