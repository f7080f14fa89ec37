/**
 * The lab hands istiod the objects as the API server would: JSON, whose strings stay
 * strings. (istiod reads YAML 1.1, where a bare on, yes or no is a boolean.)
 */
import * as assert from "assert";
import { buildPlan, parseStackConfig } from "istio-sticky";
import { APPS_KEY } from "istio-sticky/plan";
import { routeConfigs } from "../expect";
import { buildWorld } from "../world";
import { generateXds } from "../xds";

describe("the mesh lab's cluster", function () {
    this.timeout(30 * 60_000);

    it("keeps a header value YAML 1.1 would read as a boolean a string, as Kubernetes keeps it", () => {
        const values = ["on", "yes", "no", "off", "y"];
        const plan = buildPlan(
            parseStackConfig({
                [APPS_KEY]: values.map((v, i) => ({
                    name: `b${i}`,
                    namespace: "shop",
                    path: "/shop",
                    match: { headers: { target: v } },
                    affinity: { mode: "none" },
                })),
            }).value,
            { demoAppSource: "x" },
        );
        const world = buildWorld(plan, { name: "yaml 1.1" });
        const [result] = generateXds([world.xds]);
        assert.equal(result.error, undefined);
        const matches = routeConfigs(result.proxies.gateway)
            .flatMap((rc) => rc.virtual_hosts.flatMap((vh: any) => vh.routes))
            .flatMap((r: any) =>
                (r?.match?.headers ?? []).filter((h: any) => h.name === "target").map((h: any) => h.string_match.exact),
            );
        assert.deepEqual([...new Set(matches)], values);
    });
});
