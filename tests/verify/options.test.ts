import { strict as assert } from "assert";
import { parseVerifyArgs } from "../../verify/cli";
import { VerifyUsageError } from "../../verify/options";
import { verifyArgsFor, verifyCommand } from "../../components/outputs/verifyArgs";
import { parseApp } from "../../components/settings/validate";

const usage = (argv: string[]) => {
    try {
        parseVerifyArgs(argv);
    } catch (e) {
        assert.ok(e instanceof VerifyUsageError);
        return e.message;
    }
    assert.fail("expected a usage error");
};

describe("verify options and the exported command", () => {
    it("fills defaults per mode", () => {
        const h = parseVerifyArgs(["--url", "http://127.0.0.1:8080/"]);
        assert.deepEqual([h.mode, h.key, h.sessions, h.requests, h.concurrency, h.minStickiness, h.json], ["header", "x-user", 20, 20, 8, 1, false]);
        const n = parseVerifyArgs(["--url", "http://x/", "--mode", "none", "--json", "--header", "Target: backend-1"]);
        assert.deepEqual([n.minStickiness, n.json, n.headers], [0, true, { target: "backend-1" }]);
        assert.equal(parseVerifyArgs(["--url", "http://x/", "--mode", "query"]).key, "user");
    });
    it("names the flag in every usage error", () => {
        assert.match(usage([]), /--url: is required/);
        assert.match(usage(["--url", "ftp://x/"]), /--url: must be an http/);
        assert.match(usage(["--url", "http://x/", "--sessions", "0"]), /--sessions: must be a whole number/);
        assert.match(usage(["--url", "http://x/", "--min-stickiness", "1.5"]), /--min-stickiness: must be a number from 0 to 1/);
        assert.match(usage(["--url", "http://x/", "--mode", "persistent-header"]), /--key: is required with mode persistent-header/);
        assert.match(usage(["--url", "http://x/", "--header", "nocolon"]), /--header: must be name:value/);
        assert.match(usage(["--url", "http://x/", "--colour"]), /Unknown option '--colour'/);
        assert.match(usage(["--url", "http://x/", "--requests", "many"]), /--requests: must be a whole number/);
    });
    it("exports the verify command that matches each app's policy", () => {
        const app = (affinity: unknown, extra = {}) => parseApp({ name: "web", affinity, ...extra }, "t").value;
        const url = "http://203.0.113.10/web/";
        assert.deepEqual(verifyArgsFor(app({ mode: "header", headerName: "x-user" }, { match: { headers: { target: "b1" } } }), url), [
            "--url",
            url,
            "--mode",
            "header",
            "--key",
            "x-user",
            "--header",
            "target:b1",
        ]);
        assert.deepEqual(verifyArgsFor(app({ mode: "cookie", cookie: { name: "s", ttl: "60s" } }), url).slice(2), ["--mode", "cookie"]);
        assert.deepEqual(verifyArgsFor(app({ mode: "cookie", cookie: { name: "app-s" } }), url).slice(2), ["--mode", "cookie", "--key", "app-s"]);
        assert.deepEqual(verifyArgsFor(app({ mode: "persistentHeader", headerName: "x-pod" }), url).slice(2), [
            "--mode",
            "persistent-header",
            "--key",
            "x-pod",
            "--id-header",
            "x-session-id",
        ]);
        assert.deepEqual(verifyArgsFor(app({ mode: "sourceIp" }), url).slice(2), ["--mode", "none", "--min-stickiness", "1"]);
        assert.equal(
            verifyCommand(["--url", "http://$INGRESS/x/", "--header", "target:b 1"]),
            "npx istio-sticky-verify@0.1.0 --url 'http://$INGRESS/x/' --header 'target:b 1'",
        );
        // What the stack exports parses back into the same options.
        const args = verifyArgsFor(app({ mode: "queryParameter", queryParameterName: "u" }), url);
        assert.deepEqual([parseVerifyArgs(args).mode, parseVerifyArgs(args).key], ["query", "u"]);
    });
});
