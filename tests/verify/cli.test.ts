import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { runVerify } from "../../verify/cli";
import { PROJECT_DIR } from "../../cli/stackFiles";
import { startDemoApp, RunningApp } from "../support/demoApp";
import { startNginx, RunningProxy } from "../support/proxies";

async function run(argv: string[], isTTY = false) {
    let out = "";
    let err = "";
    const code = await runVerify(argv, { out: (s) => (out += s), err: (s) => (err += s), isTTY });
    return { code, out, err };
}

describe("verify/cli", function () {
    this.timeout(60_000);
    let pods: RunningApp[] = [];
    let proxy: RunningProxy;
    before(async () => {
        pods = await Promise.all([1, 2, 3].map((i) => startDemoApp({ POD_NAME: `pod-${i}`, SESSION_SOURCE: "header", SESSION_KEY: "x-user" })));
        proxy = await startNginx(
            pods.map((p) => Number(new URL(p.url).port)),
            "hash $http_x_user consistent;",
        );
    });
    after(async () => {
        await proxy?.stop();
        await Promise.all(pods.map((p) => p.stop()));
    });

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
        const rr = await run(["--url", proxy.url, "--mode", "none", "--min-stickiness", "0.9", "--sessions", "4", "--requests", "6"]);
        assert.equal(rr.code, 1);
        assert.match(rr.out, /result +FAIL: .* < 90\.0 % required/);
        const bad = await run(["--url", proxy.url, "--sessions", "0"]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /--sessions: must be a whole number/);
        assert.match(bad.err, /usage: istio-sticky-verify --url/);
    });

    it("runs as `npm run verify` in its own process", () => {
        const ok = spawnSync("npm", ["run", "-s", "verify", "--", "--url", proxy.url, "--sessions", "3", "--requests", "3"], {
            cwd: PROJECT_DIR,
            encoding: "utf8",
        });
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /PASS/);
        const refused = spawnSync("npm", ["run", "-s", "verify", "--", "--url", "http://127.0.0.1:1/", "--sessions", "1", "--requests", "1"], {
            cwd: PROJECT_DIR,
            encoding: "utf8",
        });
        assert.equal(refused.status, 1);
        assert.match(refused.stdout, /ECONNREFUSED: 1/);
    });
});
