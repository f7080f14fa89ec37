/**
 * The lab's removals (lab/xds/strip, Go), which the live relay applies to every push istiod sends the
 * gateway's Envoy: their own Go tests (what is removed, counted by rule, and what decides routing kept),
 * run here with the module's Go, and the one list they count by, as the static lab reads it too.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { LAB_DIR } from "../build";
import { REMOVED } from "../envoy";

describe("the lab's removals (lab/xds/strip)", function () {
    this.timeout(20 * 60_000);

    it("pass their Go tests: Istio-only filters, upstream mTLS and the HBONE tunnel out, hash policies and per-route stateful sessions kept", () => {
        const out = execFileSync("go", ["test", "-mod=readonly", "-count=1", "-v", "./strip/"], {
            cwd: path.join(LAB_DIR, "xds"),
            encoding: "utf8",
            timeout: 20 * 60_000,
            env: { ...process.env, CGO_ENABLED: "0" },
        });
        for (const t of [
            "TestListenerKeepsRoutingAndDropsIstioFilters",
            "TestClustersAndEndpoints",
            "TestEveryRuleIsListedOnce",
        ])
            assert.match(out, new RegExp(`--- PASS: ${t}`), out);
    });

    it("are one list: each rule says where it applies, the static lab's and the relay's alike", () => {
        assert.ok(REMOVED.length >= 8);
        for (const r of REMOVED) {
            assert.ok(r.id && r.what && r.why, JSON.stringify(r));
            assert.ok(r.in.length > 0 && r.in.every((w) => w === "static" || w === "live"), JSON.stringify(r));
        }
        assert.equal(new Set(REMOVED.map((r) => r.id)).size, REMOVED.length);
    });
});
