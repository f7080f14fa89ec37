/**
 * Istio's webhook and controller rules (tests/support/istioRules.ts) over every
 * object of every shipped stack and of generated configs that cover every mode
 * and option; and, for each rule, a broken object it must catch.
 */
import { strict as assert } from "assert";
import { buildPlan, planDocuments, type K8sObject } from "istio-sticky";
import { parseStackConfig, StackSettings, APPS_KEY, MESH_KEY, TLS_KEY } from "../../components/settings/validate";
import { listStacks, PROJECT_DIR, readStackConfig } from "../../cli/stackFiles";
import { generatedConfigs } from "../support/fixtures";
import { Finding, findingsForStack, kindOf, RULES } from "../support/istioRules";

/** Warnings Istio gives for what this project does on purpose. */
const ACCEPTED_WARNINGS: Record<string, RegExp> = {
    // Direct routing needs an EnvoyFilter; there is no other API for original_dst_lb_config.
    "envoyfilter-patches": /EnvoyFilter exposes internal implementation details/,
    // The guard is a DENY on an HTTP header; the gateway listens on HTTP ports only.
    "authorizationpolicy-shape": /will deny all traffic to TCP ports/,
};

function docsOf(stack: StackSettings): K8sObject[] {
    return planDocuments(buildPlan(stack, { demoAppSource: "// app" }));
}

function findingsOf(stack: StackSettings, docs = docsOf(stack)): Finding[] {
    return findingsForStack(stack, docs);
}

function assertClean(what: string, findings: Finding[]): void {
    const bad = findings.filter((f) => f.severity === "error" || !ACCEPTED_WARNINGS[f.rule]?.test(f.message));
    assert.deepEqual(
        bad.map((f) => `${f.rule} ${f.object}: ${f.message}`),
        [],
        what,
    );
}

/** For each case: the plan is clean, then broken as the case says, and the expected finding appears. */
function breakageTests(
    prefix: string,
    base: () => StackSettings,
    cases: [string, (docs: K8sObject[]) => void, RegExp][],
): void {
    for (const [what, breakIt, expected] of cases) {
        it(`${prefix}${what}`, () => {
            const stack = base();
            const docs = JSON.parse(JSON.stringify(docsOf(stack))) as K8sObject[];
            assertClean("before breaking it", findingsOf(stack, docs));
            breakIt(docs);
            const found = findingsOf(stack, docs).map((f) => `${f.rule}: ${f.message}`);
            assert.ok(
                found.some((f) => expected.test(f)),
                `expected ${expected}, found:\n${found.join("\n")}`,
            );
        });
    }
}

describe("Istio's rules (webhook and controllers) over every plan", () => {
    it("cites where Istio implements each rule", () => {
        for (const r of RULES) assert.match(r.source, /\.go: \w+|\.go \(|\.proto/, r.id);
        assert.equal(new Set(RULES.map((r) => r.id)).size, RULES.length);
    });

    for (const stack of listStacks(PROJECT_DIR)) {
        it(`holds for every object of the ${stack} stack`, () => {
            const settings = parseStackConfig(readStackConfig(PROJECT_DIR, stack)).value;
            const docs = docsOf(settings);
            assert.ok(docs.length > 10);
            assertClean(stack, findingsOf(settings, docs));
        });
    }

    it("holds for generated configs covering every mode and option", () => {
        const configs = generatedConfigs();
        assert.ok(configs.length >= 50);
        const kinds = new Set<string>();
        for (const [what, config] of configs) {
            const stack = parseStackConfig(config).value;
            const docs = docsOf(stack);
            docs.forEach((d) => kinds.add(kindOf(d)));
            assertClean(what, findingsOf(stack, docs));
        }
        // Every kind a rule speaks of was generated at least once.
        for (const r of RULES)
            assert.ok(
                r.kinds.some((k) => kinds.has(k)),
                `${r.id} never ran`,
            );
    });

    describe("catches a broken object", () => {
        const base = (config: Record<string, unknown> = {}) =>
            parseStackConfig({
                [APPS_KEY]: [
                    {
                        name: "web",
                        affinity: { mode: "header", headerName: "x-user" },
                        direct: { enabled: true, podCidr: "10.244.0.0/16" },
                    },
                ],
                [TLS_KEY]: {
                    enabled: true,
                    issuer: "acme",
                    hosts: ["a.example.com"],
                    acme: { email: "o@example.com" },
                },
                ...config,
            }).value;
        const find = (docs: K8sObject[], kind: string, pred: (d: K8sObject) => boolean = () => true) =>
            docs.find((d) => d.kind === kind && pred(d))!;
        const cases: [string, (docs: K8sObject[]) => void, RegExp][] = [
            [
                "maglev without a table size",
                (d) =>
                    (find(d, "DestinationRule").spec.trafficPolicy.loadBalancer.consistentHash = {
                        httpHeaderName: "x",
                        maglev: {},
                    }),
                /destinationrule-load-balancer: tableSize must be set for maglev/,
            ],
            [
                "a maglev table that is not prime",
                (d) =>
                    (find(d, "DestinationRule").spec.trafficPolicy.loadBalancer.consistentHash = {
                        httpHeaderName: "x",
                        maglev: { tableSize: 65536 },
                    }),
                /tableSize must be a prime number/,
            ],
            [
                "simple and consistentHash together",
                (d) => (find(d, "DestinationRule").spec.trafficPolicy.loadBalancer.simple = "ROUND_ROBIN"),
                /simple and consistentHash are one of lb_policy/,
            ],
            [
                "a DestinationRule for no Service",
                (d) => (find(d, "DestinationRule").spec.host = "nope.web.svc.cluster.local"),
                /destinationrule-host-has-service/,
            ],
            [
                "the solver's ingressClassName with no IngressClass object",
                (d) =>
                    (find(d, "ClusterIssuer").spec.acme.solvers = [
                        { http01: { ingress: { ingressClassName: "istio" } } },
                    ]),
                /acme-solver-ingress-served-by-istio: istiod ignores the challenge Ingress/,
            ],
            [
                "ingressService looked up in istio-system",
                (d) => (find(d, "HelmRelease", (r) => r.spec.chart === "istiod").spec.values.env = {}),
                /is looked up in istio-system, not the gateway's namespace istio-ingress/,
            ],
            [
                "the guard on the packet source behind a LoadBalancer",
                (d) => {
                    const ap = find(d, "AuthorizationPolicy");
                    ap.spec.rules[0].from = [{ source: { notIpBlocks: ["10.0.0.0/8"] } }];
                },
                /authorizationpolicy-client-address: ipBlocks\/notIpBlocks on the gateway see the peer address/,
            ],
            [
                "the guard behind a Service that SNATs clients",
                (d) =>
                    (find(d, "HelmRelease", (r) => r.spec.chart === "gateway").spec.values.service = {
                        type: "LoadBalancer",
                    }),
                /externalTrafficPolicy Cluster\) and trusts no proxy/,
            ],
            [
                "a Gateway selector that misses the gateway pods",
                (d) => (find(d, "Gateway").spec.selector = { istio: "ingress" }),
                /gateway-selects-gateway-pods: selector .* matches no gateway pod/,
            ],
            [
                "gateway labels changed in the chart values only",
                (d) =>
                    (find(d, "HelmRelease", (r) => r.spec.chart === "gateway").spec.values.labels = { istio: "edge" }),
                /gateway-selects-gateway-pods/,
            ],
            [
                "an HTTPS server without TLS settings",
                (d) => delete find(d, "Gateway").spec.servers[1].tls,
                /server must have TLS settings for HTTPS\/TLS protocols/,
            ],
            [
                "a direct response with a rewrite",
                (d) => (find(d, "VirtualService").spec.http.find((r: any) => r.directResponse).rewrite = { uri: "/" }),
                /cannot contain both rewrite and direct_response/,
            ],
            [
                "a regex over 1024 characters",
                (d) =>
                    (find(d, "VirtualService").spec.http[0].match[0].headers["x-envoy-original-dst-host"] = {
                        regex: "1".repeat(1025),
                    }),
                /regex is too large, max length allowed is 1024/,
            ],
            [
                "a lookahead RE2 rejects",
                (d) =>
                    (find(d, "VirtualService").spec.http[0].match[0].headers["x-envoy-original-dst-host"] = {
                        regex: "(?=10)10.*",
                    }),
                /lookaround or a backreference/,
            ],
            [
                "a route to a subset no DestinationRule defines",
                (d) => (find(d, "DestinationRule").spec.subsets = [find(d, "DestinationRule").spec.subsets[0]]),
                /subset direct of .* is defined by no DestinationRule/,
            ],
            [
                "a route after a catch-all",
                (d) => {
                    const vs = find(d, "VirtualService");
                    vs.spec.http = [{ name: "all", route: vs.spec.http.at(-1).route }, ...vs.spec.http];
                },
                /not used \(route without matches defined before\)/,
            ],
            [
                "a VirtualService host its Gateway does not serve",
                (d) =>
                    (find(d, "Gateway").spec.servers = find(d, "Gateway").spec.servers.map((s: any) => ({
                        ...s,
                        hosts: ["other.example.com"],
                    }))),
                /host \* is served by no server/,
            ],
            [
                "an EnvoyFilter on a subset that is not PASSTHROUGH",
                (d) =>
                    (find(d, "DestinationRule").spec.subsets[1].trafficPolicy.loadBalancer = { simple: "ROUND_ROBIN" }),
                /original_dst_lb_config needs an ORIGINAL_DST cluster/,
            ],
            [
                "an EnvoyFilter for the gateway in the app's namespace",
                (d) => (find(d, "EnvoyFilter").metadata.namespace = "web"),
                /a GATEWAY patch in web reaches no gateway pod/,
            ],
            [
                "an EnvoyFilter with an unknown cluster field",
                (d) =>
                    (find(d, "EnvoyFilter").spec.configPatches[0].patch.value = {
                        original_dst_lb_config: { use_http_headers: true },
                    }),
                /unknown OriginalDstLbConfig field use_http_headers/,
            ],
            [
                "a PeerAuthentication that selects no pod",
                (d) => (find(d, "PeerAuthentication").spec.selector.matchLabels = { app: "other" }),
                /peerauthentication-shape: selector .* matches no pod/,
            ],
            [
                "a DENY policy without rules",
                (d) => delete find(d, "AuthorizationPolicy").spec.rules,
                /DENY action without `rules` is meaningless/,
            ],
            [
                "externalTrafficPolicy on a ClusterIP gateway Service",
                (d) =>
                    (find(d, "HelmRelease", (r) => r.spec.chart === "gateway").spec.values.service = {
                        type: "ClusterIP",
                        externalTrafficPolicy: "Local",
                    }),
                /may only be set for externally-accessible services/,
            ],
        ];
        // On the Gateway API: two apps on one path in their own namespace, TLS from ACME (the Gateway solver).
        const gatewayApiBase = () =>
            parseStackConfig({
                [APPS_KEY]: [
                    {
                        name: "b1",
                        namespace: "backends",
                        path: "/b",
                        match: { headers: { target: "b1" } },
                        affinity: { mode: "header", headerName: "x-user" },
                    },
                    {
                        name: "b2",
                        namespace: "backends",
                        path: "/b",
                        affinity: { mode: "cookie", cookie: { name: "s", ttl: "0s" } },
                    },
                ],
                [MESH_KEY]: { gateway: { api: "gatewayApi", hosts: ["a.example.com"] } },
                [TLS_KEY]: {
                    enabled: true,
                    issuer: "acme",
                    hosts: ["a.example.com"],
                    acme: { email: "o@example.com" },
                },
            }).value;
        const gw = (docs: K8sObject[], kind: string) =>
            docs.find((d) => kindOf(d) === `gateway.networking.k8s.io/${kind}`)!;
        const gatewayApiCases: [string, (docs: K8sObject[]) => void, RegExp][] = [
            ["a Gateway of another class", (d) => (gw(d, "Gateway").spec.gatewayClassName = "envoy"), /is not Istio's/],
            [
                "a Gateway without an address: Istio deploys its own",
                (d) => delete gw(d, "Gateway").spec.addresses,
                /deploys a gateway of its own/,
            ],
            [
                "a Gateway bound to another Service",
                (d) => (gw(d, "Gateway").spec.addresses[0].value = "other-gw"),
                /not the gateway's Service/,
            ],
            [
                "an HTTPS listener with a Secret nothing writes",
                (d) => (gw(d, "Gateway").spec.listeners[1].tls.certificateRefs[0].name = "nope"),
                /no Certificate of the plan writes/,
            ],
            [
                "a route on a listener that does not exist",
                (d) => (gw(d, "HTTPRoute").spec.parentRefs[0].sectionName = "web"),
                /names listener web/,
            ],
            [
                "a route in another namespace than a Same listener's",
                (d) => {
                    const route = gw(d, "HTTPRoute");
                    route.metadata.namespace = "backends";
                    route.spec.parentRefs.forEach((p: Record<string, string>) => (p.namespace = "istio-ingress"));
                },
                /admits routes from istio-ingress only/,
            ],
            [
                "a backend without a ReferenceGrant",
                (d) => (gw(d, "ReferenceGrant").spec.to = []),
                /no ReferenceGrant there allows it/,
            ],
            [
                "a backend port the Service lacks",
                (d) => (gw(d, "HTTPRoute").spec.rules[0].backendRefs[0].port = 81),
                /has no port 81/,
            ],
            [
                "a prefix rewrite on an exact path",
                (d) => (gw(d, "HTTPRoute").spec.rules[0].matches[0].path.type = "Exact"),
                /ReplacePrefixMatch needs a PathPrefix/,
            ],
            [
                "the ACME solver on the HTTPS listener",
                (d) =>
                    (find(d, "ClusterIssuer").spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs[0].sectionName =
                        "https"),
                /HTTP-01 answers on plain HTTP/,
            ],
            [
                "cert-manager without its Gateway API support",
                (d) => delete find(d, "CertManager").spec.helmOptions.values.config,
                /without enableGatewayAPI/,
            ],
        ];
        // Ambient: a header-hashed app and a round-robin one in one namespace.
        const ambientBase = () =>
            parseStackConfig({
                [APPS_KEY]: [
                    { name: "cart", namespace: "shop", affinity: { mode: "header", headerName: "x-user" } },
                    { name: "list", namespace: "shop", affinity: { mode: "none" } },
                ],
                [MESH_KEY]: { dataplane: "ambient" },
            }).value;
        const ambientCases: [string, (docs: K8sObject[]) => void, RegExp][] = [
            [
                "an ambient namespace that also asks for sidecars",
                (d) =>
                    (find(d, "Namespace", (n) => n.metadata.name === "shop").metadata.labels!["istio-injection"] =
                        "enabled"),
                /ambient-namespace-enrolment: labelled for ambient and for sidecar injection/,
            ],
            [
                "a Service naming a waypoint the plan lacks",
                (d) =>
                    (find(d, "Service", (x) => x.metadata.name === "cart").metadata.labels!["istio.io/use-waypoint"] =
                        "other"),
                /ambient-waypoint: uses waypoint other/,
            ],
            [
                "consistent hashing in ambient without a waypoint",
                (d) =>
                    delete find(d, "Service", (x) => x.metadata.name === "cart").metadata.labels![
                        "istio.io/use-waypoint"
                    ],
                /ambient-hash-needs-waypoint: consistent hashing for cart\.shop\.svc\.cluster\.local in ambient without a waypoint/,
            ],
            [
                "a persistent-session label behind a waypoint",
                (d) =>
                    (find(d, "Service", (x) => x.metadata.name === "cart").metadata.labels![
                        "istio.io/persistent-session"
                    ] = "pod"),
                /ambient-no-persistent-session/,
            ],
        ];
        breakageTests("ambient: ", ambientBase, ambientCases);
        const ambient130 = () =>
            parseStackConfig({
                [APPS_KEY]: [{ name: "cart", affinity: { mode: "cookie", cookie: { name: "c", ttl: "0s" } } }],
                [MESH_KEY]: { dataplane: "ambient", version: "1.30.5" },
            }).value;
        breakageTests("ambient on Istio 1.30: ", ambient130, [
            [
                "a hash-mode app without its waypoint VirtualService",
                (d) =>
                    d.splice(
                        d.findIndex((x) => x.kind === "VirtualService" && x.metadata.name === "cart-waypoint"),
                        1,
                    ),
                /ambient-waypoint-hash-needs-virtualservice-1\.30: Istio 1\.30\.5's waypoint waypoint hashes cart\.cart\.svc\.cluster\.local only on a mesh VirtualService's routes/,
            ],
            [
                "a waypoint VirtualService bound to a gateway instead of the mesh",
                (d) =>
                    (find(d, "VirtualService", (x) => x.metadata.name === "cart-waypoint").spec.gateways = [
                        "istio-ingress/sticky-gateway",
                    ]),
                /ambient-waypoint-hash-needs-virtualservice-1\.30/,
            ],
        ]);
        breakageTests("Gateway API: ", gatewayApiBase, gatewayApiCases);
        breakageTests("", base, cases);
    });
});
