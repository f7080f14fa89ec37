/**
 * The mesh lab (lab/): every shipped stack and every generated config fed to
 * istiod's own config pipeline (Istio's pilot/test/xds), and the Envoy
 * configuration it generates held against what the stack asked for
 * (lab/expect.ts). Then, for each thing a stack relies on, one rendered object
 * broken, to show the check catches it in istiod's output.
 *
 * Every case runs in one generateXds call: the Go program is built once per
 * machine (a few minutes cold) and each case then takes a fraction of a second.
 */
import { strict as assert } from "assert";
import { buildPlan, Plan, parseStackConfig, type K8sObject } from "istio-sticky";
import { PROJECT_DIR, readStackConfig } from "../../cli/stackFiles";
import { findCharts } from "../../lab/charts";
import { buildWorld, LabWorld } from "../../lab/world";
import { generateXds, XdsResult } from "../../lab/xds";
import { checkXds, routeConfigs, StackXds } from "../../lab/expect";
import { generatedConfigs } from "../support/fixtures";

const SHIPPED = ["dev", "staging", "prod", "ambient"] as const;
type Shipped = (typeof SHIPPED)[number];

/** A generated config with a self-signed certificate, so HTTP is redirected to HTTPS. */
const SELF_SIGNED = "LoadBalancer, self-signed, Istio installed, plain";
/** A generated config with one app per mode; app-3 (sourceIp) hashes on a ring of 2048. */
const ALL_MODES_PLAIN = "LoadBalancer, no TLS, Istio installed, plain";
/** A generated config with every app on /shared, told apart by a header, on Istio's VirtualService. */
const SHARED_PATH = "LoadBalancer, no TLS, Istio installed, direct (gateway and sidecar), autoscaling, one shared path";
/** A generated config with nested paths: app-0 on /, app-1 on /shop, app-2 and app-3 on /shop/api. */
const NESTED = "nested paths, istio, no TLS, Istio installed, plain";
/** A generated config whose apps are existing Services in namespace theirs, on /shared, told apart by a header. */
const EXISTING = "LoadBalancer, no TLS, Istio installed, existing Services in one enrolled namespace, one shared path";

/** One rendered object broken: the base stack (shipped or generated), how, and what the check must say. */
interface Breakage {
    what: string;
    base: string;
    breakIt: (objects: K8sObject[]) => void;
    expected: RegExp;
}

/** The object of a kind (and name, namespace); the breakage fails if the plan has none. */
function find(objects: K8sObject[], kind: string, name?: string, namespace?: string): K8sObject {
    const o = objects.find(
        (x) =>
            x.kind === kind &&
            (name === undefined || x.metadata.name === name) &&
            (namespace === undefined || x.metadata.namespace === namespace),
    );
    if (!o) throw new Error(`the plan has no ${kind} ${namespace ?? "*"}/${name ?? "*"}`);
    return o;
}

/** Applies `change` to every object (at any depth) that has `key`; fails when none has. */
function everyWith(root: unknown, key: string, change: (holder: any) => void): void {
    let n = 0;
    const walk = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") {
            if (key in v) {
                change(v);
                n++;
            }
            Object.values(v).forEach(walk);
        }
    };
    walk(root);
    if (n === 0) throw new Error(`nothing has ${key}`);
}

const BREAKAGES: Breakage[] = [
    {
        what: "the DestinationRule hashes on another header than the stack's",
        base: "dev",
        breakIt: (o) =>
            everyWith(
                find(o, "DestinationRule", "sticky").spec,
                "httpHeaderName",
                (h) => (h.httpHeaderName = "x-other"),
            ),
        expected:
            /^sticky: gateway route .*: hash_policy \[\{"header":\{"header_name":"x-other"\}\}\]; want \[\{"header":\{"header_name":"x-user"\}\}\]/,
    },
    {
        what: "the DestinationRule's cookie lives another time than the stack's",
        base: "staging",
        breakIt: (o) =>
            everyWith(find(o, "DestinationRule", "sticky").spec, "httpCookie", (h) => (h.httpCookie.ttl = "30s")),
        expected: /^sticky: gateway route .*: cookie ttl 30s \(want 60s\)/,
    },
    {
        what: "the DestinationRule's cookie is on another path than the stack's",
        base: "staging",
        breakIt: (o) =>
            everyWith(find(o, "DestinationRule", "sticky").spec, "httpCookie", (h) => (h.httpCookie.path = "/other")),
        expected: /^sticky: gateway route .*: cookie path \/other \(want \/\)/,
    },
    {
        what: "the DestinationRule's maglev table is another (prime) size than the stack's",
        base: "ambient",
        breakIt: (o) =>
            everyWith(find(o, "DestinationRule", "carts").spec, "maglev", (h) => (h.maglev.tableSize = 131071)),
        expected:
            /^carts: waypoint carts: cluster inbound-vip\|8080\|http\|carts\.carts\.svc\.cluster\.local maglev table_size 131071 \(want 65537\)/,
    },
    {
        what: "the DestinationRule's hash ring is another size than the stack's",
        base: ALL_MODES_PLAIN,
        breakIt: (o) =>
            everyWith(find(o, "DestinationRule", "app-3").spec, "ringHash", (h) => (h.ringHash.minimumRingSize = 4096)),
        expected:
            /^app-3: cluster outbound\|8080\|\|app-3\.app-3\.svc\.cluster\.local minimum_ring_size 4096 \(want 2048\)/,
    },
    {
        what: "the Service lacks the istio.io/persistent-session label",
        base: "prod",
        breakIt: (o) => delete find(o, "Service", "sticky", "sticky").metadata.labels!["istio.io/persistent-session"],
        expected: /^sticky: gateway: route .* has no stateful_session/,
    },
    {
        what: "the direct EnvoyFilter no longer patches use_http_header",
        base: "dev",
        breakIt: (o) => {
            const f = find(o, "EnvoyFilter", "sticky-direct");
            const before = f.spec.configPatches.length;
            f.spec.configPatches = f.spec.configPatches.filter((p: any) => !p.patch?.value?.original_dst_lb_config);
            assert.ok(f.spec.configPatches.length < before, "no patch set original_dst_lb_config");
        },
        expected:
            /^sticky: cluster outbound\|8080\|direct\|sticky\.sticky\.svc\.cluster\.local lacks original_dst_lb_config\.use_http_header: true/,
    },
    {
        what: "the AuthorizationPolicy lets other clients than allowedClients route directly",
        base: "dev",
        breakIt: (o) =>
            everyWith(
                find(o, "AuthorizationPolicy", "sticky-direct").spec,
                "notRemoteIpBlocks",
                (h) => (h.notRemoteIpBlocks = ["127.0.0.0/8"]),
            ),
        expected: /^sticky: no RBAC DENY policy on \/sticky for clients outside /,
    },
    {
        what: "the direct route's x-envoy-original-dst-host regex reaches outside the pod network",
        base: "dev",
        breakIt: (o) =>
            everyWith(find(o, "VirtualService", "path-sticky").spec, "x-envoy-original-dst-host", (h) => {
                h["x-envoy-original-dst-host"].regex = h["x-envoy-original-dst-host"].regex.replace(
                    "10\\.244\\.",
                    "10\\.24[0-9]\\.",
                );
            }),
        expected: /^sticky: direct route accepts 10\.(243|245)\.\d+\.\d+:8080, outside 10\.244\.0\.0\/16/,
    },
    {
        what: "the HTTPRoute's header-matched backends come in another order than the stack's",
        base: "staging",
        breakIt: (o) => {
            const rules = find(o, "HTTPRoute", "path-backends").spec.rules;
            rules.unshift(rules.splice(1, 1)[0]);
        },
        expected:
            /^routes on \/backends in .* reach backend-2\.backends\.svc\.cluster\.local, backend-1\.backends\.svc\.cluster\.local, .*; want the order backend-1/,
    },
    {
        what: "the VirtualService's header-matched backends on one shared path come in another order than the stack's",
        base: SHARED_PATH,
        breakIt: (o) => {
            const http = find(o, "VirtualService", "path-shared").spec.http;
            const app1 = http.splice(3, 3);
            assert.deepEqual(
                app1.map((h: any) => h.name),
                ["app-1-direct", "app-1-direct-refused", "app-1"],
            );
            http.unshift(...app1);
        },
        expected:
            /^routes on \/shared in .* reach app-1\.shared\.svc\.cluster\.local, app-0\.shared\.svc\.cluster\.local, .*; want the order app-0\.shared\.svc\.cluster\.local, app-1/,
    },
    {
        what: "the VirtualService answers 404 on the shared path before trying the backends",
        base: SHARED_PATH,
        breakIt: (o) => {
            const http = find(o, "VirtualService", "path-shared").spec.http;
            const unmatched = http.pop();
            assert.equal(unmatched.name, "unmatched");
            http.unshift(unmatched);
        },
        expected:
            /^route unmatched on \/shared in .* takes every request before the route to outbound\|\d+\|[a-z]*\|app-0\.shared\.svc\.cluster\.local/,
    },
    {
        what: "the Gateway's HTTPS server serves another Secret than the certificate's",
        base: "dev",
        breakIt: (o) =>
            everyWith(
                find(o, "Gateway", "sticky-gateway").spec,
                "credentialName",
                (h) => (h.credentialName = "other-tls"),
            ),
        expected: /^the HTTPS listener has no filter chain serving kubernetes:\/\/sticky-gateway-tls/,
    },
    {
        what: "the Gateway's HTTP server no longer redirects to HTTPS",
        base: SELF_SIGNED,
        breakIt: (o) =>
            everyWith(find(o, "Gateway", "sticky-gateway").spec, "httpsRedirect", (h) => delete h.httpsRedirect),
        expected: /^HTTP requests for sticky\.test are not redirected to HTTPS/,
    },
    {
        what: "the ambient Service is not bound to its waypoint (no istio.io/use-waypoint)",
        base: "ambient",
        breakIt: (o) => {
            const svc = find(o, "Service", "carts", "carts");
            assert.ok(svc.metadata.labels?.["istio.io/use-waypoint"], "the Service has no istio.io/use-waypoint label");
            delete svc.metadata.labels!["istio.io/use-waypoint"];
        },
        expected: /^carts: waypoint carts has no route to carts\.carts\.svc\.cluster\.local:8080/,
    },
    {
        what: "the ambient DestinationRule no longer hashes",
        base: "ambient",
        breakIt: (o) =>
            (find(o, "DestinationRule", "carts").spec.trafficPolicy.loadBalancer = { simple: "ROUND_ROBIN" }),
        expected:
            /^carts: waypoint carts route .*: has no hash_policy; want \[\{"header":\{"header_name":"x-user"\}\}\]/,
    },
    {
        what: "a maglev table that is not prime, which istiod's webhook rejects",
        base: "ambient",
        breakIt: (o) =>
            everyWith(find(o, "DestinationRule", "carts").spec, "maglev", (h) => (h.maglev.tableSize = 65536)),
        expected: /^istiod rejects .*: configuration is invalid: tableSize must be a prime number for maglev/,
    },
    {
        // Istio sniffs a port named web, and the sidecar then forwards with the caller's protocol.
        what: "the existing Service's patch sets no appProtocol (its port is named web)",
        base: EXISTING,
        breakIt: (o) =>
            everyWith(find(o, "Service", "svc-0", "theirs").spec, "appProtocol", (p) => delete p.appProtocol),
        expected:
            /^app-0: client sidecar: cluster outbound\|80\|\|svc-0\.theirs\.svc\.cluster\.local forwards with the caller's protocol/,
    },
    {
        what: "the nested paths' VirtualService lists the root's route first",
        base: NESTED,
        breakIt: (o) => {
            const http = find(o, "VirtualService", "path-root").spec.http;
            http.unshift(http.pop());
        },
        expected:
            /^istiod warns on VirtualService istio-ingress\/path-root: .*prefix \/shop\/ is not used \(duplicate\/overlapping match in rule #0 of prefix \/ on "app-0"\)/s,
    },
    {
        // istiod prunes a route a catch-all shadows; one with a header match it keeps, and it takes /shop's requests that carry the header.
        what: "the nested paths' VirtualService lists the root's route first, with a header match",
        base: NESTED,
        breakIt: (o) => {
            const http = find(o, "VirtualService", "path-root").spec.http;
            const root = http.pop();
            root.match = [{ uri: { prefix: "/" }, headers: { "x-root": { exact: "1" } } }];
            http.unshift(root);
        },
        expected: /^route app-0 \(prefix \/\) in http\.80 takes \/shop\/api before its route/,
    },
    {
        what: "the existing Service's route does not name the pod",
        base: EXISTING,
        breakIt: (o) => everyWith(find(o, "VirtualService", "path-shared").spec, "response", (h) => delete h.response),
        expected:
            /^app-0: gateway route app-0 in http\.80 does not answer with x-istio-sticky-pod: %UPSTREAM_REMOTE_ADDRESS%/,
    },
    {
        what: "the existing Service's route removes the path prefix it keeps",
        base: EXISTING,
        breakIt: (o) => (find(o, "VirtualService", "path-shared").spec.http[0].rewrite = { uri: "/" }),
        expected: /^app-0: gateway route app-0 in http\.80 rewrites the path \(stripPath is off\)/,
    },
    {
        what: "the DestinationRule names the app instead of the existing Service",
        base: EXISTING,
        breakIt: (o) => (find(o, "DestinationRule", "app-0", "theirs").spec.host = "app-0.theirs.svc.cluster.local"),
        expected:
            /^app-0: gateway route app-0 in http\.80: has no hash_policy; want \[\{"header":\{"header_name":"x-user"\}\}\]/,
    },
    {
        // What validation refuses (checkHostMerges): a host an app names, listed on the gateway's servers under a wildcard app's host.
        what: "the gateway's server also lists a.example.com, under the wildcard app's *.example.com",
        base: "apps on hosts of their own, istio, no TLS",
        breakIt: (o) =>
            everyWith(find(o, "Gateway", "sticky-gateway").spec, "hosts", (h) => h.hosts.push("a.example.com")),
        expected:
            /^wild is routed from virtual host a\.example\.com:80 in http\.80, not one of its hosts \*\.example\.com/,
    },
];

/** Everything checkXds found, the apps' problems prefixed with the app's name. */
const allProblems = (c: StackXds): string[] => [
    ...c.problems,
    ...c.apps.flatMap((a) => a.problems.map((p) => `${a.name}: ${p}`)),
];

interface Ran {
    plan: Plan;
    world: LabWorld;
    result: XdsResult;
    check: StackXds;
}

describe("the mesh lab: istiod's xDS for every stack", function () {
    const generated = generatedConfigs();
    const ran = new Map<string, Ran>();
    const broken = new Map<string, Ran | Error>();

    before(function () {
        // A cold build of the lab's Go program (istiod's pipeline) takes minutes.
        this.timeout(20 * 60_000);
        // Without the real charts the lab's gateway and istiod flags would be guesses (no PILOT_ENABLE_AMBIENT for an installed ambient mesh).
        if (!findCharts()) {
            console.log(
                "      skipped: needs ../shared/charts (Istio's istiod and gateway charts; or set ISTIO_STICKY_CHARTS)",
            );
            this.skip();
        }
        const plans = new Map<string, Plan>();
        for (const s of SHIPPED)
            plans.set(s, buildPlan(parseStackConfig(readStackConfig(PROJECT_DIR, s)).value, { demoAppSource: "x" }));
        for (const [name, config] of generated)
            plans.set(name, buildPlan(parseStackConfig(config).value, { demoAppSource: "x" }));
        const runs: { plan: Plan; world: LabWorld; done: (r: Ran) => void }[] = [];
        for (const [name, plan] of plans)
            runs.push({ plan, world: buildWorld(plan, { name }), done: (r) => ran.set(name, r) });
        for (const b of BREAKAGES) {
            try {
                const base = plans.get(b.base);
                if (!base) throw new Error(`no stack or generated config named ${b.base}`);
                const plan = structuredClone(base);
                b.breakIt(plan.objects.map((o) => o.object));
                runs.push({
                    plan,
                    world: buildWorld(plan, { name: `${b.base}: ${b.what}` }),
                    done: (r) => broken.set(b.what, r),
                });
            } catch (e) {
                // Reported by the breakage's own test.
                broken.set(b.what, e as Error);
            }
        }
        const results = generateXds(runs.map((r) => r.world.xds));
        runs.forEach((r, i) =>
            r.done({
                plan: r.plan,
                world: r.world,
                result: results[i],
                check: checkXds(r.plan, results[i], r.world.gatewayPorts),
            }),
        );
    });

    const of = (name: string): Ran => {
        const r = ran.get(name);
        assert.ok(r, `${name} did not run`);
        return r;
    };
    const assertHolds = (name: string) => {
        const { check } = of(name);
        assert.ok(check.ok, `${name}:\n${allProblems(check).join("\n")}`);
    };
    /** The gateway's routes to a Service's host (any port, any subset), in order. */
    const gatewayRoutes = (name: Shipped, host: string) =>
        routeConfigs(of(name).result.proxies.gateway).flatMap((rc) =>
            (rc.virtual_hosts ?? []).flatMap((vh: any) =>
                (vh.routes ?? []).filter((r: any) => (r.route?.cluster ?? "").endsWith(`|${host}`)),
            ),
        );

    describe("every shipped stack gets from istiod what it asked for", () => {
        for (const s of SHIPPED) it(`the ${s} stack`, () => assertHolds(s));

        it("dev: the gateway hashes sticky's route on the x-user header", () => {
            const routes = gatewayRoutes("dev", "sticky.sticky.svc.cluster.local").filter((r) =>
                r.route.cluster.startsWith("outbound|8080|normal|"),
            );
            assert.ok(routes.length > 0, "no route to sticky's normal subset");
            for (const r of routes) assert.deepEqual(r.route.hash_policy, [{ header: { header_name: "x-user" } }]);
        });

        it("staging: the gateway tries backend-1, backend-2, backend-3 in that order on /backends", () => {
            const hosts = routeConfigs(of("staging").result.proxies.gateway).flatMap((rc) =>
                (rc.virtual_hosts ?? []).flatMap((vh: any) =>
                    (vh.routes ?? [])
                        .map(
                            (r: any) =>
                                /\|(backend-\d)\.backends\.svc\.cluster\.local$/.exec(r.route?.cluster ?? "")?.[1],
                        )
                        .filter(Boolean),
                ),
            );
            assert.deepEqual(hosts, ["backend-1", "backend-2", "backend-3"]);
        });

        it("prod: the gateway keeps each session on its pod with the sticky-pod cookie (stateful_session)", () => {
            const routes = gatewayRoutes("prod", "sticky.sticky.svc.cluster.local");
            assert.ok(routes.length > 0, "no route to sticky");
            for (const r of routes) {
                const state =
                    r.typed_per_filter_config?.["envoy.filters.http.stateful_session"]?.stateful_session?.session_state;
                assert.equal(state?.name, "envoy.http.stateful_session.cookie", r.name);
                assert.equal(state?.typed_config?.cookie?.name, "sticky-pod", r.name);
            }
        });

        it("ambient: the waypoint in namespace carts balances carts with MAGLEV", () => {
            const waypoint = of("ambient").result.proxies["waypoint/carts/waypoint"];
            assert.ok(waypoint, "no waypoint in carts");
            const cluster = waypoint.clusters.find(
                (c) => c.name === "inbound-vip|8080|http|carts.carts.svc.cluster.local",
            );
            assert.equal(cluster?.lb_policy, "MAGLEV");
            assert.equal(Number(cluster?.maglev_lb_config?.table_size), 65537);
        });
    });

    describe("every generated config gets from istiod what it asked for", () => {
        for (const [name] of generated) it(name, () => assertHolds(name));
    });

    describe("a broken rendered object shows in istiod's output", () => {
        for (const b of BREAKAGES) {
            it(`${b.base}: ${b.what}`, () => {
                const r = broken.get(b.what);
                assert.ok(r, `${b.what} did not run`);
                if (r instanceof Error) throw r;
                const found = allProblems(r.check);
                assert.equal(r.check.ok, false, `nothing caught: ${b.what}`);
                assert.ok(
                    found.some((p) => b.expected.test(p)),
                    `expected ${b.expected}, found:\n${found.join("\n")}`,
                );
            });
        }
    });
});
