import { strict as assert } from "assert";
import { parseVerifyArgs } from "../../verify/cli";
import { parseVerifyOptions, sourceAddressRange, VerifyUsageError } from "../../verify/options";
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
        assert.deepEqual(
            [h.mode, h.key, h.sessions, h.requests, h.concurrency, h.minStickiness, h.json],
            ["header", "x-user", 20, 20, 8, 1, false],
        );
        const n = parseVerifyArgs(["--url", "http://x/", "--mode", "none", "--json", "--header", "Target: backend-1"]);
        assert.deepEqual([n.minStickiness, n.json, n.headers], [0, true, { target: "backend-1" }]);
        assert.equal(parseVerifyArgs(["--url", "http://x/", "--mode", "query"]).key, "user");
    });
    it("names the flag in every usage error", () => {
        assert.match(usage([]), /--url: is required/);
        assert.match(usage(["--url", "ftp://x/"]), /--url: must be an http/);
        assert.match(usage(["--url", "http://x/", "--sessions", "0"]), /--sessions: must be a whole number/);
        assert.match(
            usage(["--url", "http://x/", "--min-stickiness", "1.5"]),
            /--min-stickiness: must be a number from 0 to 1/,
        );
        assert.match(
            usage(["--url", "http://x/", "--mode", "persistent-header"]),
            /--key: is required with mode persistent-header/,
        );
        assert.match(usage(["--url", "http://x/", "--header", "nocolon"]), /--header: must be name:value/);
        assert.match(usage(["--url", "http://x/", "--colour"]), /Unknown option '--colour'/);
        assert.match(usage(["--url", "http://x/", "--requests", "many"]), /--requests: must be a whole number/);
    });
    it("turns --source-addresses <first>-<last> into every address between them", () => {
        const o = parseVerifyArgs(["--url", "http://x/", "--source-addresses", "127.0.2.1-127.0.2.200"]);
        assert.equal(o.sourceAddresses!.length, 200);
        assert.deepEqual(
            [o.sourceAddresses![0], o.sourceAddresses![1], o.sourceAddresses![199]],
            ["127.0.2.1", "127.0.2.2", "127.0.2.200"],
        );
        assert.deepEqual(sourceAddressRange("10.0.0.254-10.0.1.1"), [
            "10.0.0.254",
            "10.0.0.255",
            "10.0.1.0",
            "10.0.1.1",
        ]);
        assert.deepEqual(sourceAddressRange("127.0.0.9-127.0.0.9"), ["127.0.0.9"]);
        assert.equal(sourceAddressRange("10.0.0.0-10.0.255.255").length, 65536);
        assert.deepEqual(sourceAddressRange("255.255.255.254-255.255.255.255"), ["255.255.255.254", "255.255.255.255"]);
        assert.equal(parseVerifyArgs(["--url", "http://x/"]).sourceAddresses, undefined);
    });
    it("names --source-addresses, --save and --resume in their usage errors", () => {
        const flag = (spec: string) => usage(["--url", "http://x/", "--source-addresses", spec]);
        assert.match(
            flag("127.0.2.1"),
            /--source-addresses: must be <first>-<last>, e\.g\. 127\.0\.2\.1-127\.0\.2\.200 \(got "127\.0\.2\.1"\)/,
        );
        assert.match(flag("127.0.2.1-"), /--source-addresses: must be <first>-<last>/);
        assert.match(flag("127.0.2.1-127.0.2.2-127.0.2.3"), /--source-addresses: must be <first>-<last>/);
        assert.match(flag("::1-::2"), /--source-addresses: must be two IPv4 addresses \(got "::1-::2"\)/);
        assert.match(flag("fe80::1-127.0.0.1"), /--source-addresses: must be two IPv4 addresses/);
        assert.match(flag("127.0.2.1-localhost"), /--source-addresses: must be two IPv4 addresses/);
        assert.match(flag("127.0.2.1-127.0.2.256"), /--source-addresses: must be two IPv4 addresses/);
        assert.match(
            flag("127.0.2.9-127.0.2.1"),
            /--source-addresses: the first address must not be above the last \(got "127\.0\.2\.9-127\.0\.2\.1"\)/,
        );
        assert.match(flag("10.0.0.0-10.1.0.0"), /--source-addresses: must be at most 65536 addresses, not 65537/);
        assert.match(usage(["--url", "http://x/", "--save", ""]), /--save: must be a file name/);
        assert.match(
            usage(["--url", "http://x/", "--resume", "/nonexistent/before.json"]),
            /--resume: cannot read \/nonexistent\/before\.json \(ENOENT\)/,
        );
        // From a library the addresses are a list, checked the same way.
        const lib = (input: object) => {
            try {
                parseVerifyOptions({ url: "http://x/", ...input });
            } catch (e) {
                assert.ok(e instanceof VerifyUsageError);
                return e.problems;
            }
            assert.fail("expected a usage error");
        };
        assert.deepEqual(lib({ sourceAddresses: ["127.0.0.1", "nope", "::1"] }), [
            "--source-addresses: must be IPv4 addresses",
        ]);
        assert.deepEqual(lib({ sourceAddresses: [] }), ["--source-addresses: must name at least one address"]);
        assert.deepEqual(lib({ sourceAddresses: Array(65537).fill("127.0.0.1") }), [
            "--source-addresses: must be at most 65536 addresses",
        ]);
        assert.deepEqual(lib({ url: "http://[::1]:8080/", sourceAddresses: ["127.0.0.1"] }), [
            "--source-addresses: are IPv4 addresses and cannot reach an IPv6 URL",
        ]);
    });
    it("exports the verify command that matches each app's policy", () => {
        const app = (affinity: unknown, extra = {}) => parseApp({ name: "web", affinity, ...extra }, "t").value;
        const url = "http://203.0.113.10/web/";
        assert.deepEqual(
            verifyArgsFor(app({ mode: "header", headerName: "x-user" }, { match: { headers: { target: "b1" } } }), url),
            ["--url", url, "--mode", "header", "--key", "x-user", "--header", "target:b1"],
        );
        assert.deepEqual(verifyArgsFor(app({ mode: "cookie", cookie: { name: "s", ttl: "60s" } }), url).slice(2), [
            "--mode",
            "cookie",
        ]);
        assert.deepEqual(verifyArgsFor(app({ mode: "cookie", cookie: { name: "app-s" } }), url).slice(2), [
            "--mode",
            "cookie",
            "--key",
            "app-s",
        ]);
        assert.deepEqual(verifyArgsFor(app({ mode: "persistentHeader", headerName: "x-pod" }), url).slice(2), [
            "--mode",
            "persistent-header",
            "--key",
            "x-pod",
            "--id-header",
            "x-session-id",
        ]);
        assert.deepEqual(verifyArgsFor(app({ mode: "sourceIp" }), url).slice(2), [
            "--mode",
            "none",
            "--min-stickiness",
            "1",
        ]);
        // $INGRESS (the base URL the user sets) is left for the shell to expand; everything else is literal.
        assert.equal(
            verifyCommand(["--url", "$INGRESS/x/", "--header", "target:b 1"]),
            `npx istio-sticky-verify --url "$INGRESS/x/" --header 'target:b 1'`,
        );
        assert.equal(
            verifyCommand(["--url", "$INGRESS/x/?a=$b"]),
            `npx istio-sticky-verify --url "$INGRESS"'/x/?a=$b'`,
        );
        assert.equal(
            verifyCommand(["--url", "http://203.0.113.10/x/", "--key", "it's"]),
            `npx istio-sticky-verify --url http://203.0.113.10/x/ --key 'it'\\''s'`,
        );
        // What the stack exports parses back into the same options.
        const args = verifyArgsFor(app({ mode: "queryParameter", queryParameterName: "u" }), url);
        assert.deepEqual([parseVerifyArgs(args).mode, parseVerifyArgs(args).key], ["query", "u"]);
    });
});
