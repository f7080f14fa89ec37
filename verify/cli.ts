#!/usr/bin/env node
/**
 * `istio-sticky-verify --url <ingress URL> [--mode …] …`: measures stickiness with
 * simulated users and exits 1 when it is below --min-stickiness.
 */
import { parseArgs } from "util";
import { parseVerifyOptions, VerifyOptions, VerifyUsageError } from "./options";
import { verifyStickiness } from "./run";
import { formatReport } from "./report";

export const VERIFY_USAGE = `usage: istio-sticky-verify --url <URL> [options]
  --mode header|cookie|query|persistent-header|none   how sessions keep their key (default header)
  --key <name>             header, cookie or query parameter name (header: x-user, query: user)
  --sessions <n>           simulated users (default 20)
  --requests <n>           requests per user (default 20)
  --concurrency <n>        users at once (default 8)
  --min-stickiness <0..1>  required share of requests on the session's first pod (default 1, none: 0)
  --header <name:value>    extra header on every request (repeatable), e.g. target:backend-1
  --id-header <name>       also send each session's id in this header
  --timeout-ms <n>         per-request timeout (default 5000)
  --max-seconds <n>        start no request after this (default 120)
  --insecure               accept any TLS certificate (a self-signed gateway)
  --json                   print the report as JSON`;

export interface VerifyIo {
    out: (s: string) => void;
    err: (s: string) => void;
    /** Draw a progress bar (a terminal, and not --json). */
    isTTY: boolean;
}

/** Parses the command line into options (throws VerifyUsageError naming the flag). */
export function parseVerifyArgs(argv: string[]): VerifyOptions & { json: boolean } {
    let values;
    try {
        values = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                url: { type: "string" },
                mode: { type: "string" },
                key: { type: "string" },
                sessions: { type: "string" },
                requests: { type: "string" },
                concurrency: { type: "string" },
                "min-stickiness": { type: "string" },
                header: { type: "string", multiple: true },
                "id-header": { type: "string" },
                "timeout-ms": { type: "string" },
                "max-seconds": { type: "string" },
                json: { type: "boolean" },
                insecure: { type: "boolean" },
            },
        }).values;
    } catch (e) {
        throw new VerifyUsageError([(e as Error).message]);
    }
    const num = (v: string | undefined) => (v === undefined ? undefined : v.trim() === "" ? NaN : Number(v));
    const headers: Record<string, string> = {};
    const problems: string[] = [];
    for (const h of values.header ?? []) {
        const i = h.indexOf(":");
        if (i <= 0) problems.push(`--header: must be name:value (got "${h}")`);
        else headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    if (problems.length) throw new VerifyUsageError(problems);
    const options = parseVerifyOptions(
        Object.fromEntries(
            Object.entries({
                url: values.url,
                mode: values.mode,
                key: values.key,
                sessions: num(values.sessions),
                requests: num(values.requests),
                concurrency: num(values.concurrency),
                minStickiness: num(values["min-stickiness"]),
                headers,
                idHeader: values["id-header"],
                timeoutMs: num(values["timeout-ms"]),
                maxSeconds: num(values["max-seconds"]),
                insecure: values.insecure,
            }).filter(([, v]) => v !== undefined),
        ),
    );
    return { ...options, json: values.json ?? false };
}

function progressBar(io: VerifyIo) {
    let last = 0;
    return {
        update(done: number, total: number) {
            const now = Date.now();
            if (now - last < 100 && done < total) return;
            last = now;
            const width = 30;
            const filled = Math.round((done / total) * width);
            io.err(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} requests`);
        },
        clear: () => io.err(`\r${" ".repeat(60)}\r`),
    };
}

/** Runs the command; resolves to its exit status (0 pass, 1 below --min-stickiness, 2 usage). */
export async function runVerify(argv: string[], io: VerifyIo): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        io.out(`${VERIFY_USAGE}\n`);
        return 0;
    }
    let opts;
    try {
        opts = parseVerifyArgs(argv);
    } catch (e) {
        if (!(e instanceof VerifyUsageError)) throw e;
        io.err(`${e.message}\n${VERIFY_USAGE}\n`);
        return 2;
    }
    const bar = io.isTTY && !opts.json ? progressBar(io) : undefined;
    const report = await verifyStickiness(opts, { onProgress: bar?.update });
    bar?.clear();
    io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.pass ? 0 : 1;
}

if (require.main === module) {
    runVerify(process.argv.slice(2), {
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
        isTTY: Boolean(process.stderr.isTTY),
    }).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`error: ${(e as Error).message}\n`);
            process.exitCode = 2;
        },
    );
}
