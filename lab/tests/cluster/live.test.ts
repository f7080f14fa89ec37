/**
 * The live mesh (lab/live), on the shipped stacks dev (Istio's API) and staging (the Gateway API):
 * every affinity mode's sessions measured through the gateway's Envoy while istiod pushes to it live,
 * across a killed pod, an istiod restart, a scale-up and a policy edit through `pulumi up`; on dev
 * also a sabotaged edit that the figures must show. Each threshold is a test; the table is printed.
 *
 * Runs inside lab/cluster/netns.sh with ISTIO_STICKY_CLUSTER set (npm run test:cluster does both).
 */
import { strict as assert } from "assert";
import { liveInNamespace } from "../../live/cli";
import type { LiveFigure, LiveRun, ScenarioName } from "../../live/run";
import { formatLiveTable } from "../../live/table";

const PERSISTENT = ["persistentCookie", "persistentHeader"];
const HASH = ["header", "cookie", "queryParameter", "sourceIp"];
/**
 * How far above 1/N a hash mode may move sessions on a scale-up. Envoy's ring hash keeps at least
 * 1024 entries and spreads them again over N+1 hosts, so it moves more than the new host's share:
 * 30–41 % for 3 → 4 pods in the mesh lab (200 sessions). With 40 sessions each run adds sampling
 * noise (three standard deviations ≈ 23 points); the live runs measured 22–50 %. The bound still
 * catches a reshuffle (a hash that changes for every session moves 75 % from 3 to 4 pods).
 */
export const HASH_SCALE_UP_MARGIN = 0.4;

/**
 * Requests that may fail when a pod dies: those in flight on it (verify keeps 10 at a time per app).
 * A request already sent is not retried (Istio's retryOn has no "reset", which would repeat POSTs).
 */
const IN_FLIGHT = 10;

const rows = (run: LiveRun, scenario: ScenarioName, modes?: string[]) =>
    run.scenarios.filter((f) => f.scenario === scenario && (!modes || modes.includes(f.mode)));
const show = (f: LiveFigure) =>
    `${f.scenario} ${f.app} (${f.mode}): stickiness ${f.stickiness}, moved ${f.moved}/${f.sessions}, failed ${f.failedRequests} ${JSON.stringify(f.errorKinds)}`;

for (const stack of ["dev", "staging"] as const) {
    describe(`the live mesh, stack ${stack}: sessions through the gateway's Envoy while istiod pushes to it`, function () {
        this.timeout(60 * 60_000);
        let run: LiveRun;

        before(async function () {
            if (!process.env.ISTIO_STICKY_CLUSTER || !process.env.ISTIO_STICKY_NETNS) {
                console.log(
                    "      skipped: runs inside lab/cluster/netns.sh with ISTIO_STICKY_CLUSTER set (npm run test:cluster)",
                );
                this.skip();
            }
            run = await liveInNamespace({ stack, json: false, sabotage: stack === "dev" }, () => undefined);
            console.log(
                formatLiveTable(run)
                    .split("\n")
                    .map((l) => `      ${l}`)
                    .join("\n"),
            );
            console.log(
                `      phases (s): ${JSON.stringify(Object.fromEntries(Object.entries(run.seconds).map(([k, v]) => [k, Math.round(v)])))}`,
            );
        });

        it("Envoy takes every push istiod sends (none rejected), changed only by the live removals", () => {
            assert.deepEqual(run.relay.nacks, []);
            assert.ok(Object.values(run.relay.pushes).reduce((a, b) => a + b, 0) > 0, "no pushes");
            const live = new Set(run.relay.rules.filter((r) => r.in.includes("live")).map((r) => r.id));
            assert.deepEqual(
                Object.keys(run.relay.removals).filter((k) => !live.has(k)),
                [],
                "a removal outside the live list",
            );
        });

        it("steady state: every sticky mode keeps ≥ 99 % of requests on the session's pod and moves none; none spreads", () => {
            const steady = rows(run, "steady");
            assert.ok(steady.length >= 7, `${steady.length} apps measured`);
            for (const f of steady.filter((x) => x.mode !== "none")) {
                assert.ok(f.stickiness >= 0.99 && f.moved === 0 && f.failedRequests === 0, show(f));
            }
            const none = steady.find((f) => f.mode === "none")!;
            assert.ok(none.stickiness < 0.9 && none.spread! < 1.6, show(none));
        });

        it("persistent modes move no session on a scale-up, nor when another pod is killed", () => {
            for (const f of rows(run, "scaleUp", PERSISTENT)) assert.equal(f.moved, 0, show(f));
            for (const f of rows(run, "podKilled", PERSISTENT)) assert.equal(f.movedOthers, 0, show(f));
        });

        it(`hash modes move at most 1/N + ${HASH_SCALE_UP_MARGIN * 100} points of sessions on a scale-up`, () => {
            const scaled = rows(run, "scaleUp", HASH);
            assert.equal(scaled.length, HASH.length);
            for (const f of scaled) assert.ok(f.movedShare <= f.expectedShare! + HASH_SCALE_UP_MARGIN, show(f));
        });

        it("no request fails during a scale-up, a policy edit or an istiod restart, and no session moves when istiod restarts", () => {
            for (const f of [...rows(run, "scaleUp"), ...rows(run, "policyEdit"), ...rows(run, "istiodRestart")])
                assert.equal(f.failedRequests, 0, show(f));
            for (const f of rows(run, "istiodRestart").filter((x) => x.mode !== "none"))
                assert.equal(f.moved, 0, show(f));
        });

        it("the policy edit holds: the hash apps keep ≥ 99 % stickiness on maglev", () => {
            const edited = rows(run, "policyEdit");
            assert.equal(edited.length, HASH.length);
            for (const f of edited) assert.ok(f.stickiness >= 0.99, show(f));
        });

        it("a killed pod: istiod sends it UNHEALTHY (Istio 1.31's default, which the package keeps) and persistent sessions lose at most the requests in flight", () => {
            for (const f of rows(run, "podKilled", [...HASH, ...PERSISTENT]))
                assert.equal(f.killedPodInEds, "unhealthy", show(f));
            for (const f of rows(run, "podKilled", PERSISTENT)) assert.ok(f.failedRequests <= IN_FLIGHT, show(f));
        });

        it("a hash session returns to its pod once the pod is back; a persistent one stays where it went", () => {
            for (const f of rows(run, "podReturned", HASH)) assert.equal(f.returnedShare, 1, show(f));
            for (const f of rows(run, "podReturned", PERSISTENT)) assert.equal(f.moved, 0, show(f));
        });

        if (stack === "dev") {
            it("hash modes on Istio's API: a killed pod's requests are retried on another pod, only those in flight fail", () => {
                for (const f of rows(run, "podKilled", HASH)) assert.ok(f.failedRequests <= IN_FLIGHT, show(f));
            });

            it("a sabotaged push is caught: the header app's hash removed through pulumi up shows as a stickiness drop", () => {
                const [f] = rows(run, "sabotage");
                assert.ok(f, "no sabotage figure");
                assert.ok(f.stickiness < 0.9 && f.moved > 0, show(f));
            });
        }
    });
}
