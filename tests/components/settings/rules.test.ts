import { strict as assert } from "assert";
import * as rules from "../../../components/settings/rules";

describe("settings/rules", () => {
    it("tells primes from composites", () => {
        assert.deepEqual([2, 3, 65537, 5000011, 131071].map(rules.isPrime), [true, true, true, true, true]);
        assert.deepEqual([0, 1, 4, 65536, 1.5, -7, 1000000].map(rules.isPrime), [
            false,
            false,
            false,
            false,
            false,
            false,
            false,
        ]);
    });
    it("accepts Go durations and rejects others", () => {
        for (const d of ["0s", "60s", "1.5h", "1h30m", "250ms"]) assert.ok(rules.isDuration(d), d);
        for (const d of ["60", "s", "1 h", "1d", "-1s", ""]) assert.ok(!rules.isDuration(d), d);
    });
    it("checks DNS-1123 labels", () => {
        assert.ok(rules.isDnsLabel("sticky-app1"));
        for (const s of ["Sticky", "a_b", "-a", "a-", "a".repeat(64), ""]) assert.ok(!rules.isDnsLabel(s), s);
    });
    it("checks lower-case header names", () => {
        assert.ok(rules.isLowercaseHeaderName("x-user"));
        for (const s of ["X-User", "x user", "x:y", ""]) assert.ok(!rules.isLowercaseHeaderName(s), s);
    });
    it("checks route paths and finds overlapping prefixes", () => {
        for (const p of ["/", "/a", "/a/b-c"]) assert.ok(rules.isRoutePath(p), p);
        for (const p of ["a", "/a/", "//a", "/a?b", "/a b"]) assert.ok(!rules.isRoutePath(p), p);
        assert.ok(rules.pathsOverlap("/a", "/a/b"));
        assert.ok(rules.pathsOverlap("/", "/x"));
        assert.ok(!rules.pathsOverlap("/a", "/ab"));
    });
    it("parses versions and compares minors", () => {
        assert.deepEqual(rules.parseVersion("1.30.5"), { major: 1, minor: 30, patch: 5 });
        assert.equal(rules.parseVersion("1.30"), undefined);
        assert.ok(rules.compareMinor(rules.parseVersion("1.27.9")!, 1, 28) < 0);
        assert.equal(rules.compareMinor(rules.parseVersion("1.28.0-rc.1")!, 1, 28), 0);
    });
    it("parses IPv4 CIDRs and checks for host bits", () => {
        assert.deepEqual(rules.parseCidr("10.244.0.0/16"), { octets: [10, 244, 0, 0], prefix: 16 });
        for (const c of ["10.244.0.0", "256.0.0.0/8", "10.0.0.0/33", "::1/128", "10.0.0/8"])
            assert.equal(rules.parseCidr(c), undefined, c);
        assert.ok(rules.isNetworkAddress(rules.parseCidr("10.244.128.0/17")!));
        assert.ok(!rules.isNetworkAddress(rules.parseCidr("10.244.129.0/17")!));
    });
    it("tells when two header matches can both match one request", () => {
        assert.ok(!rules.headerMatchesOverlap({ target: "a" }, { target: "b" }));
        assert.ok(rules.headerMatchesOverlap({ target: "a" }, { user: "u" }));
        assert.ok(rules.headerMatchesOverlap({ target: "a" }, { target: "a", user: "u" }));
    });
});
