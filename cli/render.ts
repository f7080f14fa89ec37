/**
 * `npm run render -- --stack <name> [--out <dir>]`: every object the stack would
 * create, as multi-document YAML, built by the same code the components use.
 * Needs no cluster and no Pulumi CLI; fails with the same errors as `pulumi up`.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { buildPlan } from "../components/plan";
import { documentFileName, planDocuments, toYaml } from "../components/render";
import { parseStackConfig, SettingsError } from "../components/settings/validate";
import { demoAppSource } from "../components/objects/demoApp";
import { PROJECT_DIR, readStackConfig } from "./stackFiles";

export const RENDER_USAGE = "usage: npm run render -- --stack <name> [--out <dir>]";

export interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
}

/** Runs the command; returns its exit status. */
export function runRender(argv: string[], io: Io, projectDir = PROJECT_DIR): number {
    let flags;
    try {
        flags = parseArgs({
            args: argv,
            options: { stack: { type: "string", short: "s" }, out: { type: "string", short: "o" }, help: { type: "boolean", short: "h" } },
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
    try {
        const { value, warnings } = parseStackConfig(readStackConfig(projectDir, flags.stack));
        warnings.forEach((w) => io.err(`warning: ${w}\n`));
        const docs = planDocuments(buildPlan(value, demoAppSource()));
        if (flags.out) {
            fs.mkdirSync(flags.out, { recursive: true });
            docs.forEach((doc, i) => fs.writeFileSync(path.join(flags.out!, documentFileName(doc, i)), toYaml([doc])));
            io.err(`wrote ${docs.length} documents to ${flags.out}\n`);
        } else {
            io.out(toYaml(docs));
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
    });
}
