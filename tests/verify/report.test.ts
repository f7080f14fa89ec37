import { strict as assert } from "assert";
import { buildReport, formatReport, percentile, Sample } from "../../verify/report";
import { parseVerifyOptions, VerifyMode } from "../../verify/options";

const opts = parseVerifyOptions({ url: "http://127.0.0.1:1/", mode: "header", sessions: 3, requests: 4 });

describe("verify/report", () => {
    it("measures stickiness, moves, state and the spread over pods", () => {
        const samples: Sample[] = [
            ...[1, 2, 3, 4].map((c) => ({ session: 0, pod: "a", count: c, ms: c })),
            { session: 1, pod: "b", count: 1, ms: 1 },
            { session: 1, pod: "b", count: 2, ms: 1 },
            { session: 1, pod: "c", count: 1, ms: 1 },
            { session: 1, ms: 9, error: "HTTP 502" },
            ...[1, 2, 3, 4].map((c) => ({ session: 2, pod: "a", count: c, ms: 2 })),
        ];
        const r = buildReport(opts, ["s1", "s2", "s3"], samples, 500);
        assert.equal(r.requests, 12);
        assert.equal(r.ok, 11);
        assert.deepEqual(r.errorKinds, { "HTTP 502": 1 });
        assert.equal(r.stickiness, 10 / 11);
        assert.deepEqual([r.fullySticky, r.movedSessions, r.stateKept], [2, 1, 2]);
        assert.deepEqual(r.distribution.sessionsByPod, { a: 2, b: 1, c: 0 });
        assert.deepEqual([r.distribution.min, r.distribution.max, r.distribution.mean], [0, 2, 1]);
        assert.equal(r.requestsPerSecond, 24);
        assert.equal(r.pass, false);
        assert.equal(r.truncated, false);
        const text = formatReport(r);
        assert.match(text, /stickiness 90\.9 % of requests on their session's first pod; 2\/3 sessions fully sticky, 1 moved/);
        assert.match(text, /result +FAIL: 90\.9 % < 100\.0 % required/);
        assert.match(text, /s2 +b +66\.7 % +1 +b×2 c×1/);
    });

    it("passes a round-robin baseline that asks for nothing, and says when the app reports no state", () => {
        const none = parseVerifyOptions({ url: "http://x/", mode: VerifyMode.None, sessions: 1, requests: 2 });
        const r = buildReport(
            none,
            ["s1"],
            [
                { session: 0, pod: "a", count: null, ms: 1 },
                { session: 0, pod: "b", count: null, ms: 1 },
            ],
            10,
        );
        assert.equal(r.minStickiness, 0);
        assert.equal(r.pass, true);
        assert.equal(r.stateUnknown, 1);
        assert.match(formatReport(r), /state +not reported by the app/);
    });

    it("fails when nothing answered, and flags a run cut short", () => {
        const r = buildReport(opts, ["s1", "s2", "s3"], [{ session: 0, ms: 1, error: "ECONNREFUSED" }], 10);
        assert.equal(r.pass, false);
        assert.equal(r.truncated, true);
        assert.match(formatReport(r), /no request succeeded/);
    });

    it("takes percentiles by rank", () => {
        const xs = Array.from({ length: 100 }, (_, i) => i + 1);
        assert.deepEqual([percentile(xs, 50), percentile(xs, 99), percentile([], 50)], [50, 99, 0]);
    });
});
