import { strict as assert } from "assert";
import * as http from "http";
import * as net from "net";
import { spawnSync } from "child_process";
import { startDemoApp, RunningApp, DEMO_APP_JS } from "../support/demoApp";
import { AffinityMode, buildPlan } from "istio-sticky";
import { stackWith } from "../support/fixtures";

/** The literal env the Deployment gives the demo app for one mode. */
function deploymentEnv(mode: AffinityMode): Record<string, string> {
    const env = buildPlan(stackWith([mode]), { demoAppSource: "" }).objects.find((o) => o.object.kind === "Deployment")!
        .object.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    return Object.fromEntries(
        env.filter((e) => e.value !== undefined && e.name !== "PORT").map((e) => [e.name, e.value!]),
    );
}

/** Sends raw bytes and returns the status line of the answer ("" when the connection closed without one). */
function rawRequest(url: string, request: string): Promise<string> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
        const s = net.connect(Number(port), hostname, () => s.write(request));
        let out = "";
        s.setTimeout(3000, () => s.destroy(new Error("no answer within 3 s")));
        s.on("data", (d) => (out += d));
        s.on("close", () => resolve(out.split("\r\n")[0]));
        s.on("error", reject);
    });
}

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
        app = await startDemoApp({
            POD_NAME: "web-abc",
            POD_IP: "10.244.0.7",
            TARGET: "backend-1",
            SESSION_SOURCE: "header",
            SESSION_KEY: "x-user",
        });
        const a1 = await get(`${app.url}/cart`, { "x-user": "alice" });
        const a2 = await get(`${app.url}/other`, { "x-user": "alice" });
        const b1 = await get(`${app.url}/cart`, { "x-user": "bob" });
        const none = await get(`${app.url}/`);
        assert.deepEqual(
            {
                pod: a1.body.pod,
                ip: a1.body.ip,
                target: a1.body.target,
                path: a1.body.path,
                session: a1.body.session,
                count: a1.body.count,
            },
            {
                pod: "web-abc",
                ip: "10.244.0.7",
                target: "backend-1",
                path: "/cart",
                session: { source: "header", key: "x-user", value: "alice" },
                count: 1,
            },
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
        assert.deepEqual(
            [(await get(`${app.url}/x?user=carol`)).body.count, (await get(`${app.url}/y?user=carol`)).body.count],
            [1, 2],
        );
    });

    it("answers a malformed request target with 400 and keeps serving", async () => {
        app = await startDemoApp({});
        assert.equal(
            await rawRequest(app.url, "GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            "HTTP/1.1 400 Bad Request",
        );
        assert.equal(await rawRequest(app.url, "NOT HTTP AT ALL\r\n\r\n"), "HTTP/1.1 400 Bad Request");
        assert.equal((await get(`${app.url}/after`)).status, 200);
        assert.equal(app.proc.exitCode, null, "still running");
    });

    it("counts no session for an empty session header or parameter", async () => {
        app = await startDemoApp({ SESSION_SOURCE: "header", SESSION_KEY: "x-user" });
        assert.deepEqual(
            [(await get(app.url, { "x-user": "" })).body.count, (await get(app.url, { "x-user": "   " })).body.count],
            [null, null],
        );
        await app.stop();
        app = await startDemoApp({ SESSION_SOURCE: "query", SESSION_KEY: "user" });
        assert.equal((await get(`${app.url}/?user=`)).body.count, null);
    });

    it("refuses bad settings at start instead of falling back to defaults", () => {
        for (const [env, message] of [
            [{ PORT: "abc" }, /PORT must be a whole number from 0 to 65535 \(got "abc"\)/],
            [{ MAX_SESSIONS: "0" }, /MAX_SESSIONS must be a whole number from 1/],
            [
                { SESSION_SOURCE: "cookies", SESSION_KEY: "c" },
                /SESSION_SOURCE must be one of header, cookie, issued-cookie, query, none/,
            ],
            [{ SESSION_SOURCE: "header" }, /SESSION_KEY is required with SESSION_SOURCE=header/],
        ] as const) {
            const r = spawnSync(process.execPath, [DEMO_APP_JS], {
                env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", ...env },
                encoding: "utf8",
                timeout: 5000,
            });
            assert.equal(r.status, 2, JSON.stringify(env));
            assert.match(r.stderr, message);
        }
    });

    it("counts per client under a persistent cookie: it issues each client a session cookie of its own", async () => {
        app = await startDemoApp({ SESSION_SOURCE: "issued-cookie", SESSION_KEY: "demo-session" });
        // Both clients carry the same persistent-session cookie (it names the pod), and each its own app cookie.
        const pod = 'sticky-pod="MTAuMC4wLjc6ODA4MA=="';
        const first = await get(app.url, { cookie: pod });
        const issued = /^demo-session=([^;]+); Path=\/; HttpOnly; SameSite=Lax$/.exec(
            first.headers.get("set-cookie") ?? "",
        );
        assert.ok(issued, `set-cookie: ${first.headers.get("set-cookie")}`);
        const alice = `${pod}; demo-session=${issued[1]}`;
        const second = await get(app.url, { cookie: alice });
        const bob = await get(app.url, { cookie: pod });
        assert.deepEqual([first.body.count, second.body.count, bob.body.count], [1, 2, 1]);
        assert.equal(second.headers.get("set-cookie"), null, "a client that has its cookie keeps it");
        assert.notEqual(bob.body.session.value, issued[1]);
    });

    it("follows each client's own session in the persistent modes, as the Deployment configures it", async () => {
        // The routing cookie or header holds the pod's address: every client on that pod sends the same value.
        app = await startDemoApp(deploymentEnv(AffinityMode.PersistentCookie));
        const podCookie = 'sticky-pod="MTAuMC4wLjc6ODA4MA=="';
        const a1 = await get(app.url, { cookie: podCookie });
        const aCookie = `${podCookie}; ${(a1.headers.get("set-cookie") ?? "").split(";")[0]}`;
        const b1 = await get(app.url, { cookie: podCookie });
        const a2 = await get(app.url, { cookie: aCookie });
        assert.deepEqual([a1.body.count, b1.body.count, a2.body.count], [1, 1, 2]);
        await app.stop();
        app = await startDemoApp(deploymentEnv(AffinityMode.PersistentHeader));
        const pod = { "x-session-pod": "MTAuMC4wLjc6ODA4MA==" };
        const counts = [];
        for (const id of ["alice", "bob", "alice"])
            counts.push((await get(app.url, { ...pod, "x-session-id": id })).body.count);
        assert.deepEqual(counts, [1, 1, 2]);
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
        assert.deepEqual(
            requests.map((l) => [l.path, l.status]),
            [
                ["/healthz", 200],
                ["/a", 200],
                ["/b", 200],
            ],
        );
        assert.ok(requests.every((l) => typeof l.ms === "number" && l.time));
    });

    it("drains on SIGTERM: logs it, closes its keep-alive connections, takes no new ones and exits 0", async () => {
        app = await startDemoApp({ DRAIN_TIMEOUT_MS: "3000" });
        const agent = new http.Agent({ keepAlive: true });
        const first = await new Promise<number>((resolve, reject) =>
            http
                .get(
                    `${app!.url}/warm`,
                    { agent },
                    (res) => (res.resume(), res.on("end", () => resolve(res.statusCode!))),
                )
                .on("error", reject),
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
