#!/usr/bin/env node
/**
 * `istio-sticky-verify --url <ingress URL> [--mode …] …`: measures stickiness with
 * simulated users and exits 1 when it is below --min-stickiness.
 */
import { parseArgs } from "util";
import { parseVerifyOptions, sourceAddressRange, VerifyOptions, VerifyUsageError } from "./options";
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
  --pod-header <name>      take the answering pod from this response header instead of the body's
                           JSON "pod" (any app behind a route that sets it, e.g. x-istio-sticky-pod)
  --timeout-ms <n>         per-request timeout (default 5000)
  --max-seconds <n>        start no request after this (default 120)
  --insecure               accept any TLS certificate (a self-signed gateway)
  --servername <host>      TLS SNI and Host header, when --url names the gateway by address
  --save <file>            after the run, write its sessions (ids, cookies, echoed headers, pods) to <file>
  --resume <file>          continue the sessions saved in <file> and count those now on another pod
                           (e.g. before and after a scale-up); --sessions defaults to, and must equal,
                           the saved count, and --mode and --key must be the saved ones
  --source-addresses <first>-<last>
                           connect session i from the i-th address (mod their count), IPv4, at most 65536,
                           e.g. 127.0.2.1-127.0.2.200 (to measure hashing on the source IP); every address
                           must be assigned to this host (on Linux all of 127.0.0.0/8 is, for a local target)
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
                "pod-header": { type: "string" },
                "timeout-ms": { type: "string" },
                "max-seconds": { type: "string" },
                json: { type: "boolean" },
                insecure: { type: "boolean" },
                servername: { type: "string" },
                save: { type: "string" },
                resume: { type: "string" },
                "source-addresses": { type: "string" },
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
    let sourceAddresses: string[] | undefined;
    try {
        if (values["source-addresses"] !== undefined) sourceAddresses = sourceAddressRange(values["source-addresses"]);
    } catch (e) {
        if (!(e instanceof VerifyUsageError)) throw e;
        problems.push(...e.problems);
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
                podHeader: values["pod-header"],
                timeoutMs: num(values["timeout-ms"]),
                maxSeconds: num(values["max-seconds"]),
                insecure: values.insecure,
                servername: values.servername,
                save: values.save,
                resume: values.resume,
                sourceAddresses,
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

/**
 * Runs the command; resolves to its exit status (0 pass, 1 below --min-stickiness, 2 usage,
 * including a --resume or --save file that cannot be used).
 */
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
    let report;
    try {
        report = await verifyStickiness(opts, { onProgress: bar?.update });
    } catch (e) {
        if (!(e instanceof VerifyUsageError)) throw e;
        bar?.clear();
        io.err(`${e.message}\n`);
        return 2;
    }
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
