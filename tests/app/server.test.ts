import { strict as assert } from "assert";
import * as http from "http";
import { startDemoApp, RunningApp } from "../support/demoApp";

const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
};

describe("app/server (the demo app, run for real on 127.0.0.1)", () => {
    let app: RunningApp | undefined;
    afterEach(async () => {
        await app?.stop();
        app = undefined;
    });

    it("answers with its pod, IP, target and a per-session counter keyed by header", async () => {
        app = await startDemoApp({ POD_NAME: "web-abc", POD_IP: "10.244.0.7", TARGET: "backend-1", SESSION_SOURCE: "header", SESSION_KEY: "x-user" });
        const a1 = await get(`${app.url}/cart`, { "x-user": "alice" });
        const a2 = await get(`${app.url}/other`, { "x-user": "alice" });
        const b1 = await get(`${app.url}/cart`, { "x-user": "bob" });
        const none = await get(`${app.url}/`);
        assert.deepEqual(
            { pod: a1.body.pod, ip: a1.body.ip, target: a1.body.target, path: a1.body.path, session: a1.body.session, count: a1.body.count },
            { pod: "web-abc", ip: "10.244.0.7", target: "backend-1", path: "/cart", session: { source: "header", key: "x-user", value: "alice" }, count: 1 },
        );
        assert.deepEqual([a2.body.count, b1.body.count, none.body.count], [2, 1, null]);
        assert.equal(a1.headers.get("x-served-by"), "web-abc");
    });

    it("reads the session from a cookie (quoted, as Envoy's stateful session writes it) or a query parameter", async () => {
        app = await startDemoApp({ SESSION_SOURCE: "cookie", SESSION_KEY: "sticky" });
        const c = await get(app.url, { cookie: 'theme=dark; sticky="MTAuMC4wLjc6ODA4MA=="' });
        assert.equal(c.body.session.value, "MTAuMC4wLjc6ODA4MA==");
        await app.stop();
        app = await startDemoApp({ SESSION_SOURCE: "query", SESSION_KEY: "user" });
        assert.deepEqual([(await get(`${app.url}/x?user=carol`)).body.count, (await get(`${app.url}/y?user=carol`)).body.count], [1, 2]);
    });

    it("keeps memory bounded by forgetting the oldest session", async () => {
        app = await startDemoApp({ SESSION_SOURCE: "header", SESSION_KEY: "x-user", MAX_SESSIONS: "2" });
        for (const u of ["a", "b", "c"]) await get(app.url, { "x-user": u });
        assert.equal((await get(app.url, { "x-user": "c" })).body.count, 2);
        assert.equal((await get(app.url, { "x-user": "a" })).body.count, 1, "a was evicted");
        assert.equal((await get(`${app.url}/healthz`)).body.sessions, 2);
    });

    it("serves /healthz and logs one JSON line per request", async () => {
        app = await startDemoApp({});
        const h = await get(`${app.url}/healthz`);
        assert.deepEqual([h.status, h.body.status], [200, "ok"]);
        await get(`${app.url}/a`);
        await get(`${app.url}/b`);
        await new Promise((r) => setTimeout(r, 50));
        const requests = app.logs.filter((l) => l.method);
        assert.deepEqual(requests.map((l) => [l.path, l.status]), [["/healthz", 200], ["/a", 200], ["/b", 200]]);
        assert.ok(requests.every((l) => typeof l.ms === "number" && l.time));
    });

    it("drains on SIGTERM: logs it, closes its keep-alive connections, takes no new ones and exits 0", async () => {
        app = await startDemoApp({ DRAIN_TIMEOUT_MS: "3000" });
        const agent = new http.Agent({ keepAlive: true });
        const first = await new Promise<number>((resolve, reject) =>
            http.get(`${app!.url}/warm`, { agent }, (res) => (res.resume(), res.on("end", () => resolve(res.statusCode!)))).on("error", reject),
        );
        assert.equal(first, 200);
        app.proc.kill("SIGTERM");
        const code = await app.stop();
        agent.destroy();
        assert.equal(code, 0);
        assert.ok(app.logs.some((l) => l.event === "draining" && l.signal === "SIGTERM"));
        await assert.rejects(fetch(`${app.url}/after`), "no new connections after draining");
    });
});
