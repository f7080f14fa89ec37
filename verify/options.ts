import { isIPv4 } from "net";
import { z } from "zod";
import { readSavedRun, SavedRun, VerifyStateError } from "./state";

/** How the verifier keeps each simulated user's session. */
export enum VerifyMode {
    /** A header with the session's key on every request (hash on a header). */
    Header = "header",
    /** A cookie jar per session, honouring Set-Cookie (hash on a cookie, persistent cookie, proxy-inserted cookies). */
    Cookie = "cookie",
    /** A query parameter with the session's key (hash on a query parameter). */
    Query = "query",
    /** Echo back the header the proxy returned (persistent session on a header). */
    PersistentHeader = "persistent-header",
    /** No session key: the baseline, or source-IP hashing (one client, one key). */
    None = "none",
}

export interface VerifyOptions {
    /** The URL every request goes to. */
    url: string;
    mode: VerifyMode;
    /** Header, cookie or query parameter name (see DEFAULT_KEYS). */
    key?: string;
    /** Simulated users. */
    sessions: number;
    /** Requests per user, one after another. */
    requests: number;
    /** Users at once. */
    concurrency: number;
    /** Share of requests that must reach their session's first pod (0 to 1). */
    minStickiness: number;
    /** Per-request timeout. */
    timeoutMs: number;
    /** No new request starts after this. */
    maxSeconds: number;
    /** Extra headers on every request (e.g. a routing header). */
    headers: Record<string, string>;
    /** Also send the session's id in this header (for apps that count sessions by it). */
    idHeader?: string;
    /** Take the answering pod from this response header (any app) instead of the demo app's JSON body. */
    podHeader?: string;
    /** Accept any TLS certificate (a self-signed gateway). */
    insecure: boolean;
    /**
     * The host to ask for when the URL names the gateway by address: sent as TLS SNI and as the
     * Host header (a gateway that serves HTTPS only for its hosts picks the certificate by SNI).
     */
    servername?: string;
    /** After the run, write its sessions (ids, cookie jars, echoed headers, top pods) to this file (see state.ts). */
    save?: string;
    /**
     * Reuse the sessions a run saved to this file (their ids, cookie jars and echoed headers) and
     * compare each session's top pod with the saved one. `sessions` must equal the saved count
     * (parseVerifyOptions takes it from the file when not given); mode and key must match.
     */
    resume?: string;
    /** Session i connects from sourceAddresses[i mod N] (IPv4; each must be assigned to this host). */
    sourceAddresses?: string[];
}

/** At most this many --source-addresses (one undici Agent each). */
export const MAX_SOURCE_ADDRESSES = 65_536;

export const DEFAULT_KEYS: Partial<Record<VerifyMode, string>> = {
    [VerifyMode.Header]: "x-user",
    [VerifyMode.Query]: "user",
};

const count = (what: string, max: number) =>
    z
        .number({ error: `must be ${what}` })
        .int({ message: `must be ${what}` })
        .min(1, { message: `must be ${what}` })
        .max(max, { message: `must be ${what}` });

export const verifyOptionsSchema = z
    .strictObject({
        url: z
            .string({ error: "is required" })
            .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
                message: "must be an http:// or https:// URL",
            }),
        mode: z
            .enum(VerifyMode, { error: `must be one of ${Object.values(VerifyMode).join(", ")}` })
            .default(VerifyMode.Header),
        key: z
            .string()
            .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: "must be a header, cookie or parameter name" })
            .optional(),
        sessions: count("a whole number from 1 to 100000", 100_000).default(20),
        requests: count("a whole number from 1 to 100000", 100_000).default(20),
        concurrency: count("a whole number from 1 to 1000", 1000).default(8),
        minStickiness: z
            .number({ error: "must be a number from 0 to 1" })
            .min(0, { message: "must be a number from 0 to 1" })
            .max(1, { message: "must be a number from 0 to 1" })
            .optional(),
        timeoutMs: count("a whole number of milliseconds from 1 to 600000", 600_000).default(5000),
        maxSeconds: z
            .number({ error: "must be a number of seconds above 0" })
            .positive({ message: "must be a number of seconds above 0" })
            .max(3600, { message: "must be at most 3600" })
            .default(120),
        headers: z.record(z.string(), z.string()).default({}),
        idHeader: z
            .string()
            .regex(/^[a-z0-9-]+$/, { message: "must be a lower-case header name" })
            .optional(),
        podHeader: z
            .string()
            .regex(/^[a-z0-9-]+$/, { message: "must be a lower-case header name" })
            .optional(),
        insecure: z.boolean().default(false),
        servername: z
            .string()
            .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: "must be a lower-case host name" })
            .optional(),
        save: z.string({ error: "must be a file name" }).min(1, { message: "must be a file name" }).optional(),
        resume: z.string({ error: "must be a file name" }).min(1, { message: "must be a file name" }).optional(),
        sourceAddresses: z
            .array(z.ipv4({ message: "must be IPv4 addresses" }), { error: "must be a list of IPv4 addresses" })
            .min(1, { message: "must name at least one address" })
            .max(MAX_SOURCE_ADDRESSES, { message: `must be at most ${MAX_SOURCE_ADDRESSES} addresses` })
            .optional(),
    })
    .superRefine((o, ctx) => {
        if (o.mode === VerifyMode.PersistentHeader && !o.key) {
            ctx.addIssue({
                code: "custom",
                path: ["key"],
                message: "is required with mode persistent-header (the header the proxy returns)",
            });
        }
        if (o.sourceAddresses && URL.canParse(o.url) && new URL(o.url).hostname.startsWith("[")) {
            ctx.addIssue({
                code: "custom",
                path: ["sourceAddresses"],
                message: "are IPv4 addresses and cannot reach an IPv6 URL",
            });
        }
    })
    .transform((o): VerifyOptions => ({
        ...o,
        key: o.key ?? DEFAULT_KEYS[o.mode],
        // Sticky modes must keep every request; without a key there is nothing to keep.
        minStickiness: o.minStickiness ?? (o.mode === VerifyMode.None ? 0 : 1),
    }));

export type VerifyInput = z.input<typeof verifyOptionsSchema>;

export class VerifyUsageError extends Error {
    constructor(readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = "VerifyUsageError";
    }
}

/** The command-line flag of an option (sourceAddresses → --source-addresses). */
const flagOf = (k: PropertyKey) => `--${String(k).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Validates options, naming each bad one by its command-line flag. With `resume`, it reads
 * the saved run: `sessions` defaults to its count, and a different count, mode or key, or a
 * file that is no saved run, is a usage error.
 */
export function parseVerifyOptions(input: unknown): VerifyOptions {
    const r = verifyOptionsSchema.safeParse(input);
    if (!r.success)
        throw new VerifyUsageError([
            ...new Set(r.error.issues.map((i) => `${i.path.length ? flagOf(i.path[0]) : "options"}: ${i.message}`)),
        ]);
    const opts = r.data;
    if (!opts.resume) return opts;
    let saved;
    try {
        saved = readSavedRun(opts.resume);
    } catch (e) {
        if (e instanceof VerifyStateError) throw new VerifyUsageError([`--resume: ${e.message}`]);
        throw e;
    }
    const sessionsGiven =
        typeof input === "object" && input !== null && (input as { sessions?: unknown }).sessions !== undefined;
    const resumed = { ...opts, sessions: sessionsGiven ? opts.sessions : saved.sessions.length };
    const problems = resumeProblems(resumed, saved);
    if (problems.length) throw new VerifyUsageError(problems);
    return resumed;
}

const toInt = (a: string) => a.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const toAddress = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** `127.0.2.1-127.0.2.200` → the addresses from the first to the last (--source-addresses). */
export function sourceAddressRange(spec: string): string[] {
    const problem = (m: string) => new VerifyUsageError([`--source-addresses: ${m} (got "${spec}")`]);
    const parts = spec.split("-").map((p) => p.trim());
    if (parts.length !== 2 || !parts[0] || !parts[1])
        throw problem("must be <first>-<last>, e.g. 127.0.2.1-127.0.2.200");
    if (!parts.every((p) => isIPv4(p))) throw problem("must be two IPv4 addresses");
    const [first, last] = parts.map(toInt);
    if (first > last) throw problem("the first address must not be above the last");
    if (last - first + 1 > MAX_SOURCE_ADDRESSES)
        throw problem(`must be at most ${MAX_SOURCE_ADDRESSES} addresses, not ${last - first + 1}`);
    return Array.from({ length: last - first + 1 }, (_, i) => toAddress(first + i));
}

/** Why options cannot resume a saved run: each problem names its flag (empty when they can). */
export function resumeProblems(
    opts: Pick<VerifyOptions, "sessions" | "mode" | "key" | "resume">,
    saved: SavedRun,
): string[] {
    const problems: string[] = [];
    if (opts.sessions !== saved.sessions.length) {
        problems.push(
            `--sessions: must be ${saved.sessions.length}, the sessions saved in ${opts.resume} (or left out), not ${opts.sessions}`,
        );
    }
    if (opts.mode !== saved.mode)
        problems.push(`--mode: must be ${saved.mode}, the mode saved in ${opts.resume}, not ${opts.mode}`);
    if ((opts.key ?? null) !== (saved.key ?? null)) {
        problems.push(
            `--key: must be ${saved.key ?? "left out"}, the key saved in ${opts.resume}, not ${opts.key ?? "left out"}`,
        );
    }
    return problems;
}
