/**
 * The sticky demo app: a dependency-free HTTP server that answers every path
 * with JSON saying which pod served it and how many requests this pod has seen
 * for the caller's session. That in-memory counter is the state stickiness
 * protects: when a session moves to another pod, its count starts again at 1.
 *
 * Environment: PORT (8080), HOST (0.0.0.0), POD_NAME, POD_IP, POD_NAMESPACE,
 * TARGET, SESSION_SOURCE (header | cookie | issued-cookie | query | none),
 * SESSION_KEY, MAX_SESSIONS (10000), DRAIN_TIMEOUT_MS (10000). A bad value
 * stops it at start with a message; it never falls back to a default silently.
 *
 * issued-cookie: the app sets cookie SESSION_KEY to a new random id when the
 * client has none, and counts by it (for persistent sessions, whose routing
 * cookie names the pod rather than the client).
 */
import * as http from "http";
import * as os from "os";
import { randomUUID } from "crypto";

interface Config {
    port: number;
    host: string;
    pod: string;
    ip: string;
    namespace: string;
    target: string;
    sessionSource: string;
    sessionKey: string;
    maxSessions: number;
    drainTimeoutMs: number;
}

function firstIPv4(): string {
    for (const addrs of Object.values(os.networkInterfaces())) {
        for (const a of addrs ?? []) {
            if (a.family === "IPv4" && !a.internal) return a.address;
        }
    }
    return "127.0.0.1";
}

const SESSION_SOURCES = ["header", "cookie", "issued-cookie", "query", "none"];

/** Reads the environment; throws one message listing every bad setting. */
function readConfig(env: NodeJS.ProcessEnv): Config {
    const problems: string[] = [];
    const int = (name: string, d: number, min: number, max: number) => {
        const v = env[name];
        if (v === undefined || v === "") return d;
        if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
            problems.push(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`);
            return d;
        }
        return Number(v);
    };
    const sessionSource = env.SESSION_SOURCE || "none";
    const sessionKey = (env.SESSION_KEY || "").trim();
    if (!SESSION_SOURCES.includes(sessionSource))
        problems.push(
            `SESSION_SOURCE must be one of ${SESSION_SOURCES.join(", ")} (got ${JSON.stringify(sessionSource)})`,
        );
    if (sessionSource !== "none" && !sessionKey)
        problems.push(`SESSION_KEY is required with SESSION_SOURCE=${sessionSource}`);
    const cfg = {
        port: int("PORT", 8080, 0, 65535),
        host: env.HOST || "0.0.0.0",
        pod: env.POD_NAME || os.hostname(),
        ip: env.POD_IP || firstIPv4(),
        namespace: env.POD_NAMESPACE || "",
        target: env.TARGET || "",
        sessionSource,
        sessionKey,
        maxSessions: int("MAX_SESSIONS", 10000, 1, 10_000_000),
        drainTimeoutMs: int("DRAIN_TIMEOUT_MS", 10000, 0, 3_600_000),
    };
    if (problems.length) throw new Error(problems.join("; "));
    return cfg;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
    for (const part of (header ?? "").split(";")) {
        const eq = part.indexOf("=");
        if (eq > 0 && part.slice(0, eq).trim() === name) {
            return part
                .slice(eq + 1)
                .trim()
                .replace(/^"(.*)"$/, "$1");
        }
    }
    return undefined;
}

/** The client's session key; an empty or blank value is no session. */
function sessionOf(cfg: Config, req: http.IncomingMessage, url: URL): string | undefined {
    let v: string | undefined;
    switch (cfg.sessionSource) {
        case "header": {
            const h = req.headers[cfg.sessionKey.toLowerCase()];
            v = Array.isArray(h) ? h[0] : h;
            break;
        }
        case "cookie":
        case "issued-cookie":
            v = cookieValue(req.headers.cookie, cfg.sessionKey);
            break;
        case "query":
            v = url.searchParams.get(cfg.sessionKey) ?? undefined;
            break;
    }
    return v !== undefined && v.trim() !== "" ? v : undefined;
}

/** The request target as a URL, or undefined when it is not one (e.g. "http://["). */
function parseTarget(target: string | undefined): URL | undefined {
    try {
        return new URL(target ?? "/", "http://app.invalid");
    } catch {
        return undefined;
    }
}

/** Per-session counters, oldest evicted first so memory stays bounded. */
class SessionCounters {
    private readonly counts = new Map<string, number>();
    constructor(private readonly max: number) {}
    next(session: string): number {
        const n = (this.counts.get(session) ?? 0) + 1;
        this.counts.delete(session);
        this.counts.set(session, n);
        if (this.counts.size > this.max) {
            this.counts.delete(this.counts.keys().next().value as string);
        }
        return n;
    }
    get size(): number {
        return this.counts.size;
    }
}

interface Answer {
    status: number;
    body: Record<string, unknown>;
    headers: Record<string, string>;
    path: string | null;
    session?: string;
    count: number | null;
}

function main(): void {
    let cfg: Config;
    try {
        cfg = readConfig(process.env);
    } catch (e) {
        process.stderr.write(`demo app: ${(e as Error).message}\n`);
        process.exit(2);
    }
    const counters = new SessionCounters(cfg.maxSessions);
    let draining = false;

    const answer = (req: http.IncomingMessage): Answer => {
        const url = parseTarget(req.url);
        if (!url)
            return {
                status: 400,
                body: { error: "the request target is not a valid URL path", pod: cfg.pod },
                headers: {},
                path: null,
                count: null,
            };
        if (url.pathname === "/healthz") {
            return {
                status: draining ? 503 : 200,
                body: { status: draining ? "draining" : "ok", pod: cfg.pod, sessions: counters.size },
                headers: {},
                path: url.pathname,
                count: null,
            };
        }
        const headers: Record<string, string> = {};
        let session = sessionOf(cfg, req, url);
        if (session === undefined && cfg.sessionSource === "issued-cookie") {
            session = randomUUID();
            headers["set-cookie"] = `${cfg.sessionKey}=${session}; Path=/; HttpOnly; SameSite=Lax`;
        }
        const count = session === undefined ? null : counters.next(session);
        const body = {
            pod: cfg.pod,
            ip: cfg.ip,
            namespace: cfg.namespace,
            target: cfg.target,
            method: req.method,
            path: url.pathname,
            session: { source: cfg.sessionSource, key: cfg.sessionKey || null, value: session ?? null },
            count,
        };
        return { status: 200, body, headers, path: url.pathname, session, count };
    };

    const server = http.createServer((req, res) => {
        const started = process.hrtime.bigint();
        let a: Answer;
        try {
            a = answer(req);
        } catch (e) {
            // Every request gets an answer; none takes the process down.
            a = { status: 500, body: { error: "internal error", pod: cfg.pod }, headers: {}, path: null, count: null };
            process.stderr.write(`demo app: ${(e as Error).stack ?? e}\n`);
        }
        const payload = JSON.stringify(a.body);
        res.writeHead(a.status, {
            ...a.headers,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            "x-served-by": cfg.pod,
            ...(draining ? { connection: "close" } : {}),
        });
        res.end(payload);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        process.stdout.write(
            JSON.stringify({
                time: new Date().toISOString(),
                method: req.method,
                path: a.path,
                status: a.status,
                pod: cfg.pod,
                session: a.session ?? null,
                count: a.count,
                ms: Math.round(ms * 1000) / 1000,
            }) + "\n",
        );
    });
    // Malformed HTTP (not just a malformed target) gets a 400 and a closed connection, never a crash.
    server.on("clientError", (_err, socket) => {
        if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        else socket.destroy();
    });
    server.keepAliveTimeout = 65_000;

    const drain = (signal: string) => {
        if (draining) return;
        draining = true;
        process.stdout.write(
            JSON.stringify({ time: new Date().toISOString(), event: "draining", signal, pod: cfg.pod }) + "\n",
        );
        server.close(() => process.exit(0));
        server.closeIdleConnections();
        setTimeout(() => process.exit(0), cfg.drainTimeoutMs).unref();
    };
    process.on("SIGTERM", () => drain("SIGTERM"));
    process.on("SIGINT", () => drain("SIGINT"));

    server.listen(cfg.port, cfg.host, () => {
        const addr = server.address();
        const port = typeof addr === "object" && addr ? addr.port : cfg.port;
        process.stdout.write(
            JSON.stringify({ time: new Date().toISOString(), event: "listening", host: cfg.host, port, pod: cfg.pod }) +
                "\n",
        );
    });
}

main();
