/**
 * The harness's kubelet stand-in for pods the lab runs a process per pod for (the live runs' demo
 * app): kwok gives such pods an IP and phase Running but leaves their readiness to the stand-in,
 * which probes the container's readinessProbe (the original one, where Istio's injector rewrote it
 * to the agent's port).
 */
import { strict as assert } from "assert";
import { parseAllDocuments } from "yaml";
import { kwokStages, leaveReadinessToProbes } from "../cluster/controlplane";
import { readinessTarget } from "../cluster/podProcesses";

const stageByName = (yaml: string) =>
    Object.fromEntries(
        parseAllDocuments(yaml)
            .map((d) => d.toJS())
            .map((s: any) => [s.metadata.name, s]),
    );

describe("kwok's pod-ready stage, readiness left to the lab's probes for chosen images", function () {
    this.timeout(5 * 60_000);
    let stages: string;
    before(() => (stages = kwokStages()));

    it("makes those pods Running with an IP but not Ready, and every other pod Ready as before", () => {
        const out = stageByName(leaveReadinessToProbes(stages, ["node:22-alpine"]));
        const before = stageByName(stages);
        const image = (s: any) =>
            s.spec.selector.matchExpressions.find((e: any) => e.key === ".spec.containers.[0].image");
        assert.deepEqual(image(out["pod-ready"]), {
            key: ".spec.containers.[0].image",
            operator: "NotIn",
            values: ["node:22-alpine"],
        });
        assert.deepEqual(image(out["pod-running-probed"]), {
            key: ".spec.containers.[0].image",
            operator: "In",
            values: ["node:22-alpine"],
        });
        const probed: string = out["pod-running-probed"].spec.next.statusTemplate;
        assert.match(probed, /status: "False"\n\s+type: Ready\n/);
        assert.match(probed, /status: "False"\n\s+type: ContainersReady\n/);
        assert.match(probed, /podIP: /);
        assert.match(probed, /phase: Running/);
        assert.equal(out["pod-ready"].spec.next.statusTemplate, before["pod-ready"].spec.next.statusTemplate);
        // The other stages are untouched, and nothing changes without images.
        for (const name of Object.keys(before).filter((n) => n !== "pod-ready"))
            assert.deepEqual(out[name], before[name], name);
        assert.equal(leaveReadinessToProbes(stages, []), stages);
        assert.throws(
            () => leaveReadinessToProbes(stages.replace(/type: ContainersReady/g, "type: Started"), ["x"]),
            /no longer reads as expected/,
        );
    });
});

describe("the readiness the lab's kubelet probes", () => {
    const app = { name: "app", readinessProbe: { httpGet: { path: "/healthz", port: "http" } } };

    it("is the container's own probe without a sidecar", () => {
        assert.deepEqual(readinessTarget({ spec: { containers: [app] } }, app), { path: "/healthz", port: "http" });
    });

    it("is the original probe behind the one Istio's injector rewrote to the agent's port", () => {
        const rewritten = { name: "app", readinessProbe: { httpGet: { path: "/app-health/app/readyz", port: 15020 } } };
        const proxy = {
            name: "istio-proxy",
            env: [
                {
                    name: "ISTIO_KUBE_APP_PROBERS",
                    value: JSON.stringify({
                        "/app-health/app/readyz": {
                            httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" },
                            timeoutSeconds: 2,
                        },
                    }),
                },
            ],
        };
        assert.deepEqual(readinessTarget({ spec: { containers: [rewritten, proxy] } }, rewritten), {
            path: "/healthz",
            port: 8080,
            scheme: "HTTP",
        });
    });
});
