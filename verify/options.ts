import { z } from "zod";

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
    /** Accept any TLS certificate (a self-signed gateway). */
    insecure: boolean;
}

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
        url: z.string({ error: "is required" }).refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
            message: "must be an http:// or https:// URL",
        }),
        mode: z.enum(VerifyMode, { error: `must be one of ${Object.values(VerifyMode).join(", ")}` }).default(VerifyMode.Header),
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
        insecure: z.boolean().default(false),
    })
    .superRefine((o, ctx) => {
        if (o.mode === VerifyMode.PersistentHeader && !o.key) {
            ctx.addIssue({ code: "custom", path: ["key"], message: "is required with mode persistent-header (the header the proxy returns)" });
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

/** Validates options, naming each bad one by its command-line flag. */
export function parseVerifyOptions(input: unknown): VerifyOptions {
    const r = verifyOptionsSchema.safeParse(input);
    if (r.success) return r.data;
    const flag = (k: PropertyKey) => `--${String(k).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new VerifyUsageError(r.error.issues.map((i) => `${i.path.length ? flag(i.path[0]) : "options"}: ${i.message}`));
}
