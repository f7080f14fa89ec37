#!/usr/bin/env node
/**
 * `istio-sticky-render --stack <name> [--out <dir>]` (in this repository:
 * `npm run -s render -- …`): every object the stack of the Pulumi project in
 * the working directory would create, as multi-document YAML, built by the
 * same code the components use. Needs no cluster and no Pulumi CLI; fails with
 * the same errors as `pulumi up`. (`-s` keeps npm's own banner out of the YAML.)
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { buildPlan } from "../components/plan/stack";
import { documentFileName, isDocumentFileName, planYaml } from "../components/plan/render";
import { parseStackConfig, SettingsError } from "../components/settings/validate";
import { demoAppSource } from "../components/registration/demoAppScript";
import { readStackConfig } from "./stackFiles";

export const RENDER_USAGE =
    "usage: istio-sticky-render --stack <name> [--out <dir>]   (in this repository: npm run -s render -- …)";

export interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
    /** npm has already written its "> istio-sticky render" banner into stdout, which is a pipe or a file. */
    bannerInStdout?: boolean;
}

/**
 * Makes --out ready before anything is rendered: creates it, proves it is
 * writable, and removes what an earlier render left there. A folder holding
 * other files is refused rather than mixed with.
 */
function prepareOutDir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const foreign = fs.readdirSync(dir).filter((f) => !isDocumentFileName(f));
    if (foreign.length) {
        throw new Error(
            `--out ${dir} holds files render did not write (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""}); choose an empty or new folder`,
        );
    }
    const probe = path.join(dir, `.render-probe-${process.pid}`);
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
}

/** Runs the command for the Pulumi project in `projectDir` (Pulumi.yaml and its stack files); returns its exit status. */
export function runRender(argv: string[], io: Io, projectDir = process.cwd()): number {
    let flags;
    try {
        flags = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s" },
                out: { type: "string", short: "o" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (e) {
        io.err(`${(e as Error).message}\n${RENDER_USAGE}\n`);
        return 2;
    }
    if (flags.help) {
        io.out(`${RENDER_USAGE}\n`);
        return 0;
    }
    if (!flags.stack) {
        io.err(`--stack is required\n${RENDER_USAGE}\n`);
        return 2;
    }
    if (io.bannerInStdout && !flags.out) {
        io.err(
            `npm wrote its banner into the output, which is then not valid YAML: run "npm run -s render -- --stack ${flags.stack}" (or use --out <dir>)\n`,
        );
        return 2;
    }
    if (flags.out) {
        try {
            prepareOutDir(flags.out);
        } catch (e) {
            io.err(`error: cannot write to --out ${flags.out}: ${(e as Error).message}\n`);
            return 1;
        }
    }
    try {
        const { value, warnings } = parseStackConfig(readStackConfig(projectDir, flags.stack));
        warnings.forEach((w) => io.err(`warning: ${w}\n`));
        const plan = buildPlan(value, { demoAppSource: demoAppSource() });
        if (flags.out) {
            plan.objects.forEach((o, i) =>
                fs.writeFileSync(
                    path.join(flags.out!, documentFileName(o.object, i)),
                    planYaml({ ...plan, objects: [o] }),
                ),
            );
            io.err(`wrote ${plan.objects.length} documents to ${flags.out}\n`);
        } else {
            io.out(planYaml(plan));
        }
        return 0;
    } catch (e) {
        io.err(e instanceof SettingsError ? `${e.message}\n` : `error: ${(e as Error).message}\n`);
        return 1;
    }
}

if (require.main === module) {
    process.exitCode = runRender(process.argv.slice(2), {
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
        // `npm run` prints "> pkg script" on stdout unless run with -s (loglevel silent); npx prints nothing.
        bannerInStdout:
            process.env.npm_lifecycle_event !== undefined &&
            process.env.npm_lifecycle_event !== "npx" &&
            process.env.npm_config_loglevel !== "silent" &&
            !process.stdout.isTTY,
    });
}
