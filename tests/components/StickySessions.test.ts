import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { AffinityMode, StickySessions, SettingsError } from "istio-sticky";
import {
    GATEWAY_SERVICE_TYPE,
    installMocks,
    READY_PODS_TYPE,
    Recorder,
    Registered,
    settle,
    valueOf,
} from "../support/mocks";
import { AFFINITY_BY_MODE, ALL_MODES, stackWith } from "../support/fixtures";
import { validateUpstream } from "../support/schemas";
import { sequentialWaits } from "../support/graph";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const CR = (kind: string) => `kubernetes:networking.istio.io/v1:${kind}`;

describe("StickySessions (Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec, { gatewayService: { type: "NodePort" } }));
    beforeEach(() => rec.reset());

    async function deploy(
        modes: AffinityMode[],
        mesh: Record<string, unknown> = { gateway: { serviceType: "NodePort" } },
        app: Record<string, unknown> = {},
    ) {
        const stack = stackWith(modes, mesh, app);
        const sticky = new StickySessions("sticky", { mesh: stack.mesh, apps: stack.apps });
        const outputs = await valueOf(
            pulumi.all([sticky.ingress, sticky.endpoints, sticky.gatewayLabels, sticky.meshRequirements]),
        );
        await settle(rec);
        return { stack, sticky, outputs };
    }

    for (const mode of ALL_MODES) {
        it(`registers the graph for mode ${mode}`, async () => {
            await deploy([mode]);
            const types = rec.resources.map((r) => `${r.type} ${r.name}`);
            for (const expected of [
                "istio-sticky:index:StickySessions sticky",
                "istio-sticky:index:IstioMesh sticky-mesh",
                `${RELEASE} sticky-mesh-base`,
                `${RELEASE} sticky-mesh-istiod`,
                `${RELEASE} sticky-mesh-gateway`,
                `${CR("Gateway")} sticky-gateway`,
                "kubernetes:core/v1:Namespace sticky-ns-app-0",
                "istio-sticky:index:StickyApp sticky-app-0",
                "kubernetes:core/v1:ConfigMap sticky-demo-app-app-0",
                "kubernetes:apps/v1:Deployment sticky-app-0-deployment",
                "kubernetes:core/v1:Service sticky-app-0-service",
                `${CR("DestinationRule")} sticky-app-0-destinationrule`,
                `${CR("VirtualService")} sticky-route-path-app-0`,
                `${READY_PODS_TYPE} sticky-app-0-ready-pods`,
            ]) {
                assert.ok(types.includes(expected), `missing ${expected}`);
            }
            const dr = rec.byNameOf("sticky-app-0-destinationrule").inputs;
            const expectedLb =
                mode === AffinityMode.None || mode.startsWith("persistent") ? { simple: "ROUND_ROBIN" } : undefined;
            if (expectedLb) assert.deepEqual(dr.spec.trafficPolicy.loadBalancer, expectedLb);
            else assert.deepEqual(dr.spec.trafficPolicy.loadBalancer.localityLbSetting, { enabled: false });
            const istiod = rec.byNameOf("sticky-mesh-istiod").inputs;
            assert.deepEqual(
                [istiod.atomic, istiod.cleanupOnFail, istiod.repositoryOpts.repo],
                [true, true, "https://blob.istio.io/istio-release/charts"],
            );
            assert.equal(
                istiod.values.env.PILOT_ENABLE_PERSISTENT_SESSION_FILTER === "true",
                mode.startsWith("persistent"),
            );
            // What was registered passes the upstream schemas too.
            for (const r of rec.resources.filter(
                (x) => x.custom && x.type !== RELEASE && !x.type.startsWith("pulumi-nodejs:dynamic/"),
            ))
                await validateUpstream(r.inputs as any);
        });
    }

    it("parents every child under its component", async () => {
        await deploy([AffinityMode.Header]);
        for (const r of rec.resources) {
            const expected =
                r.name === "sticky"
                    ? ""
                    : r.name.startsWith("sticky-mesh") && r.name !== "sticky-mesh"
                      ? "sticky-mesh"
                      : r.name.startsWith("sticky-app-0-")
                        ? "sticky-app-0"
                        : "sticky";
            if (r.name === "sticky-route-path-app-0") assert.equal(r.parent, "sticky");
            assert.equal(r.parent, expected, r.name);
        }
    });

    it("orders base → istiod → (gateway, workloads, Istio objects), and nothing waits that need not", async () => {
        await deploy([AffinityMode.Header]);
        const deps = (n: string) => rec.byNameOf(n).dependsOn;
        assert.deepEqual(deps("sticky-mesh-base"), ["sticky-mesh-ns-istio-system"]);
        assert.deepEqual(deps("sticky-mesh-istiod"), ["sticky-mesh-base"]);
        assert.deepEqual(deps("sticky-mesh-gateway"), ["sticky-mesh-istiod", "sticky-mesh-ns-gateway"]);
        assert.deepEqual(deps("sticky-gateway"), ["sticky-mesh-base", "sticky-mesh-istiod", "sticky-mesh-ns-gateway"]);
        assert.deepEqual(deps("sticky-app-0-destinationrule"), [
            "sticky-mesh-base",
            "sticky-mesh-istiod",
            "sticky-ns-app-0",
        ]);
        // The path's route lives in the gateway's namespace, which outlives any one app.
        assert.deepEqual(deps("sticky-route-path-app-0"), [
            "sticky-mesh-base",
            "sticky-mesh-istiod",
            "sticky-mesh-ns-gateway",
        ]);
        assert.deepEqual(deps("sticky-app-0-deployment"), [
            "sticky-demo-app-app-0",
            "sticky-mesh-istiod",
            "sticky-ns-app-0",
        ]);
        assert.deepEqual(deps("sticky-app-0-service"), ["sticky-ns-app-0"]);
        assert.deepEqual(deps("sticky-demo-app-app-0"), ["sticky-ns-app-0"]);
        // The pods are read once the rollout and the Service are done, in preview and up alike.
        assert.deepEqual(deps("sticky-app-0-ready-pods"), ["sticky-app-0-deployment", "sticky-app-0-service"]);
        assert.deepEqual(deps("sticky-ns-app-0"), []);
        assert.ok(
            !deps("sticky-app-0-deployment").includes("sticky-mesh-gateway"),
            "apps do not wait for the gateway release",
        );
    });

    it("exports the ingress, per-app endpoints and the gateway labels", async () => {
        const { outputs } = await deploy([AffinityMode.Header]);
        const [ingress, endpoints, labels, requirements] = outputs;
        assert.deepEqual(ingress.nodePorts, { http: 31080, https: 31443 });
        assert.match(ingress.howToReach, /<node-ip>:31080/);
        assert.deepEqual(endpoints["app-0"].serviceHost, "app-0.app-0.svc.cluster.local");
        assert.match(endpoints["app-0"].probe, /x-user: alice/);
        assert.equal(
            endpoints["app-0"].verify,
            `npx istio-sticky-verify --url "$INGRESS/app-0/" --mode header --key x-user`,
        );
        assert.deepEqual(labels, { app: "istio-ingressgateway", istio: "ingressgateway" });
        assert.deepEqual(rec.byNameOf("sticky-gateway").inputs.spec.selector, labels);
        assert.deepEqual(rec.byNameOf("sticky-mesh-gateway").inputs.values.labels, labels);
        assert.deepEqual(requirements, []);
        const gatewayRead = rec.ofType(GATEWAY_SERVICE_TYPE).map((r) => `${r.inputs.namespace}/${r.inputs.service}`);
        assert.deepEqual(gatewayRead, ["istio-ingress/istio-ingressgateway"]);
        assert.deepEqual(rec.byNameOf("sticky-app-0-ready-pods").inputs.service, "app-0");
        assert.deepEqual(endpoints["app-0"].pods, [
            { name: "app-0-7d9f-a", ip: "10.244.1.11" },
            { name: "app-0-7d9f-b", ip: "10.244.2.12" },
        ]);
        assert.equal(endpoints["app-0"].directCurls, undefined);
    });

    it("gives the app's URL when the gateway has a load balancer address", async () => {
        rec.reset();
        await installMocks(rec, { gatewayService: { type: "LoadBalancer", ip: "203.0.113.10" } });
        const { outputs } = await deploy([AffinityMode.Header], {});
        assert.equal(outputs[0].url, "http://203.0.113.10");
        assert.equal(outputs[1]["app-0"].url, "http://203.0.113.10/app-0/");
        await installMocks(rec, { gatewayService: { type: "NodePort" } });
    });

    it("uses an existing Istio: no releases, and says what the mesh must provide", async () => {
        const { outputs } = await deploy([AffinityMode.PersistentCookie], { install: false });
        assert.equal(rec.ofType(RELEASE).length, 0);
        assert.ok(outputs[3].some((r: string) => /PILOT_ENABLE_PERSISTENT_SESSION_FILTER=true/.test(r)));
        assert.deepEqual(rec.byNameOf("sticky-app-0-deployment").dependsOn, [
            "sticky-demo-app-app-0",
            "sticky-ns-app-0",
        ]);
    });

    it("shares one namespace between apps that name it", async () => {
        await deploy([AffinityMode.Header, AffinityMode.None], undefined, { namespace: "shop" });
        assert.equal(
            rec.ofType("kubernetes:core/v1:Namespace").filter((r) => r.inputs.metadata.name === "shop").length,
            1,
        );
    });

    it("registers nothing when the settings are invalid", async () => {
        const before = rec.resources.length;
        assert.throws(
            () =>
                new StickySessions("bad", {
                    apps: [
                        { name: "a", path: "/x" },
                        { name: "b", path: "/x/y", affinity: { mode: AffinityMode.Header } },
                    ],
                }),
            (e: unknown) =>
                e instanceof SettingsError &&
                e.problems.some((p) => /bad: apps\[1\]\.affinity\.headerName: is required/.test(p)),
        );
        assert.throws(
            () =>
                new StickySessions("bad", {
                    apps: [
                        { name: "a", path: "/x" },
                        { name: "b", path: "/x" },
                    ],
                }),
            /apps\[1\]\.path: "\/x" is already used/,
        );
        // A JavaScript caller can hand in an Output anyway: it is named where it is, not misread as a wrong type.
        assert.throws(
            () =>
                new StickySessions("late", {
                    apps: [{ name: pulumi.output("a") as unknown as string }],
                    mesh: pulumi.output({}) as never,
                }),
            (e: unknown) =>
                e instanceof SettingsError &&
                e.problems.length === 2 &&
                e.problems.every((p) => /must be a plain value, not an Output/.test(p)) &&
                /late: apps\[0\]\.name:/.test(e.problems.join()) &&
                /late: mesh:/.test(e.problems.join()),
        );
        await settle(rec);
        assert.equal(rec.resources.length, before);
    });

    it("keeps Helm release names and inputs when an app's policy or replicas change", async () => {
        const releases = () => rec.ofType(RELEASE).map((r) => ({ name: r.name, inputs: r.inputs }));
        await deploy([AffinityMode.Header], undefined, { replicas: 2 });
        const first = releases();
        for (const [mode, replicas] of [
            [AffinityMode.Cookie, 5],
            [AffinityMode.SourceIp, 1],
            [AffinityMode.None, 9],
        ] as const) {
            rec.reset();
            await deploy([mode], undefined, { replicas });
            assert.deepEqual(releases(), first, `${mode} x${replicas}`);
        }
    });

    it("reads the pods again when the program scales the app or changes its Deployment, not when nothing did", async () => {
        const read = async (app: Record<string, unknown>) => {
            rec.reset();
            await deploy([AffinityMode.Header], undefined, app);
            const inputs = rec.byNameOf("sticky-app-0-ready-pods").inputs;
            return { after: inputs.after as string[], replicas: inputs.replicas as number | undefined };
        };
        const first = await read({ replicas: 2 });
        assert.equal(first.after.length, 2);
        assert.ok(
            /^sticky-app-0-deployment-id@[0-9a-f]{12}$/.test(first.after[0]) &&
                /^sticky-app-0-service-id@[0-9a-f]{12}$/.test(first.after[1]),
            first.after.join(),
        );
        assert.equal(first.replicas, 2);
        assert.deepEqual(await read({ replicas: 2 }), first);
        const scaled = await read({ replicas: 3 });
        assert.equal(scaled.replicas, 3, "a scale reads again through the read's own replicas");
        assert.deepEqual(scaled.after, first.after, "the spec but for its replicas did not change");
        const rolled = await read({ replicas: 2, port: 9090 });
        assert.notEqual(rolled.after[0], first.after[0], "a new pod template reads again");
        // An autoscaled app leaves the count to its HorizontalPodAutoscaler: the read takes none.
        const autoscaled = await read({ autoscaling: { minReplicas: 2, maxReplicas: 4 } });
        assert.equal(autoscaled.replicas, undefined);
    });

    it("routes header-matched backends on one path through one VirtualService", async () => {
        const stack = stackWith(
            [AffinityMode.Header, AffinityMode.Header, AffinityMode.Cookie],
            { gateway: { serviceType: "NodePort" } },
            (i) => ({
                path: "/api",
                ...(i < 2 ? { match: { headers: { target: `backend-${i + 1}` } } } : {}),
            }),
        );
        const sticky = new StickySessions("sticky", { mesh: stack.mesh, apps: stack.apps });
        await valueOf(sticky.endpoints);
        await settle(rec);
        const routes = rec.ofType(CR("VirtualService"));
        assert.deepEqual(
            routes.map((r) => r.name),
            ["sticky-route-path-api"],
        );
        assert.deepEqual(
            routes[0].inputs.spec.http.map((r: any) => r.name),
            ["app-0", "app-1", "app-2"],
        );
        assert.deepEqual(routes[0].dependsOn, ["sticky-mesh-base", "sticky-mesh-istiod", "sticky-mesh-ns-gateway"]);
        // One demo script for the namespace... here each app has its own namespace.
        assert.equal(rec.ofType("kubernetes:core/v1:ConfigMap").length, 3);
    });

    it("deploys direct routing and autoscaling, and exports pods with a curl each", async () => {
        const stack = stackWith(
            [AffinityMode.PersistentCookie],
            { gateway: { serviceType: "LoadBalancer" } },
            {
                direct: { enabled: true, podCidr: "10.244.0.0/16" },
                autoscaling: { minReplicas: 2, maxReplicas: 6 },
            },
        );
        rec.reset();
        await installMocks(rec, { gatewayService: { type: "LoadBalancer", ip: "203.0.113.10" } });
        const sticky = new StickySessions("sticky", { mesh: stack.mesh, apps: stack.apps });
        const endpoints = await valueOf(sticky.endpoints);
        await settle(rec);
        await installMocks(rec, { gatewayService: { type: "NodePort" } });
        const filter = rec.byNameOf("sticky-app-0-direct-gateway");
        assert.equal(filter.inputs.metadata.namespace, "istio-ingress");
        assert.deepEqual(filter.dependsOn, ["sticky-mesh-base", "sticky-mesh-istiod", "sticky-mesh-ns-gateway"]);
        assert.equal(rec.byNameOf("sticky-app-0-hpa").inputs.spec.maxReplicas, 6);
        assert.deepEqual(rec.byNameOf("sticky-app-0-pdb").dependsOn, ["sticky-ns-app-0"]);
        assert.equal(rec.byNameOf("sticky-app-0-deployment").inputs.spec.replicas, undefined);
        assert.deepEqual(endpoints["app-0"].directCurls, [
            "curl -s -H 'use-direct: true' -H 'x-envoy-original-dst-host: 10.244.1.11:8080' http://203.0.113.10/app-0/",
            "curl -s -H 'use-direct: true' -H 'x-envoy-original-dst-host: 10.244.2.12:8080' http://203.0.113.10/app-0/",
        ]);
        for (const r of rec.resources.filter(
            (x) => x.custom && x.type !== RELEASE && !x.type.startsWith("pulumi-nodejs:dynamic/"),
        ))
            await validateUpstream(r.inputs as any);
    });

    it("warns once per problem, however many components look at the app", async () => {
        const warned: string[] = [];
        const warn = pulumi.log.warn;
        (pulumi.log as any).warn = async (msg: string) => void warned.push(msg);
        try {
            await deploy([AffinityMode.Header], undefined, { autoscaling: { minReplicas: 2, maxReplicas: 4 } });
        } finally {
            (pulumi.log as any).warn = warn;
        }
        assert.equal(
            warned.filter((w) => /each scale event moves sessions to other pods/.test(w)).length,
            1,
            warned.join("\n"),
        );
    });

    it("orders TLS: cert-manager, then the issuer, then the certificate, then the gateway's HTTPS server", async () => {
        const stack = stackWith([AffinityMode.Cookie]);
        const sticky = new StickySessions("sticky", {
            mesh: stack.mesh,
            apps: stack.apps,
            tls: { enabled: true, hosts: ["web.test"] },
        });
        await valueOf(sticky.endpoints);
        await settle(rec);
        const deps = (n: string) => rec.byNameOf(n).dependsOn;
        assert.deepEqual(deps("sticky-tls-cert-manager"), ["sticky-tls-cert-manager-namespace"]);
        assert.equal(rec.byNameOf("sticky-tls-cert-manager").parent, "sticky-tls");
        assert.deepEqual(deps("sticky-tls-issuer"), ["sticky-tls-cert-manager"]);
        assert.deepEqual(deps("sticky-tls-certificate"), [
            "sticky-mesh-ns-gateway",
            "sticky-tls-cert-manager",
            "sticky-tls-issuer",
        ]);
        assert.deepEqual(deps("sticky-gateway"), [
            "sticky-mesh-base",
            "sticky-mesh-istiod",
            "sticky-mesh-ns-gateway",
            "sticky-tls-certificate",
        ]);
        const cert = rec.byNameOf("sticky-tls-certificate").inputs;
        assert.deepEqual([cert.metadata.namespace, cert.spec.secretName], ["istio-ingress", "sticky-gateway-tls"]);
        assert.equal(rec.byNameOf("sticky-gateway").inputs.spec.servers[1].tls.credentialName, "sticky-gateway-tls");
        const lb = rec.byNameOf("sticky-app-0-destinationrule").inputs.spec.trafficPolicy.loadBalancer;
        assert.deepEqual(
            lb.consistentHash.httpCookie.attributes.map((a: any) => a.name),
            ["SameSite", "HttpOnly", "Secure"],
        );
        for (const name of ["sticky-tls-issuer", "sticky-tls-certificate", "sticky-app-0-peerauthentication"])
            await validateUpstream(rec.byNameOf(name).inputs as any);
    });

    it("uses an existing cert-manager when told", async () => {
        const stack = stackWith([AffinityMode.None]);
        const sticky = new StickySessions("sticky", {
            mesh: stack.mesh,
            apps: stack.apps,
            tls: { enabled: true, hosts: ["web.test"], installCertManager: false },
        });
        await valueOf(sticky.endpoints);
        await settle(rec);
        assert.deepEqual(
            rec.ofType(RELEASE).map((r) => r.inputs.name),
            ["istio-base", "istiod", "istio-ingressgateway"],
        );
        assert.equal(rec.ofType("kubernetes-cert-manager:index:CertManager").length, 0, "no cert-manager component");
        assert.deepEqual(rec.byNameOf("sticky-tls-issuer").dependsOn, []);
    });

    it("offers every mode through the affinity fixtures", () => {
        assert.deepEqual(Object.keys(AFFINITY_BY_MODE).sort(), [...ALL_MODES].sort());
    });
});

describe("StickySessions names that survive edits (Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec, { gatewayService: { type: "NodePort" } }));

    /** Each resource's URN (type chain and name, as Pulumi forms it) with the inputs it was registered with. */
    async function urns(apps: Record<string, unknown>[]): Promise<Map<string, Record<string, any>>> {
        rec.reset();
        const stack = stackWith(
            apps.map(() => AffinityMode.None),
            { gateway: { serviceType: "NodePort" } },
            (i) => apps[i],
        );
        const sticky = new StickySessions("sticky", { mesh: stack.mesh, apps: stack.apps });
        await valueOf(sticky.endpoints);
        await settle(rec);
        const byName = new Map(rec.resources.map((r) => [r.name, r]));
        const chain = (r: Registered): string => (r.parent ? `${chain(byName.get(r.parent)!)}$${r.type}` : r.type);
        return new Map(rec.resources.map((r) => [`urn:pulumi:test::istio-sticky::${chain(r)}::${r.name}`, r.inputs]));
    }

    const a = { name: "a", namespace: "shop", affinity: AFFINITY_BY_MODE[AffinityMode.Header] };
    const b = { name: "b", path: "/api", match: { headers: { target: "b" } } };
    const c = { name: "c", path: "/api" };
    const d = { name: "d", namespace: "shop", affinity: AFFINITY_BY_MODE[AffinityMode.Cookie] };

    /** Every resource of `base` is in `after` with the same URN and inputs, but those of what was removed. */
    function assertKept(
        what: string,
        base: Map<string, Record<string, any>>,
        after: Map<string, Record<string, any>>,
        removed: string[] = [],
    ): void {
        for (const [urn, inputs] of base) {
            if (removed.some((r) => urn.endsWith(`::${r}`) || urn.includes(`::${r}-`))) continue;
            assert.ok(after.has(urn), `${what}: ${urn} is gone (a replace)`);
            assert.deepEqual(after.get(urn), inputs, `${what}: ${urn} changed`);
        }
    }

    it("reordering apps, adding one or removing one changes no other resource's URN or inputs", async () => {
        const base = await urns([a, b, c, d]);
        assertKept("reordered", base, await urns([d, c, b, a]));
        assertKept("one added", base, await urns([a, b, c, d, { name: "e", path: "/e" }]));
        // Removing "a" removes its objects and its path's route; the namespace it shares with "d" stays.
        assertKept("the first removed", base, await urns([b, c, d]), ["sticky-a", "sticky-route-path-a"]);
    });

    it("the check can fail: it sees a changed input and a renamed resource", async () => {
        const base = await urns([a, b, c, d]);
        assert.throws(
            () =>
                assertKept(
                    "replicas",
                    base,
                    new Map(
                        [...base].map(([u, i]) => [
                            u,
                            u.endsWith("::sticky-a-deployment") ? { ...i, spec: { ...i.spec, replicas: 5 } } : i,
                        ]),
                    ),
                ),
            /sticky-a-deployment changed/,
        );
        assert.throws(
            () =>
                assertKept(
                    "renamed",
                    base,
                    new Map([...base].map(([u, i]) => [u.replace("sticky-route-path-api", "sticky-route-b"), i])),
                ),
            /sticky-route-path-api is gone/,
        );
    });
});

describe("StickySessions critical path (Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec, { gatewayService: { type: "NodePort" } }));

    it("waits at most three times in a row (base → istiod → everything else), even with 20 apps", async () => {
        const modes = Array.from({ length: 20 }, (_, i) => ALL_MODES[i % ALL_MODES.length]);
        const stack = stackWith(modes);
        const sticky = new StickySessions("sticky", { mesh: stack.mesh, apps: stack.apps });
        await valueOf(sticky.endpoints);
        await settle(rec);
        const { waits, chain } = sequentialWaits(rec.resources);
        assert.equal(waits, 3, chain.join(" → "));
        assert.deepEqual(chain.slice(0, 2), ["sticky-mesh-base", "sticky-mesh-istiod"]);
    });

    it("waits at most three times in a row in ambient too (istio-cni and ztunnel beside the gateway), on both ingress APIs", async () => {
        for (const api of ["istio", "gatewayApi"]) {
            rec.reset();
            const modes = Array.from(
                { length: 10 },
                (_, i) => [AffinityMode.Header, AffinityMode.Cookie, AffinityMode.None][i % 3],
            );
            const stack = stackWith(modes, { dataplane: "ambient", gateway: { api, serviceType: "NodePort" } });
            const sticky = new StickySessions(`amb-${api}`, { mesh: stack.mesh, apps: stack.apps });
            await valueOf(sticky.endpoints);
            await settle(rec);
            const { waits, chain } = sequentialWaits(rec.resources);
            assert.equal(waits, 3, chain.join(" → "));
            const deployment = rec.byNameOf(`amb-${api}-app-0-deployment`);
            assert.ok(
                deployment.dependsOn.includes(`amb-${api}-mesh-cni`) &&
                    !deployment.dependsOn.includes(`amb-${api}-mesh-istiod`),
                deployment.dependsOn.join(),
            );
            assert.deepEqual(rec.byNameOf(`amb-${api}-mesh-ztunnel`).dependsOn, [`amb-${api}-mesh-istiod`]);
        }
    });
});
