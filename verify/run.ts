import { Agent, request } from "undici";
import { CookieJar } from "tough-cookie";
import { VerifyMode, VerifyOptions } from "./options";
import { buildReport, Report, Sample } from "./report";

export interface VerifyHooks {
    /** Called after each request with how many are done out of how many planned. */
    onProgress?: (done: number, total: number) => void;
}

interface SessionState {
    id: string;
    jar?: CookieJar;
    /** persistent-header: what the proxy last returned. */
    echoed?: string;
}

function requestFor(opts: VerifyOptions, s: SessionState): { url: string; headers: Record<string, string> } {
    const headers: Record<string, string> = { ...opts.headers, accept: "application/json" };
    let url = opts.url;
    if (opts.idHeader) headers[opts.idHeader] = s.id;
    switch (opts.mode) {
        case VerifyMode.Header:
            headers[opts.key!] = s.id;
            break;
        case VerifyMode.Query: {
            const u = new URL(opts.url);
            u.searchParams.set(opts.key!, s.id);
            url = u.toString();
            break;
        }
        case VerifyMode.Cookie: {
            const cookie = s.jar!.getCookieStringSync(url);
            if (cookie) headers.cookie = cookie;
            break;
        }
        case VerifyMode.PersistentHeader:
            if (s.echoed) headers[opts.key!] = s.echoed;
            break;
    }
    return { url, headers };
}

function errorKind(e: unknown): string {
    const err = e as { code?: string; name?: string; cause?: { code?: string } };
    if (err.name === "TimeoutError" || err.code === "UND_ERR_HEADERS_TIMEOUT" || err.code === "UND_ERR_BODY_TIMEOUT") return "timeout";
    return err.code ?? err.cause?.code ?? err.name ?? "error";
}

async function once(opts: VerifyOptions, s: SessionState, index: number, agent: Agent): Promise<Sample> {
    const { url, headers } = requestFor(opts, s);
    const started = performance.now();
    try {
        const res = await request(url, {
            method: "GET",
            headers,
            dispatcher: agent,
            // undici's own timeouts bound each request; an AbortSignal per request would cost a timer each.
            headersTimeout: opts.timeoutMs,
            bodyTimeout: opts.timeoutMs,
        });
        const body = await res.body.text();
        const ms = performance.now() - started;
        const setCookie = res.headers["set-cookie"];
        if (s.jar && setCookie) for (const c of Array.isArray(setCookie) ? setCookie : [setCookie]) s.jar.setCookieSync(c, url, { ignoreError: true });
        if (opts.mode === VerifyMode.PersistentHeader) {
            const v = res.headers[opts.key!.toLowerCase()];
            if (typeof v === "string" && v) s.echoed = v;
        }
        if (res.statusCode >= 400) return { session: index, ms, error: `HTTP ${res.statusCode}` };
        try {
            const json = JSON.parse(body) as { pod?: unknown; count?: unknown };
            if (typeof json.pod !== "string") return { session: index, ms, error: "no pod in body" };
            return { session: index, ms, pod: json.pod, count: typeof json.count === "number" ? json.count : null };
        } catch {
            return { session: index, ms, error: "bad body" };
        }
    } catch (e) {
        return { session: index, ms: performance.now() - started, error: errorKind(e) };
    }
}

/**
 * Runs `sessions` simulated users against `url`, each keeping its own session
 * key (header, query parameter, cookie jar or echoed header), `concurrency` at a
 * time. Bounded: every request has a timeout, nothing is retried, and no new
 * request starts after `maxSeconds`.
 */
export async function verifyStickiness(opts: VerifyOptions, hooks: VerifyHooks = {}): Promise<Report> {
    const runId = Math.random().toString(36).slice(2, 8);
    const states: SessionState[] = Array.from({ length: opts.sessions }, (_, i) => ({
        id: `s${i + 1}-${runId}`,
        ...(opts.mode === VerifyMode.Cookie ? { jar: new CookieJar() } : {}),
    }));
    if (opts.mode === VerifyMode.Cookie && opts.key) {
        // A named cookie starts out set to the session's id (for apps that set it themselves).
        for (const s of states) s.jar!.setCookieSync(`${opts.key}=${s.id}; Path=/`, opts.url);
    }
    const agent = new Agent({
        connections: opts.concurrency,
        keepAliveTimeout: 10_000,
        pipelining: 1,
        connect: { rejectUnauthorized: !opts.insecure },
    });
    const samples: Sample[] = [];
    const total = opts.sessions * opts.requests;
    const started = performance.now();
    const deadline = started + opts.maxSeconds * 1000;
    let next = 0;
    const worker = async () => {
        while (next < states.length) {
            const index = next++;
            for (let r = 0; r < opts.requests && performance.now() < deadline; r++) {
                samples.push(await once(opts, states[index], index, agent));
                hooks.onProgress?.(samples.length, total);
            }
        }
    };
    try {
        await Promise.all(Array.from({ length: Math.min(opts.concurrency, states.length) }, worker));
    } finally {
        await agent.close();
    }
    return buildReport(
        opts,
        states.map((s) => s.id),
        samples,
        performance.now() - started,
    );
}
