/**
 * A scenario's steps as the harness records them: each a name, whether it passed, what it saw and
 * how long it took. A step that throws fails with the error; `cli` runs one `pulumi` command.
 */
import { pulumi, type PulumiContext, type PulumiResult } from "./pulumi";

export interface Step {
    name: string;
    ok: boolean;
    detail: string;
    seconds: number;
}

export type Outcome = { ok: boolean; detail: string };

/** The last lines of a command's output, stdout then stderr, after its distinct error lines (a traceback can hide them). */
export function tail(r: PulumiResult, n = 60): string {
    const lines = `${r.stdout}\n${r.stderr}`.trim().split("\n");
    const errors = [...new Set(lines.filter((l) => /\berror:/.test(l)).map((l) => l.trim()))].slice(0, 20);
    const last = lines.slice(-n);
    return [...errors.filter((e) => !last.some((l) => l.trim() === e)), ...last].join("\n");
}

export function stepRecorder(ctx: PulumiContext) {
    const steps: Step[] = [];
    const step = async (name: string, run: () => Promise<Outcome> | Outcome): Promise<boolean> => {
        const started = performance.now();
        let result: Outcome;
        try {
            result = await run();
        } catch (e) {
            result = { ok: false, detail: (e as Error).stack ?? String(e) };
        }
        steps.push({ name, ...result, seconds: (performance.now() - started) / 1000 });
        return result.ok;
    };
    /** A check: its problems (none: it passed, and `passed` says what it saw). */
    const check = (name: string, f: () => Promise<string[]> | string[], passed: string) =>
        step(name, async () => {
            const problems = await f();
            return { ok: problems.length === 0, detail: problems.join("\n") || passed };
        });
    const cli = (name: string, args: string[], ok: (r: PulumiResult) => boolean = (r) => r.code === 0) =>
        step(name, async () => {
            const r = await pulumi(ctx, args);
            return {
                ok: ok(r),
                detail: `pulumi ${args.join(" ")} → exit ${r.code} in ${r.seconds.toFixed(1)} s\n${tail(r)}`,
            };
        });
    return { steps, step, check, cli };
}
