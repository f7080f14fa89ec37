import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { verifyStickiness } from "../../verify/run";
import { parseVerifyOptions } from "../../verify/options";
import { startDemoApp, RunningApp } from "../support/demoApp";
import { startHaproxy, startNginx, RunningProxy } from "../support/proxies";

/** Starts `n` demo app instances on 127.0.0.1 named pod-1…pod-n. */
async function startPods(n: number, env: Record<string, string>): Promise<RunningApp[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => startDemoApp({ POD_NAME: `pod-${i + 1}`, ...env })));
}
const portOf = (app: RunningApp) => Number(new URL(app.url).port);

describe("verify against real proxies on 127.0.0.1 (demo app behind nginx and haproxy)", function () {
    this.timeout(60_000);
    let pods: RunningApp[] = [];
    let proxy: RunningProxy | undefined;
    afterEach(async () => {
        await proxy?.stop();
        await Promise.all(pods.map((p) => p.stop()));
        proxy = undefined;
        pods = [];
    });

    it("reports 100 % for nginx hashing on x-user, with the app's counter rising each time", async () => {
        pods = await startPods(3, { SESSION_SOURCE: "header", SESSION_KEY: "x-user" });
        proxy = await startNginx(pods.map(portOf), "hash $http_x_user consistent;");
        const r = await verifyStickiness(
            parseVerifyOptions({
                url: proxy.url,
                mode: "header",
                key: "x-user",
                sessions: 30,
                requests: 10,
                concurrency: 6,
            }),
        );
        assert.equal(r.errors, 0, JSON.stringify(r.errorKinds));
        assert.equal(r.stickiness, 1);
        assert.deepEqual([r.fullySticky, r.movedSessions, r.stateKept], [30, 0, 30]);
        assert.ok(Object.keys(r.distribution.sessionsByPod).length >= 2, "sessions spread over more than one pod");
        assert.equal(r.pass, true);
    });

    it("reports 100 % for haproxy's inserted cookie, honouring Set-Cookie per session", async () => {
        pods = await startPods(3, { SESSION_SOURCE: "header", SESSION_KEY: "x-verify-session" });
        proxy = await startHaproxy(pods.map(portOf));
        const r = await verifyStickiness(
            parseVerifyOptions({
                url: proxy.url,
                mode: "cookie",
                sessions: 12,
                requests: 10,
                concurrency: 4,
                idHeader: "x-verify-session",
            }),
        );
        assert.equal(r.errors, 0, JSON.stringify(r.errorKinds));
        assert.equal(r.stickiness, 1);
        assert.equal(r.stateKept, 12);
        assert.deepEqual(
            Object.values(r.distribution.sessionsByPod).sort(),
            [4, 4, 4],
            "haproxy places new sessions round robin",
        );
        assert.equal(r.pass, true);
    });

    it("reports well below 100 % for round robin, and fails", async () => {
        pods = await startPods(3, { SESSION_SOURCE: "header", SESSION_KEY: "x-user" });
        proxy = await startNginx(pods.map(portOf), "");
        const r = await verifyStickiness(
            parseVerifyOptions({ url: proxy.url, mode: "header", sessions: 10, requests: 9, concurrency: 1 }),
        );
        assert.ok(r.stickiness < 0.6, `stickiness ${r.stickiness}`);
        assert.equal(r.movedSessions, 10);
        assert.equal(r.stateKept, 0);
        assert.equal(r.pass, false);
    });

    it("counts moved sessions and errors when a backend dies mid-run, instead of crashing", async () => {
        pods = await startPods(4, { SESSION_SOURCE: "header", SESSION_KEY: "x-user" });
        // No retry on the next server: a request to the dead backend fails, and the ones after it move.
        // All sessions run at once, so about a quarter of them live on the pod that dies.
        proxy = await startNginx(pods.map(portOf), "hash $http_x_user consistent;", "proxy_next_upstream off;");
        let killed = false;
        const r = await verifyStickiness(
            parseVerifyOptions({
                url: proxy.url,
                mode: "header",
                sessions: 40,
                requests: 20,
                concurrency: 40,
                timeoutMs: 2000,
            }),
            {
                onProgress: (done) => {
                    if (!killed && done >= 200) {
                        killed = true;
                        pods[1].proc.kill("SIGKILL");
                    }
                },
            },
        );
        assert.ok(killed);
        assert.equal(r.requests, 800, "every planned request was made");
        assert.ok(r.errors >= 1, `errors ${r.errors}`);
        assert.ok(
            Object.keys(r.errorKinds).every((k) => /^HTTP 50[24]$/.test(k)),
            JSON.stringify(r.errorKinds),
        );
        assert.ok(r.movedSessions >= 1, `moved ${r.movedSessions}`);
        assert.ok(r.stickiness < 1);
        assert.equal(r.pass, false);
    });

    it("echoes the header a persistent-header proxy returns", async () => {
        // A stand-in for Envoy's header-based stateful session: it names the pod in a response header
        // and honours it when the client sends it back.
        let placed = 0;
        const server = http.createServer((req, res) => {
            const pod =
                typeof req.headers["x-session-pod"] === "string"
                    ? req.headers["x-session-pod"]
                    : `pod-${(placed++ % 3) + 1}`;
            res.setHeader("x-session-pod", pod);
            res.end(JSON.stringify({ pod, count: null }));
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(server.address() as any).port}/`;
        try {
            const echoed = await verifyStickiness(
                parseVerifyOptions({ url, mode: "persistent-header", key: "x-session-pod", sessions: 6, requests: 5 }),
            );
            assert.equal(echoed.stickiness, 1);
            const ignored = await verifyStickiness(
                parseVerifyOptions({ url, mode: "none", sessions: 6, requests: 5, concurrency: 1 }),
            );
            assert.ok(ignored.stickiness < 1);
        } finally {
            server.close();
        }
    });

    it("checks TLS certificates, and accepts a self-signed one only with --insecure", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-tls-"));
        const made = spawnSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-keyout",
                path.join(dir, "key.pem"),
                "-out",
                path.join(dir, "cert.pem"),
            ],
            { encoding: "utf8" },
        );
        assert.equal(made.status, 0, made.stderr);
        const server = https.createServer(
            { key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) },
            (req, res) =>
                res.end(
                    JSON.stringify({
                        pod: `${(req.socket as any).servername || "no-sni"}|${req.headers.host}`,
                        count: null,
                    }),
                ),
        );
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const url = `https://127.0.0.1:${(server.address() as any).port}/`;
        try {
            const strict = await verifyStickiness(parseVerifyOptions({ url, mode: "none", sessions: 1, requests: 2 }));
            assert.equal(strict.ok, 0);
            assert.match(Object.keys(strict.errorKinds)[0], /SELF_SIGNED|CERT/);
            const insecure = await verifyStickiness(
                parseVerifyOptions({ url, mode: "none", sessions: 1, requests: 2, insecure: true }),
            );
            assert.deepEqual([insecure.ok, insecure.stickiness], [2, 1]);
            assert.deepEqual(Object.keys(insecure.distribution.requestsByPod), [`no-sni|${new URL(url).host}`]);
            // --servername: the name goes out as SNI and as the Host header, the connection to the address.
            const named = await verifyStickiness(
                parseVerifyOptions({
                    url,
                    mode: "none",
                    sessions: 1,
                    requests: 2,
                    insecure: true,
                    servername: "sticky.test",
                }),
            );
            assert.deepEqual(named.distribution.requestsByPod, { "sticky.test|sticky.test": 2 });
        } finally {
            server.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("stops at --max-seconds and never waits past a request timeout", async () => {
        const server = http.createServer(() => {
            /* never answers */
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(server.address() as any).port}/`;
        const started = Date.now();
        try {
            const r = await verifyStickiness(
                parseVerifyOptions({
                    url,
                    sessions: 2,
                    requests: 100,
                    concurrency: 2,
                    timeoutMs: 200,
                    maxSeconds: 0.5,
                }),
            );
            assert.ok(Date.now() - started < 3000);
            assert.ok(r.truncated);
            assert.deepEqual(Object.keys(r.errorKinds), ["timeout"]);
        } finally {
            server.closeAllConnections();
            server.close();
        }
    });
});
