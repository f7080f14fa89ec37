/**
 * The mesh lab's measured half: each stack's gateway configuration, as istiod
 * generates it, run by a real Envoy in front of demo app processes on the
 * pods' loopback addresses, and measured with istio-sticky-verify. Then one
 * more pod per app and the share of sessions that moved.
 */
import * as assert from "assert";
import { readStackConfig, PROJECT_DIR } from "../../cli/stackFiles";
import type { Plan } from "istio-sticky";
import { AffinityMode, isHashMode, isPersistentMode } from "../../components/settings/enums";
import { parseStackConfig, APPS_KEY, MESH_KEY, TLS_KEY } from "../../components/settings/validate";
import { measuredOk, runLab, type LabReport } from "../../lab/run";
import { freePorts } from "../../lab/envoy";
import { AFFINITY_BY_MODE, ALL_MODES } from "../support/fixtures";

const SHIPPED = ["dev", "staging", "prod", "ambient"];

/** One app per mode, 3 pods each, HTTPS with a self-signed certificate (HTTP redirected), on either ingress API. */
const EVERY_MODE = (api: "istio" | "gatewayApi") => ({
    [APPS_KEY]: ALL_MODES.map((m) => ({ name: `m-${m.toLowerCase()}`, replicas: 3, affinity: AFFINITY_BY_MODE[m] })),
    [MESH_KEY]: { gateway: { api } },
    [TLS_KEY]: { enabled: true, hosts: ["sticky.test"] },
});
/** Header-routed backends on one path with a fallback, and direct routing at the gateway (to a header-routed app and to the fallback). */
const ROUTED = {
    [APPS_KEY]: [
        {
            name: "blue",
            namespace: "shop",
            path: "/shop",
            match: { headers: { version: "blue" } },
            affinity: { mode: "header", headerName: "x-user" },
            direct: { enabled: true, podCidr: "10.244.0.0/16" },
        },
        {
            name: "green",
            namespace: "shop",
            path: "/shop",
            match: { headers: { version: "green" } },
            affinity: { mode: "cookie", cookie: { name: "g", ttl: "30s" } },
        },
        {
            name: "stable",
            namespace: "shop",
            path: "/shop",
            affinity: { mode: "none" },
            direct: { enabled: true, podCidr: "10.244.0.0/16" },
        },
    ],
};

/**
 * Existing Services in one namespace the stack enrols, each keeping its path: Service ports that differ
 * from the pods' (direct requests name the pod's), the pod named by the route's response header.
 */
const EXISTING = {
    [APPS_KEY]: [
        {
            name: "cart",
            namespace: "shop",
            path: "/cart",
            affinity: { mode: "header", headerName: "x-user" },
            service: {
                name: "cart-svc",
                port: 80,
                targetPort: 8080,
                podLabels: { "app.kubernetes.io/instance": "cart-svc" },
                enrolNamespace: true,
            },
            direct: { enabled: true, podCidr: "10.244.0.0/16" },
        },
        {
            name: "orders",
            namespace: "shop",
            path: "/orders",
            affinity: { mode: "cookie", cookie: { name: "o", ttl: "30s" } },
            service: { port: 80, targetPort: 9090, enrolNamespace: true },
        },
        {
            name: "session",
            namespace: "shop",
            path: "/session",
            affinity: { mode: "persistentCookie", cookie: { name: "pod" } },
            service: { port: 8080, enrolNamespace: true },
        },
        { name: "plain", namespace: "shop", path: "/plain", service: { port: 80, enrolNamespace: true } },
    ],
};

/** Nested paths: the root, /shop inside it, /shop/api inside that; each app must answer only its own path's requests. */
const NESTED = {
    [APPS_KEY]: [
        { name: "site", path: "/", affinity: { mode: "cookie", cookie: { name: "s", ttl: "0s" } } },
        {
            name: "shop",
            path: "/shop",
            affinity: { mode: "header", headerName: "x-user" },
            direct: { enabled: true, podCidr: "10.244.0.0/16" },
        },
        {
            name: "api",
            path: "/shop/api",
            affinity: { mode: "queryParameter", queryParameterName: "u", algorithm: "maglev" },
        },
    ],
};

/** Two hosts, each with its own app on /, and an app on every host: each answers only its own host's requests. */
const HOSTS = {
    [APPS_KEY]: [
        { name: "alpha", hosts: ["alpha.test"], path: "/", affinity: { mode: "header", headerName: "x-user" } },
        {
            name: "beta",
            hosts: ["beta.test"],
            path: "/",
            affinity: { mode: "cookie", cookie: { name: "b", ttl: "0s" } },
        },
        { name: "common", path: "/common", affinity: { mode: "persistentCookie", cookie: { name: "c" } } },
    ],
};

const CONFIGS: [string, Record<string, unknown>][] = [
    ...SHIPPED.map((s): [string, Record<string, unknown>] => [s, readStackConfig(PROJECT_DIR, s)]),
    ["every mode, Istio API, HTTPS", EVERY_MODE("istio")],
    ["every mode, Gateway API, HTTPS", EVERY_MODE("gatewayApi")],
    ["header-routed backends and direct routing", ROUTED],
    ["existing Services", EXISTING],
    ["nested paths", NESTED],
    ["apps on hosts of their own", HOSTS],
];

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

describe("the mesh lab's ports", () => {
    it("hands out distinct free ports for Envoy's listeners, all at once", async () => {
        // One probe at a time, a port released by one probe could come back from the next: Envoy then refused a duplicate listener.
        const ports = await freePorts(64);
        assert.equal(new Set(ports).size, 64);
        assert.ok(ports.every((p) => p > 0 && p < 65536));
    });
});

describe("the mesh lab: a real Envoy on istiod's configuration, measured", function () {
    this.timeout(40 * 60_000);
    const reports = new Map<string, LabReport>();

    before(async function () {
        for (const [name, config] of CONFIGS) reports.set(name, await runLab(name, config));
    });

    after(function () {
        // The scale-up figures, printed for the README and the record.
        const rows: string[] = [];
        for (const [name, r] of reports)
            for (const a of r.apps)
                if (a.envoy?.movedOnScaleUp !== null && a.envoy?.movedOnScaleUp !== undefined)
                    rows.push(
                        `      ${`${name} / ${a.name}`.padEnd(52)}${a.mode.padEnd(18)}${`${a.envoy.pods} → ${a.envoy.podsAfterScaleUp}`.padEnd(8)}${pct(a.envoy.movedOnScaleUp).padStart(8)} moved`,
                    );
        const first = [...reports.values()][0];
        if (first) {
            const t = first.timings;
            const built = (s: number) => (s === 0 ? "cached" : `${s.toFixed(1)} s`);
            console.log(
                `\n      mesh lab: istiod ${first.istioControlPlane.release} (istio/istio@${first.istioControlPlane.commit}), Envoy ${first.envoy}; xds program ${built(t.xdsBuild)}, Envoy ${built(t.envoyInstall)}`,
            );
        }
        if (rows.length) console.log(`      sessions moved by one more pod:\n${rows.join("\n")}`);
    });

    for (const [name, config] of CONFIGS) {
        const settings = parseStackConfig(config).value;
        describe(name, () => {
            it("istiod's configuration matches the stack", () => {
                const r = reports.get(name)!;
                assert.deepEqual(r.problems, []);
                for (const a of r.apps) assert.deepEqual(a.xds.problems, [], a.name);
            });
            for (const a of settings.apps) {
                it(`${a.name} (${a.affinity.mode}): measured as the mode promises`, () => {
                    const app = reports.get(name)!.apps.find((x) => x.name === a.name)!;
                    const e = app.envoy;
                    assert.ok(e, `not measured: ${app.notMeasured}`);
                    assert.deepEqual(measuredOk(app, a), []);
                    assert.equal(e.errors, 0);
                    assert.ok(e.onlyOwnPods, `answers from ${Object.keys(e.requestsByPod).join(", ")}`);
                    if (isHashMode(a.affinity.mode) || isPersistentMode(a.affinity.mode)) {
                        assert.ok(e.stickiness >= 0.99, `stickiness ${pct(e.stickiness)}`);
                        assert.ok(
                            e.worstSession >= 0.99,
                            `the least sticky session kept ${pct(e.worstSession)} on one pod`,
                        );
                        assert.ok(e.podsUsed >= Math.min(2, e.pods), `${e.podsUsed} pods used of ${e.pods}`);
                        assert.equal(e.podsAfterScaleUp, e.pods + 1);
                        if (isPersistentMode(a.affinity.mode)) assert.equal(e.movedOnScaleUp, 0);
                        // A consistent hash moves some sessions to the new pod, and never nearly all of them.
                        else
                            assert.ok(
                                e.movedOnScaleUp! > 0.05 && e.movedOnScaleUp! < 0.6,
                                `moved ${pct(e.movedOnScaleUp!)}`,
                            );
                    } else {
                        assert.equal(e.movedOnScaleUp, null);
                        if (e.pods >= 3)
                            assert.ok(e.maxRequestShare <= 0.5, `round robin put ${pct(e.maxRequestShare)} on one pod`);
                        assert.equal(e.podsUsed, e.pods);
                    }
                    if (a.direct.enabled) {
                        assert.deepEqual(e.direct, {
                            podsReached: e.pods,
                            pods: e.pods,
                            refusedOutsideClients: true,
                            refusedOutsidePodCidr: true,
                        });
                    }
                    if (settings.tls.enabled) assert.ok(e.https && e.https.ok > 0, "no HTTPS answers");
                });
            }
        });
    }

    describe("a broken object is caught by the measurement", () => {
        const dev = readStackConfig(PROJECT_DIR, "dev");
        const objectOf = (plan: Plan, kind: string, name: string) =>
            plan.objects.find((o) => o.object.kind === kind && o.object.metadata.name === name)!.object as any;

        it("a DestinationRule without its hash: sessions spread over the pods", async () => {
            const r = await runLab("broken", dev, {
                mutate: (plan) => {
                    const dr = objectOf(plan, "DestinationRule", "sticky");
                    dr.spec.trafficPolicy.loadBalancer = { simple: "ROUND_ROBIN" };
                    for (const s of dr.spec.subsets)
                        if (s.name === "normal") s.trafficPolicy.loadBalancer = { simple: "ROUND_ROBIN" };
                },
            });
            const app = r.apps[0];
            assert.ok(app.envoy!.stickiness < 0.9, `stickiness ${pct(app.envoy!.stickiness)}`);
            assert.match(measuredOk(app, parseStackConfig(dev).value.apps[0]).join("\n"), /stickiness .* < 99 %/);
        });

        it("no direct-routing guard: a client outside the allowed range gets through", async () => {
            const r = await runLab("broken", dev, {
                mutate: (plan) => {
                    plan.objects = plan.objects.filter(
                        (o) => !(o.object.kind === "AuthorizationPolicy" && o.object.metadata.name === "sticky-direct"),
                    );
                },
            });
            const app = r.apps[0];
            assert.equal(app.envoy!.direct!.refusedOutsideClients, false);
            assert.match(
                measuredOk(app, parseStackConfig(dev).value.apps[0]).join("\n"),
                /not refused from 127\.0\.7\.1/,
            );
        });

        it("a persistent-session Service without its label: Envoy hashes nothing and sessions are not kept", async () => {
            const prod = readStackConfig(PROJECT_DIR, "prod");
            const r = await runLab("broken", prod, {
                mutate: (plan) => {
                    delete objectOf(plan, "Service", "sticky").metadata.labels["istio.io/persistent-session"];
                },
            });
            const app = r.apps[0];
            assert.ok(app.envoy!.stickiness < 0.9, `stickiness ${pct(app.envoy!.stickiness)}`);
        });

        it("a header-routed backend whose route lost its header match: another app's requests reach it", async () => {
            const r = await runLab("broken", ROUTED, {
                mutate: (plan) => {
                    const vs = plan.objects.find((o) => o.object.kind === "VirtualService")!.object as any;
                    for (const h of vs.spec.http) for (const m of h.match ?? []) delete m.headers?.version;
                },
            });
            const bad = r.apps.filter((a) => a.envoy && !a.envoy.onlyOwnPods).map((a) => a.name);
            assert.ok(bad.length > 0, "every app still reached only its own pods");
        });
    });

    it("the Gateway API gives Envoy the same hash policy and load balancer as Istio's API, mode by mode", () => {
        const policy = (seen: string) => /hash_policy (.*), (RING_HASH|MAGLEV|ROUND_ROBIN)/.exec(seen)?.slice(1);
        const istio = reports.get("every mode, Istio API, HTTPS")!;
        const gatewayApi = reports.get("every mode, Gateway API, HTTPS")!;
        assert.equal(istio.apps.length, ALL_MODES.length);
        for (const a of istio.apps) {
            const b = gatewayApi.apps.find((x) => x.name === a.name)!;
            assert.ok(policy(a.seen[0]), a.seen[0]);
            assert.deepEqual(policy(b.seen[0]), policy(a.seen[0]), a.name);
        }
    });

    it("names the Istio and Envoy it ran, and what it changed in Envoy's configuration", () => {
        const r = reports.get("dev")!;
        assert.match(r.istioControlPlane.commit, /^[0-9a-f]{12}$/);
        assert.match(r.envoy, /^\d+\.\d+\.\d+$/);
        const mtls = r.removedFromEnvoyConfig.find((x) => x.id === "upstream-mtls");
        assert.match(mtls?.what ?? "", /mTLS/);
        // istiod gives the gateway's clusters to the apps' pods mTLS; the relay's code took it out of each.
        assert.ok((mtls?.changes ?? 0) > 0, JSON.stringify(mtls));
        const staticOnly = r.removedFromEnvoyConfig.find((x) => x.id === "static-resources");
        assert.equal(staticOnly?.changes, undefined);
        assert.match(r.labAddresses.join("\n"), /direct\.podCidr 10\.244\.0\.0\/16 → 127\.1\.0\.0\/16/);
        assert.equal(AffinityMode.Header, r.apps[0].mode);
    });
});
