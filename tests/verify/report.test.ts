import { strict as assert } from "assert";
import { buildReport, compareRuns, formatReport, MAX_MOVED_IDS, percentile, Sample } from "../../verify/report";
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
        assert.match(
            text,
            /stickiness 90\.9 % of requests on their session's first pod; 2\/3 sessions fully sticky, 1 moved/,
        );
        assert.match(text, /result +FAIL: 90\.9 % < 100\.0 % required/);
        assert.match(text, /s2 +b +66\.7 % +1 +b×2 c×1/);
    });

    it("counts requests per pod, the largest pod's share, and each session's top pod", () => {
        const samples: Sample[] = [
            // s1: first on a, then mostly b: the top pod is not the first.
            ...["a", "b", "b", "b"].map((pod) => ({ session: 0, pod, ms: 1 })),
            // s2: a tie goes to the pod reached first.
            ...["c", "a", "a", "c"].map((pod) => ({ session: 1, pod, ms: 1 })),
            // s3: nothing answered; it has no top pod and is left out of the mean.
            ...[1, 2, 3, 4].map(() => ({ session: 2, ms: 1, error: "timeout" })),
        ];
        const r = buildReport(opts, ["s1", "s2", "s3"], samples, 100);
        assert.deepEqual(r.distribution.requestsByPod, { a: 3, b: 3, c: 2 });
        assert.equal(r.distribution.maxRequestShare, 3 / 8);
        assert.deepEqual(r.distribution.sessionsByPod, { a: 1, b: 0, c: 1 }, "sessions still count by their first pod");
        assert.deepEqual(
            r.perSession.map((s) => [s.firstPod, s.topPod, s.stickiness, s.topShare]),
            [
                ["a", "b", 0.25, 0.75],
                ["c", "c", 0.5, 0.5],
                [undefined, undefined, 0, 0],
            ],
        );
        assert.equal(r.meanTopShare, (0.75 + 0.5) / 2);
        assert.equal(r.comparison, undefined, "no comparison without a saved run");
        const text = formatReport(r);
        assert.match(
            text,
            /\n {11}requests per pod: a: 3 \(37\.5 %\), b: 3 \(37\.5 %\), c: 2 \(25\.0 %\); largest share 37\.5 %\n/,
        );
        assert.match(text, /0\/3 sessions fully sticky, 2 moved; 62\.5 % on a session's top pod on average/);
        assert.doesNotMatch(text, /^moved/m);
    });

    it("says nothing of requests per pod when no pod answered", () => {
        const r = buildReport(opts, ["s1", "s2", "s3"], [{ session: 0, ms: 1, error: "ECONNREFUSED" }], 10);
        assert.deepEqual([r.distribution.requestsByPod, r.distribution.maxRequestShare, r.meanTopShare], [{}, 0, 0]);
        assert.doesNotMatch(formatReport(r), /requests per pod/);
    });

    it("compares the top pods of two runs by session id", () => {
        const c = compareRuns(
            [
                { id: "s1", topPod: "a" },
                { id: "s2", topPod: "b" },
                { id: "s3", topPod: "c" },
                { id: "s4" }, // nothing answered before
                { id: "s5", topPod: "a" }, // not in the second run
            ],
            [
                { id: "s3", topPod: "a" },
                { id: "s1", topPod: "a" },
                { id: "s2", topPod: "c" },
                { id: "s4", topPod: "a" },
                { id: "s6", topPod: "a" }, // not in the first run
                { id: "s7" },
            ],
        );
        assert.deepEqual(c, { sessions: 3, moved: 2, movedShare: 2 / 3, movedSessions: ["s3", "s2"] });
        assert.deepEqual(compareRuns([], [{ id: "s1", topPod: "a" }]), {
            sessions: 0,
            moved: 0,
            movedShare: 0,
            movedSessions: [],
        });
        const many = Array.from({ length: 80 }, (_, i) => `s${i}`);
        const all = compareRuns(
            many.map((id) => ({ id, topPod: "a" })),
            many.map((id) => ({ id, topPod: "b" })),
        );
        assert.deepEqual(
            [all.sessions, all.moved, all.movedShare, all.movedSessions.length],
            [80, 80, 1, MAX_MOVED_IDS],
        );
        assert.deepEqual(all.movedSessions, many.slice(0, 50));
    });

    it("compares with a saved run, and prints the moved sessions", () => {
        const two = parseVerifyOptions({ url: "http://x/", mode: "header", sessions: 3, requests: 2 });
        const samples: Sample[] = [0, 0, 1, 1, 2].map((session, i) => ({
            session,
            pod: ["a", "a", "b", "b", "c"][i],
            ms: 1,
        }));
        const r = buildReport(two, ["s1", "s2", "s3"], samples, 10, [
            { id: "s1", topPod: "a" },
            { id: "s2", topPod: "a" },
            { id: "s3" },
        ]);
        assert.deepEqual(r.comparison, { sessions: 2, moved: 1, movedShare: 0.5, movedSessions: ["s2"] });
        const text = formatReport(r);
        assert.match(
            text,
            /\nmoved {6}1\/2 sessions \(50\.0 %\) on another pod than in the saved run; 1 not compared \(no pod in one of the runs\)\n {11}moved: s2\n/,
        );
        const ids = Array.from({ length: 12 }, (_, i) => `s${i + 1}`);
        const twelve = buildReport(
            { ...two, sessions: 12, requests: 1 },
            ids,
            ids.map((_, session) => ({ session, pod: "b", ms: 1 })),
            10,
            ids.map((id) => ({ id, topPod: "a" })),
        );
        const moved = formatReport(twelve);
        assert.match(moved, /moved {6}12\/12 sessions \(100\.0 %\) on another pod than in the saved run\n/);
        assert.match(moved, /moved: s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, … \(2 more\)/);
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
