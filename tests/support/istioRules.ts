/**
 * An oracle for the rules Istio applies to the kinds this project generates:
 * istiod's validating webhook (which rejects an object, or warns about it), the
 * CRD's OpenAPI schema (which the API server applies first), and the
 * controllers (which ignore an object, or route it nowhere). Each rule names
 * where Istio implements it: the webhook rules at Istio 1.31 (the release the
 * mesh lab links, and holds them against), the others at 1.30. Paths are
 * relative to the istio/istio repository unless they name another.
 *
 * Findings of webhook rules are held against istiod's own validation by
 * tests/lab/oracle.test.ts. Their messages start with Istio's own words and
 * put the oracle's context (which route, which header) in a trailing
 * parenthesis, so the first clause of each is found in what istiod says.
 *
 * The webhook rules port the checks for the fields this project renders, and
 * some neighbours; they do not port: a DestinationRule's exportTo,
 * workloadSelector, client TLS, outlier detection, connection pool and
 * locality settings, header values (ValidateHTTPHeaderValue), CORS, fault injection,
 * retries, timeouts and mirror percentages of VirtualService routes, tcp and
 * tls routes, EnvoyFilter listener sub-filter matches and patch values other
 * than a CLUSTER's, CUSTOM AuthorizationPolicy fields and targetRefs, service
 * account and trust domain values, and the metadata checks (validateMetadata).
 *
 * `checkPlan` runs every rule over every document of a plan, plus the Helm
 * release values that decide what the gateway pods and istiod look like.
 */
import { isIPv6 } from "net";
import type { K8sObject } from "../../components/manifests/types";
import { acmeIngressMeshConfig } from "../../components/manifests/tls";
import { meshForStack } from "../../components/plan/stack";
import type { StackSettings } from "../../components/settings/validate";

export type Severity = "error" | "warning";

const GATEWAY_API = "gateway.networking.k8s.io";

/**
 * Which part of Istio (or Kubernetes) a finding ports. "webhook": istiod's validation of one object (pkg/config/validation,
 * as crd.ConvertObject and schema.ValidateConfig run it for the validating webhook); "schema": the CRD's OpenAPI schema,
 * which the API server applies and istiod's own decoding does not (a oneof with two fields set: istiod keeps the last);
 * "controller": what istiod, Kubernetes or cert-manager make of objects the API server accepted.
 */
export type Origin = "webhook" | "schema" | "controller";

export interface Finding {
    rule: string;
    severity: Severity;
    object: string;
    message: string;
    origin: Origin;
}

/** What the rules know beyond one object: every document, and what the charts make of the release values. */
export interface PlanContext {
    docs: readonly K8sObject[];
    /** Labels of the ingress gateway pods (from the gateway release, or what an existing mesh is required to have). */
    gatewayPodLabels: Record<string, string>;
    gatewayNamespace: string;
    /** The gateway's Service (the gateway release's name). */
    gatewayServiceName: string;
    /** The gateway Service's externalTrafficPolicy ("" when Kubernetes' default, Cluster, applies). */
    gatewayExternalTrafficPolicy: string;
    gatewayServiceType: string;
    gatewayTrustedProxies: number;
    /** istiod's values (meshConfig and env), when the plan installs istiod. */
    istiod?: { meshConfig: Record<string, any>; env: Record<string, string> };
    /** Istio's root namespace (meshConfig.rootNamespace, default istio-system). */
    rootNamespace: string;
    /** The Istio version the plan installs or runs on ("1.31.1"). */
    istioVersion: string;
}

export interface Rule {
    id: string;
    /** Where Istio (or Kubernetes) implements it. */
    source: string;
    /** The origin of its findings, unless a finding is reported with another. */
    origin: Origin;
    kinds: readonly string[];
    check(
        obj: K8sObject,
        ctx: PlanContext,
        report: (severity: Severity, message: string, origin?: Origin) => void,
    ): void;
}

// ---- helpers mirroring Istio's own checks -------------------------------------------------------

/** Go's %q for the strings these checks quote (ASCII): a double-quoted string with Go's escapes. */
const q = (s: string) => JSON.stringify(s);

/** dns1123LabelFmt (pkg/config/labels/instance.go): Istio's DNS labels admit upper case, unlike Kubernetes' names. */
const DNS1123_LABEL = "[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?";
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL}$`);
const WILDCARD_LABEL_RE = new RegExp(`^(\\*|(\\*|\\*-)?${DNS1123_LABEL})$`);
/** labels.IsDNS1123Label (pkg/config/labels/instance.go). */
const isDns1123Label = (s: string) => s.length <= 63 && DNS1123_LABEL_RE.test(s);
/** labels.IsWildcardDNS1123Label: "*", "*foo", "*-foo" or a label. */
const isWildcardDns1123Label = (s: string) => s.length <= 63 && WILDCARD_LABEL_RE.test(s);

/** agent.CheckDNS1123Preconditions (pkg/config/validation/agent/validation.go). */
function dnsPreconditionProblem(name: string): string | undefined {
    if (Buffer.byteLength(name) > 255) return `domain name ${q(name)} too long (max 255)`;
    if (name.length === 0) return "empty domain name not allowed";
    return undefined;
}
/** agent.ValidateDNS1123Labels: every label a DNS label, the top-level one not all digits (strconv.Atoi), a trailing dot allowed. */
function dns1123LabelsProblem(domain: string): string | undefined {
    const parts = domain.split(".");
    const tld = parts[parts.length - 1];
    if (/^[+-]?\d+$/.test(tld))
        return `domain name ${q(domain)} invalid (top level domain ${q(tld)} cannot be all-numeric)`;
    for (const [i, label] of parts.entries()) {
        if (i === parts.length - 1 && label === "") return undefined;
        if (!isDns1123Label(label)) return `domain name ${q(domain)} invalid (label ${q(label)} invalid)`;
    }
    return undefined;
}
/** agent.ValidateWildcardDomain: a wildcard only in the first label. */
function wildcardDomainProblem(domain: string): string | undefined {
    const pre = dnsPreconditionProblem(domain);
    if (pre) return pre;
    const dot = domain.indexOf(".");
    const first = dot < 0 ? domain : domain.slice(0, dot);
    if (!isWildcardDns1123Label(first)) return `domain name ${q(domain)} invalid (label ${q(first)} invalid)`;
    return dot < 0 ? undefined : dns1123LabelsProblem(domain.slice(dot + 1));
}
/** agent.ValidateFQDN. */
const fqdnProblem = (name: string) => dnsPreconditionProblem(name) ?? dns1123LabelsProblem(name);

/** Go's netip.ParseAddr: dotted IPv4 without leading zeros, or IPv6 (with a zone). */
function isGoIpAddr(s: string): boolean {
    if (s.includes(":")) return isIPv6(s);
    const octets = s.split(".");
    return octets.length === 4 && octets.every((o) => /^(0|[1-9]\d{0,2})$/.test(o) && Number(o) <= 255);
}
/** Go's netip.ParsePrefix: an address without a zone, then /bits within its family. */
function isGoIpPrefix(s: string): boolean {
    const [addr, bits, ...rest] = s.split("/");
    if (rest.length || !/^(0|[1-9]\d*)$/.test(bits ?? "") || addr.includes("%") || !isGoIpAddr(addr)) return false;
    return Number(bits) <= (addr.includes(":") ? 128 : 32);
}
/** security.ValidateIPs (pkg/config/security/security.go). */
const ipProblems = (ips: readonly string[] | undefined): string[] =>
    (ips ?? []).flatMap((v) =>
        v.includes("/")
            ? isGoIpPrefix(v)
                ? []
                : [`bad CIDR range (${v})`]
            : isGoIpAddr(v)
              ? []
              : [`bad IP address (${v})`],
    );

/** agent.ValidatePort. */
const portProblem = (port: number) =>
    port >= 1 && port <= 65535 ? undefined : `port number ${port} must be in the range 1..65535`;

/** labels.Instance.Validate (pkg/config/labels/instance.go): Kubernetes label keys and values. */
function labelProblems(labels: Record<string, string> | undefined): string[] {
    const out: string[] = [];
    for (const [k, v] of Object.entries(labels ?? {})) {
        const m = new RegExp(
            `^(${DNS1123_LABEL}(?:\\.${DNS1123_LABEL})*/)?((?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$`,
        ).exec(k);
        if (!m) out.push(`invalid tag key: ${q(k)}`);
        else if (m[1] && m[1].length - 1 > 253) out.push(`invalid tag key: ${q(k)} (DNS prefix is too long)`);
        else if (m[2].length > 63) out.push(`invalid tag key: ${q(k)} (name is too long)`);
        if (!/^((?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(String(v)))
            out.push(`invalid tag value: ${q(String(v))}`);
    }
    return out;
}

/** validateWorkloadSelector (pkg/config/validation/validation.go), for security.istio.io selectors (matchLabels). */
function workloadSelectorProblems(selector: { matchLabels?: Record<string, string> } | undefined): {
    errors: string[];
    warnings: string[];
} {
    if (selector === undefined) return { errors: [], warnings: [] };
    const labels = Object.entries(selector.matchLabels ?? {});
    return {
        errors: labels.flatMap(([k, v]) => [
            ...(k === "" ? [`empty key is not supported in selector: ${q(`${k}=${v}`)}`] : []),
            ...(k.includes("*") || v.includes("*") ? [`wildcard is not supported in selector: ${q(`${k}=${v}`)}`] : []),
        ]),
        warnings: labels.length ? [] : ["workload selector specified without labels"],
    };
}

/** validHeaderNameRegex (pkg/config/validation/validation.go): an RFC 7230 token, either case. */
const isHeaderToken = (s: string) => /^[-!#$%&'*+.^_`|~A-Za-z0-9]+$/.test(s);
/** jwt.ToRoutingClaim (pkg/jwt/routing.go): @request.auth.claims.<a>.<b> or @request.auth.claims[a][b]. */
function isJwtClaimRoute(name: string): boolean {
    if (!name.toLowerCase().startsWith("@request.auth.claims")) return false;
    const rest = name.slice("@request.auth.claims".length);
    return (rest.startsWith(".") && rest.length > 1) || (rest.startsWith("[") && rest.endsWith("]") && rest.length > 2);
}
/** ValidateHTTPHeaderNameOrJwtClaimRoute: a header to match on (a token, a pseudo header, or a JWT claim). */
function matchHeaderNameProblem(name: string): string | undefined {
    if (name === "") return "header name cannot be empty";
    if (isJwtClaimRoute(name) || [":method", ":scheme", ":authority", ":path", ":status"].includes(name))
        return undefined;
    return isHeaderToken(name) ? undefined : `header name ${name} is not a valid header name`;
}
/** ValidateHTTPHeaderOperationName: a header to remove, or to change on the response. */
function headerOperationProblem(name: string): string | undefined {
    if (name === "") return "header name cannot be empty";
    if (name.toLowerCase() === "host") return `invalid header ${q(name)}: cannot set Host header`;
    if (name.startsWith(":")) return `invalid header ${q(name)}: header cannot have ":" prefix`;
    return undefined;
}
/** ValidateHTTPHeaderWithAuthorityOperationName: a request header to add or set (":authority" and Host may be). */
function headerWithAuthorityProblem(name: string): string | undefined {
    if (name === "") return "header name cannot be empty";
    const authority = name.toLowerCase() === ":authority" || name.toLowerCase() === "host";
    return (name.startsWith(":") || name.toLowerCase() === "host") && !authority
        ? `invalid header ${q(name)}: header cannot have ":" prefix`
        : undefined;
}

/** Envoy's isPrime, copied into pkg/config/validation/validation.go. */
function envoyIsPrime(x: number): boolean {
    if (x !== 0 && x < 4) return true;
    if (x % 2 === 0) return false;
    for (let f = 3; f <= Math.floor(Math.sqrt(x)); f += 2) if (x % f === 0) return false;
    return true;
}

/**
 * The field of a protobuf oneof that an object sets, as istiod decodes it: with more than one set (which the CRD's
 * OpenAPI schema refuses before istiod sees it), the last one in the document wins.
 */
const oneofField = (o: Record<string, unknown> | undefined, fields: readonly string[]) =>
    Object.keys(o ?? {})
        .filter((k) => fields.includes(k) && o![k] !== undefined && o![k] !== null)
        .at(-1);
const oneofFieldsSet = (o: Record<string, unknown> | undefined, fields: readonly string[]) =>
    Object.keys(o ?? {}).filter((k) => fields.includes(k) && o![k] !== undefined && o![k] !== null);

/** AuthorizationPolicy field names and their negations: ["paths"] → ["paths", "notPaths"]. */
const withNegations = (keys: readonly string[]) => [
    ...keys,
    ...keys.map((k) => `not${k[0].toUpperCase()}${k.slice(1)}`),
];

// ---- Go's regexp syntax (RE2), which Istio compiles every regex with ------------------------------

/**
 * Go's regexp.Compile's verdict on a regex, as the error text after "error parsing regexp: " (e.g. "missing closing ):
 * `a(b`"), or undefined when Go accepts it. A port of the parser in the Go distribution's src/regexp/syntax/parse.go
 * (parse, parsePerlFlags, parseEscape, parseClass, parseUnicodeClass, repeat, repeatIsValid) with regexp.Compile's
 * flags (syntax.Perl), keeping only what decides an error. Not ported: ErrLarge and ErrNestingDepth (program size and
 * nesting limits, out of reach under Istio's 1024-character cap for what this project writes). Unicode class names
 * (\p{...}) are checked against Go's category names and, for scripts, JavaScript's Unicode tables.
 */
export function goRegexpError(s: string): string | undefined {
    type Node = { repeat?: { min: number; max: number }; subs: Node[] };
    type Item = Node | "(" | "|";
    const stack: Item[] = [];
    const fail = (code: string, expr: string): never => {
        throw new GoRegexpError(`${code}: \`${expr}\``);
    };
    const isNode = (i: Item | undefined): i is Node => typeof i === "object";
    /** Everything above the last "(" (and "|"s) as one node; the "(" stays. */
    const collapse = (): Node => {
        const subs: Node[] = [];
        while (stack.length && stack[stack.length - 1] !== "(") {
            const top = stack.pop()!;
            if (isNode(top)) subs.unshift(top);
        }
        return { subs };
    };
    const repeatIsValid = (re: Node, n: number): boolean => {
        if (re.repeat) {
            let m = re.repeat.max;
            if (m === 0) return true;
            if (m < 0) m = re.repeat.min;
            if (m > n) return false;
            if (m > 0) n = Math.trunc(n / m);
        }
        return re.subs.every((sub) => repeatIsValid(sub, n));
    };
    const atom = () => stack.push({ subs: [] });
    const isAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);
    const unhex = (c: string | undefined) => (c !== undefined && /^[0-9A-Fa-f]$/.test(c) ? parseInt(c, 16) : -1);
    const firstRune = (t: string) => (t === "" ? "" : String.fromCodePoint(t.codePointAt(0)!));

    /** parseEscape: t starts with a backslash; returns the rune and the rest. */
    const parseEscape = (t: string): [number, string] => {
        let rest = t.slice(1);
        if (rest === "") fail("trailing backslash at end of expression", "");
        const c = firstRune(rest);
        rest = rest.slice(c.length);
        const invalid = () => fail("invalid escape sequence", t.slice(0, t.length - rest.length));
        if (c.length === 1 && c.charCodeAt(0) < 0x80 && !isAlnum(c)) return [c.charCodeAt(0), rest];
        if (/^[1-7]$/.test(c) && !/^[0-7]/.test(rest)) invalid();
        if (/^[0-7]$/.test(c)) {
            let r = Number(c);
            for (let i = 1; i < 3 && /^[0-7]/.test(rest); i++) {
                r = r * 8 + Number(rest[0]);
                rest = rest.slice(1);
            }
            return [r, rest];
        }
        if (c === "x") {
            if (rest === "") invalid();
            const c2 = firstRune(rest);
            rest = rest.slice(c2.length);
            if (c2 === "{") {
                let r = 0;
                let nhex = 0;
                for (;;) {
                    if (rest === "") invalid();
                    const d = firstRune(rest);
                    rest = rest.slice(d.length);
                    if (d === "}") break;
                    const v = unhex(d);
                    if (v < 0) invalid();
                    r = r * 16 + v;
                    if (r > 0x10ffff) invalid();
                    nhex++;
                }
                if (nhex === 0) invalid();
                return [r, rest];
            }
            const y = firstRune(rest);
            rest = rest.slice(y.length);
            if (unhex(c2) < 0 || unhex(y) < 0) invalid();
            return [unhex(c2) * 16 + unhex(y), rest];
        }
        const cEscapes: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
        if (c in cEscapes) return [cEscapes[c], rest];
        return invalid();
    };
    /** parseUnicodeClass: undefined when t is not \p or \P, else the rest after it. */
    const parseUnicodeClass = (t: string): string | undefined => {
        if (t.length < 2 || t[0] !== "\\" || (t[1] !== "p" && t[1] !== "P")) return undefined;
        const c = firstRune(t.slice(2));
        let seq: string;
        let name: string;
        let rest: string;
        if (c !== "{") {
            seq = t.slice(0, 2 + c.length);
            name = c;
            rest = t.slice(seq.length);
        } else {
            const end = t.indexOf("}");
            if (end < 0) fail("invalid character class range", t);
            seq = t.slice(0, end + 1);
            name = t.slice(3, end);
            rest = t.slice(end + 1);
        }
        if (name.startsWith("^")) name = name.slice(1);
        if (!goUnicodeClassName(name)) fail("invalid character class range", seq);
        return rest;
    };
    const perlClass = (t: string) => /^\\[dDsSwW]/.test(t);
    const parseClassChar = (t: string, whole: string): [number, string] => {
        if (t === "") fail("missing closing ]", whole);
        if (t[0] === "\\") return parseEscape(t);
        const c = firstRune(t);
        return [c.codePointAt(0)!, t.slice(c.length)];
    };
    const parseClass = (s0: string): string => {
        let t = s0.slice(1);
        if (t.startsWith("^")) t = t.slice(1);
        let first = true;
        while (t === "" || t[0] !== "]" || first) {
            first = false;
            if (t.length > 2 && t[0] === "[" && t[1] === ":") {
                const i = t.indexOf(":]", 2);
                if (i >= 0) {
                    const name = t.slice(0, i + 2);
                    if (!POSIX_CLASSES.has(name.replace("[:^", "[:"))) fail("invalid character class range", name);
                    t = t.slice(i + 2);
                    continue;
                }
            }
            const afterUnicode = parseUnicodeClass(t);
            if (afterUnicode !== undefined) {
                t = afterUnicode;
                continue;
            }
            if (perlClass(t)) {
                t = t.slice(2);
                continue;
            }
            const rng = t;
            let lo: number;
            [lo, t] = parseClassChar(t, s0);
            let hi = lo;
            if (t.length >= 2 && t[0] === "-" && t[1] !== "]") {
                [hi, t] = parseClassChar(t.slice(1), s0);
                if (hi < lo) fail("invalid character class range", rng.slice(0, rng.length - t.length));
            }
        }
        return t.slice(1);
    };
    /** parsePerlFlags: t starts with "(?". */
    const parsePerlFlags = (t: string): string => {
        const startsWithP = t.length > 4 && t[2] === "P" && t[3] === "<";
        const startsWithName = t.length > 3 && t[2] === "<";
        if (startsWithP || startsWithName) {
            const end = t.indexOf(">");
            if (end < 0) fail("invalid named capture", t);
            const name = t.slice(startsWithP ? 4 : 3, end);
            if (!/^[A-Za-z0-9_]+$/.test(name)) fail("invalid named capture", t.slice(0, end + 1));
            stack.push("(");
            return t.slice(end + 1);
        }
        let rest = t.slice(2);
        let sign = 1;
        let sawFlag = false;
        while (rest !== "") {
            const c = firstRune(rest);
            rest = rest.slice(c.length);
            if ("imsU".includes(c)) sawFlag = true;
            else if (c === "-") {
                if (sign < 0) break;
                sign = -1;
                sawFlag = false;
            } else if (c === ":" || c === ")") {
                if (sign < 0 && !sawFlag) break;
                if (c === ":") stack.push("(");
                return rest;
            } else break;
        }
        return fail("invalid or unsupported Perl syntax", t.slice(0, t.length - rest.length));
    };
    /** repeat: `before` starts at the operator ("*", "{2,3}"), `after` follows it; `bounds` for {n,m}. */
    const repeat = (
        bounds: { min: number; max: number } | undefined,
        before: string,
        after: string,
        lastRepeat: string,
    ): string => {
        if (after.startsWith("?")) after = after.slice(1);
        if (lastRepeat !== "")
            fail("invalid nested repetition operator", lastRepeat.slice(0, lastRepeat.length - after.length));
        const top = stack[stack.length - 1];
        if (!isNode(top))
            return fail("missing argument to repetition operator", before.slice(0, before.length - after.length));
        const re: Node = { repeat: bounds, subs: [top] };
        stack[stack.length - 1] = re;
        if (bounds && (bounds.min >= 2 || bounds.max >= 2) && !repeatIsValid(re, 1000))
            fail("invalid repeat count", before.slice(0, before.length - after.length));
        return after;
    };
    /** parseRepeat: {n}, {n,} or {n,m}; min -1 when a number is too big; undefined when not of that form (then "{" is a literal). */
    const parseRepeat = (t: string): { min: number; max: number; rest: string } | undefined => {
        const m = /^\{(0|[1-9]\d*)(?:(,)(0|[1-9]\d*)?)?\}/.exec(t);
        if (!m) return undefined;
        const num = (d: string) => (d.length > 8 ? -1 : Number(d));
        let min = num(m[1]);
        const max = m[2] === undefined ? min : m[3] === undefined ? -1 : num(m[3]);
        if (m[3] !== undefined && max < 0) min = -1;
        return { min, max, rest: t.slice(m[0].length) };
    };

    try {
        let t = s;
        let lastRepeat = "";
        while (t !== "") {
            let repeatOp = "";
            const c = t[0];
            if (c === "(") {
                if (t.length >= 2 && t[1] === "?") t = parsePerlFlags(t);
                else {
                    stack.push("(");
                    t = t.slice(1);
                }
            } else if (c === "|") {
                stack.push(collapse(), "|");
                t = t.slice(1);
            } else if (c === ")") {
                const group = collapse();
                if (stack.pop() !== "(") fail("unexpected )", s);
                stack.push(group);
                t = t.slice(1);
            } else if (c === "^" || c === "$" || c === ".") {
                atom();
                t = t.slice(1);
            } else if (c === "[") {
                t = parseClass(t);
                atom();
            } else if (c === "*" || c === "+" || c === "?") {
                repeatOp = t;
                t = repeat(undefined, t, t.slice(1), lastRepeat);
            } else if (c === "{") {
                const r = parseRepeat(t);
                if (!r) {
                    atom();
                    t = t.slice(1);
                } else {
                    if (r.min < 0 || r.min > 1000 || r.max > 1000 || (r.max >= 0 && r.min > r.max))
                        fail("invalid repeat count", t.slice(0, t.length - r.rest.length));
                    repeatOp = t;
                    t = repeat({ min: r.min, max: r.max }, t, r.rest, lastRepeat);
                }
            } else if (c === "\\") {
                const c1 = t[1];
                if (t.length >= 2 && "AbBz".includes(c1)) {
                    atom();
                    t = t.slice(2);
                } else if (t.length >= 2 && c1 === "C") {
                    fail("invalid escape sequence", t.slice(0, 2));
                } else if (t.length >= 2 && c1 === "Q") {
                    const end = t.indexOf("\\E", 2);
                    const lit = end < 0 ? t.slice(2) : t.slice(2, end);
                    for (const _ of lit) atom();
                    t = end < 0 ? "" : t.slice(end + 2);
                } else {
                    const afterUnicode = parseUnicodeClass(t);
                    if (afterUnicode !== undefined) t = afterUnicode;
                    else if (perlClass(t)) t = t.slice(2);
                    else t = parseEscape(t)[1];
                    atom();
                }
            } else {
                atom();
                t = t.slice(firstRune(t).length);
            }
            lastRepeat = repeatOp;
        }
        collapse();
        if (stack.includes("(")) fail("missing closing )", s);
        return undefined;
    } catch (e) {
        if (e instanceof GoRegexpError) return e.message;
        throw e;
    }
}

class GoRegexpError extends Error {}

/** posixGroup (src/regexp/syntax/perl_groups.go), each also negated as [:^name:]. */
const POSIX_CLASSES = new Set(
    [
        "alnum",
        "alpha",
        "ascii",
        "blank",
        "cntrl",
        "digit",
        "graph",
        "lower",
        "print",
        "punct",
        "space",
        "upper",
        "word",
        "xdigit",
    ].map((n) => `[:${n}:]`),
);
/** unicode.Categories and unicode.CategoryAliases (Go's src/unicode/tables.go), by canonicalName. */
const GO_CATEGORIES = new Set([
    ..."C Cc Cf Cn Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs Any Assigned Ascii Lc".split(
        " ",
    ),
    ..."Cased_Letter Close_Punctuation Combining_Mark Connector_Punctuation Control Currency_Symbol Dash_Punctuation Decimal_Number Enclosing_Mark Final_Punctuation Format Initial_Punctuation Letter Letter_Number Line_Separator Lowercase_Letter Mark Math_Symbol Modifier_Letter Modifier_Symbol Nonspacing_Mark Number Open_Punctuation Other Other_Letter Other_Number Other_Punctuation Other_Symbol Paragraph_Separator Private_Use Punctuation Separator Space_Separator Spacing_Mark Surrogate Symbol Titlecase_Letter Unassigned Uppercase_Letter cntrl digit punct"
        .split(" ")
        .map(goCanonicalName),
]);
/** canonicalName (src/regexp/syntax/parse.go): separators dropped, the first letter upper case, the rest lower. */
function goCanonicalName(name: string): string {
    let out = "";
    for (const c of name) {
        if (c === "_" || c === "-" || c === " ") continue;
        out += out === "" ? (/[a-z]/.test(c) ? c.toUpperCase() : c) : /[A-Z]/.test(c) ? c.toLowerCase() : c;
    }
    return out;
}
/** unicodeTable: a category, an alias of one, or a script (unicode.Scripts, looked up by its canonical name). */
function goUnicodeClassName(name: string): boolean {
    const canonical = goCanonicalName(name);
    if (GO_CATEGORIES.has(canonical)) return true;
    if (canonical === "" || !/^[A-Za-z]+$/.test(canonical)) return false;
    try {
        new RegExp(`\\p{Script=${canonical}}`, "u");
        return true;
    } catch {
        return false;
    }
}

/**
 * validateStringRegexp (pkg/config/validation/validation.go): at most 1024 bytes, and Go's regexp must compile it.
 * `where` is the field ("headers", "uri"); `context` the oracle's words for where the regex is.
 */
function regexProblem(re: string, where: string, context: string): string | undefined {
    const size = Buffer.byteLength(re);
    if (size > 1024) return `${q(where)}: regex is too large, max length allowed is 1024 (${context}; ${size} bytes)`;
    const err = goRegexpError(re);
    if (!err) return undefined;
    const unsupported =
        /^invalid or unsupported Perl syntax: `\(\?[=!]|^invalid named capture: `\(\?<[=!]|^invalid escape sequence: `\\[1-9]/.test(
            err,
        )
            ? "a lookaround or a backreference, which RE2 does not support; "
            : "";
    return `${q(where)}: error parsing regexp: ${err} (${unsupported}${context})`;
}

/** validateStringMatch (virtualservice.go uses it for headers, scheme, method, authority, query parameters). */
function stringMatchProblem(sm: any, where: string, context: string): string | undefined {
    const type = oneofField(sm, ["exact", "prefix", "regex"]);
    if (type === "prefix" && sm.prefix === "")
        return `${q(where)}: prefix string match should not be empty (${context})`;
    if (type === "regex") return stringMatchRegexProblem(sm, where, context);
    return undefined;
}
/** validateStringMatchRegexp (for uri: an empty prefix is allowed). */
function stringMatchRegexProblem(sm: any, where: string, context: string): string | undefined {
    if (oneofField(sm, ["exact", "prefix", "regex"]) !== "regex") return undefined;
    if (sm.regex === "") return `${q(where)}: regex string match should not be empty (${context})`;
    return regexProblem(sm.regex, where, context);
}

const subsetOf = (sel: Record<string, string> | undefined, labels: Record<string, string>) =>
    Object.entries(sel ?? {}).every(([k, v]) => labels[k] === v);
const id = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

/** A Gateway API Gateway of the plan, by namespace and name. */
function gatewayApiGateway(ctx: PlanContext, namespace: string, name: string): K8sObject | undefined {
    return ctx.docs.find(
        (d) => kindOf(d) === `${GATEWAY_API}/Gateway` && d.metadata.name === name && d.metadata.namespace === namespace,
    );
}

/** Whether a listener admits routes from its Gateway's namespace only (allowedRoutes from Same, the default). */
const admitsOwnNamespaceOnly = (listener: any) => (listener.allowedRoutes?.namespaces?.from ?? "Same") === "Same";

const destinationRules = (ctx: PlanContext) => ctx.docs.filter((d) => d.kind === "DestinationRule");
const services = (ctx: PlanContext) => ctx.docs.filter((d) => d.kind === "Service");
const fqdn = (svc: K8sObject) => `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`;

/** validateGatewayNames (pkg/config/validation/validation.go); like Istio, it stops at the first name without a "/". */
function gatewayNameProblems(names: readonly string[]): { message: string; warning?: boolean }[] {
    const out: { message: string; warning?: boolean }[] = [];
    for (const g of names) {
        const slash = g.indexOf("/");
        if (slash < 0) {
            if (g.includes(".")) {
                const parts = g.split(".");
                out.push({
                    warning: true,
                    message: `using legacy gatewayName format ${q(g)}; prefer the <namespace>/<name> format: ${q(`${parts[1]}/${parts[0]}`)}`,
                });
            }
            const p = fqdnProblem(g);
            if (p) out.push({ message: p });
            return out;
        }
        const [ns, name] = [g.slice(0, slash), g.slice(slash + 1)];
        if (!ns || !name) out.push({ message: "config namespace and gateway name cannot be empty" });
        if (!isDns1123Label(ns)) out.push({ message: `invalid value for namespace: ${q(ns)}` });
        if (!isDns1123Label(name)) out.push({ message: `invalid value for gateway name: ${q(name)}` });
    }
    return out;
}

/** host.Name.Matches (pkg/config/host/name.go): equal, or one wildcard covers the other. */
function hostsMatch(n: string, o: string): boolean {
    const nw = n.startsWith("*");
    const ow = o.startsWith("*");
    if (nw && ow) return n.length < o.length ? o.slice(1).endsWith(n.slice(1)) : n.slice(1).endsWith(o.slice(1));
    if (nw) return o.endsWith(n.slice(1));
    if (ow) return n.endsWith(o.slice(1));
    return n === o;
}

/** A match as asJSON compares them: without its name, keys sorted, unset (zero) fields dropped as Go's omitempty does. */
function matchKey(m: any): string {
    const canon = (v: any): any => {
        if (Array.isArray(v)) return v.map(canon);
        if (v && typeof v === "object")
            return Object.fromEntries(
                Object.keys(v)
                    .sort()
                    .map((k) => [k, canon(v[k])])
                    .filter(
                        ([, x]) =>
                            !(
                                x === null ||
                                x === undefined ||
                                x === false ||
                                x === 0 ||
                                x === "" ||
                                (typeof x === "object" && !Object.keys(x).length)
                            ),
                    ),
            );
        return v;
    };
    return JSON.stringify(canon({ ...m, name: undefined }));
}

/** analyzeUnreachableHTTPRules (pkg/config/validation/validation.go): its warnings, in Istio's words. */
function unreachableHttpRules(routes: readonly any[]): string[] {
    const out: string[] = [];
    const routeName = (r: any, i: number) => (r?.name ? q(r.name) : `#${i}`);
    const requestName = (m: any, i: number) => (m?.name ? q(m.name) : `#${i}`);
    const unused = (rule: string, reason: string) => out.push(`virtualService rule ${rule} not used (${reason})`);
    const ineffective = (rule: string, match: string, dup: string) =>
        out.push(`virtualService rule ${rule} match ${match} is not used (duplicate/overlapping match in rule ${dup})`);
    /** genMatchHTTPRoutes: a match on a URI prefix, with what coveredValidation compares. */
    interface PrefixMatch {
        route: string;
        match: string;
        prefix: string;
        port: number;
        method: string;
        authority: string;
        headers: Record<string, string>;
        queryParams: Record<string, string>;
        withoutHeaders: Record<string, string>;
    }
    const exactOrPrefix = (sm: any) => {
        const type = oneofField(sm, ["exact", "prefix", "regex"]);
        if (type === "exact" && sm.exact) return `exact:${sm.exact}`;
        if (type === "prefix" && sm.prefix) return `prefix:${sm.prefix}`;
        return "";
    };
    const mapOf = (o: Record<string, any> | undefined) =>
        Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, exactOrPrefix(v)]));
    const prefixMatches: PrefixMatch[] = [];
    const seen = new Map<string, number>();
    let emptyAt = -1;
    routes.forEach((r, i) => {
        if (!r) return;
        const matches: any[] = r.match ?? [];
        if (!matches.length) {
            if (emptyAt >= 0) unused(routeName(r, i), "only the last rule can have no matches");
            emptyAt = i;
            return;
        }
        let duplicates = 0;
        matches.forEach((m, j) => {
            if (emptyAt >= 0) {
                unused(routeName(r, i), "route without matches defined before");
                return;
            }
            const key = matchKey(m);
            const dup = seen.get(key);
            if (dup !== undefined) {
                ineffective(routeName(r, i), requestName(m, j), routeName(routes[dup], dup));
                duplicates++;
                return;
            }
            seen.set(key, i);
            const prefix =
                m?.uri && oneofField(m.uri, ["exact", "prefix", "regex"]) === "prefix"
                    ? String(m.uri.prefix ?? "")
                    : "";
            if (prefix)
                prefixMatches.push({
                    route: routeName(r, i),
                    match: requestName(m, j),
                    prefix,
                    port: m.port ?? 0,
                    method: exactOrPrefix(m.method) || "exact:GET",
                    authority: exactOrPrefix(m.authority),
                    headers: mapOf(m.headers),
                    queryParams: mapOf(m.queryParams),
                    withoutHeaders: mapOf(m.withoutHeaders),
                });
        });
        if (duplicates === matches.length) unused(routeName(r, i), "all matches used by prior rules");
    });
    /** coveredValidation: whether the earlier match a takes every request the later b would. */
    const sameOrPrefixed = (a: Record<string, string>, b: Record<string, string>) =>
        Object.keys(a).length === Object.keys(b).length &&
        Object.entries(a).every(([k, v]) => k in b && (v === b[k] || v.startsWith(b[k])));
    const covered = (a: PrefixMatch, b: PrefixMatch) =>
        b.prefix.startsWith(a.prefix) &&
        b.port === a.port &&
        (a.method === b.method || a.method.startsWith(b.method)) &&
        (a.authority === b.authority || a.authority.startsWith(b.authority)) &&
        sameOrPrefixed(a.headers, b.headers) &&
        sameOrPrefixed(a.queryParams, b.queryParams) &&
        sameOrPrefixed(a.withoutHeaders, b.withoutHeaders);
    for (const [i, a] of prefixMatches.entries())
        for (const b of prefixMatches.slice(i + 1))
            if (b.prefix !== a.prefix && covered(a, b))
                ineffective(
                    b.route,
                    `${b.match} of prefix ${b.prefix}`,
                    `${a.match} of prefix ${a.prefix} on ${a.route}`,
                );
    return out;
}

/** protocol.Parse (pkg/config/protocol/instance.go): case-insensitive. */
const protocolOf = (p: unknown) =>
    ({
        tcp: "TCP",
        udp: "UDP",
        grpc: "GRPC",
        "grpc-web": "GRPC-WEB",
        http: "HTTP",
        http_proxy: "HTTP_PROXY",
        http2: "HTTP2",
        https: "HTTPS",
        tls: "TLS",
        mongo: "Mongo",
        redis: "Redis",
        mysql: "MySQL",
    })[String(p ?? "").toLowerCase()];
const isHttpProtocol = (p: unknown) =>
    ["HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"].includes(protocolOf(p) ?? "");
const isTlsProtocol = (p: unknown) => ["HTTPS", "TLS"].includes(protocolOf(p) ?? "");

/** security.ValidCipherSuites, with IsValidCipherSuite's exceptions (empty, ALL, or not starting with a letter or digit). */
const CIPHER_SUITES = new Set(
    "ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-RSA-CHACHA20-POLY1305 ECDHE-ECDSA-AES128-SHA ECDHE-RSA-AES128-SHA ECDHE-ECDSA-AES256-SHA ECDHE-RSA-AES256-SHA AES128-GCM-SHA256 AES256-GCM-SHA384 AES128-SHA AES256-SHA DES-CBC3-SHA".split(
        " ",
    ),
);
const isValidCipherSuite = (cs: string) =>
    cs === "" || cs === "ALL" || !/^[\p{L}\p{N}]/u.test(cs) || CIPHER_SUITES.has(cs);

/** validateTLSOptions (pkg/config/validation/validation.go): a Gateway server's TLS settings. An unset mode is PASSTHROUGH (the enum's zero). */
function serverTlsProblems(tls: any): [Severity, string][] {
    const out: [Severity, string][] = [];
    if (!tls) return out;
    const mode = tls.mode ?? "PASSTHROUGH";
    const has = (k: string) => (Array.isArray(tls[k]) ? tls[k].length > 0 : !!tls[k]);
    if (["TLSV1_0", "TLSV1_1"].includes(tls.minProtocolVersion) && !has("cipherSuites"))
        out.push([
            "warning",
            "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.",
        ]);
    const invalid = new Set<string>();
    const valid = new Set<string>();
    const duplicate = new Set<string>();
    for (const cs of tls.cipherSuites ?? []) {
        if (!isValidCipherSuite(cs)) invalid.add(cs);
        else if (valid.has(cs)) duplicate.add(cs);
        else valid.add(cs);
    }
    if (invalid.size) out.push(["warning", `ignoring invalid cipher suites: [${[...invalid].sort().join(" ")}]`]);
    if (duplicate.size) out.push(["warning", `ignoring duplicate cipher suites: [${[...duplicate].sort().join(" ")}]`]);
    if (mode === "ISTIO_MUTUAL") {
        for (const [k, what] of [
            ["serverCertificate", "server certificate"],
            ["privateKey", "private key"],
            ["caCertificates", "CA bundle"],
            ["tlsCertificates", "tlsCertificates"],
            ["credentialName", "credentialName"],
            ["credentialNames", "credentialNames"],
        ])
            if (has(k)) out.push(["error", `ISTIO_MUTUAL TLS cannot have associated ${what}`]);
        return out;
    }
    const certificates = [
        "caCrl",
        "serverCertificate",
        "privateKey",
        "caCertificates",
        "tlsCertificates",
        "credentialName",
        "credentialNames",
    ];
    if ((mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH") && certificates.some(has))
        out.push(["warning", `${mode} mode does not use certificates, they will be ignored`]);
    const sources = [
        has("serverCertificate") && has("privateKey"),
        has("credentialName"),
        has("credentialNames"),
        has("tlsCertificates"),
    ].filter(Boolean).length;
    if (sources > 1)
        out.push([
            "error",
            "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified",
        ]);
    const terminating = ["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"].includes(mode);
    if (terminating && (has("credentialName") || has("credentialNames"))) return out;
    if (terminating) {
        const prefix = mode === "SIMPLE" ? "SIMPLE TLS" : "MUTUAL TLS";
        if (mode !== "SIMPLE" && !has("caCertificates")) out.push(["error", `${prefix} requires a client CA bundle`]);
        if ((tls.tlsCertificates ?? []).length > 2)
            out.push(["warning", `${prefix} can support up to 2 server certificates`]);
        const certs: any[] = has("tlsCertificates")
            ? tls.tlsCertificates
            : [{ serverCertificate: tls.serverCertificate, privateKey: tls.privateKey }];
        for (const c of certs) {
            if (!c?.serverCertificate) out.push(["error", `${prefix} requires a server certificate`]);
            if (!c?.privateKey) out.push(["error", `${prefix} requires a private key`]);
        }
    }
    if (has("caCrl")) {
        if (has("credentialName"))
            out.push(["error", "CRL is not supported with credentialName. CRL has to be specified in the credential"]);
        if (mode === "SIMPLE") out.push(["error", "CRL is not supported with SIMPLE TLS"]);
    }
    return out;
}

/** agent.ValidateNamespaceSlashWildcardHostname for a Gateway server's host (validateSidecarOrGatewayHostnamePart, ValidatePartialWildCard). */
function gatewayHostProblems(host: string): string[] {
    const part = (h: string): string[] => {
        const out: string[] = [];
        if (h !== "*" && !h.includes(".")) out.push("short names (non FQDN) are not allowed");
        const p = wildcardDomainProblem(h);
        // A Gateway also takes an IP address.
        if (p && !isGoIpAddr(h)) out.push(p);
        if (h.includes("*") && h.length !== 1 && !h.startsWith("*.")) out.push(`partial wildcard ${q(h)} not allowed`);
        return out;
    };
    const slash = host.indexOf("/");
    if (slash < 0) return part(host);
    const [ns, dns] = [host.slice(0, slash), host.slice(slash + 1)];
    const out: string[] = [];
    if (!ns || !dns) out.push("config namespace and dnsName in host entry cannot be empty");
    if (ns !== "*" && ns !== "." && !isDns1123Label(ns)) out.push(`invalid namespace value ${q(ns)} in gateway`);
    return [...out, ...part(dns)];
}

/** validateServer, validateServerPort, validateServerBind and validateTLSOptions for one Gateway server. */
function serverProblems(server: any): [Severity, string][] {
    if (!server) return [["error", "cannot have nil server"]];
    const out: [Severity, string][] = [];
    const hosts: string[] = server.hosts ?? [];
    if (!hosts.length) out.push(["error", "server config must contain at least one host"]);
    for (const h of hosts) for (const p of gatewayHostProblems(h)) out.push(["error", p]);
    const port = server.port;
    const bind = String(server.bind ?? "");
    const portErrors: string[] = [];
    if (!port) portErrors.push("port is required");
    else {
        if (!protocolOf(port.protocol))
            portErrors.push(
                `invalid protocol ${q(String(port.protocol ?? ""))}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`,
            );
        if (port.number > 0 || !bind.startsWith("unix://")) {
            const p = portProblem(Number(port.number ?? 0));
            if (p) portErrors.push(p);
        }
        if (port.targetPort > 0) portErrors.push("targetPort has no impact on Gateways");
        if (!port.name) portErrors.push(`port name must be set (port ${port.number})`);
    }
    out.push(...portErrors.map((e): [Severity, string] => ["error", e]));
    if (bind.startsWith("unix://")) {
        const addr = bind.slice("unix://".length);
        if (!addr) out.push(["error", "unix address must not be empty"]);
        else if (!addr.startsWith("@") && (!addr.startsWith("/") || addr.endsWith("/")))
            out.push(["error", `${addr} is not an absolute path to a file`]);
        if (port?.number) out.push(["error", "port number must be 0 for unix domain socket"]);
    } else if (bind && !isGoIpAddr(bind)) out.push(["error", `${bind} is not a valid IP`]);
    out.push(...serverTlsProblems(server.tls));
    if (!portErrors.length) {
        const tls = server.tls;
        if (isTlsProtocol(port.protocol) && !tls)
            out.push(["error", "server must have TLS settings for HTTPS/TLS protocols"]);
        else if (!isTlsProtocol(port.protocol) && tls) {
            const passthrough = ["PASSTHROUGH", "AUTO_PASSTHROUGH"].includes(tls.mode ?? "PASSTHROUGH");
            if (!isHttpProtocol(port.protocol))
                out.push(["error", "server cannot have TLS settings for non HTTPS/TLS ports"]);
            else if (!passthrough || tls.caCertificates || tls.privateKey || tls.serverCertificate)
                out.push(["error", "server cannot have TLS settings for plain text HTTP ports"]);
        }
    }
    return out;
}

/**
 * Fields of envoy.config.cluster.v3.Cluster and of its OriginalDstLbConfig, by proto and JSON name (go-control-plane
 * envoy/config/cluster/v3/cluster.pb.go, as Istio 1.31 links it): what BuildXDSObjectFromStruct's strict decoding knows.
 */
const CLUSTER_FIELDS = new Set(
    (
        "transport_socket_matches transport_socket_matcher name alt_stat_name type cluster_type eds_cluster_config connect_timeout per_connection_buffer_limit_bytes " +
        "per_connection_buffer_high_watermark_timeout lb_policy load_assignment health_checks max_requests_per_connection circuit_breakers upstream_http_protocol_options " +
        "common_http_protocol_options http_protocol_options http2_protocol_options typed_extension_protocol_options dns_refresh_rate dns_jitter dns_failure_refresh_rate " +
        "respect_dns_ttl dns_lookup_family dns_resolvers use_tcp_for_dns_lookups dns_resolution_config typed_dns_resolver_config wait_for_warm_on_init outlier_detection " +
        "cleanup_interval upstream_bind_config lb_subset_config ring_hash_lb_config maglev_lb_config original_dst_lb_config least_request_lb_config round_robin_lb_config " +
        "common_lb_config transport_socket metadata protocol_selection upstream_connection_options close_connections_on_host_health_failure ignore_health_on_host_removal " +
        "filters load_balancing_policy lrs_server lrs_report_endpoint_metrics track_timeout_budgets upstream_config track_cluster_stats preconnect_policy " +
        "connection_pool_per_downstream_connection"
    )
        .split(" ")
        .flatMap((f) => [f, f.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())]),
);
const ORIGINAL_DST_FIELDS = new Set([
    "use_http_header",
    "useHttpHeader",
    "http_header_name",
    "httpHeaderName",
    "upstream_port_override",
    "upstreamPortOverride",
    "metadata_key",
    "metadataKey",
]);

/**
 * BuildXDSObjectFromStruct for a CLUSTER patch's value, which decodes it with golang/protobuf's jsonpb
 * (github.com/golang/protobuf/jsonpb/decode.go: unmarshalMessage): leniently first (AllowUnknownFields), where a wrong
 * type rejects; then strictly, where an unknown field only warns. jsonpb decodes the known fields in the proto's order,
 * nested messages included, and then names one unknown field of a message, picked in Go's (random) map order: with more
 * than one, the oracle names none. Types are checked for the fields this project patches.
 */
function clusterValueProblem(value: Record<string, any>): { severity: Severity; message: string } | undefined {
    const jsonType = (v: unknown) => (Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v);
    const od = value.original_dst_lb_config ?? value.originalDstLbConfig;
    const isObject = od !== null && typeof od === "object" && !Array.isArray(od);
    if (od !== undefined && od !== null && !isObject)
        return {
            severity: "error",
            message: `Envoy filter: json: cannot unmarshal ${jsonType(od)} into Go value of type map[string]json.RawMessage`,
        };
    const flag = isObject ? (od.use_http_header ?? od.useHttpHeader) : undefined;
    if (flag !== undefined && flag !== null && typeof flag !== "boolean")
        return {
            severity: "error",
            message: `Envoy filter: json: cannot unmarshal ${jsonType(flag)} into Go value of type bool`,
        };
    const unknown = (fields: string[], message: string, why = "") => ({
        severity: "warning" as const,
        message: `Envoy filter: unknown field ${fields.length === 1 ? q(fields[0]) : `(one of ${fields.map(q).join(", ")}; Go's map order picks which)`} in ${message}${why}`,
    });
    const odUnknown = isObject ? Object.keys(od).filter((f) => !ORIGINAL_DST_FIELDS.has(f)) : [];
    if (odUnknown.length)
        return unknown(
            odUnknown,
            "envoy.config.cluster.v3.Cluster.OriginalDstLbConfig",
            ` (unknown OriginalDstLbConfig field ${odUnknown.join(", ")}: istiod admits the filter and drops the field, so Envoy never gets it)`,
        );
    const clusterUnknown = Object.keys(value).filter((k) => !CLUSTER_FIELDS.has(k));
    if (clusterUnknown.length) return unknown(clusterUnknown, "envoy.config.cluster.v3.Cluster");
    return undefined;
}

/** security.ValidatePorts: decimal (strconv.ParseUint), at most 65535. */
const portValueProblems = (ports: readonly string[] | undefined): string[] =>
    (ports ?? []).filter((p) => !/^\d+$/.test(p) || Number(p) > 65535).map((p) => `bad port (${p})`);

/** security.CheckValidPathTemplate: {*} and {**} (the last) as whole segments, no other braces, literal segments around them. */
function pathTemplateProblem(key: string, paths: readonly string[]): string | undefined {
    for (const raw of paths) {
        const templated = raw.includes("{*}") || raw.includes("{**}");
        const path = raw.replace(/^\/+|\/+$/g, "");
        let matchAny = false;
        for (const glob of path.split("/")) {
            if (glob === "{*}" && !matchAny) continue;
            if (glob === "{**}" && !matchAny) {
                matchAny = true;
                continue;
            }
            if ((glob === "{**}" || glob === "{*}") && matchAny)
                return `invalid or unsupported path ${path}, found in ${key}. {**} is not the last operator`;
            if (/[{}]/.test(glob))
                return `invalid or unsupported path ${path}, found in ${key}. Contains '{' or '}' beyond a supported path template`;
            if (templated && !/^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$/.test(glob))
                return `invalid or unsupported path ${path}, found in ${key}. Contains segment ${glob} with invalid string literal`;
        }
    }
    return undefined;
}

/** security.ValidateAttribute: a `when` key and its values (empty values, then what the key takes). */
function attributeProblem(key: string, values: readonly string[]): string | undefined {
    if (values.includes("")) return `empty value not allowed, found in ${key}`;
    const mapKey = () => {
        const open = key.indexOf("[");
        return key.endsWith("]") && open > 0 && open < key.length - 2
            ? undefined
            : `bad key (${key}): should have format a[b]`;
    };
    if (key.startsWith("request.headers")) return mapKey();
    if (["source.ip", "remote.ip", "destination.ip"].includes(key)) return ipProblems(values)[0];
    if (
        [
            "source.namespace",
            "source.serviceAccount",
            "source.principal",
            "source.trustDomain",
            "connection.sni",
        ].includes(key)
    )
        return undefined;
    if (["request.auth.principal", "request.auth.audiences", "request.auth.presenter"].includes(key)) return undefined;
    if (key.startsWith("request.auth.claims")) return mapKey();
    if (key === "destination.port") return portValueProblems(values)[0];
    if (key.startsWith("experimental.envoy.filters.")) return mapKey();
    if (key === "destination.namespace") return `attribute ${key} is replaced by the metadata.namespace`;
    if (key.startsWith("destination.labels")) return `attribute ${key} is replaced by the workload selector`;
    if (key === "destination.name" || key === "destination.user")
        return `deprecated attribute ${key}: only supported in v1alpha1`;
    return `unknown attribute: ${key}`;
}
// ---- the rules -----------------------------------------------------------------------------------

export const RULES: readonly Rule[] = [
    // DestinationRule ------------------------------------------------------------------------------
    {
        id: "destinationrule-traffic-policy-nonempty",
        origin: "webhook",
        source: "pkg/config/validation/validation.go: validateTrafficPolicy (at least one field), validatePortTrafficPolicies",
        kinds: ["DestinationRule"],
        check(o, _ctx, report) {
            const policies = [o.spec.trafficPolicy, ...(o.spec.subsets ?? []).map((s: any) => s?.trafficPolicy)].filter(
                (p) => p !== undefined && p !== null,
            );
            for (const p of policies) {
                const fields = [
                    "outlierDetection",
                    "connectionPool",
                    "loadBalancer",
                    "tls",
                    "portLevelSettings",
                    "tunnel",
                    "proxyProtocol",
                    "retryBudget",
                ];
                if (!fields.some((k) => p[k] !== undefined && p[k] !== null))
                    report("error", "traffic policy must have at least one field");
                else if (p.tunnel && p.proxyProtocol)
                    report("error", "tunnel and proxyProtocol must not be set together");
                for (const pl of p.portLevelSettings ?? []) {
                    if (!pl.port) report("error", "portTrafficPolicy must have valid port");
                    if (!["outlierDetection", "connectionPool", "loadBalancer", "tls"].some((k) => pl[k]))
                        report("error", "port traffic policy must have at least one field");
                }
            }
        },
    },
    {
        id: "destinationrule-load-balancer",
        origin: "webhook",
        source:
            "pkg/config/validation/validation.go: validateLoadBalancer (cookie name and attributes; MinimumRingSize deprecated and not with an algorithm; maglev tableSize set, prime, < 5000011). " +
            "Warnings survive only for the top-level policy: validateSubset and validatePortTrafficPolicies join with appendErrors, which drops them. " +
            "simple/consistentHash, the hash key and the hash algorithm are each a oneof the CRD's OpenAPI schema enforces (manifests/charts/base/files/crd-all.gen.yaml)",
        kinds: ["DestinationRule"],
        check(o, _ctx, report) {
            // validateTrafficPolicy returns before validateLoadBalancer when tunnel and proxyProtocol are both set.
            const validated = (p: any) => p && !(p.tunnel && p.proxyProtocol);
            const of = (p: any, warnings: boolean): [any, boolean][] =>
                validated(p)
                    ? [
                          [p.loadBalancer, warnings],
                          ...(p.portLevelSettings ?? []).map((pl: any): [any, boolean] => [pl?.loadBalancer, false]),
                      ]
                    : [];
            const lbs = [
                ...of(o.spec.trafficPolicy, true),
                ...(o.spec.subsets ?? []).flatMap((s: any) => of(s?.trafficPolicy, false)),
            ];
            for (const [lb, warnings] of lbs) {
                if (!lb) continue;
                const policy = oneofFieldsSet(lb, ["simple", "consistentHash"]);
                if (policy.length > 1)
                    report(
                        "error",
                        `simple and consistentHash are one of lb_policy: set one (istiod would keep ${policy.at(-1)})`,
                        "schema",
                    );
                if (lb.localityLbSetting && lb.zoneAwareLbSetting)
                    report("error", "only one of localityLbSetting and zoneAwareLbSetting can be set");
                if (oneofField(lb, ["simple", "consistentHash"]) !== "consistentHash") continue;
                const ch = lb.consistentHash;
                const keys = oneofFieldsSet(ch, [
                    "httpHeaderName",
                    "httpCookie",
                    "useSourceIp",
                    "httpQueryParameterName",
                ]);
                if (keys.length > 1)
                    report(
                        "error",
                        `${keys.join(" and ")} are one of hash_key: set one (istiod would keep ${keys.at(-1)})`,
                        "schema",
                    );
                const algorithms = oneofFieldsSet(ch, ["ringHash", "maglev"]);
                if (algorithms.length > 1)
                    report("error", "ringHash and maglev are one of hash_algorithm: set one", "schema");
                const key = oneofField(ch, ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"]);
                const algorithm = oneofField(ch, ["ringHash", "maglev"]);
                if (key === "httpCookie" && !ch.httpCookie.name) report("error", "name required for HttpCookie");
                if (key === "httpCookie") {
                    const seen = new Set<string>();
                    for (const a of ch.httpCookie.attributes ?? []) {
                        if (!a?.name) report("error", "cookie attribute name cannot be empty");
                        else if (seen.has(a.name)) report("error", `duplicate cookie attribute name: ${a.name}`);
                        else seen.add(a.name);
                    }
                }
                if (ch.minimumRingSize && warnings)
                    report(
                        "warning",
                        "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
                    );
                if (ch.minimumRingSize && algorithm)
                    report("error", "only one of MinimumRingSize or Maglev/Ringhash can be specified");
                if (algorithm === "maglev") {
                    const size = Number(ch.maglev.tableSize ?? 0);
                    if (size === 0) report("error", "tableSize must be set for maglev");
                    if (size >= 5000011) report("error", "tableSize must be less than 5000011 for maglev");
                    if (!envoyIsPrime(size)) report("error", "tableSize must be a prime number for maglev");
                }
            }
        },
    },
    {
        id: "destinationrule-subsets",
        origin: "webhook",
        source: "pkg/config/validation/validation.go: ValidateDestinationRule (host a wildcard domain, duplicate subset names), validateSubset (validateSubsetName, labels.Instance.Validate)",
        kinds: ["DestinationRule"],
        check(o, _ctx, report) {
            const host = wildcardDomainProblem(String(o.spec.host ?? ""));
            if (host) report("error", host);
            const seen = new Set<string>();
            for (const s of o.spec.subsets ?? []) {
                if (!s) {
                    report("error", "subset may not be null");
                    continue;
                }
                const name = String(s.name ?? "");
                if (seen.has(name)) report("error", `duplicate subset names: ${name}`);
                seen.add(name);
                if (!name) report("error", "subset name cannot be empty");
                else if (!isDns1123Label(name)) report("error", `subset name is invalid: ${name}`);
                for (const p of labelProblems(s.labels)) report("error", `${p} (subset ${name})`);
            }
        },
    },
    {
        id: "destinationrule-host-has-service",
        origin: "controller",
        source: "pilot/pkg/model/push_context.go: SetDestinationRules (a rule applies to the Service whose hostname equals its host)",
        kinds: ["DestinationRule"],
        check(o, ctx, report) {
            if (!services(ctx).some((s) => fqdn(s) === o.spec.host))
                report("error", `host ${o.spec.host} names no Service of the plan: the rule applies to nothing`);
        },
    },

    // VirtualService -------------------------------------------------------------------------------
    {
        id: "virtualservice-hosts-and-gateways",
        origin: "webhook",
        source:
            'pkg/config/validation/validation.go: ValidateVirtualService (no hosts: a delegate, which takes no gateways, tls or tcp; hosts wildcard domains or IPs, "*" not for the mesh; ' +
            "no duplicate hosts, host.Name.Matches; JWT claim routes only on gateways; http, tcp or tls required), validateGatewayNames",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            const hosts: string[] = o.spec.hosts ?? [];
            const gateways: string[] = o.spec.gateways ?? [];
            if (!hosts.length) {
                if (gateways.length) report("error", "delegate virtual service must have no gateways specified");
                if ((o.spec.tls ?? []).length)
                    report("error", "delegate virtual service must have no tls route specified");
                if ((o.spec.tcp ?? []).length)
                    report("error", "delegate virtual service must have no tcp route specified");
            }
            // isGateway: bound to gateways, none of them "mesh".
            const appliesToGateway = gateways.length > 0 && !gateways.includes("mesh");
            for (const p of gatewayNameProblems(gateways)) report(p.warning ? "warning" : "error", p.message);
            if (!appliesToGateway) {
                for (const r of o.spec.http ?? [])
                    for (const m of r?.match ?? [])
                        for (const key of [...Object.keys(m?.headers ?? {}), ...Object.keys(m?.withoutHeaders ?? {})])
                            if (isJwtClaimRoute(key))
                                report(
                                    "error",
                                    `JWT claim based routing (key: ${key}) is only supported for gateway, found no gateways: [${gateways.join(" ")}]`,
                                );
            }
            let allHostsValid = true;
            for (const h of hosts) {
                const p = wildcardDomainProblem(h);
                if (p) {
                    if (!isGoIpAddr(h)) {
                        report("error", p);
                        allHostsValid = false;
                    }
                } else if (!appliesToGateway && h === "*") {
                    report("error", "wildcard host * is not allowed for virtual services bound to the mesh gateway");
                    allHostsValid = false;
                }
            }
            if (allHostsValid) {
                for (let i = 0; i < hosts.length; i++)
                    for (let j = i + 1; j < hosts.length; j++)
                        if (hostsMatch(hosts[i], hosts[j]))
                            report("error", `duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`);
            }
            if (!(o.spec.http ?? []).length && !(o.spec.tcp ?? []).length && !(o.spec.tls ?? []).length)
                report("error", "http, tcp or tls must be provided in virtual service");
        },
    },
    {
        id: "virtualservice-route-conflict",
        origin: "webhook",
        source:
            "pkg/config/validation/virtualservice.go: validateHTTPRouteConflict (a root route, one with a delegate, only delegates; otherwise one of route, redirect, direct_response, " +
            "and no rewrite or fault beside a redirect or direct_response; mirror or mirrors)",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            const delegate = !(o.spec.hosts ?? []).length;
            for (const r of o.spec.http ?? []) {
                if (!r) {
                    report("error", "http route may not be null");
                    continue;
                }
                const route = (r.route ?? []).length > 0;
                if (!delegate && r.delegate) {
                    if (r.redirect) report("error", `root HTTP route ${r.name ?? ""} must not specify redirect`);
                    if (r.route) report("error", `root HTTP route ${r.name ?? ""} must not specify route`);
                    continue;
                }
                if (delegate && r.delegate) report("error", "delegate HTTP route cannot contain delegate");
                if (r.redirect) {
                    if (route) report("error", "HTTP route cannot contain both route and redirect");
                    if (r.fault) report("error", "HTTP route cannot contain both fault and redirect");
                    if (r.rewrite) report("error", "HTTP route rule cannot contain both rewrite and redirect");
                    if (r.directResponse)
                        report("error", "HTTP route rule cannot contain both direct_response and redirect");
                } else if (r.directResponse) {
                    if (route) report("error", "HTTP route cannot contain both route and direct_response");
                    if (r.fault) report("error", "HTTP route cannot contain both fault and direct_response");
                    if (r.rewrite) report("error", "HTTP route rule cannot contain both rewrite and direct_response");
                } else if (!route) report("error", "HTTP route, redirect or direct_response is required");
                if (r.mirror && (r.mirrors ?? []).length)
                    report("error", "HTTP route cannot contain both mirror and mirrors");
            }
        },
    },
    {
        id: "virtualservice-matches",
        origin: "webhook",
        source:
            "pkg/config/validation/virtualservice.go: validateHTTPRouteMatchRequest (ValidateHTTPHeaderNameOrJwtClaimRoute, validateStringMatch; uri may have an empty prefix; " +
            "port, sourceLabels, gateways, sourceNamespace); validation.go: validateStringRegexp (Go's regexp, RE2 syntax, at most 1024 bytes). " +
            "A StringMatch is a oneof the CRD's OpenAPI schema enforces (manifests/charts/base/files/crd-all.gen.yaml)",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            for (const r of o.spec.http ?? []) {
                for (const m of r?.match ?? []) {
                    if (!m) continue;
                    const at = (what: string) =>
                        `route ${r.name ?? "(unnamed)"}${m.name ? ` match ${m.name}` : ""}, ${what}`;
                    const oneof = (sm: any, what: string) => {
                        const set = oneofFieldsSet(sm, ["exact", "prefix", "regex"]);
                        if (set.length > 1)
                            report(
                                "error",
                                `a StringMatch takes one of exact, prefix, regex (${at(what)} has ${set.join(", ")})`,
                                "schema",
                            );
                    };
                    for (const [field, where] of [
                        ["headers", "headers"],
                        ["withoutHeaders", "withoutHeaders"],
                    ] as const) {
                        for (const [name, sm] of Object.entries<any>(m[field] ?? {})) {
                            if (sm === null && field === "headers")
                                report("error", `header match ${name} cannot be null`);
                            const n = matchHeaderNameProblem(name);
                            if (n) report("error", `${n} (${at(`${field} ${name}`)})`);
                            oneof(sm, `${field} ${name}`);
                            // `*` in withoutHeaders is not a regex: it means the header is present.
                            if (field === "withoutHeaders" && (sm === null || sm?.regex === "*")) continue;
                            const p = stringMatchProblem(sm, where, at(`${field} ${name}`));
                            if (p) report("error", p);
                        }
                    }
                    if (m.uri !== undefined) {
                        oneof(m.uri, "uri");
                        const p = stringMatchRegexProblem(m.uri, "uri", at("uri"));
                        if (p) report("error", p);
                    }
                    for (const field of ["scheme", "method", "authority"]) {
                        if (m[field] === undefined) continue;
                        oneof(m[field], field);
                        const p = stringMatchProblem(m[field], field, at(field));
                        if (p) report("error", p);
                    }
                    for (const [name, sm] of Object.entries<any>(m.queryParams ?? {})) {
                        oneof(sm, `queryParams ${name}`);
                        const p = stringMatchProblem(sm, "queryParams", at(`queryParams ${name}`));
                        if (p) report("error", p);
                    }
                }
                for (const m of r?.match ?? []) {
                    if (!m) continue;
                    if (m.port) {
                        const p = portProblem(m.port);
                        if (p) report("error", p);
                    }
                    for (const p of labelProblems(m.sourceLabels)) report("error", p);
                    for (const p of gatewayNameProblems(m.gateways ?? []))
                        report(p.warning ? "warning" : "error", p.message);
                    if (m.sourceNamespace && !isDns1123Label(m.sourceNamespace))
                        report("error", `sourceNamespace match ${m.sourceNamespace} is invalid`);
                }
            }
        },
    },
    {
        id: "virtualservice-direct-response",
        origin: "webhook",
        source: "pkg/config/validation/validation.go: validateHTTPDirectResponse (body under 1 MB, a warning past 100 kB; status 200-600 via validateHTTPStatus)",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            for (const r of o.spec.http ?? []) {
                const d = r?.directResponse;
                if (!d) continue;
                const body = d.body;
                const size =
                    body?.string !== undefined
                        ? Buffer.byteLength(body.string)
                        : body?.bytes !== undefined
                          ? Buffer.from(body.bytes, "base64").length
                          : 0;
                if (size > 1024 * 1024)
                    report(
                        "error",
                        `large direct_responses may impact control plane performance, must be less than 1MB (route ${r.name})`,
                    );
                else if (size > 100 * 1024)
                    report("warning", `large direct_responses may impact control plane performance (route ${r.name})`);
                const status = Number(d.status ?? 0);
                if (status < 200 || status > 600) report("error", `HTTP status ${status} is not in range 200-599`);
            }
        },
    },
    {
        id: "virtualservice-rewrite-and-headers",
        origin: "webhook",
        source:
            "pkg/config/validation/virtualservice.go: validateHTTPRoute (header names: ValidateHTTPHeaderWithAuthorityOperationName to add or set on the request, " +
            "ValidateHTTPHeaderOperationName otherwise), validateAuthorityRewrite; validation.go: validateHTTPRewrite, validateURIRegexRewrite, validateHTTPRedirect, " +
            'validateHTTPRouteDestinations (weights), validateDestination (host not "*" and a wildcard domain, subset a DNS label, port 1-65535)',
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            const headerOps = (h: any, where: string) => {
                const ops: [string, (n: string) => string | undefined][] = [
                    ...Object.keys(h?.request?.add ?? {}).map((n): [string, typeof headerWithAuthorityProblem] => [
                        n,
                        headerWithAuthorityProblem,
                    ]),
                    ...Object.keys(h?.request?.set ?? {}).map((n): [string, typeof headerWithAuthorityProblem] => [
                        n,
                        headerWithAuthorityProblem,
                    ]),
                    ...(h?.request?.remove ?? []).map((n: string): [string, typeof headerOperationProblem] => [
                        n,
                        headerOperationProblem,
                    ]),
                    ...Object.keys(h?.response?.add ?? {}).map((n): [string, typeof headerOperationProblem] => [
                        n,
                        headerOperationProblem,
                    ]),
                    ...Object.keys(h?.response?.set ?? {}).map((n): [string, typeof headerOperationProblem] => [
                        n,
                        headerOperationProblem,
                    ]),
                    ...(h?.response?.remove ?? []).map((n: string): [string, typeof headerOperationProblem] => [
                        n,
                        headerOperationProblem,
                    ]),
                ];
                for (const [name, check] of ops) {
                    const p = check(name);
                    if (p) report("error", `${p} (${where})`);
                }
            };
            const destination = (d: any) => {
                if (!d) return;
                if (d.host === "*") report("error", "invalid destination host *");
                else {
                    const p = wildcardDomainProblem(String(d.host ?? ""));
                    if (p) report("error", p);
                }
                if (d.subset) {
                    if (!isDns1123Label(d.subset)) report("error", `subset name is invalid: ${d.subset}`);
                }
                if (d.port) {
                    const p = portProblem(Number(d.port.number ?? 0));
                    if (p) report("error", p);
                }
            };
            for (const r of o.spec.http ?? []) {
                if (!r) continue;
                headerOps(r.headers, `route ${r.name}`);
                const rw = r.rewrite;
                if (rw) {
                    if (rw.uri && rw.uriRegexRewrite)
                        report("error", "rewrite may only contain one of URI or UriRegexRewrite");
                    else if (!rw.uri && !rw.uriRegexRewrite && !rw.authority)
                        report(
                            "error",
                            "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified",
                        );
                    else if (rw.uriRegexRewrite) {
                        if (!rw.uriRegexRewrite.match || !rw.uriRegexRewrite.rewrite)
                            report("error", "UriRegexRewrite requires both Rewrite and Match fields to be specified");
                        else {
                            const p = regexProblem(
                                rw.uriRegexRewrite.match,
                                "HTTPRewrite.UriRegexRewrite.Match",
                                `route ${r.name}`,
                            );
                            if (p) report("error", p);
                        }
                    }
                }
                const authorities = [
                    ...(rw?.authority ? [rw.authority] : []),
                    ...Object.entries<string>({ ...(r.headers?.request?.set ?? {}) })
                        .filter(([k]) => [":authority", "host"].includes(k.toLowerCase()))
                        .map(([, v]) => v),
                    ...Object.entries<string>({ ...(r.headers?.request?.add ?? {}) })
                        .filter(([k]) => [":authority", "host"].includes(k.toLowerCase()))
                        .map(([, v]) => v),
                ];
                if (authorities.length > 1)
                    report(
                        "error",
                        `authority header cannot be set multiple times: have ${q(authorities[0])}, attempting to set ${q(authorities[1])}`,
                    );
                const rd = r.redirect;
                if (rd) {
                    if (rd.uri && rd.prefixRewrite)
                        report("error", "redirect may only specify one of uri or prefix_rewrite");
                    else if (
                        rd.prefixRewrite &&
                        (r.match ?? []).some(
                            (m: any) => m?.uri && oneofField(m.uri, ["exact", "prefix", "regex"]) !== "prefix",
                        )
                    )
                        report("error", "redirect prefix_rewrite requires all URI matches to use prefix match type");
                    else if (
                        !rd.uri &&
                        !rd.prefixRewrite &&
                        !rd.authority &&
                        rd.port === undefined &&
                        rd.derivePort === undefined &&
                        !rd.scheme
                    )
                        report("error", "redirect must specify URI, authority, scheme, or port");
                    else if (rd.redirectCode && (rd.redirectCode < 300 || rd.redirectCode > 399))
                        report("error", `${rd.redirectCode} is not a valid redirect code, must be 3xx`);
                    else if (rd.scheme && rd.scheme !== "http" && rd.scheme !== "https")
                        report("error", 'invalid redirect scheme, must be "http" or "https"');
                    else if (rd.port > 0 && portProblem(rd.port)) report("error", portProblem(rd.port)!);
                }
                destination(r.mirror);
                for (const m of r.mirrors ?? []) destination(m?.destination);
                let total = 0;
                for (const w of r.route ?? []) {
                    if (!w) continue;
                    if (!w.destination) report("error", "destination is required");
                    headerOps(w.headers, `route ${r.name}, destination ${w.destination?.host}`);
                    destination(w.destination);
                    if ((w.weight ?? 0) < 0) report("error", `weight ${w.weight} < 0`);
                    total += w.weight ?? 0;
                }
                if ((r.route ?? []).length > 1 && total === 0) report("error", "total destination weight = 0");
            }
        },
    },
    {
        id: "virtualservice-unreachable-routes",
        origin: "webhook",
        source:
            "pkg/config/validation/validation.go: analyzeUnreachableHTTPRules (a route after one without matches, a second route without matches, a match that repeats an " +
            "earlier one (asJSON, without its name), a route whose matches all do, and a prefix match an earlier prefix covers: genMatchHTTPRoutes, coveredValidation), routeName, requestName",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            for (const w of unreachableHttpRules(o.spec.http ?? [])) report("warning", w);
        },
    },
    {
        id: "virtualservice-destinations-exist",
        origin: "controller",
        source: "pkg/config/analysis/analyzers/virtualservice/destinationhosts.go and destinationrules.go (IST0101: the host is a Service, the subset is in its DestinationRule; else Envoy has no cluster and answers 503)",
        kinds: ["VirtualService"],
        check(o, ctx, report) {
            for (const r of o.spec.http ?? []) {
                for (const { destination: d } of r.route ?? []) {
                    if (!d) continue;
                    const svc = services(ctx).find((s) => fqdn(s) === d.host);
                    if (!svc) {
                        report("error", `route ${r.name}: destination ${d.host} is no Service of the plan`);
                        continue;
                    }
                    if (d.port && !svc.spec.ports.some((p: any) => p.port === d.port.number))
                        report("error", `route ${r.name}: ${d.host} has no port ${d.port.number}`);
                    if (
                        d.subset &&
                        !destinationRules(ctx).some(
                            (dr) =>
                                dr.spec.host === d.host &&
                                (dr.spec.subsets ?? []).some((s: any) => s.name === d.subset),
                        )
                    ) {
                        report(
                            "error",
                            `route ${r.name}: subset ${d.subset} of ${d.host} is defined by no DestinationRule`,
                        );
                    }
                }
            }
        },
    },
    {
        id: "virtualservice-bound-gateway-serves-hosts",
        origin: "controller",
        source: "pkg/config/analysis/analyzers/virtualservice/gateways.go (IST0132: a gateway-bound VirtualService whose hosts no server of the Gateway serves is ignored)",
        kinds: ["VirtualService"],
        check(o, ctx, report) {
            for (const g of o.spec.gateways ?? []) {
                if (g === "mesh") continue;
                const [ns, name] = g.split("/");
                const gw = ctx.docs.find(
                    (d) => d.kind === "Gateway" && d.metadata.name === name && d.metadata.namespace === ns,
                );
                if (!gw) {
                    report("error", `gateway ${g} is not in the plan`);
                    continue;
                }
                const served: string[] = gw.spec.servers.flatMap((s: any) => s.hosts);
                for (const h of o.spec.hosts ?? []) {
                    const ok = served.some(
                        (p) =>
                            p === "*" ||
                            p === h ||
                            (p.startsWith("*.") && h.endsWith(p.slice(1))) ||
                            (h.startsWith("*.") && h === p),
                    );
                    if (!ok) report("error", `host ${h} is served by no server of ${g}`);
                }
            }
        },
    },

    // Gateway --------------------------------------------------------------------------------------
    {
        id: "gateway-servers",
        origin: "webhook",
        source:
            "pkg/config/validation/validation.go: ValidateGateway (name a DNS label, servers, unique port names, httpsRedirect only on HTTP), validateServer " +
            "(hosts: agent.ValidateNamespaceSlashWildcardHostname; TLS settings for HTTPS/TLS only, on HTTP only a PASSTHROUGH one such as httpsRedirect), " +
            "validateServerPort (protocol.Parse, port, name, no targetPort), validateServerBind, validateTLSOptions",
        kinds: ["Gateway"],
        check(o, _ctx, report) {
            if (!isDns1123Label(o.metadata.name)) report("error", `invalid gateway name: ${q(o.metadata.name)}`);
            const servers: any[] = o.spec.servers ?? [];
            if (!servers.length) report("error", "gateway must have at least one server");
            for (const s of servers) for (const [severity, message] of serverProblems(s)) report(severity, message);
            const names = new Set<string>();
            for (const s of servers) {
                if (!s) {
                    report("error", "server may not be nil");
                    continue;
                }
                if (!s.port) continue;
                const name = String(s.port.name ?? "");
                if (names.has(name)) report("error", `port names in servers must be unique: duplicate name ${name}`);
                names.add(name);
                if (!isHttpProtocol(s.port.protocol) && s.tls?.httpsRedirect)
                    report("warning", "tls.httpsRedirect should only be used with http servers");
            }
        },
    },
    {
        id: "gateway-selects-gateway-pods",
        origin: "controller",
        source: "pilot/pkg/model/push_context.go: mergeGateways / gatewayWithInstances (a Gateway applies to the proxies whose labels its selector is a subset of)",
        kinds: ["Gateway"],
        check(o, ctx, report) {
            if (!subsetOf(o.spec.selector, ctx.gatewayPodLabels))
                report(
                    "error",
                    `selector ${JSON.stringify(o.spec.selector)} matches no gateway pod (labels ${JSON.stringify(ctx.gatewayPodLabels)})`,
                );
            if (!Object.keys(o.spec.selector ?? {}).length)
                report("error", "an empty selector selects every gateway proxy in the mesh");
        },
    },

    // EnvoyFilter ----------------------------------------------------------------------------------
    {
        id: "envoyfilter-patches",
        origin: "webhook",
        source:
            "pkg/config/validation/envoyfilter/envoyfilter.go: ValidateEnvoyFilter (always warns), validateEnvoyFilter (a selector error rejects before anything else; " +
            "each patch: applyTo, patch, operation and a value unless REMOVE, else the next patch; the match's object type fits applyTo; the value decodes as the xDS " +
            "type, pkg/config/xds/xds.go: BuildXDSObjectFromStruct: a type error rejects, an unknown field only warns); validation.go: ValidateAlphaWorkloadSelector",
        kinds: ["EnvoyFilter"],
        check(o, _ctx, report) {
            const labels = Object.entries<string>(o.spec.workloadSelector?.labels ?? {});
            const selectorErrors = labels.flatMap(([k, v]) => [
                ...(k === "" ? [`empty key is not supported in selector: ${q(`${k}=${v}`)}`] : []),
                ...(k.includes("*") || v.includes("*")
                    ? [`wildcard is not supported in selector: ${q(`${k}=${v}`)}`]
                    : []),
            ]);
            if (selectorErrors.length) {
                for (const e of selectorErrors) report("error", e);
                return;
            }
            report(
                "warning",
                "EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.",
            );
            if (o.spec.workloadSelector && !labels.length)
                report(
                    "warning",
                    "Envoy filter: workload selector specified without labels, will be applied to all services in namespace",
                );
            for (const cp of o.spec.configPatches ?? []) {
                if (!cp) {
                    report("error", "Envoy filter: null config patch");
                    continue;
                }
                if (cp.match?.context === "WAYPOINT") continue;
                if (!cp.applyTo || cp.applyTo === "INVALID") {
                    report("error", "Envoy filter: missing applyTo");
                    continue;
                }
                if (!cp.patch) {
                    report("error", "Envoy filter: missing patch");
                    continue;
                }
                if (!cp.patch.operation || cp.patch.operation === "INVALID") {
                    report("error", "Envoy filter: missing patch operation");
                    continue;
                }
                if (cp.patch.operation !== "REMOVE" && (cp.patch.value === undefined || cp.patch.value === null)) {
                    report("error", "Envoy filter: missing patch value for non-remove operation");
                    continue;
                }
                const proxyVersion: string | undefined = cp.match?.proxy?.proxyVersion;
                if (proxyVersion) {
                    if (Buffer.byteLength(proxyVersion) > 1024)
                        report(
                            "warning",
                            "Envoy filter: proxyVersion match exceeds 1024 characters and will be ignored",
                        );
                    else {
                        const err = goRegexpError(proxyVersion);
                        if (err) {
                            report(
                                "error",
                                `Envoy filter: invalid regex for proxy version, [error parsing regexp: ${err}]`,
                            );
                            continue;
                        }
                    }
                }
                // The match's object type is a oneof: listener, routeConfiguration or cluster.
                const objectType = oneofField(cp.match, ["listener", "routeConfiguration", "cluster"]);
                if (objectType) {
                    if (
                        ["LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER"].includes(cp.applyTo) &&
                        objectType !== "listener"
                    ) {
                        report(
                            "error",
                            "Envoy filter: applyTo for listener class objects cannot have non listener match",
                        );
                        continue;
                    }
                    if (
                        ["ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE"].includes(cp.applyTo) &&
                        objectType !== "routeConfiguration"
                    )
                        report(
                            "error",
                            "Envoy filter: applyTo for http route class objects cannot have non route configuration match",
                        );
                    if (cp.applyTo === "CLUSTER" && objectType !== "cluster")
                        report(
                            "error",
                            "Envoy filter: applyTo for cluster class objects cannot have non cluster match",
                        );
                }
                if (cp.applyTo === "CLUSTER" && cp.patch.value) {
                    const decoded = clusterValueProblem(cp.patch.value);
                    if (decoded) report(decoded.severity, decoded.message);
                }
            }
        },
    },
    {
        id: "envoyfilter-reaches-its-cluster",
        origin: "controller",
        source: "pilot/pkg/networking/core/envoyfilter/cluster_patch.go: clusterMatch (service, subset and portNumber against model.ParseSubsetKey of outbound|<port>|<subset>|<host>); pilot/pkg/model/push_context.go: initEnvoyFilters/EnvoyFilters (a filter reaches proxies of its own namespace, or every proxy from the root namespace); the cluster is ORIGINAL_DST only for a PASSTHROUGH subset (pilot/pkg/networking/core/cluster_builder.go)",
        kinds: ["EnvoyFilter"],
        check(o, ctx, report) {
            for (const cp of o.spec.configPatches ?? []) {
                const c = cp.match?.cluster;
                if (cp.applyTo !== "CLUSTER" || !c) continue;
                const svc = services(ctx).find((s) => fqdn(s) === c.service);
                if (!svc)
                    report(
                        "error",
                        `cluster match service ${c.service} is no Service of the plan: the patch matches nothing`,
                    );
                else if (c.portNumber && !svc.spec.ports.some((p: any) => p.port === c.portNumber))
                    report("error", `${c.service} has no port ${c.portNumber}`);
                const subset = destinationRules(ctx)
                    .flatMap((dr) => (dr.spec.host === c.service ? (dr.spec.subsets ?? []) : []))
                    .find((s: any) => s.name === c.subset);
                if (c.subset && !subset)
                    report(
                        "error",
                        `subset ${c.subset} of ${c.service} is defined by no DestinationRule: no such cluster`,
                    );
                if (
                    cp.patch?.value?.original_dst_lb_config &&
                    subset?.trafficPolicy?.loadBalancer?.simple !== "PASSTHROUGH"
                ) {
                    report(
                        "error",
                        `original_dst_lb_config needs an ORIGINAL_DST cluster: subset ${c.subset} must be PASSTHROUGH`,
                    );
                }
                const context = cp.match?.context;
                if (context === "GATEWAY") {
                    if (o.metadata.namespace !== ctx.gatewayNamespace && o.metadata.namespace !== ctx.rootNamespace)
                        report(
                            "error",
                            `a GATEWAY patch in ${o.metadata.namespace} reaches no gateway pod (they run in ${ctx.gatewayNamespace})`,
                        );
                    if (!o.spec.workloadSelector)
                        report(
                            "error",
                            "a GATEWAY patch without a workloadSelector reaches every gateway of its namespace",
                        );
                    else if (!subsetOf(o.spec.workloadSelector.labels, ctx.gatewayPodLabels))
                        report("error", "workloadSelector matches no gateway pod");
                } else if (context === "SIDECAR_OUTBOUND" && o.metadata.namespace !== ctx.rootNamespace) {
                    report("error", `a filter for every sidecar must live in the root namespace ${ctx.rootNamespace}`);
                }
            }
        },
    },

    // AuthorizationPolicy --------------------------------------------------------------------------
    {
        id: "authorizationpolicy-shape",
        origin: "webhook",
        source:
            "pkg/config/validation/validation.go: ValidateAuthorizationPolicy (selector: validateWorkloadSelector; DENY needs rules; from.source and to.operation set and " +
            "not empty; pkg/config/security/security.go: ValidateIPs, ValidatePorts, CheckEmptyValues, CheckValidPathTemplate, ValidateAttribute for when keys; the TCP " +
            "warning for DENY rules on HTTP attributes only). A rejected policy gets no warnings: pkg/webhooks/validation/server/server.go: admitPilot",
        kinds: ["AuthorizationPolicy"],
        check(o, _ctx, report) {
            const action = o.spec.action ?? "ALLOW";
            const selector = workloadSelectorProblems(o.spec.selector);
            if (o.spec.selector && (o.spec.targetRef || (o.spec.targetRefs ?? []).length))
                report("error", "only one of targetRefs or workloadSelector can be set");
            for (const e of selector.errors) report("error", e);
            for (const w of selector.warnings) report("warning", w);
            // A repeated field has no presence in proto3: `rules: []` is no rules.
            const rules: any[] = o.spec.rules ?? [];
            if (action === "CUSTOM") {
                if (!rules.length)
                    report(
                        "error",
                        "CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request",
                    );
                else if (!o.spec.provider?.name) report("error", "`provider.name` must not be empty");
            }
            if (o.spec.provider && action !== "CUSTOM")
                report("error", `\`provider\` must not be with non CUSTOM action, found ${action}`);
            if (action === "DENY" && !rules.length)
                report(
                    "error",
                    "DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request",
                );
            const has = (o2: any, k: string) => (o2?.[k] ?? []).length > 0;
            rules.forEach((r, i) => {
                if (!r) {
                    report("error", `\`rule\` must not be nil, found at rule ${i}`);
                    return;
                }
                let tcpFrom = false;
                let tcpTo = false;
                let fromExists = false;
                let toExists = false;
                for (const f of r.from ?? []) {
                    if (!f) {
                        report("error", `\`from\` must not be nil, found at rule ${i}`);
                        continue;
                    }
                    const src = f.source;
                    if (!src) {
                        report("error", `\`from.source\` must not be nil, found at rule ${i}`);
                        continue;
                    }
                    fromExists = true;
                    if (
                        ["principals", "notPrincipals", "namespaces", "notNamespaces"].some((k) => has(src, k)) &&
                        ["serviceAccounts", "notServiceAccounts"].some((k) => has(src, k))
                    )
                        report("error", `cannot set serviceAccounts with namespaces or principals, found at rule ${i}`);
                    const lists = [
                        "principals",
                        "requestPrincipals",
                        "namespaces",
                        "ipBlocks",
                        "remoteIpBlocks",
                        "serviceAccounts",
                        "trustDomains",
                    ];
                    if (!withNegations(lists).some((k) => has(src, k)))
                        report("error", `\`from.source\` must not be empty, found at rule ${i}`);
                    for (const k of ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"])
                        for (const p of ipProblems(src[k])) report("error", p);
                    for (const k of withNegations([
                        "principals",
                        "requestPrincipals",
                        "namespaces",
                        "ipBlocks",
                        "remoteIpBlocks",
                    ]))
                        if ((src[k] ?? []).includes(""))
                            report("error", `empty value not allowed, found in ${k[0].toUpperCase()}${k.slice(1)}`);
                    // tcpRulesInFrom: every source field but (not)requestPrincipals and trust domains is a TCP attribute.
                    const tcp = ["principals", "ipBlocks", "namespaces", "remoteIpBlocks", "serviceAccounts"];
                    tcpFrom ||= withNegations(tcp).some((k) => has(src, k));
                }
                for (const t of r.to ?? []) {
                    if (!t) {
                        report("error", `\`to\` must not be nil, found at rule ${i}`);
                        continue;
                    }
                    const op = t.operation;
                    if (!op) {
                        report("error", `\`to.operation\` must not be nil, found at rule ${i}`);
                        continue;
                    }
                    toExists = true;
                    const fields = ["ports", "methods", "paths", "hosts"];
                    const all = withNegations(fields);
                    if (!all.some((k) => has(op, k)))
                        report("error", `\`to.operation\` must not be empty, found at rule ${i}`);
                    for (const k of ["ports", "notPorts"]) for (const p of portValueProblems(op[k])) report("error", p);
                    for (const k of all)
                        if ((op[k] ?? []).includes(""))
                            report("error", `empty value not allowed, found in ${k[0].toUpperCase()}${k.slice(1)}`);
                    for (const k of ["paths", "notPaths"]) {
                        const p = pathTemplateProblem(`${k[0].toUpperCase()}${k.slice(1)}`, op[k] ?? []);
                        if (p) report("error", p);
                    }
                    tcpTo ||= has(op, "ports") || has(op, "notPorts");
                }
                for (const w of r.when ?? []) {
                    const key = String(w?.key ?? "");
                    if (!key) report("error", "`key` must not be empty");
                    else if (!(w.values ?? []).length && !(w.notValues ?? []).length)
                        report("error", `at least one of \`values\` or \`notValues\` must be set for key ${key}`);
                    else {
                        const v = attributeProblem(key, w.values ?? []);
                        if (v) report("error", `invalid \`value\` for \`key\` ${key}: ${v}`);
                        const nv = attributeProblem(key, w.notValues ?? []);
                        if (nv) report("error", `invalid \`notValue\` for \`key\` ${key}: ${nv}`);
                    }
                }
                if (action === "DENY" && ((fromExists && !toExists && !tcpFrom) || (toExists && !tcpTo)))
                    report(
                        "warning",
                        "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port",
                    );
            });
        },
    },
    {
        id: "authorizationpolicy-client-address",
        origin: "controller",
        source: "pilot/pkg/security/authz/model/generator.go: srcIPGenerator (ipBlocks: the connection's peer, Envoy direct_remote_ip) and remoteIPGenerator (remoteIpBlocks: the client, Envoy remote_ip, from X-Forwarded-For past numTrustedProxies); Kubernetes SNATs NodePort/LoadBalancer traffic to a node address unless externalTrafficPolicy is Local",
        kinds: ["AuthorizationPolicy"],
        check(o, ctx, report) {
            if (o.metadata.namespace !== ctx.gatewayNamespace) return;
            const external = ctx.gatewayServiceType === "NodePort" || ctx.gatewayServiceType === "LoadBalancer";
            for (const r of o.spec.rules ?? []) {
                for (const f of r.from ?? []) {
                    const src = f.source ?? {};
                    if (src.ipBlocks || src.notIpBlocks) {
                        if (external)
                            report(
                                "error",
                                "ipBlocks/notIpBlocks on the gateway see the peer address, which a NodePort or LoadBalancer Service may SNAT to a node: use remoteIpBlocks",
                            );
                    }
                    if (
                        (src.remoteIpBlocks || src.notRemoteIpBlocks) &&
                        external &&
                        ctx.gatewayExternalTrafficPolicy !== "Local" &&
                        ctx.gatewayTrustedProxies === 0
                    ) {
                        report(
                            "error",
                            "the gateway Service SNATs clients to node addresses (externalTrafficPolicy Cluster) and trusts no proxy: remoteIpBlocks would see a node",
                        );
                    }
                }
            }
        },
    },
    {
        id: "authorizationpolicy-selects-gateway",
        origin: "controller",
        source: "pilot/pkg/model/authorization.go: ListAuthorizationPolicies (policies of the workload's namespace and the root namespace, whose selector is a subset of the workload's labels)",
        kinds: ["AuthorizationPolicy"],
        check(o, ctx, report) {
            const sel = o.spec.selector?.matchLabels;
            if (o.metadata.namespace === ctx.gatewayNamespace && !subsetOf(sel, ctx.gatewayPodLabels))
                report("error", "selector matches no gateway pod");
        },
    },

    // PeerAuthentication ---------------------------------------------------------------------------
    {
        id: "peerauthentication-shape",
        origin: "webhook",
        source:
            "pkg/config/validation/validation.go: ValidatePeerAuthentication (port-level mTLS needs a selector, at least one port, ports 1-65535; validateWorkloadSelector); " +
            "an unknown mTLS mode fails decoding (pilot/pkg/config/kube/crd/conversion.go: ConvertObject). Whether the selector selects a pod of the plan is the controller's " +
            "(pilot/pkg/model/authentication.go: the policy applies to workloads it selects)",
        kinds: ["PeerAuthentication"],
        check(o, ctx, report) {
            const modes = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];
            const badMode = [
                o.spec.mtls?.mode,
                ...Object.values<any>(o.spec.portLevelMtls ?? {}).map((m) => m?.mode),
            ].find((m) => m !== undefined && m !== null && !modes.includes(m));
            if (badMode !== undefined) {
                report(
                    "error",
                    `unknown value ${q(q(String(badMode)))} for enum istio.security.v1beta1.PeerAuthentication.MutualTLS.Mode`,
                );
                return;
            }
            const sel = o.spec.selector?.matchLabels ?? {};
            const empty = Object.keys(sel).length === 0;
            const ports = Object.keys(o.spec.portLevelMtls ?? {});
            if (empty && ports.length)
                report("error", "mesh/namespace peer authentication cannot have port level mTLS");
            if (o.spec.portLevelMtls !== undefined && o.spec.portLevelMtls !== null && !ports.length)
                report("error", "port level mTLS, if defined, must have at least one element");
            for (const p of ports)
                if (!(Number(p) >= 1 && Number(p) <= 65535)) report("error", "port must be in range 1..65535");
            const selector = workloadSelectorProblems(o.spec.selector);
            for (const e of selector.errors) report("error", e);
            for (const w of selector.warnings) report("warning", w);
            const pods = ctx.docs.filter(
                (d) => d.kind === "Deployment" && d.metadata.namespace === o.metadata.namespace,
            );
            if (!empty && !pods.some((d) => subsetOf(sel, d.spec.template.metadata.labels)))
                report(
                    "error",
                    `selector ${JSON.stringify(sel)} matches no pod of the plan in ${o.metadata.namespace}`,
                    "controller",
                );
        },
    },

    // Ingress through Istio (cert-manager's HTTP-01 solver) ----------------------------------------
    {
        id: "acme-solver-ingress-served-by-istio",
        origin: "controller",
        source: "pilot/pkg/config/kube/ingress/conversion.go: shouldProcessIngressWithClass (annotation == meshConfig.ingressClass unless mode OFF; else an IngressClass with controller istio.io/ingress-controller; else only mode DEFAULT) and getIngressGatewaySelector (istio=<ingressSelector>); pilot/pkg/features: K8S_INGRESS_NS holds meshConfig.ingressService",
        kinds: ["ClusterIssuer"],
        check(o, ctx, report) {
            for (const s of o.spec.acme?.solvers ?? []) {
                const ing = s.http01?.ingress;
                if (!ing) continue;
                if (!ctx.istiod) {
                    report(
                        "warning",
                        "istiod is not installed by this plan: its meshConfig decides whether the challenge Ingress is served",
                    );
                    continue;
                }
                const mc = ctx.istiod.meshConfig;
                const mode = mc.ingressControllerMode ?? "DEFAULT";
                // cert-manager: `class` sets the kubernetes.io/ingress.class annotation, `ingressClassName` sets spec.ingressClassName.
                let served: boolean;
                if (ing.class !== undefined) served = mode !== "OFF" && ing.class === (mc.ingressClass ?? "istio");
                else if (ing.ingressClassName !== undefined)
                    served = ctx.docs.some(
                        (d) =>
                            d.kind === "IngressClass" &&
                            d.metadata.name === ing.ingressClassName &&
                            d.spec?.controller === "istio.io/ingress-controller",
                    );
                else served = mode === "DEFAULT";
                if (!served)
                    report(
                        "error",
                        `istiod ignores the challenge Ingress (${JSON.stringify(ing)}; mode ${mode}, ingressClass ${mc.ingressClass}): the certificate is never issued`,
                    );
                const selector = {
                    istio:
                        mc.ingressSelector ??
                        (mc.ingressService && mc.ingressService !== "istio-ingressgateway"
                            ? mc.ingressService
                            : "ingressgateway"),
                };
                if (!subsetOf(selector, ctx.gatewayPodLabels))
                    report("error", `the Ingress gateway selector ${JSON.stringify(selector)} matches no gateway pod`);
                if (mc.ingressService && (ctx.istiod.env.K8S_INGRESS_NS ?? "istio-system") !== ctx.gatewayNamespace) {
                    report(
                        "error",
                        `ingressService ${mc.ingressService} is looked up in ${ctx.istiod.env.K8S_INGRESS_NS ?? "istio-system"}, not the gateway's namespace ${ctx.gatewayNamespace}`,
                    );
                }
            }
        },
    },

    // The Kubernetes Gateway API, as Istio's gateway controller reads it -------------------------------
    {
        id: "gatewayapi-gateway-bound-to-helm-gateway",
        origin: "controller",
        source:
            "pilot/pkg/config/kube/gatewaycommon/gateway_utils.go: IsManaged (one address of type Hostname: a manual deployment, nothing deployed); " +
            "pilot/pkg/config/kube/gateway/conversion.go: extractGatewayServices (a name without a dot is the Service in the Gateway's namespace); " +
            "class istio is served by istio.io/gateway-controller",
        kinds: [`${GATEWAY_API}/Gateway`],
        check(o, ctx, report) {
            if (o.spec.gatewayClassName === "istio-waypoint") return; // a waypoint: Istio deploys it (ambient-waypoint)
            if (o.spec.gatewayClassName !== "istio")
                report(
                    "error",
                    `class ${o.spec.gatewayClassName} is not Istio's ("istio"): no Istio controller serves it`,
                );
            const addrs = o.spec.addresses ?? [];
            if (addrs.length !== 1 || (addrs[0].type ?? "IPAddress") !== "Hostname") {
                report(
                    "error",
                    "without exactly one Hostname address Istio deploys a gateway of its own instead of using the Helm-installed one",
                );
                return;
            }
            const value: string = addrs[0].value;
            const fqdn = value.includes(".") ? value : `${value}.${o.metadata.namespace}.svc.cluster.local`;
            const want = `${ctx.gatewayServiceName}.${ctx.gatewayNamespace}.svc.cluster.local`;
            if (fqdn !== want)
                report(
                    "error",
                    `its address names ${fqdn}, not the gateway's Service ${want}: no pod serves its listeners`,
                );
            const names = (o.spec.listeners ?? []).map((l: any) => l.name);
            if (new Set(names).size !== names.length) report("error", `listener names must be unique (${names})`);
        },
    },
    {
        id: "gatewayapi-listener-certificate",
        origin: "controller",
        source: "pilot/pkg/config/kube/gateway/conversion.go: buildListener (TLS Terminate needs certificateRefs; a Secret in another namespace needs a ReferenceGrant)",
        kinds: [`${GATEWAY_API}/Gateway`],
        check(o, ctx, report) {
            for (const l of o.spec.listeners ?? []) {
                if (l.protocol !== "HTTPS") continue;
                const refs = l.tls?.certificateRefs ?? [];
                if ((l.tls?.mode ?? "Terminate") !== "Terminate" || refs.length === 0) {
                    report("error", `listener ${l.name}: HTTPS needs tls.mode Terminate and a certificateRef`);
                    continue;
                }
                for (const ref of refs) {
                    const ns = ref.namespace ?? o.metadata.namespace;
                    if ((ref.kind ?? "Secret") !== "Secret" || ns !== o.metadata.namespace)
                        report(
                            "error",
                            `listener ${l.name}: certificateRef ${JSON.stringify(ref)} is not a Secret beside the Gateway`,
                        );
                    const written = ctx.docs.some(
                        (d) =>
                            d.kind === "Certificate" && d.metadata.namespace === ns && d.spec.secretName === ref.name,
                    );
                    if (!written)
                        report(
                            "error",
                            `listener ${l.name}: no Certificate of the plan writes Secret ${ns}/${ref.name}`,
                        );
                }
            }
        },
    },
    {
        id: "gatewayapi-route-parents",
        origin: "controller",
        source:
            "pilot/pkg/config/kube/gateway/conversion.go: extractParentReferenceInfo (a parentRef names a Gateway and, with sectionName, one of its listeners) " +
            "and namespacesFromSelector (allowedRoutes: Same admits only the Gateway's namespace)",
        kinds: [`${GATEWAY_API}/HTTPRoute`],
        check(o, ctx, report) {
            for (const p of o.spec.parentRefs ?? []) {
                const ns = p.namespace ?? o.metadata.namespace;
                const gw = gatewayApiGateway(ctx, ns, p.name);
                if (!gw) {
                    report(
                        "error",
                        `parentRef ${ns}/${p.name} names no Gateway of the plan: the route attaches nowhere`,
                    );
                    continue;
                }
                const listeners = (gw.spec.listeners ?? []).filter(
                    (l: any) => p.sectionName === undefined || l.name === p.sectionName,
                );
                if (listeners.length === 0)
                    report(
                        "error",
                        `parentRef ${ns}/${p.name} names listener ${p.sectionName}, which the Gateway does not have`,
                    );
                for (const l of listeners) {
                    if (admitsOwnNamespaceOnly(l) && o.metadata.namespace !== gw.metadata.namespace)
                        report(
                            "error",
                            `listener ${l.name} admits routes from ${gw.metadata.namespace} only; this route is in ${o.metadata.namespace}`,
                        );
                }
            }
        },
    },
    {
        id: "gatewayapi-route-backends",
        origin: "controller",
        source:
            "pilot/pkg/config/kube/gateway/conversion.go: buildDestination (a backendRef is a Service by name, not a hostname; one in another namespace " +
            "needs a ReferenceGrant there, gatewaycommon ReferenceGrants.BackendAllowed; a missing Service is an invalid backend)",
        kinds: [`${GATEWAY_API}/HTTPRoute`],
        check(o, ctx, report) {
            for (const rule of o.spec.rules ?? []) {
                for (const b of rule.backendRefs ?? []) {
                    const ns = b.namespace ?? o.metadata.namespace;
                    if ((b.kind ?? "Service") !== "Service" || (b.group ?? "") !== "") continue;
                    if (String(b.name).includes("."))
                        report("error", `backendRef ${b.name}: the name of the Service must be used, not the hostname`);
                    const svc = ctx.docs.find(
                        (d) => d.kind === "Service" && d.metadata.name === b.name && d.metadata.namespace === ns,
                    );
                    if (!svc) report("error", `backendRef ${ns}/${b.name}: no Service of the plan`);
                    else if (!(svc.spec.ports ?? []).some((p: any) => p.port === b.port))
                        report("error", `backendRef ${ns}/${b.name}: the Service has no port ${b.port}`);
                    if (ns !== o.metadata.namespace) {
                        const granted = ctx.docs.some(
                            (d) =>
                                d.kind === "ReferenceGrant" &&
                                d.metadata.namespace === ns &&
                                (d.spec.from ?? []).some(
                                    (f: any) =>
                                        f.group === GATEWAY_API &&
                                        f.kind === "HTTPRoute" &&
                                        f.namespace === o.metadata.namespace,
                                ) &&
                                (d.spec.to ?? []).some(
                                    (t: any) =>
                                        (t.group ?? "") === "" &&
                                        t.kind === "Service" &&
                                        (t.name === undefined || t.name === b.name),
                                ),
                        );
                        if (!granted)
                            report(
                                "error",
                                `backendRef ${ns}/${b.name} is in another namespace and no ReferenceGrant there allows it: the backend is refused`,
                            );
                    }
                }
            }
        },
    },
    {
        id: "gatewayapi-route-filters",
        origin: "controller",
        source:
            "gateway-api apis/v1/httproute_types.go: ReplacePrefixMatch is only compatible with a PathPrefix match (a CEL rule of the HTTPRoute CRD); " +
            "RequestRedirect and URLRewrite together, or a redirect with backends, are refused; pilot/pkg/config/kube/gateway/conversion.go: convertHTTPRoute",
        kinds: [`${GATEWAY_API}/HTTPRoute`],
        check(o, _ctx, report) {
            (o.spec.rules ?? []).forEach((rule: any, i: number) => {
                const types = (rule.filters ?? []).map((f: any) => f.type);
                if (types.includes("RequestRedirect") && types.includes("URLRewrite"))
                    report("error", `rule ${i}: RequestRedirect and URLRewrite together`);
                if (types.includes("RequestRedirect") && (rule.backendRefs ?? []).length)
                    report("error", `rule ${i}: a redirect takes no backendRefs`);
                if (!types.includes("RequestRedirect") && !(rule.backendRefs ?? []).length)
                    report("error", `rule ${i}: no backendRefs: every request it matches fails`);
                const prefixRewrite = (rule.filters ?? []).some(
                    (f: any) => f.urlRewrite?.path?.type === "ReplacePrefixMatch",
                );
                if (prefixRewrite && !(rule.matches ?? []).every((m: any) => m.path?.type === "PathPrefix"))
                    report("error", `rule ${i}: ReplacePrefixMatch needs a PathPrefix path match in every match`);
            });
        },
    },
    {
        id: "acme-solver-gateway-route",
        origin: "controller",
        source:
            "cert-manager pkg/issuer/acme/http/httproute.go: createHTTPRoute (the solver's HTTPRoute is made in the Challenge's, i.e. the Certificate's, " +
            "namespace with the parentRefs given; the controller watches Gateway API kinds only with enableGatewayAPI); Istio then treats it as any HTTPRoute",
        kinds: ["ClusterIssuer"],
        check(o, ctx, report) {
            for (const s of o.spec.acme?.solvers ?? []) {
                const route = s.http01?.gatewayHTTPRoute;
                if (!route) continue;
                const cert = ctx.docs.find(
                    (d) => d.kind === "Certificate" && d.spec.issuerRef?.name === o.metadata.name,
                );
                for (const p of route.parentRefs ?? []) {
                    const gw = gatewayApiGateway(ctx, p.namespace, p.name);
                    const l = gw?.spec.listeners?.find((x: any) => x.name === p.sectionName);
                    if (!l)
                        report(
                            "error",
                            `solver parentRef ${p.namespace}/${p.name}#${p.sectionName} names no listener of the plan`,
                        );
                    else if (l.protocol !== "HTTP")
                        report(
                            "error",
                            `solver listener ${p.sectionName} is ${l.protocol}: HTTP-01 answers on plain HTTP`,
                        );
                    else if (admitsOwnNamespaceOnly(l) && cert && cert.metadata.namespace !== gw!.metadata.namespace)
                        report(
                            "error",
                            `the challenge HTTPRoute (in ${cert.metadata.namespace}) is not admitted by listener ${l.name}`,
                        );
                }
                const cm = ctx.docs.find((d) => d.kind === "CertManager");
                if (cm && cm.spec.helmOptions.values.config?.enableGatewayAPI !== true)
                    report(
                        "error",
                        "cert-manager runs without enableGatewayAPI: the Gateway solver never creates its HTTPRoute",
                    );
            }
        },
    },

    // Ambient -------------------------------------------------------------------------------------
    {
        id: "ambient-namespace-enrolment",
        origin: "controller",
        source: "cni/pkg/util/podutil.go: podHasSidecar (a pod with a sidecar is never enrolled in ambient), so an ambient namespace must not also ask for injection",
        kinds: ["Namespace"],
        check(o, _ctx, report) {
            const l = o.metadata.labels ?? {};
            if (
                l["istio.io/dataplane-mode"] === "ambient" &&
                (l["istio-injection"] === "enabled" || l["istio.io/rev"] !== undefined)
            )
                report(
                    "error",
                    "labelled for ambient and for sidecar injection: its pods get sidecars and ztunnel skips them",
                );
        },
    },
    {
        id: "ambient-waypoint",
        origin: "controller",
        source:
            "istioctl/pkg/waypoint/waypoint.go (a waypoint is a Gateway of class istio-waypoint, pkg/config/constants WaypointGatewayClassName, with one HBONE listener on 15008); " +
            "a Service's istio.io/use-waypoint names a waypoint in its namespace",
        kinds: ["Service"],
        check(o, ctx, report) {
            const name = o.metadata.labels?.["istio.io/use-waypoint"];
            if (name === undefined) return;
            const wp = gatewayApiGateway(ctx, o.metadata.namespace!, name);
            if (!wp) {
                report(
                    "error",
                    `uses waypoint ${name}, which the plan does not have in ${o.metadata.namespace}: in-mesh traffic to it fails`,
                );
                return;
            }
            const hbone = (wp.spec.listeners ?? []).some((l: any) => l.protocol === "HBONE" && l.port === 15008);
            if (wp.spec.gatewayClassName !== "istio-waypoint" || !hbone)
                report("error", `waypoint ${name} is not of class istio-waypoint with an HBONE listener on 15008`);
            const ns = ctx.docs.find((d) => d.kind === "Namespace" && d.metadata.name === o.metadata.namespace);
            if (ns && ns.metadata.labels?.["istio.io/dataplane-mode"] !== "ambient")
                report("error", `namespace ${o.metadata.namespace} is not in ambient: no waypoint is used`);
        },
    },
    {
        id: "ambient-hash-needs-waypoint",
        origin: "controller",
        source:
            "pilot/pkg/networking/core/cluster_waypoint.go: buildWaypointInboundVIPCluster applies the DestinationRule's load balancer (applyLoadBalancer); " +
            "ztunnel is L4 and applies none, so without a waypoint in-mesh callers of an ambient app are not sticky",
        kinds: ["DestinationRule"],
        check(o, ctx, report) {
            if (!o.spec.trafficPolicy?.loadBalancer?.consistentHash) return;
            const ns = ctx.docs.find((d) => d.kind === "Namespace" && d.metadata.name === o.metadata.namespace);
            if (ns?.metadata.labels?.["istio.io/dataplane-mode"] !== "ambient") return;
            const [svcName, svcNs] = String(o.spec.host).split(".");
            const svc = ctx.docs.find(
                (d) => d.kind === "Service" && d.metadata.name === svcName && d.metadata.namespace === svcNs,
            );
            if (!svc?.metadata.labels?.["istio.io/use-waypoint"])
                report(
                    "error",
                    `consistent hashing for ${o.spec.host} in ambient without a waypoint: only the gateway would hash`,
                );
        },
    },
    {
        id: "ambient-waypoint-hash-needs-virtualservice-1.30",
        origin: "controller",
        source:
            "pilot/pkg/networking/core/listener_waypoint.go: buildWaypointInboundHTTPRouteConfig (1.30.3) builds routes from the VirtualServices for the Service " +
            "(getVirtualServiceForWaypoint: in the Service's or the waypoint's namespace, bound to the mesh, with http routes) and takes their hash_policy from the " +
            "DestinationRule (route.go: HashForHTTPDestination); without one it falls back to httproute.go: buildSidecarInboundHTTPRouteConfig, a default route " +
            "with no hash_policy. 1.31 adds the DestinationRule's top-level hash to that route (istio/istio#61045, PR #61048, not backported)",
        kinds: ["DestinationRule"],
        check(o, ctx, report) {
            if (!o.spec.trafficPolicy?.loadBalancer?.consistentHash || !/^1\.30\./.test(ctx.istioVersion)) return;
            const host = String(o.spec.host);
            const [svcName, svcNs] = host.split(".");
            const svc = ctx.docs.find(
                (d) => d.kind === "Service" && d.metadata.name === svcName && d.metadata.namespace === svcNs,
            );
            const waypoint = svc?.metadata.labels?.["istio.io/use-waypoint"];
            if (!waypoint) return;
            const routes = ctx.docs.some(
                (d) =>
                    d.kind === "VirtualService" &&
                    d.metadata.namespace === svcNs &&
                    (d.spec.hosts ?? []).includes(host) &&
                    (d.spec.gateways === undefined || d.spec.gateways.includes("mesh")) &&
                    (d.spec.http ?? []).some((r: any) =>
                        (r.route ?? []).some((dst: any) => dst.destination?.host === host),
                    ),
            );
            if (!routes)
                report(
                    "error",
                    `Istio ${ctx.istioVersion}'s waypoint ${waypoint} hashes ${host} only on a mesh VirtualService's routes, and the plan has none: in-mesh callers are not sticky`,
                );
        },
    },
    {
        id: "ambient-no-persistent-session",
        origin: "controller",
        source:
            "pilot/pkg/networking/core/httproute.go: MaybeBuildStatefulSessionFilterConfig (also in gateway.go) adds the stateful-session filter; " +
            "listener_waypoint.go never does, so a waypoint ignores istio.io/persistent-session labels",
        kinds: ["Service"],
        check(o, _ctx, report) {
            const l = o.metadata.labels ?? {};
            if (
                l["istio.io/use-waypoint"] &&
                (l["istio.io/persistent-session"] || l["istio.io/persistent-session-header"])
            )
                report(
                    "error",
                    "a persistent-session label on a Service behind a waypoint: the waypoint does not honour it",
                );
        },
    },

    // The gateway Service ------------------------------------------------------------------------
    {
        id: "gateway-service-traffic-policy",
        origin: "controller",
        source: "kubernetes/kubernetes pkg/apis/core/validation/validation.go: validateServiceExternalTrafficPolicy (only NodePort and LoadBalancer Services take externalTrafficPolicy)",
        kinds: ["HelmRelease"],
        check(o, _ctx, report) {
            if (o.spec.chart !== "gateway") return;
            const svc = o.spec.values.service ?? {};
            if (svc.externalTrafficPolicy && !["NodePort", "LoadBalancer"].includes(svc.type ?? "LoadBalancer"))
                report("error", "externalTrafficPolicy may only be set for externally-accessible services");
        },
    },
];

/** The gateway chart's pod labels for a release (gateway/templates/_helpers.tpl: app and istio default from the name). */
export function chartGatewayPodLabels(values: Record<string, any>, releaseName: string): Record<string, string> {
    const name = values.name || releaseName;
    const labels = { "istio.io/dataplane-mode": "none", ...(values.labels ?? {}) };
    return { ...labels, app: labels.app ?? name, istio: labels.istio ?? name.replace(/^istio-/, "") };
}

/** The gateway an existing Istio is required to have (the plan's meshRequirements), for plans that do not install one. */
export interface ExistingGateway {
    labels: Record<string, string>;
    namespace: string;
    /** The gateway's Service name. */
    serviceName: string;
    serviceType: string;
    externalTrafficPolicy?: string;
    numTrustedProxies: number;
    /** istiod's meshConfig and env as the plan requires them, if it requires any. */
    istiod?: { meshConfig?: Record<string, any>; env?: Record<string, string> };
    /** The Istio version it runs. */
    istioVersion: string;
}

/** Every finding for a stack's documents, an existing Istio taken to meet the plan's meshRequirements (tested in plan.test.ts). */
export function findingsForStack(stack: StackSettings, docs: readonly K8sObject[]): Finding[] {
    const g = meshForStack(stack).gateway;
    return checkPlan(
        contextOf(docs, {
            labels: g.labels,
            namespace: g.namespace,
            serviceName: g.name,
            serviceType: g.serviceType,
            externalTrafficPolicy: g.externalTrafficPolicy,
            numTrustedProxies: g.numTrustedProxies,
            istiod: acmeIngressMeshConfig(stack.tls, stack.mesh),
            istioVersion: stack.mesh.version,
        }),
    );
}

/** Builds the context from a plan's documents; `existing` stands in for an Istio the plan does not install. */
export function contextOf(docs: readonly K8sObject[], existing: ExistingGateway): PlanContext {
    const release = (chart: string) => docs.find((d) => d.kind === "HelmRelease" && d.spec.chart === chart);
    const gw = release("gateway");
    const istiod = release("istiod");
    const values = gw?.spec.values ?? {};
    const proxyConfig = values.podAnnotations?.["proxy.istio.io/config"];
    return {
        docs,
        gatewayPodLabels: gw ? chartGatewayPodLabels(values, gw.metadata.name) : existing.labels,
        gatewayNamespace: gw?.metadata.namespace ?? existing.namespace,
        gatewayServiceName: gw ? values.name || gw.metadata.name : existing.serviceName,
        gatewayServiceType: values.service?.type ?? (gw ? "LoadBalancer" : existing.serviceType),
        gatewayExternalTrafficPolicy: gw
            ? (values.service?.externalTrafficPolicy ?? "")
            : (existing.externalTrafficPolicy ?? ""),
        gatewayTrustedProxies: gw
            ? proxyConfig
                ? (JSON.parse(proxyConfig).gatewayTopology?.numTrustedProxies ?? 0)
                : 0
            : existing.numTrustedProxies,
        istiod: istiod
            ? { meshConfig: istiod.spec.values.meshConfig ?? {}, env: istiod.spec.values.env ?? {} }
            : existing.istiod && { meshConfig: existing.istiod.meshConfig ?? {}, env: existing.istiod.env ?? {} },
        rootNamespace: istiod?.spec.values.meshConfig?.rootNamespace ?? "istio-system",
        istioVersion: istiod?.spec.version ?? existing.istioVersion,
    };
}

/** A rule's name for a kind: Gateway API kinds carry their group ("gateway.networking.k8s.io/Gateway" is not Istio's Gateway). */
export function kindOf(o: K8sObject): string {
    return o.apiVersion.startsWith(`${GATEWAY_API}/`) ? `${GATEWAY_API}/${o.kind}` : o.kind;
}

/** Every finding of every rule over every document. */
export function checkPlan(ctx: PlanContext, rules: readonly Rule[] = RULES): Finding[] {
    const out: Finding[] = [];
    for (const obj of ctx.docs) {
        for (const rule of rules) {
            if (!rule.kinds.includes(kindOf(obj))) continue;
            rule.check(obj, ctx, (severity, message, origin = rule.origin) =>
                out.push({ rule: rule.id, severity, object: id(obj), message, origin }),
            );
        }
    }
    return out;
}
