/**
 * Apps that are existing Services: what is validated, what is planned (no workload, a
 * server-side-apply patch of the Service, the namespace labelled only on request), and what
 * the components register (ServicePatch and NamespacePatch, after a read of the live Service).
 */
import { strict as assert } from "assert";
import {
    AffinityMode,
    AppProtocol,
    parseStackConfig,
    SettingsError,
    type StackSettings,
    buildPlan,
    type Plan,
    StickySessions,
    StickyApp,
} from "istio-sticky";
import { PATCH_NOTE, planYaml } from "../../components/plan/render";
import { missingPortProblem } from "../../components/manifests/livePorts";
import { existingServiceProvider } from "../../components/registration/reads";
import * as http from "http";
import type { AddressInfo } from "net";
import { verifyArgsFor } from "istio-sticky/plan";
import { installMocks, Recorder, settle, valueOf } from "../support/mocks";

const EXISTING_SERVICE_TYPE = "pulumi-nodejs:dynamic/istio-sticky:ExistingService";

const CART = {
    name: "cart",
    namespace: "shop",
    path: "/cart",
    service: { name: "cart-svc", port: 80, enrolNamespace: false },
};

function stack(
    apps: Record<string, unknown>[],
    mesh: Record<string, unknown> = {},
    tls: Record<string, unknown> = {},
): StackSettings {
    return parseStackConfig({ "istio-sticky:apps": apps, "istio-sticky:mesh": mesh, "istio-sticky:tls": tls }).value;
}

function problems(apps: Record<string, unknown>[], mesh: Record<string, unknown> = {}): string[] {
    try {
        stack(apps, mesh);
    } catch (e) {
        if (e instanceof SettingsError) return [...e.problems];
        throw e;
    }
    return [];
}

const plan = (s: StackSettings): Plan => buildPlan(s, { demoAppSource: "// demo" });
const byKey = (p: Plan, key: string) => {
    const o = p.objects.find((x) => x.key === key);
    if (!o) throw new Error(`no ${key}; have ${p.objects.map((x) => x.key).join(", ")}`);
    return o;
};

describe("existing Services: settings", () => {
    it("takes a Service by name and port, keeps the path, and names the pod in responses by default", () => {
        const [app] = stack([CART]).apps;
        assert.deepEqual(app.service, {
            name: "cart-svc",
            port: 80,
            appProtocol: AppProtocol.Http,
            podHeader: true,
            enrolNamespace: false,
        });
        assert.deepEqual([app.port, app.stripPath, app.replicas], [80, false, undefined]);
        assert.equal(
            stack([{ ...CART, service: { port: 80, enrolNamespace: true } }]).apps[0].service!.name,
            "cart",
            "the Service's name defaults to the app's",
        );
        assert.equal(
            stack([{ name: "own" }]).apps[0].stripPath,
            true,
            "the package's own apps still see the path without its prefix",
        );
    });

    for (const [key, value] of [
        ["image", "ghcr.io/acme/cart:1.0"],
        ["replicas", 2],
        ["autoscaling", { minReplicas: 2, maxReplicas: 3 }],
        ["target", "x"],
        ["port", 8080],
        ["strictMtls", true],
    ] as const) {
        it(`refuses ${key} beside service: the workload is not the package's`, () => {
            const found = problems([{ ...CART, [key]: value }]);
            assert.ok(
                found.some((p) =>
                    p.startsWith(`istio-sticky:apps[0].${key}: cannot be set for an app that is an existing Service`),
                ),
                found.join("\n"),
            );
        });
    }

    it("makes the namespace's enrolment a choice without a default", () => {
        const found = problems([{ ...CART, service: { name: "cart-svc", port: 80 } }]);
        assert.ok(
            found.some((p) =>
                /^istio-sticky:apps\[0\]\.service\.enrolNamespace: must be true or false: label the namespace for the mesh/.test(
                    p,
                ),
            ),
            found.join("\n"),
        );
    });

    it("needs the pods' labels for direct routing, whose NetworkPolicy selects them", () => {
        const found = problems([{ ...CART, direct: { enabled: true, podCidr: "10.244.0.0/16" } }]);
        assert.ok(
            found.some((p) => p.startsWith("istio-sticky:apps[0].service.podLabels: is required with direct routing")),
            found.join("\n"),
        );
    });

    it("refuses the package's own app in an existing Service's namespace, disagreeing enrolments and one Service twice", () => {
        const mixed = problems([CART, { name: "own", namespace: "shop" }]);
        assert.ok(
            mixed.some((p) =>
                p.startsWith(
                    `istio-sticky:apps[1].namespace: "shop" holds the existing Service of istio-sticky:apps[0]`,
                ),
            ),
            mixed.join("\n"),
        );
        const enrol = problems([
            CART,
            { name: "orders", namespace: "shop", path: "/orders", service: { port: 80, enrolNamespace: true } },
        ]);
        assert.ok(
            enrol.some((p) =>
                p.startsWith("istio-sticky:apps[1].service.enrolNamespace: true disagrees with istio-sticky:apps[0]"),
            ),
            enrol.join("\n"),
        );
        const twice = problems([CART, { ...CART, name: "cart-2", path: "/cart-2" }]);
        assert.ok(
            twice.some((p) =>
                p.startsWith(
                    `istio-sticky:apps[1].service: Service "shop/cart-svc" is already the app istio-sticky:apps[0]`,
                ),
            ),
            twice.join("\n"),
        );
    });

    it("takes namespace default for a Service left as it is, and refuses to enrol it", () => {
        assert.equal(stack([{ ...CART, namespace: "default" }]).apps[0].namespace, "default");
        const enrolled = problems([
            { ...CART, namespace: "default", service: { ...CART.service, enrolNamespace: true } },
        ]);
        assert.ok(
            enrolled.some(
                (p) =>
                    p ===
                    `istio-sticky:apps[0].namespace: "default" is reserved (labelling it for the mesh would change every workload already in it; leave service.enrolNamespace false); give the app a namespace of its own`,
            ),
            enrolled.join("\n"),
        );
        assert.ok(
            problems([{ name: "own", namespace: "default" }]).some((p) =>
                /"default" is reserved \(labelling it for sidecar injection/.test(p),
            ),
        );
    });

    it("says when pods get their sidecar, and what ambient enrolment does", () => {
        const sidecars = parseStackConfig({
            "istio-sticky:apps": [{ ...CART, service: { ...CART.service, enrolNamespace: true } }],
        }).warnings;
        assert.ok(
            sidecars.some((w) =>
                /running pods get a sidecar only when they restart \(kubectl rollout restart -n shop deployment\/<name>\)/.test(
                    w,
                ),
            ),
            sidecars.join("\n"),
        );
        const ambient = parseStackConfig({
            "istio-sticky:apps": [{ ...CART, affinity: { mode: "header", headerName: "x-user" } }],
            "istio-sticky:mesh": { dataplane: "ambient" },
        }).warnings;
        assert.ok(
            ambient.some((w) =>
                /in-mesh callers are sticky only through the waypoint, which serves pods enrolled in ambient/.test(w),
            ),
            ambient.join("\n"),
        );
    });
});

describe("existing Services: plan", () => {
    it("deploys no workload, creates no namespace and patches the Service with appProtocol only", () => {
        const p = plan(stack([CART]));
        const kinds = p.objects
            .filter((o) => o.owner === "sticky-cart")
            .map((o) => `${o.object.kind}${o.patch ? " (patch)" : ""}`);
        assert.deepEqual(kinds, ["Service (patch)", "DestinationRule"]);
        assert.ok(
            !p.objects.some((o) => o.object.kind === "Namespace" && o.object.metadata.name === "shop"),
            "the namespace is theirs",
        );
        assert.deepEqual(byKey(p, "sticky-cart-service-patch").object, {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "cart-svc", namespace: "shop" },
            spec: { ports: [{ port: 80, protocol: "TCP", appProtocol: "http" }] },
        });
        assert.equal(byKey(p, "sticky-cart-destinationrule").object.spec.host, "cart-svc.shop.svc.cluster.local");
        const read = p.reads.find((r) => r.owner === "sticky-cart")!;
        assert.deepEqual(
            [read.namespace, read.service, read.dependsOn],
            ["shop", "cart-svc", ["sticky-cart-service-patch"]],
        );
        assert.match(
            planYaml(p),
            new RegExp(
                `# sticky-cart-service-patch \\(sticky-cart\\)\\n# ${PATCH_NOTE}\\napiVersion: v1\\nkind: Service`,
            ),
        );
    });

    it("routes without removing the path prefix and answers with the pod's address, unless told otherwise", () => {
        const route = (app: Record<string, unknown>) =>
            plan(stack([app])).objects.find((o) => o.object.kind === "VirtualService")!.object.spec.http[0];
        const kept = route(CART);
        assert.equal(kept.rewrite, undefined);
        assert.deepEqual(kept.headers, { response: { set: { "x-istio-sticky-pod": "%UPSTREAM_REMOTE_ADDRESS%" } } });
        assert.deepEqual(kept.route[0].destination, { host: "cart-svc.shop.svc.cluster.local", port: { number: 80 } });
        const stripped = route({ ...CART, stripPath: true, service: { ...CART.service, podHeader: false } });
        assert.deepEqual([stripped.rewrite, stripped.headers], [{ uri: "/" }, undefined]);
        assert.equal(route({ name: "own", stripPath: false }).rewrite, undefined, "an own app may keep the prefix too");
        const args = verifyArgsFor(stack([CART]).apps[0], "http://gw/cart/");
        assert.deepEqual(args.slice(-2), ["--pod-header", "x-istio-sticky-pod"]);
    });

    it("labels the namespace for the mesh only when asked, as a patch (injection, a revision, or ambient)", () => {
        const enrolled = (mesh: Record<string, unknown>) => {
            const p = plan(stack([{ ...CART, service: { ...CART.service, enrolNamespace: true } }], mesh));
            const ns = byKey(p, "sticky-ns-shop");
            assert.equal(ns.patch, true);
            return ns.object;
        };
        assert.deepEqual(enrolled({}), {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: "shop", labels: { "istio-injection": "enabled" } },
        });
        assert.deepEqual(enrolled({ revision: "canary" }).metadata.labels, { "istio.io/rev": "canary" });
        assert.deepEqual(enrolled({ dataplane: "ambient" }).metadata.labels, { "istio.io/dataplane-mode": "ambient" });
        assert.ok(!plan(stack([CART])).objects.some((o) => o.key === "sticky-ns-shop"));
    });

    it("puts the persistent-session label and the waypoint label on the Service through the patch", () => {
        const persistent = plan(stack([{ ...CART, affinity: { mode: "persistentCookie", cookie: { name: "pod" } } }]));
        assert.deepEqual(byKey(persistent, "sticky-cart-service-patch").object.metadata.labels, {
            "istio.io/persistent-session": "pod",
        });
        const ambient = plan(
            stack([{ ...CART, affinity: { mode: "header", headerName: "x-user" } }], { dataplane: "ambient" }),
        );
        assert.deepEqual(byKey(ambient, "sticky-cart-service-patch").object.metadata.labels, {
            "istio.io/use-waypoint": "waypoint",
        });
        assert.deepEqual(
            byKey(ambient, "sticky-waypoint-shop").dependsOn.includes("sticky-ns-shop"),
            false,
            "no namespace object to wait for",
        );
    });

    it("sends direct requests to the pods' own port and selects them by the Service's selector", () => {
        const p = plan(
            stack([
                {
                    ...CART,
                    service: { ...CART.service, targetPort: 8080, podLabels: { "app.kubernetes.io/name": "cart" } },
                    direct: { enabled: true, podCidr: "10.244.0.0/16" },
                },
            ]),
        );
        const route = p.objects.find((o) => o.object.kind === "VirtualService")!.object.spec.http[0];
        assert.match(route.match[0].headers["x-envoy-original-dst-host"].regex, /:8080$/);
        const policy = byKey(p, "sticky-cart-networkpolicy").object.spec;
        assert.deepEqual(policy.podSelector, { matchLabels: { "app.kubernetes.io/name": "cart" } });
        assert.deepEqual(policy.ingress[0].ports, [{ protocol: "TCP", port: 8080 }]);
        const dr = byKey(p, "sticky-cart-destinationrule").object.spec;
        assert.deepEqual(
            dr.subsets.map((s: any) => s.labels),
            [{ "app.kubernetes.io/name": "cart" }, { "app.kubernetes.io/name": "cart" }],
        );
        assert.equal(
            byKey(p, "sticky-cart-direct-gateway").object.spec.configPatches[0].match.cluster.portNumber,
            80,
            "the cluster is the Service port's",
        );
    });

    it("on the Gateway API, routes to the Service by its name, grants it, and names the pod with a filter", () => {
        const p = plan(stack([CART], { gateway: { api: "gatewayApi" } }));
        const rule = p.objects.find((o) => o.object.kind === "HTTPRoute")!.object.spec.rules[0];
        assert.deepEqual(rule.backendRefs, [{ name: "cart-svc", namespace: "shop", port: 80 }]);
        assert.deepEqual(rule.filters, [
            {
                type: "ResponseHeaderModifier",
                responseHeaderModifier: { set: [{ name: "x-istio-sticky-pod", value: "%UPSTREAM_REMOTE_ADDRESS%" }] },
            },
        ]);
        const grant = p.objects.find((o) => o.object.kind === "ReferenceGrant")!;
        assert.deepEqual(grant.object.spec.to, [{ group: "", kind: "Service", name: "cart-svc" }]);
        assert.deepEqual(
            grant.dependsOn.filter((d) => d.startsWith("sticky-ns-")),
            [],
            "the namespace is theirs: nothing to wait for",
        );
    });
});

describe("existing Services: the live Service is checked before the patch", () => {
    it("accepts a Service with the port, and names the ports of one without", () => {
        assert.equal(missingPortProblem("shop/cart-svc", 80, "TCP", [{ name: "web", port: 80 }]), undefined);
        assert.equal(
            missingPortProblem("shop/cart-svc", 80, "TCP", [
                { name: "web", port: 8080, protocol: "TCP" },
                { port: 80, protocol: "UDP" },
            ]),
            "Service shop/cart-svc has no port 80/TCP (its ports: 8080/TCP (web), 80/UDP): set service.port to the port the gateway should route to",
        );
        assert.match(missingPortProblem("shop/cart-svc", 80, "TCP", [])!, /its ports: none/);
    });
});

describe("existing Services: registration (Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec, { gatewayService: { type: "NodePort" } }));
    beforeEach(() => rec.reset());

    it("patches the Service with a ServicePatch after reading it through the component's provider, and the namespace with a NamespacePatch", async () => {
        const s = stack([{ ...CART, service: { ...CART.service, enrolNamespace: true } }]);
        const sticky = new StickySessions("sticky", { mesh: s.mesh, apps: s.apps });
        await valueOf(sticky.endpoints);
        await settle(rec);
        const types = rec.resources.map((r) => `${r.type} ${r.name}`);
        assert.ok(types.includes("kubernetes:core/v1:ServicePatch sticky-cart-service-patch"), types.join("\n"));
        assert.ok(types.includes("kubernetes:core/v1:NamespacePatch sticky-ns-shop"), types.join("\n"));
        assert.ok(
            !types.some((t) => / sticky-(cart-deployment|cart-service|demo-app-shop)$/.test(t)),
            "no workload, no demo script",
        );
        const inputs = rec.byNameOf("sticky-cart-service-patch").inputs;
        assert.deepEqual(
            [inputs.metadata.name, inputs.spec.ports],
            ["cart-svc", [{ port: 80, protocol: "TCP", appProtocol: "http" }]],
        );
        // The check of the live Service: a resource holding only what it checks, which the patch waits for.
        const check = rec.byNameOf("sticky-cart-service-patch-existing");
        assert.equal(check.type, EXISTING_SERVICE_TYPE);
        assert.deepEqual(
            [check.inputs.namespace, check.inputs.service, check.inputs.port, check.inputs.protocol],
            ["shop", "cart-svc", 80, "TCP"],
        );
        assert.ok(rec.byNameOf("sticky-cart-service-patch").dependsOn.includes("sticky-cart-service-patch-existing"));
    });

    describe("the check, against an API server on 127.0.0.1", () => {
        let server: http.Server;
        let kubeconfigText = "";
        before(async () => {
            server = http.createServer((req, res) => {
                const m = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/?]+)/.exec(req.url ?? "");
                const ports: Record<string, unknown[]> = {
                    "shop/cart-svc": [{ name: "web", port: 80, protocol: "TCP" }],
                    "shop/no-port": [{ name: "web", port: 8080, protocol: "TCP" }],
                };
                const found = m ? ports[`${m[1]}/${m[2]}`] : undefined;
                res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
                res.end(
                    JSON.stringify(
                        found
                            ? {
                                  apiVersion: "v1",
                                  kind: "Service",
                                  metadata: { name: m![2], namespace: m![1] },
                                  spec: { ports: found },
                              }
                            : { apiVersion: "v1", kind: "Status", status: "Failure", reason: "NotFound", code: 404 },
                    ),
                );
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
            const { port } = server.address() as AddressInfo;
            kubeconfigText = [
                "apiVersion: v1",
                "kind: Config",
                "clusters: [{name: fake, cluster: {server: 'http://127.0.0.1:" +
                    port +
                    "', insecure-skip-tls-verify: true}}]",
                "users: [{name: fake, user: {}}]",
                "contexts: [{name: fake, context: {cluster: fake, user: fake}}]",
                "current-context: fake",
            ].join("\n");
        });
        after(() => new Promise<void>((r) => server.close(() => r())));

        const check = (service: string) =>
            existingServiceProvider.check!(
                {} as any,
                { namespace: "shop", service, port: 80, protocol: "TCP", kubeconfig: kubeconfigText } as any,
            );

        it("passes a Service with the port", async () => {
            assert.deepEqual((await check("cart-svc")).failures, undefined);
        });

        it("fails, before anything is patched, for a Service without the port (its ports listed) and for a missing Service", async () => {
            const noPort = await check("no-port");
            assert.deepEqual(noPort.failures, [
                {
                    property: "service",
                    reason: "Service shop/no-port has no port 80/TCP (its ports: 8080/TCP (web)): set service.port to the port the gateway should route to",
                },
            ]);
            const gone = await check("gone");
            assert.match(
                gone.failures![0].reason,
                /^Service shop\/gone does not exist in cluster "fake" at http:\/\/127\.0\.0\.1:\d+/,
            );
        });

        it("holds only its inputs, so a refresh after the patch finds no change", async () => {
            const inputs = { namespace: "shop", service: "cart-svc", port: 80, protocol: "TCP" };
            const created = await existingServiceProvider.create(inputs);
            const read = await existingServiceProvider.read!(created.id, created.outs);
            assert.deepEqual(read.props, inputs);
        });
    });

    it("StickyApp on its own: no namespace of its own, no demo script, and createNamespace refused", async () => {
        const app = new StickyApp("cart", {
            ...CART,
            service: { ...CART.service, enrolNamespace: true },
            affinity: { mode: AffinityMode.Header, headerName: "x-user" },
        });
        await valueOf(app.serviceHost);
        await settle(rec);
        const names = rec.resources.map((r) => `${r.type} ${r.name}`);
        assert.ok(names.includes("kubernetes:core/v1:NamespacePatch cart-namespace"), names.join("\n"));
        assert.ok(names.includes("kubernetes:core/v1:ServicePatch cart-service-patch"), names.join("\n"));
        assert.ok(
            !names.some((n) => / cart-(script|deployment|service|peerauthentication)$/.test(n)),
            names.join("\n"),
        );
        assert.equal(await valueOf(app.serviceHost), "cart-svc.shop.svc.cluster.local");
        assert.throws(
            () => new StickyApp("cart-2", { ...CART, name: "cart-2", createNamespace: true }),
            /createNamespace: an existing Service's namespace exists already/,
        );
    });
});
