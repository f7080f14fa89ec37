import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parseVerifyOptions, sourceAddressRange } from "../../verify/options";
import { formatReport } from "../../verify/report";
import { verifyStickiness } from "../../verify/run";
import { readSavedRun } from "../../verify/state";

/** A local server on 127.0.0.1 that answers `{"pod": …}` as `handler` chooses. */
async function serve(
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => string,
): Promise<{ url: string; server: http.Server }> {
    const server = http.createServer((req, res) => {
        const pod = handler(req, res);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ pod, count: null }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server };
}

/** Open connections to `server`, waiting up to `ms` for them to drop to zero. */
async function connectionsAfter(server: http.Server, ms: number): Promise<number> {
    const count = () => new Promise<number>((r, j) => server.getConnections((e, n) => (e ? j(e) : r(n))));
    for (let waited = 0; waited < ms; waited += 20) {
        if ((await count()) === 0) return 0;
        await new Promise((r) => setTimeout(r, 20));
    }
    return count();
}

const sessionOf = (req: http.IncomingMessage) => String(req.headers["x-session-id"]);

describe("verify across two runs and from many source addresses (local servers on 127.0.0.1)", function () {
    this.timeout(60_000);
    let servers: http.Server[] = [];
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-runs-"))));
    afterEach(async () => {
        for (const s of servers) s.closeAllConnections();
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
        servers = [];
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("connects each session from its own source address, so hashing on the source IP sees distinct clients", async () => {
        // A stand-in for hashing on the source IP: one pod per client address.
        const addressesOf = new Map<string, Set<string>>();
        const { url, server } = await serve((req) => {
            const address = req.socket.remoteAddress!;
            const seen = addressesOf.get(sessionOf(req)) ?? new Set<string>();
            addressesOf.set(sessionOf(req), seen.add(address));
            return `pod-${address}`;
        });
        servers.push(server);
        const base = { url, mode: "none", requests: 5, concurrency: 4, idHeader: "x-session-id" };

        const eight = await verifyStickiness(
            parseVerifyOptions({ ...base, sessions: 8, sourceAddresses: sourceAddressRange("127.0.2.1-127.0.2.8") }),
        );
        assert.equal(eight.errors, 0, JSON.stringify(eight.errorKinds));
        assert.deepEqual(
            eight.perSession.map((s) => [s.topPod, s.topShare, s.moved]),
            Array.from({ length: 8 }, (_, i) => [`pod-127.0.2.${i + 1}`, 1, false]),
            "session i on the pod of address i, every request",
        );
        assert.deepEqual(
            eight.perSession.map((s) => [...addressesOf.get(s.id)!]),
            Array.from({ length: 8 }, (_, i) => [`127.0.2.${i + 1}`]),
            "the server saw one address per session",
        );
        assert.equal(Object.keys(eight.distribution.sessionsByPod).length, 8);
        assert.deepEqual(Object.values(eight.distribution.requestsByPod), Array(8).fill(5));
        assert.equal(eight.distribution.maxRequestShare, 1 / 8);
        assert.equal(await connectionsAfter(server, 1000), 0, "every agent closed its connections");

        // More sessions than addresses: session i connects from address i mod 4.
        const twelve = await verifyStickiness(
            parseVerifyOptions({ ...base, sessions: 12, sourceAddresses: sourceAddressRange("127.0.3.1-127.0.3.4") }),
        );
        assert.deepEqual(
            twelve.perSession.map((s) => [s.topPod, [...addressesOf.get(s.id)!]]),
            Array.from({ length: 12 }, (_, i) => [`pod-127.0.3.${(i % 4) + 1}`, [`127.0.3.${(i % 4) + 1}`]]),
        );
        assert.deepEqual(Object.values(twelve.distribution.sessionsByPod), [3, 3, 3, 3]);

        // Without them every session is the same client: one pod takes everything.
        const one = await verifyStickiness(parseVerifyOptions({ ...base, sessions: 6 }));
        assert.deepEqual(one.distribution.sessionsByPod, { "pod-127.0.0.1": 6 });
        assert.equal(one.distribution.maxRequestShare, 1);
    });

    it("resumes the saved cookie jars, and counts exactly the sessions whose pod went away", async () => {
        // A stand-in for a proxy-inserted cookie: a cookie naming a pod that is up is honoured,
        // any other request is placed round robin on the pods up and gets a new cookie.
        let up = ["pod-a", "pod-b", "pod-c"];
        let placed = 0;
        let withoutCookie = 0;
        const served = new Map<string, string>();
        const { url, server } = await serve((req, res) => {
            const cookie = /(?:^|;\s*)sticky=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
            if (cookie === undefined) withoutCookie++;
            let pod = cookie;
            if (pod === undefined || !up.includes(pod)) {
                pod = up[placed++ % up.length];
                res.setHeader("set-cookie", `sticky=${pod}; Path=/`);
            }
            served.set(sessionOf(req), pod);
            return pod;
        });
        servers.push(server);
        const base = { url, mode: "cookie", requests: 4, concurrency: 5, idHeader: "x-session-id" };
        const beforeFile = path.join(dir, "before.json");
        const afterFile = path.join(dir, "after.json");

        const first = await verifyStickiness(parseVerifyOptions({ ...base, sessions: 30, save: beforeFile }));
        assert.deepEqual([first.errors, first.stickiness, withoutCookie], [0, 1, 30]);
        assert.deepEqual(first.distribution.sessionsByPod, { "pod-a": 10, "pod-b": 10, "pod-c": 10 });
        assert.equal(first.comparison, undefined);
        const saved = readSavedRun(beforeFile);
        assert.deepEqual([saved.version, saved.url, saved.mode, saved.key], [1, url, "cookie", undefined]);
        assert.deepEqual(
            saved.sessions.map((s) => [s.id, s.topPod, s.cookies?.cookies.length]),
            first.perSession.map((s) => [s.id, s.topPod, 1]),
        );

        // pod-c goes away and pod-d comes.
        const wasOn = new Map(served);
        served.clear();
        withoutCookie = 0;
        up = ["pod-a", "pod-b", "pod-d"];
        const second = await verifyStickiness(parseVerifyOptions({ ...base, resume: beforeFile, save: afterFile }));
        assert.equal(second.sessions, 30, "--sessions defaults to the saved count");
        assert.deepEqual(
            second.perSession.map((s) => s.id),
            first.perSession.map((s) => s.id),
            "the same sessions",
        );
        assert.equal(withoutCookie, 0, "every session sent its saved cookie from its first request on");
        const changed = second.perSession.filter((s) => served.get(s.id) !== wasOn.get(s.id)).map((s) => s.id);
        assert.deepEqual(
            changed,
            first.perSession.filter((s) => s.topPod === "pod-c").map((s) => s.id),
        );
        assert.deepEqual(second.comparison, { sessions: 30, moved: 10, movedShare: 1 / 3, movedSessions: changed });
        assert.equal(second.stickiness, 1, "a moved session stays on its new pod");
        assert.match(
            formatReport(second),
            /\nmoved {6}10\/30 sessions \(33\.3 %\) on another pod than in the saved run\n/,
        );

        // Nothing changes: nothing moves.
        const third = await verifyStickiness(parseVerifyOptions({ ...base, resume: afterFile }));
        assert.deepEqual(third.comparison, { sessions: 30, moved: 0, movedShare: 0, movedSessions: [] });
    });

    it("keeps the session ids when resumed, so a header hash shows what a scale-up from 3 to 4 pods moves", async () => {
        const bucket = (id: string) => createHash("sha256").update(id).digest().readUInt32BE(0);
        let pods = 3;
        const { url, server } = await serve((req) => `pod-${bucket(String(req.headers["x-user"])) % pods}`);
        servers.push(server);
        const file = path.join(dir, "hash.json");
        const first = await verifyStickiness(
            parseVerifyOptions({ url, mode: "header", sessions: 40, requests: 3, save: file }),
        );
        assert.equal(first.ok, 120);
        pods = 4;
        const second = await verifyStickiness(
            parseVerifyOptions({ url, mode: "header", sessions: 40, requests: 3, resume: file }),
        );
        const expected = first.perSession.filter((s) => bucket(s.id) % 3 !== bucket(s.id) % 4).map((s) => s.id);
        assert.ok(expected.length > 0 && expected.length < 40, `${expected.length} of 40 change bucket`);
        assert.deepEqual(second.comparison, {
            sessions: 40,
            moved: expected.length,
            movedShare: expected.length / 40,
            movedSessions: expected,
        });
    });

    it("sends the saved echoed header again in persistent-header mode", async () => {
        let placed = 0;
        let withoutHeader = 0;
        const { url, server } = await serve((req, res) => {
            const named = req.headers["x-session-pod"];
            if (typeof named !== "string") withoutHeader++;
            const pod = typeof named === "string" ? named : `pod-${(placed++ % 3) + 1}`;
            res.setHeader("x-session-pod", pod);
            return pod;
        });
        servers.push(server);
        const file = path.join(dir, "echoed.json");
        const base = { url, mode: "persistent-header", key: "x-session-pod", requests: 3 };
        const first = await verifyStickiness(parseVerifyOptions({ ...base, sessions: 6, save: file }));
        assert.equal(withoutHeader, 6);
        assert.deepEqual(
            readSavedRun(file).sessions.map((s) => [s.echoed, s.topPod, s.cookies]),
            first.perSession.map((s) => [s.topPod, s.topPod, undefined]),
        );
        withoutHeader = 0;
        const second = await verifyStickiness(parseVerifyOptions({ ...base, resume: file }));
        assert.equal(withoutHeader, 0);
        assert.deepEqual(second.comparison, { sessions: 6, moved: 0, movedShare: 0, movedSessions: [] });
    });
});
