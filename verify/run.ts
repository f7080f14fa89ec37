import { Agent, request } from "undici";
import { CookieJar } from "tough-cookie";
import { resumeProblems, VerifyMode, VerifyOptions, VerifyUsageError } from "./options";
import { buildReport, Report, Sample } from "./report";
import { checkWritable, readSavedRun, SAVED_RUN_VERSION, SavedRun, VerifyStateError, writeSavedRun } from "./state";

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
    const headers: Record<string, string> = {
        ...opts.headers,
        accept: "application/json",
        ...(opts.servername ? { host: opts.servername } : {}),
    };
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
    if (err.name === "TimeoutError" || err.code === "UND_ERR_HEADERS_TIMEOUT" || err.code === "UND_ERR_BODY_TIMEOUT")
        return "timeout";
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
        if (s.jar && setCookie)
            for (const c of Array.isArray(setCookie) ? setCookie : [setCookie])
                s.jar.setCookieSync(c, url, { ignoreError: true });
        if (opts.mode === VerifyMode.PersistentHeader) {
            const v = res.headers[opts.key!.toLowerCase()];
            if (typeof v === "string" && v) s.echoed = v;
        }
        if (res.statusCode >= 400) return { session: index, ms, error: `HTTP ${res.statusCode}` };
        if (opts.podHeader) {
            // Any app: the route names the pod; the body is the app's own.
            const pod = res.headers[opts.podHeader];
            return typeof pod === "string" && pod
                ? { session: index, ms, pod, count: null }
                : { session: index, ms, error: `no ${opts.podHeader} header` };
        }
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

/** A state-file problem as the usage error of its flag. */
function stateStep<T>(flag: string, step: () => T): T {
    try {
        return step();
    } catch (e) {
        if (e instanceof VerifyStateError) throw new VerifyUsageError([`${flag}: ${e.message}`]);
        throw e;
    }
}

function freshSessions(opts: VerifyOptions): SessionState[] {
    const runId = Math.random().toString(36).slice(2, 8);
    return Array.from({ length: opts.sessions }, (_, i) => {
        const s: SessionState = { id: `s${i + 1}-${runId}` };
        if (opts.mode === VerifyMode.Cookie) {
            s.jar = new CookieJar();
            // A named cookie starts out set to the session's id (for apps that set it themselves).
            if (opts.key) s.jar.setCookieSync(`${opts.key}=${s.id}; Path=/`, opts.url);
        }
        return s;
    });
}

/** The saved sessions, continued: same ids, the cookie jars and echoed headers they had. */
function resumedSessions(opts: VerifyOptions, saved: SavedRun): SessionState[] {
    return saved.sessions.map((was) => {
        const s: SessionState = { id: was.id, echoed: was.echoed };
        if (opts.mode === VerifyMode.Cookie) {
            s.jar = was.cookies ? CookieJar.deserializeSync(was.cookies as never) : new CookieJar();
            if (!was.cookies && opts.key) s.jar.setCookieSync(`${opts.key}=${s.id}; Path=/`, opts.url);
        }
        return s;
    });
}

/**
 * One connection pool per source address: session i connects from sourceAddresses[i mod N]
 * (all sessions from the system's choice without them).
 */
function agentsFor(opts: VerifyOptions) {
    const agents = new Map<string, Agent>();
    const make = (localAddress?: string) =>
        new Agent({
            connections: opts.concurrency,
            keepAliveTimeout: 10_000,
            pipelining: 1,
            // The source address goes in the Agent's own option: undici (7.30) ignores a localAddress
            // in `connect`, whose connector sets the client's own (null without this) after it.
            ...(localAddress ? { localAddress } : {}),
            connect: {
                rejectUnauthorized: !opts.insecure,
                ...(opts.servername ? { servername: opts.servername } : {}),
            },
        });
    const addresses = opts.sourceAddresses;
    return {
        for(session: number): Agent {
            const address = addresses ? addresses[session % addresses.length] : "";
            let agent = agents.get(address);
            if (!agent) agents.set(address, (agent = make(address || undefined)));
            return agent;
        },
        close: () => Promise.all([...agents.values()].map((a) => a.close())),
    };
}

/**
 * Runs `sessions` simulated users against `url`, each keeping its own session
 * key (header, query parameter, cookie jar or echoed header), `concurrency` at a
 * time. Bounded: every request has a timeout, nothing is retried, and no new
 * request starts after `maxSeconds`.
 *
 * With `resume`, the sessions of a saved run continue (the report's `comparison`
 * counts those on another top pod); with `save`, this run's sessions are written
 * afterwards. A state file that cannot be used throws VerifyUsageError before any request.
 */
export async function verifyStickiness(opts: VerifyOptions, hooks: VerifyHooks = {}): Promise<Report> {
    let saved: SavedRun | undefined;
    if (opts.resume) {
        const file = opts.resume;
        saved = stateStep("--resume", () => readSavedRun(file));
        const problems = resumeProblems(opts, saved);
        if (problems.length) throw new VerifyUsageError(problems);
    }
    if (opts.save) {
        const file = opts.save;
        stateStep("--save", () => checkWritable(file));
    }
    const states = saved ? resumedSessions(opts, saved) : freshSessions(opts);
    const agents = agentsFor(opts);
    const samples: Sample[] = [];
    const total = opts.sessions * opts.requests;
    const started = performance.now();
    const deadline = started + opts.maxSeconds * 1000;
    let next = 0;
    const worker = async () => {
        while (next < states.length) {
            const index = next++;
            for (let r = 0; r < opts.requests && performance.now() < deadline; r++) {
                samples.push(await once(opts, states[index], index, agents.for(index)));
                hooks.onProgress?.(samples.length, total);
            }
        }
    };
    try {
        await Promise.all(Array.from({ length: Math.min(opts.concurrency, states.length) }, worker));
    } finally {
        await agents.close();
    }
    const report = buildReport(
        opts,
        states.map((s) => s.id),
        samples,
        performance.now() - started,
        saved?.sessions,
    );
    if (opts.save) {
        const file = opts.save;
        stateStep("--save", () =>
            writeSavedRun(file, {
                version: SAVED_RUN_VERSION,
                url: opts.url,
                mode: opts.mode,
                key: opts.key,
                sessions: states.map((s, i) => ({
                    id: s.id,
                    cookies: s.jar?.serializeSync() as SavedRun["sessions"][number]["cookies"],
                    echoed: s.echoed,
                    topPod: report.perSession[i].topPod,
                })),
            }),
        );
    }
    return report;
}
