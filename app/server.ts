/**
 * The sticky demo app: a dependency-free HTTP server that answers every path
 * with JSON saying which pod served it and how many requests this pod has seen
 * for the caller's session. That in-memory counter is the state stickiness
 * protects: when a session moves to another pod, its count starts again at 1.
 *
 * Environment: PORT (8080), HOST (0.0.0.0), POD_NAME, POD_IP, POD_NAMESPACE,
 * TARGET, SESSION_SOURCE (header | cookie | query | none), SESSION_KEY,
 * MAX_SESSIONS (10000), DRAIN_TIMEOUT_MS (10000).
 */
import * as http from "http";
import * as os from "os";

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

function readConfig(env: NodeJS.ProcessEnv): Config {
    const int = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);
    return {
        port: int(env.PORT, 8080),
        host: env.HOST || "0.0.0.0",
        pod: env.POD_NAME || os.hostname(),
        ip: env.POD_IP || firstIPv4(),
        namespace: env.POD_NAMESPACE || "",
        target: env.TARGET || "",
        sessionSource: env.SESSION_SOURCE || "none",
        sessionKey: (env.SESSION_KEY || "").trim(),
        maxSessions: int(env.MAX_SESSIONS, 10000),
        drainTimeoutMs: int(env.DRAIN_TIMEOUT_MS, 10000),
    };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
    for (const part of (header ?? "").split(";")) {
        const eq = part.indexOf("=");
        if (eq > 0 && part.slice(0, eq).trim() === name) {
            return part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
        }
    }
    return undefined;
}

function sessionOf(cfg: Config, req: http.IncomingMessage, url: URL): string | undefined {
    if (!cfg.sessionKey) return undefined;
    switch (cfg.sessionSource) {
        case "header": {
            const v = req.headers[cfg.sessionKey.toLowerCase()];
            return Array.isArray(v) ? v[0] : v;
        }
        case "cookie":
            return cookieValue(req.headers.cookie, cfg.sessionKey);
        case "query":
            return url.searchParams.get(cfg.sessionKey) ?? undefined;
        default:
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

function main(): void {
    const cfg = readConfig(process.env);
    const counters = new SessionCounters(cfg.maxSessions);
    let draining = false;

    const server = http.createServer((req, res) => {
        const started = process.hrtime.bigint();
        const url = new URL(req.url ?? "/", "http://app.invalid");
        let status = 200;
        let body: Record<string, unknown>;
        let session: string | undefined;
        let count: number | null = null;
        if (url.pathname === "/healthz") {
            status = draining ? 503 : 200;
            body = { status: draining ? "draining" : "ok", pod: cfg.pod, sessions: counters.size };
        } else {
            session = sessionOf(cfg, req, url);
            count = session === undefined ? null : counters.next(session);
            body = {
                pod: cfg.pod,
                ip: cfg.ip,
                namespace: cfg.namespace,
                target: cfg.target,
                method: req.method,
                path: url.pathname,
                session: { source: cfg.sessionSource, key: cfg.sessionKey || null, value: session ?? null },
                count,
            };
        }
        const payload = JSON.stringify(body);
        res.writeHead(status, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            "x-served-by": cfg.pod,
            ...(draining ? { connection: "close" } : {}),
        });
        res.end(payload);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        process.stdout.write(
            JSON.stringify({ time: new Date().toISOString(), method: req.method, path: url.pathname, status, pod: cfg.pod, session: session ?? null, count, ms: Math.round(ms * 1000) / 1000 }) + "\n",
        );
    });
    server.keepAliveTimeout = 65_000;

    const drain = (signal: string) => {
        if (draining) return;
        draining = true;
        process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event: "draining", signal, pod: cfg.pod }) + "\n");
        server.close(() => process.exit(0));
        server.closeIdleConnections();
        setTimeout(() => process.exit(0), cfg.drainTimeoutMs).unref();
    };
    process.on("SIGTERM", () => drain("SIGTERM"));
    process.on("SIGINT", () => drain("SIGINT"));

    server.listen(cfg.port, cfg.host, () => {
        const addr = server.address();
        const port = typeof addr === "object" && addr ? addr.port : cfg.port;
        process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event: "listening", host: cfg.host, port, pod: cfg.pod }) + "\n");
    });
}

main();
