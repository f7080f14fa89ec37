/**
 * The rules oracle (tests/support/istioRules.ts) agrees with istiod's own
 * validation. The mesh lab (lab/xds/main.go) runs every Istio object of a
 * stack through istiod's code for the validating webhook (crd.ParseInputs,
 * schema.ValidateConfig); this compares, per object, what istiod says with the
 * oracle's webhook findings: the same objects rejected, the same objects
 * warned about (a rejected object gets no warnings: the webhook answers with
 * the error alone), every oracle message in istiod's words, and every one of
 * istiod's messages explained by an oracle message.
 *
 * Over the shipped stacks and the generated configs, then over objects broken
 * one way each (a table of what istiod rejects or warns about), and last the
 * comparison shown to fail for an oracle that misses, adds or misstates a
 * finding.
 *
 * Every case runs in one generateXds call, without proxies: only istiod's
 * validation is read here.
 */
import { strict as assert } from "assert";
import { buildPlan, Plan, parseStackConfig, StackSettings, type K8sObject } from "istio-sticky";
import { PROJECT_DIR, readStackConfig } from "../../cli/stackFiles";
import { buildWorld, ISTIO_GROUPS } from "../../lab/world";
import { generateXds, ValidationFinding, XdsResult } from "../../lab/xds";
import { generatedConfigs } from "../support/fixtures";
import { Finding, findingsForStack, RULES } from "../support/istioRules";

const SHIPPED = ["dev", "staging", "prod", "ambient"] as const;

const isIstioObject = (o: K8sObject) => ISTIO_GROUPS.includes(o.apiVersion.split("/")[0]);
/** An object as both sides name it: "Kind namespace/name" (the oracle's Finding.object). */
const objectKey = (kind: string, namespace: string | undefined, name: string) =>
    `${kind} ${namespace ? `${namespace}/` : ""}${name}`;

/** The oracle's findings for a plan, with an existing Istio taken to meet the plan's meshRequirements. */
const oracleFindings = (stack: StackSettings, docs: readonly K8sObject[]): Finding[] => findingsForStack(stack, docs);

/** The text before the oracle's own context: a message is "Istio's words (the oracle's context)". */
const firstClause = (message: string) => message.split(" (")[0];
/** Whether istiod's text says what the oracle's message says. */
const says = (istiod: string, message: string) => istiod.includes(message) || istiod.includes(firstClause(message));

/** istiod's messages one by one: a multierror ("2 errors occurred:\n\t* a\n\t* b") split, the webhook's prefixes dropped. */
function istiodMessages(text: string | undefined): string[] {
    if (!text) return [];
    const body = text.replace(/^configuration is invalid: /, "").replace(/^cannot parse proto message for [^:]+: /, "");
    const list = /^\d+ errors occurred:\n/.exec(body);
    if (!list) return [body.trim()];
    return body
        .slice(list[0].length)
        .split(/\n\t\* /)
        .map((m) => m.replace(/^\t\* /, "").trim())
        .filter(Boolean);
}

/**
 * How the oracle's webhook findings and istiod's validation of the same objects differ; empty when they agree. Per object:
 * rejected by both or by neither; when accepted, warned about by both or by neither; each oracle message (its first clause)
 * in istiod's text of the same severity; each of istiod's messages containing the first clause of an oracle message.
 */
function compareValidation(oracle: readonly Finding[], istiod: readonly ValidationFinding[]): string[] {
    const diffs: string[] = [];
    const said = new Map<string, { error: string; warning: string }>();
    for (const v of istiod) {
        if (!v.name) {
            diffs.push(`istiod could not read a document (${v.kind}): ${v.error ?? v.warning}`);
            continue;
        }
        const key = objectKey(v.kind, v.namespace, v.name);
        const s = said.get(key) ?? { error: "", warning: "" };
        said.set(key, {
            error: [s.error, v.error ?? ""].filter(Boolean).join("\n"),
            warning: [s.warning, v.warning ?? ""].filter(Boolean).join("\n"),
        });
    }
    const found = new Map<string, { error: string[]; warning: string[] }>();
    for (const f of oracle) {
        if (f.origin !== "webhook") continue;
        const s = found.get(f.object) ?? { error: [], warning: [] };
        s[f.severity].push(f.message);
        found.set(f.object, s);
    }
    for (const key of [...new Set([...said.keys(), ...found.keys()])].sort()) {
        const istiodSays = said.get(key) ?? { error: "", warning: "" };
        const oracleSays = found.get(key) ?? { error: [], warning: [] };
        // The webhook rejects with the error alone: warnings count only for an object both sides accept.
        const accepted = !istiodSays.error && !oracleSays.error.length;
        for (const severity of ["error", "warning"] as const) {
            const text = severity === "error" || accepted ? istiodSays[severity] : "";
            const messages = severity === "error" || accepted ? oracleSays[severity] : [];
            const verb = severity === "error" ? "rejects" : "warns about";
            if (!!text !== messages.length > 0) {
                diffs.push(
                    text
                        ? `${key}: istiod ${verb} it and the oracle does not: ${JSON.stringify(text)}`
                        : `${key}: the oracle ${verb} it and istiod does not: ${JSON.stringify(messages)}`,
                );
                continue;
            }
            for (const m of messages)
                if (!says(text, m))
                    diffs.push(
                        `${key}: istiod's ${severity} does not say the oracle's ${JSON.stringify(m)}: ${JSON.stringify(text)}`,
                    );
            for (const m of istiodMessages(text))
                if (!messages.some((o) => m.includes(firstClause(o))))
                    diffs.push(`${key}: no oracle ${severity} says istiod's ${JSON.stringify(m)}`);
        }
    }
    return diffs;
}

/** One object broken: the base stack (shipped, or a generated config), how, and what istiod then says of it. */
interface Breakage {
    what: string;
    base: string;
    breakIt: (objects: K8sObject[]) => void;
    /** What istiod says of the broken object: "error: ..." or "warning: ..." (white space runs as one space), "" for nothing. */
    istiod: RegExp;
    /** A finding of the oracle's from the CRD's schema, which the API server applies and istiod's decoding does not. */
    schema?: RegExp;
}

/** The first object of a kind (and name). */
function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
    const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
    if (!o) throw new Error(`the plan has no ${kind} ${name ?? ""}`);
    return o;
}
const dr = (o: K8sObject[]) => find(o, "DestinationRule", "sticky").spec;
const vs = (o: K8sObject[]) => find(o, "VirtualService", "path-sticky").spec;
const gw = (o: K8sObject[]) => find(o, "Gateway", "sticky-gateway").spec;
const ef = (o: K8sObject[]) => find(o, "EnvoyFilter", "sticky-direct").spec;
const ap = (o: K8sObject[]) => find(o, "AuthorizationPolicy", "sticky-direct").spec;
const pa = (o: K8sObject[]) => find(o, "PeerAuthentication", "sticky").spec;
/** The dev stack's direct route: its first match's headers. */
const directHeaders = (o: K8sObject[]) => vs(o).http[0].match[0].headers;
const hashed = (consistentHash: object) => (o: K8sObject[]) =>
    (dr(o).trafficPolicy = { loadBalancer: { consistentHash } });

/** Regexes Go's regexp (RE2 syntax) takes, and that JavaScript may not. */
const RE2_VALID = [
    "a.b",
    "(?i)abc",
    "(?P<n>a)",
    "(?<n>a)",
    "\\pL",
    "\\p{Greek}",
    "\\PL",
    "\\p{^Greek}",
    "\\p{Letter}",
    "[\\p{Lu}]",
    "[[:alpha:]]",
    "[[:^digit:]]",
    "\\Aa\\z",
    "^*a",
    "a{2,}",
    "a{,2}",
    "a{01}",
    "x{1000}",
    "\\Qa.b(\\E",
    "[]a]",
    "[^]a]",
    "[a-]",
    "\\x41\\x{263a}",
    "\\101",
    "\\0",
    "a*?",
    "a??",
    "(?s:.)",
    "(?-i:a)",
    "(?i-s)a",
    "[\\d\\-z]",
    "\\_",
    "(?:)",
    "|a",
    "a|",
    "()",
    "(?U)a+",
];
/** Regexes Go's regexp refuses, one of each of its errors. */
const RE2_INVALID = [
    "a(b",
    "a)b",
    "(?=a)",
    "(?!a)",
    "(?<=a)b",
    "(?<!a)",
    "(a)\\1",
    "\\8",
    "\\Z",
    "\\C",
    "\\e",
    "\\k<n>",
    "\\u0041",
    "\\cA",
    "a{1001}",
    "a{2,1}",
    "(a{100}){11}",
    "(x{2}){501}",
    "a**",
    "a*+",
    "a{2}{3}",
    "x{1000}{2}",
    "*a",
    "(*a)",
    "|*",
    "[z-a]",
    "[[:foo:]]",
    "[a",
    "\\p{Foo}",
    "\\pX",
    "\\p{Greek",
    "(?P<>a)",
    "(?P<n",
    "(?P=n)",
    "(?#c)",
    "(?x)",
    "(?i",
    "(?-)",
    "\\x{110000}",
    "\\xZZ",
    "a\\",
    "[\\8]",
];

/** On the dev stack, which has one object of each kind the webhook rules read. */
const BREAKAGES: Breakage[] = [
    // DestinationRule
    {
        what: "an empty subset traffic policy",
        base: "dev",
        breakIt: (o) => (dr(o).subsets[0].trafficPolicy = {}),
        istiod: /^error: .*traffic policy must have at least one field/,
    },
    {
        what: "maglev without a table size",
        base: "dev",
        breakIt: hashed({ httpHeaderName: "x", maglev: {} }),
        istiod: /^error: .*tableSize must be set for maglev/,
    },
    {
        what: "a maglev table that is not prime",
        base: "dev",
        breakIt: hashed({ httpHeaderName: "x", maglev: { tableSize: 65536 } }),
        istiod: /^error: .*tableSize must be a prime/,
    },
    {
        what: "a maglev table too large",
        base: "dev",
        breakIt: hashed({ httpHeaderName: "x", maglev: { tableSize: 5000077 } }),
        istiod: /^error: .*less than 5000011/,
    },
    {
        what: "the deprecated minimumRingSize (a warning)",
        base: "dev",
        breakIt: hashed({ httpHeaderName: "x", minimumRingSize: 1024 }),
        istiod: /^warning: consistent hash MinimumRingSize is deprecated/,
    },
    {
        what: "the deprecated minimumRingSize in a subset (warnings of subsets are dropped)",
        base: "dev",
        breakIt: (o) =>
            (dr(o).subsets[0].trafficPolicy = {
                loadBalancer: { consistentHash: { httpHeaderName: "x", minimumRingSize: 1024 } },
            }),
        istiod: /^$/,
    },
    {
        what: "minimumRingSize beside ringHash",
        base: "dev",
        breakIt: hashed({ httpHeaderName: "x", minimumRingSize: 1024, ringHash: { minimumRingSize: 1024 } }),
        istiod: /^error: .*only one of MinimumRingSize or Maglev\/Ringhash/,
    },
    {
        what: "a cookie without a name",
        base: "dev",
        breakIt: hashed({ httpCookie: { ttl: "0s" } }),
        istiod: /^error: .*name required for HttpCookie/,
    },
    {
        what: "cookie attributes repeated or unnamed",
        base: "dev",
        breakIt: hashed({ httpCookie: { name: "c", attributes: [{ name: "A" }, { name: "A" }, { name: "" }] } }),
        istiod: /^error: .*duplicate cookie attribute name: A/,
    },
    {
        what: "simple beside consistentHash (the CRD's schema refuses it; istiod keeps the last)",
        base: "dev",
        breakIt: (o) => (dr(o).trafficPolicy.loadBalancer.simple = "ROUND_ROBIN"),
        istiod: /^$/,
        schema: /simple and consistentHash are one of lb_policy/,
    },
    {
        what: "two hash keys (the CRD's schema refuses them; istiod keeps the last)",
        base: "dev",
        breakIt: hashed({ httpHeaderName: "x", useSourceIp: true }),
        istiod: /^$/,
        schema: /httpHeaderName and useSourceIp are one of hash_key/,
    },
    {
        what: "an upper-case hash header (Istio takes it)",
        base: "dev",
        breakIt: hashed({ httpHeaderName: "X-User" }),
        istiod: /^$/,
    },
    { what: "consistentHash without a key (Istio takes it)", base: "dev", breakIt: hashed({}), istiod: /^$/ },
    {
        what: "two subsets of one name",
        base: "dev",
        breakIt: (o) => (dr(o).subsets[1].name = "normal"),
        istiod: /^error: .*duplicate subset names: normal/,
    },
    {
        what: "a subset name that is no DNS label",
        base: "dev",
        breakIt: (o) => (dr(o).subsets[1].name = "direct_x"),
        istiod: /^error: .*subset name is invalid/,
    },
    {
        what: "a subset label value Kubernetes refuses",
        base: "dev",
        breakIt: (o) => (dr(o).subsets[1].labels = { app: "a b" }),
        istiod: /^error: .*invalid tag value/,
    },
    {
        what: "a host that is no domain",
        base: "dev",
        breakIt: (o) => (dr(o).host = "sticky_x.sticky.svc.cluster.local"),
        istiod: /^error: .*domain name .* invalid/,
    },
    // VirtualService
    {
        what: "no hosts but gateways (a delegate)",
        base: "dev",
        breakIt: (o) => delete vs(o).hosts,
        istiod: /^error: .*delegate virtual service must have no gateways/,
    },
    {
        what: "host * on the mesh",
        base: "dev",
        breakIt: (o) => (vs(o).gateways = ["mesh", "istio-ingress/sticky-gateway"]),
        istiod: /^error: .*wildcard host \*/,
    },
    {
        what: "no routes",
        base: "dev",
        breakIt: (o) => (vs(o).http = []),
        istiod: /^error: .*http, tcp or tls must be provided/,
    },
    {
        what: "a gateway named the legacy way (a warning)",
        base: "dev",
        breakIt: (o) => (vs(o).gateways = ["sticky-gateway.istio-ingress"]),
        istiod: /^warning: using legacy gatewayName/,
    },
    {
        what: "a gateway without a name",
        base: "dev",
        breakIt: (o) => (vs(o).gateways = ["istio-ingress/"]),
        istiod: /^error: .*gateway name cannot be empty/,
    },
    {
        what: "a host twice",
        base: "dev",
        breakIt: (o) => (vs(o).hosts = ["a.example.com", "*.example.com"]),
        istiod: /^error: .*duplicate hosts/,
    },
    {
        what: "a route beside a direct response",
        base: "dev",
        breakIt: (o) => (vs(o).http[1].route = vs(o).http[0].route),
        istiod: /^error: .*both route and direct_response/,
    },
    {
        what: "a redirect beside a route and rewrite",
        base: "dev",
        breakIt: (o) => (vs(o).http[0].redirect = { uri: "/x" }),
        istiod: /^error: .*both route and redirect/,
    },
    {
        what: "a route without destination",
        base: "dev",
        breakIt: (o) => {
            delete vs(o).http[0].route;
            delete vs(o).http[0].rewrite;
        },
        istiod: /^error: .*HTTP route, redirect or direct_response is required/,
    },
    {
        what: "a rewrite beside a direct response",
        base: "dev",
        breakIt: (o) => (vs(o).http[1].rewrite = { uri: "/" }),
        istiod: /^error: .*both rewrite and direct_response/,
    },
    {
        what: "a header name that is no token",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["bad header"] = { exact: "x" }),
        istiod: /^error: .*not a valid header name/,
    },
    {
        what: "an upper-case header name (Istio takes it)",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["X-Foo"] = { exact: "x" }),
        istiod: /^$/,
    },
    {
        what: "a lookahead RE2 rejects",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["x-envoy-original-dst-host"] = { regex: "(?=10)10.*" }),
        istiod: /^error: .*Perl syntax/,
    },
    {
        what: "a lookbehind RE2 rejects",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["x-envoy-original-dst-host"] = { regex: "(?<=1)0" }),
        istiod: /^error: .*named capture/,
    },
    {
        what: "a backreference RE2 rejects",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "(a)\\1" }),
        istiod: /^error: .*invalid escape/,
    },
    {
        what: "a repeat count over 1000",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "a{1001}" }),
        istiod: /^error: .*invalid repeat count/,
    },
    {
        what: "nested repeats over 1000",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "(a{100}){11}" }),
        istiod: /^error: .*invalid repeat count/,
    },
    {
        what: "a repeat of a repeat",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "a**" }),
        istiod: /^error: .*nested repetition/,
    },
    {
        what: "a repeat of nothing",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "(*a)" }),
        istiod: /^error: .*missing argument/,
    },
    {
        what: "an unknown POSIX class",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "[[:foo:]]" }),
        istiod: /^error: .*character class range/,
    },
    {
        what: "a \\Z JavaScript takes and RE2 does not",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "true\\Z" }),
        istiod: /^error: .*invalid escape/,
    },
    {
        what: "RE2 syntax JavaScript refuses: flags, \\pL, \\z, ^*, a POSIX class (Istio takes it)",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "(?i)^*tr[[:alpha:]]\\pL(?P<x>e)\\z" }),
        istiod: /^$/,
    },
    {
        what: "RE2's verdict on a table of regexes",
        base: "dev",
        breakIt: (o) =>
            [...RE2_VALID, ...RE2_INVALID].forEach((regex, n) => (directHeaders(o)[`x-re-${n}`] = { regex })),
        istiod: new RegExp(`^error: configuration is invalid: ${RE2_INVALID.length} errors occurred: `),
    },
    {
        what: "a regex over 1024 bytes",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "1".repeat(1025) }),
        istiod: /^error: .*regex is too large/,
    },
    {
        what: "an empty regex",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { regex: "" }),
        istiod: /^error: .*regex string match should not be empty/,
    },
    {
        what: "an empty header prefix",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { prefix: "" }),
        istiod: /^error: .*prefix string match should not be empty/,
    },
    {
        what: "a header match of two types (the CRD's schema refuses it; istiod keeps the last)",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = { exact: "a", prefix: "b" }),
        istiod: /^$/,
        schema: /a StringMatch takes one of exact, prefix, regex/,
    },
    {
        what: "a header match of no type (Istio takes it)",
        base: "dev",
        breakIt: (o) => (directHeaders(o)["use-direct"] = {}),
        istiod: /^$/,
    },
    {
        what: "a URI regex that does not compile",
        base: "dev",
        breakIt: (o) => (vs(o).http[0].match[0].uri = { regex: "a(b" }),
        istiod: /^error: .*missing closing \)/,
    },
    {
        what: "an empty URI prefix (Istio takes it)",
        base: "dev",
        breakIt: (o) => (vs(o).http[0].match[0].uri = { prefix: "" }),
        istiod: /^$/,
    },
    {
        what: "a status past 600",
        base: "dev",
        breakIt: (o) => (vs(o).http[1].directResponse.status = 700),
        istiod: /^error: .*HTTP status 700/,
    },
    {
        what: "a direct response over 100 kB (a warning)",
        base: "dev",
        breakIt: (o) => (vs(o).http[1].directResponse.body.string = "x".repeat(200 * 1024)),
        istiod: /^warning: large/,
    },
    {
        what: "a direct response over 1 MB",
        base: "dev",
        breakIt: (o) => (vs(o).http[1].directResponse.body.string = "x".repeat(2 << 20)),
        istiod: /^error: .*less than 1MB/,
    },
    {
        what: "an empty rewrite",
        base: "dev",
        breakIt: (o) => (vs(o).http[0].rewrite = {}),
        istiod: /^error: .*rewrite must specify/,
    },
    {
        what: "a rewrite of URI and regex",
        base: "dev",
        breakIt: (o) => (vs(o).http[0].rewrite = { uri: "/", uriRegexRewrite: { match: "a", rewrite: "b" } }),
        istiod: /^error: .*only contain one of URI or UriRegexRewrite/,
    },
    {
        what: "Host and :path removed",
        base: "dev",
        breakIt: (o) => (vs(o).http[2].headers.request.remove = ["Host", ":path"]),
        istiod: /^error: .*cannot set Host header/,
    },
    {
        what: ":path set on the request",
        base: "dev",
        breakIt: (o) => (vs(o).http[2].headers.request.set = { ":path": "/" }),
        istiod: /^error: .*cannot have ":" prefix/,
    },
    {
        what: "destination host *",
        base: "dev",
        breakIt: (o) => (vs(o).http[0].route[0].destination.host = "*"),
        istiod: /^error: .*invalid destination host/,
    },
    {
        what: "a destination subset that is no DNS label",
        base: "dev",
        breakIt: (o) => (vs(o).http[0].route[0].destination.subset = "x_y"),
        istiod: /^error: .*subset name is invalid/,
    },
    {
        what: "a destination port out of range",
        base: "dev",
        breakIt: (o) => (vs(o).http[0].route[0].destination.port.number = 70000),
        istiod: /^error: .*port number 70000/,
    },
    {
        what: "a catch-all route first (warnings)",
        base: "dev",
        breakIt: (o) => vs(o).http.unshift({ name: "all", route: vs(o).http[2].route }),
        istiod: /^warning: .*route without matches defined before/,
    },
    {
        what: "two catch-all routes (a warning)",
        base: "dev",
        breakIt: (o) =>
            vs(o).http.push({ name: "all", route: vs(o).http[2].route }, { name: "all2", route: vs(o).http[2].route }),
        istiod: /^warning: .*only the last rule can have no matches/,
    },
    {
        what: "a route whose matches all come earlier (warnings)",
        base: "dev",
        breakIt: (o) =>
            vs(o).http.push({
                name: "dup",
                match: [{ ...vs(o).http[2].match[0], name: "again" }],
                route: vs(o).http[2].route,
            }),
        istiod: /^warning: .*all matches used by prior rules/,
    },
    {
        what: "one match that comes earlier (a warning)",
        base: "dev",
        breakIt: (o) =>
            vs(o).http.push({
                name: "dup",
                match: [vs(o).http[2].match[0], { uri: { prefix: "/other" } }],
                route: vs(o).http[2].route,
            }),
        istiod: /^warning: .*duplicate\/overlapping match/,
    },
    {
        what: "a prefix an earlier prefix covers (a warning)",
        base: "dev",
        breakIt: (o) =>
            vs(o).http.push({
                name: "longer",
                match: [{ uri: { prefix: "/sticky/deeper" } }],
                route: vs(o).http[2].route,
            }),
        istiod: /^warning: .*of prefix \/sticky\/deeper is not used/,
    },
    // Gateway
    {
        what: "a Gateway name with dots",
        base: "dev",
        breakIt: (o) => (find(o, "Gateway").metadata.name = "sticky.gateway"),
        istiod: /^error: .*invalid gateway name/,
    },
    { what: "no servers", base: "dev", breakIt: (o) => (gw(o).servers = []), istiod: /^error: .*at least one server/ },
    {
        what: "two servers with one port name",
        base: "dev",
        breakIt: (o) => (gw(o).servers[1].port.name = "http"),
        istiod: /^error: .*port names in servers must be unique/,
    },
    {
        what: "a server without hosts",
        base: "dev",
        breakIt: (o) => (gw(o).servers[0].hosts = []),
        istiod: /^error: .*at least one host/,
    },
    {
        what: "a server host that is no domain",
        base: "dev",
        breakIt: (o) => (gw(o).servers[1].hosts = ["bad_host.example.com"]),
        istiod: /^error: .*domain name/,
    },
    {
        what: "a short server host",
        base: "dev",
        breakIt: (o) => (gw(o).servers[1].hosts = ["sticky"]),
        istiod: /^error: .*short names/,
    },
    {
        what: "a server port without a name",
        base: "dev",
        breakIt: (o) => (gw(o).servers[0].port.name = ""),
        istiod: /^error: .*port name must be set/,
    },
    {
        what: "an unknown protocol",
        base: "dev",
        breakIt: (o) => (gw(o).servers[0].port.protocol = "FOO"),
        istiod: /^error: .*invalid protocol "FOO"/,
    },
    {
        what: "a lower-case protocol (Istio takes it)",
        base: "dev",
        breakIt: (o) => (gw(o).servers[0].port.protocol = "http"),
        istiod: /^$/,
    },
    {
        what: "a port out of range",
        base: "dev",
        breakIt: (o) => (gw(o).servers[0].port.number = 70000),
        istiod: /^error: .*port number 70000/,
    },
    {
        what: "a targetPort",
        base: "dev",
        breakIt: (o) => (gw(o).servers[0].port.targetPort = 8080),
        istiod: /^error: .*targetPort has no impact/,
    },
    {
        what: "HTTPS without TLS settings",
        base: "dev",
        breakIt: (o) => delete gw(o).servers[1].tls,
        istiod: /^error: .*must have TLS settings/,
    },
    {
        what: "HTTP terminating TLS",
        base: "dev",
        breakIt: (o) => (gw(o).servers[0].tls = { mode: "SIMPLE", credentialName: "x" }),
        istiod: /^error: .*TLS settings for plain text HTTP/,
    },
    {
        what: "HTTP with a credential and no mode (PASSTHROUGH: a warning)",
        base: "dev",
        breakIt: (o) => (gw(o).servers[0].tls = { credentialName: "x" }),
        istiod: /^warning: PASSTHROUGH mode does not use certificates/,
    },
    {
        what: "TCP with TLS settings",
        base: "dev",
        breakIt: (o) =>
            Object.assign(gw(o).servers[0], {
                port: { number: 80, name: "tcp", protocol: "TCP" },
                tls: { httpsRedirect: true },
            }),
        istiod: /^error: .*non HTTPS\/TLS ports/,
    },
    {
        what: "httpsRedirect on HTTPS (a warning)",
        base: "dev",
        breakIt: (o) => (gw(o).servers[1].tls.httpsRedirect = true),
        istiod: /^warning: tls.httpsRedirect/,
    },
    {
        what: "SIMPLE TLS without a certificate",
        base: "dev",
        breakIt: (o) => delete gw(o).servers[1].tls.credentialName,
        istiod: /^error: .*SIMPLE TLS requires a server certificate/,
    },
    {
        what: "an invalid cipher suite (a warning)",
        base: "dev",
        breakIt: (o) => (gw(o).servers[1].tls.cipherSuites = ["NOPE", "AES128-SHA"]),
        istiod: /^warning: ignoring invalid cipher suites: \[NOPE\]/,
    },
    // EnvoyFilter
    {
        what: "a selector without labels (a warning)",
        base: "dev",
        breakIt: (o) => (ef(o).workloadSelector.labels = {}),
        istiod: /^warning: .*specified without labels/,
    },
    {
        what: "a wildcard selector (no warnings then)",
        base: "dev",
        breakIt: (o) => (ef(o).workloadSelector.labels = { app: "*" }),
        istiod: /^error: .*wildcard is not supported/,
    },
    {
        what: "a patch without applyTo nor operation (the first only)",
        base: "dev",
        breakIt: (o) => {
            delete ef(o).configPatches[0].applyTo;
            delete ef(o).configPatches[0].patch.operation;
        },
        istiod: /^error: .*missing applyTo$/,
    },
    {
        what: "a patch without operation",
        base: "dev",
        breakIt: (o) => delete ef(o).configPatches[0].patch.operation,
        istiod: /^error: .*missing patch operation/,
    },
    {
        what: "a MERGE without value",
        base: "dev",
        breakIt: (o) => delete ef(o).configPatches[0].patch.value,
        istiod: /^error: .*missing patch value/,
    },
    {
        what: "a CLUSTER patch matching a listener",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].match = { context: "GATEWAY", listener: { portNumber: 80 } }),
        istiod: /^error: .*cluster class objects cannot have non cluster match/,
    },
    {
        what: "a CLUSTER patch matching on context only (Istio takes it)",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].match = { context: "GATEWAY" }),
        istiod: /^warning: EnvoyFilter exposes/,
    },
    {
        what: "an unknown OriginalDstLbConfig field (a warning)",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].patch.value = { original_dst_lb_config: { use_http_headers: true } }),
        istiod: /^warning: .*unknown field "use_http_headers"/,
    },
    {
        what: "an unknown Cluster field beside a known one (a warning)",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].patch.value = { bogus: 2, connect_timeout: "5s" }),
        istiod: /^warning: .*unknown field "bogus" in envoy\.config\.cluster\.v3\.Cluster$/,
    },
    {
        what: "unknown Cluster fields (a warning naming one, in Go's map order)",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].patch.value = { zzz: 1, bogus: 2 }),
        istiod: /^warning: .*unknown field "(zzz|bogus)" in envoy\.config\.cluster\.v3\.Cluster$/,
    },
    {
        what: "an unknown OriginalDstLbConfig field before an unknown Cluster field (a warning)",
        base: "dev",
        breakIt: (o) =>
            (ef(o).configPatches[0].patch.value = { aaa: 1, original_dst_lb_config: { use_http_headers: true } }),
        istiod: /^warning: .*unknown field "use_http_headers" in envoy\.config\.cluster\.v3\.Cluster\.OriginalDstLbConfig$/,
    },
    {
        what: "original_dst_lb_config a number",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].patch.value = { original_dst_lb_config: 5 }),
        istiod: /^error: .*cannot unmarshal number into Go value of type map\[string\]json\.RawMessage/,
    },
    {
        what: "camelCase Cluster fields (Istio takes them)",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].patch.value = { originalDstLbConfig: { useHttpHeader: true } }),
        istiod: /^warning: EnvoyFilter exposes/,
    },
    {
        what: "use_http_header a number",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].patch.value = { original_dst_lb_config: { use_http_header: 1 } }),
        istiod: /^error: .*cannot unmarshal number into Go value of type bool/,
    },
    {
        what: "a proxy version regex RE2 rejects",
        base: "dev",
        breakIt: (o) => (ef(o).configPatches[0].match.proxy = { proxyVersion: "1\\.3(?!0)" }),
        istiod: /^error: .*proxy version/,
    },
    // AuthorizationPolicy
    {
        what: "DENY without rules",
        base: "dev",
        breakIt: (o) => delete ap(o).rules,
        istiod: /^error: .*DENY action without `rules`/,
    },
    {
        what: "a source with no field",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].from = [{ source: {} }]),
        istiod: /^error: .*`from.source` must not be empty/,
    },
    {
        what: "a from without source",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].from = [{}]),
        istiod: /^error: .*`from.source` must not be nil/,
    },
    {
        what: "addresses Go's netip refuses (and IPv6 it takes)",
        base: "dev",
        breakIt: (o) =>
            (ap(o).rules[0].from[0].source.notRemoteIpBlocks = ["10.0.0.300/8", "010.0.0.1", "fd00::/8", "10.0.0.1/8"]),
        istiod: /^error: .*bad CIDR range \(10\.0\.0\.300\/8\)/,
    },
    {
        what: "an operation with no field",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].to = [{ operation: {} }]),
        istiod: /^error: .*`to.operation` must not be empty/,
    },
    {
        what: "a port that is no number",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].to[0].operation.ports = ["80x"]),
        istiod: /^error: .*bad port \(80x\)/,
    },
    {
        what: "a path template with braces",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].to[0].operation.paths = ["/a/{x}"]),
        istiod: /^error: .*Contains '\{' or '\}'/,
    },
    {
        what: "a condition without values",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].when = [{ key: "request.headers[x]" }]),
        istiod: /^error: .*at least one of `values`/,
    },
    {
        what: "a header condition without a name",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].when = [{ key: "request.headers[]", values: ["a"] }]),
        istiod: /^error: .*bad key/,
    },
    {
        what: "an unknown condition key",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].when = [{ key: "foo.bar", values: ["a"] }]),
        istiod: /^error: .*unknown attribute: foo.bar/,
    },
    {
        what: "an empty condition value",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].when[0].values = [""]),
        istiod: /^error: .*empty value not allowed/,
    },
    {
        what: "a wildcard selector",
        base: "dev",
        breakIt: (o) => (ap(o).selector.matchLabels = { app: "*" }),
        istiod: /^error: .*wildcard is not supported in selector/,
    },
    {
        what: "a selector without labels (a warning)",
        base: "dev",
        breakIt: (o) => (ap(o).selector.matchLabels = {}),
        istiod: /^warning: .*workload selector specified without labels/,
    },
    {
        what: "a DENY rule on a port too (no TCP warning)",
        base: "dev",
        breakIt: (o) => (ap(o).rules[0].to[0].operation.ports = ["80"]),
        istiod: /^$/,
    },
    // PeerAuthentication
    {
        what: "port-level mTLS without a selector",
        base: "dev",
        breakIt: (o) => {
            delete pa(o).selector;
            pa(o).portLevelMtls = { 8080: { mode: "DISABLE" } };
        },
        istiod: /^error: .*cannot have port level mTLS/,
    },
    {
        what: "port-level mTLS with no port",
        base: "dev",
        breakIt: (o) => (pa(o).portLevelMtls = {}),
        istiod: /^error: .*must have at least one element/,
    },
    {
        what: "port 0",
        base: "dev",
        breakIt: (o) => (pa(o).portLevelMtls = { 0: { mode: "DISABLE" } }),
        istiod: /^error: .*port must be in range/,
    },
    {
        what: "a selector without labels (a PeerAuthentication warning)",
        base: "dev",
        breakIt: (o) => (pa(o).selector.matchLabels = {}),
        istiod: /^warning: workload selector/,
    },
    {
        what: "an unknown mTLS mode",
        base: "dev",
        breakIt: (o) => (pa(o).mtls.mode = "FOO"),
        istiod: /^error: .*unknown value/,
    },
    // On the ambient stack's maglev DestinationRule.
    {
        what: "the ambient stack's maglev table not prime",
        base: "ambient",
        breakIt: (o) =>
            (find(o, "DestinationRule", "carts").spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize =
                65536),
        istiod: /^error: .*tableSize must be a prime/,
    },
];

/** One plan through both: its objects, the oracle's findings, and istiod's validation. */
interface Ran {
    plan: Plan;
    oracle: Finding[];
    result: XdsResult;
}

describe("the rules oracle agrees with istiod's own validation", function () {
    const generated = generatedConfigs();
    const ran = new Map<string, Ran>();
    const broken = new Map<string, Ran & { changed: string[] }>();
    let wall = 0;

    before(function () {
        // A cold build of the lab's Go program takes minutes; then each case a fraction of a second.
        this.timeout(30 * 60_000);
        const started = performance.now();
        const stacks = new Map<string, StackSettings>();
        for (const s of SHIPPED) stacks.set(s, parseStackConfig(readStackConfig(PROJECT_DIR, s)).value);
        for (const [name, config] of generated) stacks.set(name, parseStackConfig(config).value);
        const runs: { name: string; stack: StackSettings; plan: Plan; done: (r: Ran) => void }[] = [];
        for (const [name, stack] of stacks)
            runs.push({ name, stack, plan: buildPlan(stack, { demoAppSource: "x" }), done: (r) => ran.set(name, r) });
        for (const b of BREAKAGES) {
            const stack = stacks.get(b.base);
            if (!stack) throw new Error(`no stack or generated config named ${b.base}`);
            const base = runs.find((r) => r.name === b.base)!.plan;
            const plan = structuredClone(base);
            const objects = plan.objects.map((o) => o.object);
            b.breakIt(objects);
            const before = base.objects.map((o) => JSON.stringify(o.object));
            const changed = objects
                .filter((o, i) => isIstioObject(o) && JSON.stringify(o) !== before[i])
                .map((o) => objectKey(o.kind, o.metadata.namespace, o.metadata.name));
            runs.push({
                name: `${b.base}: ${b.what}`,
                stack,
                plan,
                done: (r) => broken.set(b.what, { ...r, changed }),
            });
        }
        const cases = runs.map((r) => ({ ...buildWorld(r.plan, { name: r.name }).xds, proxies: [] }));
        const results = generateXds(cases);
        runs.forEach((r, i) =>
            r.done({
                plan: r.plan,
                oracle: oracleFindings(
                    r.stack,
                    r.plan.objects.map((o) => o.object),
                ),
                result: results[i],
            }),
        );
        wall = (performance.now() - started) / 1000;
    });

    after(() =>
        console.log(
            `      ${ran.size} configs and ${broken.size} broken objects through istiod's validation and the oracle in ${wall.toFixed(1)} s`,
        ),
    );

    const of = (name: string): Ran => {
        const r = ran.get(name);
        assert.ok(r, `${name} did not run`);
        assert.equal(r.result.error, undefined, `${name}: ${r.result.error}`);
        return r;
    };

    it("runs every webhook rule's kinds through istiod", () => {
        const webhook = RULES.filter((r) => r.origin === "webhook");
        assert.ok(webhook.length >= 12, webhook.map((r) => r.id).join(", "));
        const kinds = new Set(
            [...ran.values()].flatMap((r) =>
                r.plan.objects
                    .map((o) => o.object)
                    .filter(isIstioObject)
                    .map((o) => o.kind),
            ),
        );
        for (const r of webhook)
            assert.ok(
                r.kinds.some((k) => kinds.has(k)),
                `${r.id}: no ${r.kinds.join(" or ")} rendered`,
            );
        assert.equal(ran.size, SHIPPED.length + generated.length);
        assert.ok(generated.length >= 100, `${generated.length} generated configs`);
    });

    for (const stack of SHIPPED) {
        it(`the ${stack} stack: the same objects rejected and warned about, in the same words`, () => {
            const r = of(stack);
            assert.deepEqual(compareValidation(r.oracle, r.result.validation), []);
        });
    }

    it("every generated config: the same objects rejected and warned about, in the same words", () => {
        const diffs = generated.flatMap(([name]) =>
            compareValidation(of(name).oracle, of(name).result.validation).map((d) => `${name}: ${d}`),
        );
        assert.deepEqual(diffs, []);
    });

    it("istiod rejects nothing the package renders, and warns only about EnvoyFilters and DENY policies on HTTP attributes", () => {
        const said = [...ran.entries()].flatMap(([config, r]) => r.result.validation.map((v) => ({ config, ...v })));
        assert.deepEqual(
            said.filter((v) => v.error).map((v) => `${v.config}: ${v.kind} ${v.namespace}/${v.name}: ${v.error}`),
            [],
        );
        const warnings = new Set(said.flatMap((v) => istiodMessages(v.warning).map((w) => `${v.kind}: ${w}`)));
        assert.deepEqual([...warnings].sort(), [
            "AuthorizationPolicy: configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port",
            "EnvoyFilter: EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.",
        ]);
    });

    describe("a broken object: the oracle says what istiod says", () => {
        for (const b of BREAKAGES) {
            it(b.what, () => {
                const r = broken.get(b.what);
                assert.ok(r, `${b.what} did not run`);
                assert.equal(r.result.error, undefined, r.result.error);
                assert.equal(r.changed.length, 1, `the breakage changes one Istio object (${r.changed.join(", ")})`);
                const said = r.result.validation.filter((v) => objectKey(v.kind, v.namespace, v.name) === r.changed[0]);
                const text = said
                    .map((v) => (v.error ? `error: ${v.error}` : `warning: ${v.warning}`))
                    .join(" ")
                    .replace(/\s+/g, " ")
                    .trim();
                assert.match(text, b.istiod, `what istiod says of ${r.changed[0]}: ${JSON.stringify(text)}`);
                assert.deepEqual(compareValidation(r.oracle, r.result.validation), []);
                const schema = r.oracle.filter((f) => f.origin === "schema").map((f) => f.message);
                if (b.schema)
                    assert.ok(
                        schema.some((m) => b.schema!.test(m)),
                        `the oracle's schema findings: ${JSON.stringify(schema)}`,
                    );
                else assert.deepEqual(schema, []);
            });
        }
    });

    describe("the comparison notices an oracle that disagrees", () => {
        const brokenRun = (what: string) => {
            const r = broken.get(what);
            assert.ok(r, `${what} did not run`);
            return r;
        };

        it("one that misses the non-prime maglev table istiod rejects", () => {
            const r = brokenRun("a maglev table that is not prime");
            assert.ok(r.oracle.some((f) => f.origin === "webhook" && /tableSize must be a prime/.test(f.message)));
            const diffs = compareValidation([], r.result.validation);
            assert.ok(
                diffs.some(
                    (d) =>
                        d.startsWith("DestinationRule sticky/sticky: istiod rejects it and the oracle does not") &&
                        d.includes("tableSize must be a prime"),
                ),
                diffs.join("\n"),
            );
        });

        it("one that misses the regex RE2 rejects", () => {
            const r = brokenRun("a \\Z JavaScript takes and RE2 does not");
            const withoutIt = r.oracle.filter((f) => !/error parsing regexp/.test(f.message));
            assert.ok(withoutIt.length < r.oracle.length, "the oracle found the regex");
            const diffs = compareValidation(withoutIt, r.result.validation);
            assert.ok(
                diffs.some(
                    (d) =>
                        d.startsWith("VirtualService istio-ingress/path-sticky: istiod rejects it") &&
                        d.includes("invalid escape sequence"),
                ),
                diffs.join("\n"),
            );
        });

        it("one that misses a second error of an object it does reject", () => {
            const r = brokenRun("maglev without a table size");
            const diffs = compareValidation(
                r.oracle.filter((f) => !/prime/.test(f.message)),
                r.result.validation,
            );
            assert.deepEqual(diffs, [
                `DestinationRule sticky/sticky: no oracle error says istiod's "tableSize must be a prime number for maglev"`,
            ]);
        });

        it("one that rejects what istiod accepts, or warns where istiod does not", () => {
            const r = of("dev");
            const extra = (severity: "error" | "warning"): Finding => ({
                rule: "test",
                severity,
                object: "PeerAuthentication sticky/sticky",
                message: "made up",
                origin: "webhook",
            });
            assert.deepEqual(compareValidation([...r.oracle, extra("error")], r.result.validation), [
                'PeerAuthentication sticky/sticky: the oracle rejects it and istiod does not: ["made up"]',
            ]);
            assert.deepEqual(compareValidation([...r.oracle, extra("warning")], r.result.validation), [
                'PeerAuthentication sticky/sticky: the oracle warns about it and istiod does not: ["made up"]',
            ]);
        });

        it("one that says something else than istiod", () => {
            const r = brokenRun("a status past 600");
            const reworded = r.oracle.map((f) =>
                /HTTP status 700/.test(f.message)
                    ? { ...f, message: "status out of range (route sticky-direct-refused)" }
                    : f,
            );
            const diffs = compareValidation(reworded, r.result.validation);
            assert.ok(
                diffs.some((d) => d.includes(`istiod's error does not say the oracle's "status out of range`)),
                diffs.join("\n"),
            );
            assert.ok(
                diffs.some((d) =>
                    d.includes(`no oracle error says istiod's "HTTP status 700 is not in range 200-599"`),
                ),
                diffs.join("\n"),
            );
        });
    });
});
