import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { runVerify } from "../../verify/cli";
import { PROJECT_DIR } from "../../cli/stackFiles";
import { startStickyBackend, StickyBackend } from "../support/stickyBackend";

async function run(argv: string[], isTTY = false) {
    let out = "";
    let err = "";
    const code = await runVerify(argv, { out: (s) => (out += s), err: (s) => (err += s), isTTY });
    return { code, out, err };
}

describe("verify/cli", function () {
    this.timeout(60_000);
    let proxy: StickyBackend;
    before(async () => (proxy = await startStickyBackend()));
    after(() => proxy?.stop());

    it("prints a table, no progress bar when not on a terminal, and exits 0 when sticky", async () => {
        const r = await run(["--url", proxy.url, "--sessions", "8", "--requests", "5"]);
        assert.equal(r.code, 0);
        assert.match(r.out, /^target +http:\/\/127\.0\.0\.1:\d+\/ — mode header \(x-user\), 8 sessions × 5 requests/);
        assert.match(r.out, /stickiness 100\.0 %/);
        assert.match(r.out, /result +PASS/);
        assert.equal(r.err, "");
    });

    it("draws a progress bar on a terminal, and none with --json", async () => {
        const tty = await run(["--url", proxy.url, "--sessions", "4", "--requests", "5"], true);
        assert.match(tty.err, /\[#+\] 20\/20 requests/);
        const json = await run(["--url", proxy.url, "--sessions", "4", "--requests", "5", "--json"], true);
        assert.equal(json.err, "");
        const report = JSON.parse(json.out);
        assert.deepEqual([report.requests, report.stickiness, report.pass], [20, 1, true]);
    });

    it("exits 1 below --min-stickiness and 2 on a usage error", async () => {
        // nginx balances requests without a hash key round robin: no session stays.
        const rr = await run([
            "--url",
            proxy.url,
            "--mode",
            "none",
            "--min-stickiness",
            "0.9",
            "--sessions",
            "4",
            "--requests",
            "6",
        ]);
        assert.equal(rr.code, 1);
        assert.match(rr.out, /result +FAIL: .* < 90\.0 % required/);
        const bad = await run(["--url", proxy.url, "--sessions", "0"]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /--sessions: must be a whole number/);
        assert.match(bad.err, /usage: istio-sticky-verify --url/);
    });

    it("runs as `npm run verify` in its own process", () => {
        const ok = spawnSync(
            "npm",
            ["run", "-s", "verify", "--", "--url", proxy.url, "--sessions", "3", "--requests", "3"],
            {
                cwd: PROJECT_DIR,
                encoding: "utf8",
            },
        );
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /PASS/);
        const refused = spawnSync(
            "npm",
            ["run", "-s", "verify", "--", "--url", "http://127.0.0.1:1/", "--sessions", "1", "--requests", "1"],
            {
                cwd: PROJECT_DIR,
                encoding: "utf8",
            },
        );
        assert.equal(refused.status, 1);
        assert.match(refused.stdout, /ECONNREFUSED: 1/);
    });
});

describe("verify/cli: --save, --resume and --source-addresses", function () {
    this.timeout(60_000);
    let server: http.Server;
    let url: string;
    let dir: string;
    // Pods by cookie, placed round robin on the pods up; the source address is reported as well.
    let up = ["pod-a", "pod-b", "pod-c"];
    let placed = 0;
    let requests = 0;
    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-cli-"));
        server = http.createServer((req, res) => {
            requests++;
            let pod = /(?:^|;\s*)sticky=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
            if (req.headers["x-by"] === "address") pod = `pod-${req.socket.remoteAddress}`;
            else if (pod === undefined || !up.includes(pod)) {
                pod = up[placed++ % up.length];
                res.setHeader("set-cookie", `sticky=${pod}; Path=/`);
            }
            res.end(JSON.stringify({ pod, count: null }));
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    });
    after(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("documents the new flags", async () => {
        const help = await run(["--help"]);
        assert.match(help.out, /--save <file> /);
        assert.match(help.out, /--resume <file> /);
        assert.match(help.out, /--source-addresses <first>-<last>/);
        assert.match(help.out, /every address\s+must be assigned to this host \(on Linux all of 127\.0\.0\.0\/8 is/);
    });

    it("saves a run, resumes it, and prints the sessions that moved", async () => {
        const saved = path.join(dir, "before.json");
        const first = await run([
            "--url",
            url,
            "--mode",
            "cookie",
            "--sessions",
            "6",
            "--requests",
            "3",
            "--save",
            saved,
        ]);
        assert.equal(first.code, 0, first.err);
        assert.match(
            first.out,
            /requests per pod: pod-a: 6 \(33\.3 %\), pod-b: 6 \(33\.3 %\), pod-c: 6 \(33\.3 %\); largest share 33\.3 %/,
        );
        assert.doesNotMatch(first.out, /^moved/m);
        const state = JSON.parse(fs.readFileSync(saved, "utf8"));
        assert.deepEqual([state.version, state.url, state.mode, state.sessions.length], [1, url, "cookie", 6]);

        const same = await run(["--url", url, "--mode", "cookie", "--requests", "3", "--resume", saved]);
        assert.equal(same.code, 0, same.err);
        assert.match(same.out, /6 sessions × 3 requests/);
        assert.match(same.out, /\nmoved {6}0\/6 sessions \(0\.0 %\) on another pod than in the saved run\n/);

        up = ["pod-a", "pod-b"];
        const json = await run([
            "--url",
            url,
            "--mode",
            "cookie",
            "--sessions",
            "6",
            "--requests",
            "3",
            "--resume",
            saved,
            "--json",
        ]);
        assert.equal(json.code, 0, json.err);
        const report = JSON.parse(json.out);
        const wasOnC = state.sessions
            .filter((s: { topPod: string }) => s.topPod === "pod-c")
            .map((s: { id: string }) => s.id);
        assert.equal(wasOnC.length, 2);
        assert.deepEqual(report.comparison, { sessions: 6, moved: 2, movedShare: 2 / 6, movedSessions: wasOnC });
        const text = await run(["--url", url, "--mode", "cookie", "--requests", "3", "--resume", saved]);
        assert.match(
            text.out,
            new RegExp(
                `\\nmoved {6}2/6 sessions \\(33\\.3 %\\) on another pod than in the saved run\\n {11}moved: ${wasOnC.join(", ")}\\n`,
            ),
        );
    });

    it("connects from each of --source-addresses", async () => {
        const r = await run([
            "--url",
            url,
            "--mode",
            "none",
            "--header",
            "x-by:address",
            "--sessions",
            "6",
            "--requests",
            "2",
            "--source-addresses",
            "127.0.4.1-127.0.4.3",
            "--json",
        ]);
        assert.equal(r.code, 0, r.err);
        const report = JSON.parse(r.out);
        assert.deepEqual(
            report.perSession.map((s: { topPod: string }) => s.topPod),
            [1, 2, 3, 1, 2, 3].map((i) => `pod-127.0.4.${i}`),
        );
        assert.deepEqual(report.distribution.requestsByPod, {
            "pod-127.0.4.1": 4,
            "pod-127.0.4.2": 4,
            "pod-127.0.4.3": 4,
        });
    });

    it("exits 2 on an unusable --resume or --save file or a mismatch with the saved run, before any request", async () => {
        const saved = path.join(dir, "three.json");
        assert.equal(
            (await run(["--url", url, "--mode", "cookie", "--sessions", "3", "--requests", "1", "--save", saved])).code,
            0,
        );
        const notJson = path.join(dir, "notjson.json");
        fs.writeFileSync(notJson, "sessions=3");
        const v2 = path.join(dir, "v2.json");
        fs.writeFileSync(v2, JSON.stringify({ ...JSON.parse(fs.readFileSync(saved, "utf8")), version: 2 }));
        const sent = requests;
        const cases: [string[], RegExp][] = [
            [
                ["--mode", "cookie", "--resume", path.join(dir, "missing.json")],
                /^--resume: cannot read .*missing\.json \(ENOENT\)\n/,
            ],
            [["--mode", "cookie", "--resume", notJson], /^--resume: .*notjson\.json is not JSON \(/],
            [
                ["--mode", "cookie", "--resume", v2],
                /^--resume: .*v2\.json is not a saved run of version 1 \(version 2\)\n/,
            ],
            [
                ["--mode", "cookie", "--sessions", "4", "--resume", saved],
                /^--sessions: must be 3, the sessions saved in .*three\.json \(or left out\), not 4\n/,
            ],
            [
                ["--mode", "header", "--resume", saved],
                /^--mode: must be cookie, the mode saved in .*three\.json, not header\n--key: must be left out/,
            ],
            [
                ["--mode", "cookie", "--key", "sid", "--resume", saved],
                /^--key: must be left out, the key saved in .*three\.json, not sid\n/,
            ],
            [
                ["--save", path.join(dir, "nope", "after.json")],
                /^--save: cannot write .*after\.json: .*nope does not exist\n/,
            ],
            [
                ["--source-addresses", "127.0.2.9-127.0.2.1"],
                /^--source-addresses: the first address must not be above the last/,
            ],
            [["--source-addresses", "127.0.2.1-::1"], /^--source-addresses: must be two IPv4 addresses/],
            [
                ["--source-addresses", "127.0.0.0-127.1.0.0"],
                /^--source-addresses: must be at most 65536 addresses, not 65537/,
            ],
        ];
        for (const [argv, message] of cases) {
            const r = await run(["--url", url, "--requests", "1", ...argv]);
            assert.equal(r.code, 2, argv.join(" "));
            assert.match(r.err, message);
            assert.equal(r.out, "");
        }
        assert.equal(requests, sent, "no request was sent");
    });
});
