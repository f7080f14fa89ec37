import { z } from "zod";
import {
    AffinityMode,
    AppProtocol,
    Dataplane,
    DirectContext,
    ExternalTrafficPolicy,
    GatewayServiceType,
    HashAlgorithm,
    IngressApi,
    isHashMode,
    isPersistentMode,
    TlsIssuer,
} from "./enums";
import * as rules from "./rules";
import {
    DEFAULT_CERT_MANAGER_VERSION,
    DEFAULT_ISTIO_VERSION,
    MIN_CERT_MANAGER_MINOR,
    unsupportedIstioVersion,
} from "./versions";
import {
    CERT_MANAGER_CHART_REPO,
    GATEWAY_API_RELEASES,
    ISTIO_CHART_REPO,
    ISTIO_IMAGE_HUB,
    retiredHostOf,
    retiredMessage,
    retiredReferencesIn,
} from "./artifacts";
import { ORIGINAL_DST_HEADER } from "./wellKnown";

/** A strict object whose unknown-key error lists the keys it does accept. */
function strict<S extends z.ZodRawShape>(shape: S) {
    const allowed = Object.keys(shape).join(", ");
    return z.strictObject(shape, {
        error: (issue) =>
            issue.code === "unrecognized_keys"
                ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")} (allowed: ${allowed})`
                : undefined,
    });
}

function enumOf<E extends Record<string, string>>(e: E) {
    const allowed = Object.values(e).join(", ");
    return z.enum(e, {
        error: (issue) => `must be one of ${allowed}${"input" in issue ? ` (got ${JSON.stringify(issue.input)})` : ""}`,
    });
}

/** A value of the wrong type, named for a message: the number 1.3, the text "3", true, a list, a map. */
export function described(input: unknown): string {
    if (input === null) return "null";
    if (Array.isArray(input)) return "a list";
    if (typeof input === "object") return "a map";
    if (typeof input === "string") return `the text ${JSON.stringify(input)}`;
    if (typeof input === "number") return `the number ${input}`;
    return JSON.stringify(input) ?? String(input);
}

/** A string field; a number given for it came from unquoted YAML, which `number` explains. */
const text = (
    what: string,
    check: (s: string) => boolean,
    number: (n: number) => string = () => ": write it in quotes",
) =>
    z
        .string({
            error: (issue) =>
                issue.input === undefined
                    ? `is required: ${what}`
                    : `must be ${what} (got ${described(issue.input)}${typeof issue.input === "number" ? number(issue.input) : ""})`,
        })
        .refine(check, { message: `must be ${what}` });

/** YAML reads an unquoted version as a number, and a number drops trailing zeros: 1.30 is 1.3. */
const versionAsNumber =
    (example: string) =>
    (n: number): string =>
        `: YAML reads an unquoted version as a number${/\.\d$/.test(String(n)) ? ` (to YAML 1.30 and 1.3 are the same number)` : ""}; write it in quotes, e.g. "${example}"`;

const intIn = (min: number, max: number, what = `a whole number from ${min} to ${max}`) =>
    z
        .number({
            error: (issue) =>
                typeof issue.input === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(issue.input)
                    ? `must be ${what} (got ${described(issue.input)}: write the number without quotes)`
                    : issue.input === undefined
                      ? `is required: ${what}`
                      : `must be ${what} (got ${described(issue.input)})`,
        })
        .int({ message: `must be ${what}` })
        .min(min, { message: `must be ${what}` })
        .max(max, { message: `must be ${what}` });

const dnsLabel = text("a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)", rules.isDnsLabel);
/** An HTTP header name in any case, lower-cased: Envoy compares header names in lower case (and HTTP/2 sends them so). */
const headerName = text("an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)", rules.isHeaderName).transform(
    (h) => h.toLowerCase(),
);

const cookieAttributeSchema = strict({
    name: text("a cookie attribute name such as SameSite, Secure or HttpOnly", (s) => /^[A-Za-z][A-Za-z0-9-]*$/.test(s))
        .refine((s) => !["path", "max-age", "expires"].includes(s.toLowerCase()), {
            message: "is set by the cookie's own field (use cookie.path or cookie.ttl)",
        })
        .describe("e.g. SameSite, Secure, HttpOnly."),
    value: text("a cookie attribute value without ';', ',' or spaces", (s) =>
        /^[\x21-\x2b\x2d-\x3a\x3c-\x7e]*$/.test(s),
    ).optional(),
}).meta({ title: "CookieAttribute" });

const cookieSchema = strict({
    name: text("a cookie name (an RFC 6265 token)", rules.isCookieName),
    ttl: text('a duration such as "60s", "1h30m" or "0s" (session cookie)', rules.isDuration)
        .refine((t) => (rules.goDurationNanos(t) ?? 0n) <= rules.MAX_GO_DURATION_NS, {
            message:
                "must be at most 2562047h (Istio parses durations with Go's time.ParseDuration, which holds about 292 years)",
        })
        .optional()
        .describe(
            'Envoy sets the cookie itself when a TTL is given ("0s": a session cookie). Default: the app sets it.',
        ),
    path: text('a path starting with "/"', (s) => s.startsWith("/") && !/\s|;/.test(s))
        .default("/")
        .describe('@default "/"'),
    attributes: z
        .array(cookieAttributeSchema, { error: "must be a list of {name, value}" })
        .default([])
        .describe('Extra attributes (Istio 1.28+), e.g. {name: "SameSite", value: "Lax"}. @default []'),
}).meta({ title: "Cookie" });

const HASH_ONLY_KEYS = ["algorithm", "minimumRingSize", "maglevTableSize"] as const;

/** Which keys each mode takes; any other key set is an error naming the mode. */
const MODE_KEYS: Record<AffinityMode, readonly string[]> = {
    [AffinityMode.Header]: ["headerName", ...HASH_ONLY_KEYS],
    [AffinityMode.Cookie]: ["cookie", ...HASH_ONLY_KEYS],
    [AffinityMode.QueryParameter]: ["queryParameterName", ...HASH_ONLY_KEYS],
    [AffinityMode.SourceIp]: [...HASH_ONLY_KEYS],
    [AffinityMode.PersistentCookie]: ["cookie"],
    [AffinityMode.PersistentHeader]: ["headerName"],
    [AffinityMode.None]: [],
};

const REQUIRED_KEY: Partial<Record<AffinityMode, string>> = {
    [AffinityMode.Header]: "headerName",
    [AffinityMode.Cookie]: "cookie",
    [AffinityMode.QueryParameter]: "queryParameterName",
    [AffinityMode.PersistentCookie]: "cookie",
    [AffinityMode.PersistentHeader]: "headerName",
};

export const affinitySchema = strict({
    mode: enumOf(AffinityMode),
    headerName: headerName
        .optional()
        .describe("The header to hash on (header) or that carries the pod's address (persistentHeader)."),
    cookie: cookieSchema
        .optional()
        .describe("The cookie to hash on (cookie) or that carries the pod's address (persistentCookie)."),
    queryParameterName: text(
        "a query parameter name (letters, digits and ._~-)",
        rules.isQueryParameterName,
    ).optional(),
    algorithm: enumOf(HashAlgorithm).optional().describe("Hash modes: ringHash or maglev. @default Envoy's ring hash"),
    minimumRingSize: intIn(1, rules.MAX_RING_SIZE).optional(),
    maglevTableSize: z
        .number({ error: `must be a prime number below ${rules.MAGLEV_TABLE_SIZE_LIMIT}` })
        .refine((n) => rules.isPrime(n) && n < rules.MAGLEV_TABLE_SIZE_LIMIT, {
            message: `must be a prime number below ${rules.MAGLEV_TABLE_SIZE_LIMIT} (Envoy's default is 65537)`,
        })
        .optional()
        .describe("A prime below 5000011. @default 65537 with maglev"),
})
    .meta({ title: "Affinity" })
    .superRefine((a, ctx) => {
        const taken = MODE_KEYS[a.mode];
        for (const key of Object.keys(a)) {
            if (key === "mode" || (a as Record<string, unknown>)[key] === undefined) continue;
            if (!taken.includes(key)) {
                const takes = taken.length ? `it takes ${taken.join(", ")}` : "it takes no other keys";
                ctx.addIssue({ code: "custom", path: [key], message: `is not used by mode "${a.mode}" (${takes})` });
            }
        }
        const required = REQUIRED_KEY[a.mode];
        if (required && (a as Record<string, unknown>)[required] === undefined) {
            ctx.addIssue({ code: "custom", path: [required], message: `is required by mode "${a.mode}"` });
        }
        if (a.minimumRingSize !== undefined && a.algorithm === HashAlgorithm.Maglev) {
            ctx.addIssue({
                code: "custom",
                path: ["minimumRingSize"],
                message: 'belongs to algorithm "ringHash", not "maglev"',
            });
        }
        if (a.maglevTableSize !== undefined && a.algorithm === HashAlgorithm.RingHash) {
            ctx.addIssue({
                code: "custom",
                path: ["maglevTableSize"],
                message: 'belongs to algorithm "maglev", not "ringHash"',
            });
        }
        if (a.mode === AffinityMode.PersistentCookie && a.cookie) {
            if (a.cookie.ttl !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["cookie", "ttl"],
                    message: "cannot be set: Istio's persistent-session cookie is always a session cookie",
                });
            }
            if (a.cookie.attributes.length > 0) {
                ctx.addIssue({
                    code: "custom",
                    path: ["cookie", "attributes"],
                    message: "cannot be set for a persistent-session cookie",
                });
            }
            if (a.cookie.path !== "/") {
                ctx.addIssue({
                    code: "custom",
                    path: ["cookie", "path"],
                    message:
                        'must be "/": Istio reads "<cookie>:<path>" from a Service label, and label values cannot hold ":" or "/"',
                });
            }
            if (!rules.isLabelValue(a.cookie.name)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["cookie", "name"],
                    message:
                        "must also be a Kubernetes label value (letters, digits, '-', '_', '.'; at most 63 characters): Istio reads it from a Service label",
                });
            }
        }
        if (a.mode === AffinityMode.PersistentHeader && a.headerName && !rules.isLabelValue(a.headerName)) {
            ctx.addIssue({
                code: "custom",
                path: ["headerName"],
                message: "must also be a Kubernetes label value: Istio reads it from a Service label",
            });
        }
    })
    .transform((a) => {
        const algorithm = isHashMode(a.mode)
            ? (a.algorithm ??
              (a.maglevTableSize !== undefined
                  ? HashAlgorithm.Maglev
                  : a.minimumRingSize !== undefined
                    ? HashAlgorithm.RingHash
                    : undefined))
            : undefined;
        // istiod's webhook rejects a maglev table without a size (validateLoadBalancer: "tableSize must be set for maglev").
        const maglevTableSize =
            algorithm === HashAlgorithm.Maglev
                ? (a.maglevTableSize ?? rules.DEFAULT_MAGLEV_TABLE_SIZE)
                : a.maglevTableSize;
        return { ...a, algorithm, maglevTableSize };
    });

export const DEFAULT_APP_PORT = 8080;
export const DEFAULT_REPLICAS = 3;
export const DEFAULT_DIRECT_HEADER = "use-direct";

const autoscalingSchema = strict({
    minReplicas: intIn(1, 1000, "a whole number from 1 to 1000"),
    maxReplicas: intIn(1, 1000, "a whole number from 1 to 1000"),
    cpuUtilization: intIn(1, 100, "a percentage from 1 to 100")
        .default(80)
        .describe("Target average CPU utilization in percent. @default 80"),
})
    .meta({ title: "Autoscaling" })
    .superRefine((a, ctx) => {
        if (a.minReplicas > a.maxReplicas) {
            ctx.addIssue({
                code: "custom",
                path: ["minReplicas"],
                message: `must not exceed maxReplicas (${a.minReplicas} > ${a.maxReplicas})`,
            });
        }
    });

const matchSchema = strict({
    headers: z
        .record(
            headerName,
            text("an exact header value (printable, no leading or trailing space)", (v) =>
                /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(v),
            ),
            {
                error: (issue) =>
                    issue.code === "invalid_key"
                        ? "must be an HTTP header name"
                        : "must be a map of header names to exact values",
            },
        )
        .refine((h) => Object.keys(h).length > 0, { message: "must name at least one header" })
        .describe("Exact header values a request must carry to reach this app."),
}).meta({ title: "Match" });

const cidr = text('an IPv4 CIDR such as "10.244.0.0/16"', (s) => rules.parseCidr(s) !== undefined).superRefine(
    (s, ctx) => {
        const c = rules.parseCidr(s);
        if (c && c.prefix < 8)
            ctx.addIssue({
                code: "custom",
                message: `must be /8 or narrower: /${c.prefix} would let the gateway reach far more than the pod network`,
            });
        else if (c && !rules.isNetworkAddress(c))
            ctx.addIssue({ code: "custom", message: "must be a network address (no host bits set after the prefix)" });
        else if (c && !rules.isPrivateCidr(c)) {
            ctx.addIssue({
                code: "custom",
                message:
                    `must lie inside a private range (${rules.PRIVATE_RANGES.join(", ")}): the internet-facing gateway would connect to any address ` +
                    "in it, and this one reaches loopback, link-local (cloud metadata) or public addresses",
            });
        }
    },
);

/** Clients allowed to use the direct header when nothing is configured: loopback and private networks. */
export const DEFAULT_DIRECT_CLIENTS = ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/** Any IPv4 CIDR (for client address ranges). */
const cidrAny = text('an IPv4 CIDR such as "203.0.113.0/24"', (s) => rules.parseCidr(s) !== undefined).refine(
    // zod runs this refinement even when the one above failed: check the parse again.
    (s) => {
        const c = rules.parseCidr(s);
        return !c || rules.isNetworkAddress(c);
    },
    { message: "must be a network address (no host bits set after the prefix)" },
);

/**
 * Settings of a feature that is off unless `enabled: true`: given without
 * `enabled` they would silently do nothing, so that is refused (checked on the
 * raw input, before defaults fill in). An explicit `enabled: false` keeps them for later.
 */
function requiringEnabled<S extends z.ZodType>(
    feature: string,
    fields: z.ZodObject,
    schema: S,
): z.ZodType<z.output<S>, z.input<S>> {
    const known = Object.keys(fields.shape);
    // A preprocess step types its input as unknown; the input is still what `schema` takes.
    return z.preprocess((raw, ctx) => {
        if (
            raw !== null &&
            typeof raw === "object" &&
            !Array.isArray(raw) &&
            (raw as Record<string, unknown>).enabled === undefined
        ) {
            // Unknown keys are left to the strict schema, which names them.
            const given = Object.keys(raw).filter(
                (k) => known.includes(k) && (raw as Record<string, unknown>)[k] !== undefined,
            );
            if (given.length) {
                ctx.addIssue({
                    code: "custom",
                    path: ["enabled"],
                    input: raw,
                    message: `is required with ${given.join(", ")}: ${feature} is off unless "enabled: true" (write "enabled: false" to keep these settings while it is off)`,
                });
            }
        }
        return raw;
    }, schema);
}

const directFields = strict({
    // No default here: settings given without `enabled` are refused below instead of silently doing nothing.
    enabled: z
        .boolean({ error: "must be true or false" })
        .optional()
        .describe("Settings without `enabled` are refused; `false` keeps them while it is off. @default false"),
    allowedClients: z
        .array(cidrAny, { error: "must be a list of IPv4 CIDRs" })
        .min(1, { message: "must list at least one CIDR" })
        .default(DEFAULT_DIRECT_CLIENTS)
        .describe(
            "Clients (by original address) allowed to send the direct header. @default loopback and the private ranges",
        ),
    header: headerName
        .refine((h) => h !== ORIGINAL_DST_HEADER, { message: `must differ from ${ORIGINAL_DST_HEADER}` })
        .default(DEFAULT_DIRECT_HEADER)
        .describe(
            'The opt-in request header; a request routes to a chosen pod only with "<header>: true". @default "use-direct"',
        ),
    podCidr: cidr
        .optional()
        .describe(
            "The pod network (IPv4 CIDR, /8 or narrower): the only addresses a direct request may name. Required when enabled.",
        ),
    contexts: z
        .array(enumOf(DirectContext), { error: "must be a list" })
        .min(1, { message: "must list at least one context" })
        .default([DirectContext.Gateway])
        .describe('Where direct routing is offered. @default ["gateway"]'),
}).meta({ title: "Direct" });

export const directSchema = requiringEnabled(
    "direct routing",
    directFields,
    directFields
        .superRefine((d, ctx) => {
            if (d.enabled && d.podCidr === undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["podCidr"],
                    message:
                        "is required when direct routing is enabled: without it the gateway could be sent to any address (an open proxy)",
                });
            }
        })
        .transform((d) => ({ ...d, enabled: d.enabled ?? false })),
);

const labelMap = (what: string) =>
    z
        .record(
            text('a Kubernetes label key such as "app" or "example.com/tier"', rules.isLabelKey),
            text("a Kubernetes label value", rules.isLabelValue),
            {
                error: (issue) =>
                    issue.code === "invalid_key"
                        ? 'must be a Kubernetes label key such as "app" or "example.com/tier"'
                        : "must be a map of label names to values",
            },
        )
        .refine((l) => Object.keys(l).length > 0, { message: `must hold at least one label (${what})` });

const portNumber = intIn(1, 65535, "a port number from 1 to 65535");

/** Hosts on the gateway: names, "*.example.com" wildcards, or "*" for any. */
const gatewayHosts = z
    .array(
        text('a host name or "*"', (s) => s === "*" || /^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s)),
        { error: "must be a list of hosts" },
    )
    .min(1, { message: "must list at least one host" });

/**
 * An app that already runs: its Service, which the package never replaces or deletes. Only what
 * stickiness needs is added; what must change on the Service is a server-side-apply patch.
 */
const existingServiceSchema = strict({
    name: dnsLabel.optional().describe("The Service's name in the app's namespace. @default the app's name"),
    port: portNumber.describe("The Service port the gateway routes to."),
    targetPort: portNumber
        .optional()
        .describe(
            "The port the pods listen on, when it differs (direct requests name <pod IP>:<targetPort>). @default port",
        ),
    podLabels: labelMap("the Service's selector")
        .optional()
        .describe("The Service's selector (the pods' labels); required with direct routing."),
    appProtocol: enumOf(AppProtocol)
        .default(AppProtocol.Http)
        .describe('What Istio is told the port speaks, patched onto the Service port. @default "http"'),
    podHeader: z
        .boolean({ error: "must be true or false" })
        .default(true)
        .describe(
            "Answer with the pod's address in a response header (x-istio-sticky-pod), so verify can tell the pods apart. @default true",
        ),
    enrolNamespace: z
        .boolean({
            error: "must be true or false: label the namespace for the mesh (pods restart to get sidecars) or leave it as it is",
        })
        .describe(
            "Label the namespace for the mesh (sidecar injection, or ambient enrolment). No default: with sidecars the\npods get one only when they restart. The gateway applies the affinity either way.",
        ),
}).meta({
    title: "ExistingService",
    description:
        "An existing Service an app makes sticky: the package deploys no workload for it and never deletes the Service.",
});

/**
 * App keys that describe a workload the package deploys: an existing Service's app leaves them out, or
 * gives them the values its settings hold anyway (so validated settings validate again as they are):
 * port is service.port, target the app's name, strictMtls false (the package sets no mutual-TLS policy).
 */
const WORKLOAD_KEYS = ["image", "replicas", "autoscaling", "target", "port", "strictMtls"] as const;
const takenByExisting = (raw: Record<string, unknown>, key: (typeof WORKLOAD_KEYS)[number]): boolean => {
    const service = raw.service as { port?: unknown } | null | undefined;
    const value = raw[key];
    if (value === undefined) return true;
    if (key === "port") return typeof service === "object" && service !== null && value === service.port;
    if (key === "target") return value === raw.name;
    if (key === "strictMtls") return value === false;
    return false;
};

const WORKLOAD_KEY_REASON: Record<(typeof WORKLOAD_KEYS)[number], string> = {
    image: "the workload is yours",
    replicas: "the workload is yours",
    autoscaling: "the workload is yours",
    target: "it configures the demo app",
    port: "set service.port",
    strictMtls: "the mutual-TLS policy of a running workload stays yours",
};

const appFields = strict({
    name: dnsLabel.describe("The app's Kubernetes name (DNS-1123 label)."),
    namespace: dnsLabel.optional().describe("@default the app's name"),
    replicas: intIn(1, 1000, "a whole number of at least 1 (and at most 1000)")
        .optional()
        .describe("Leave it out with autoscaling. @default 3"),
    path: text('a path starting with "/" made of plain segments, without a trailing "/"', rules.isRoutePath)
        .optional()
        .describe('Path prefix on the gateway; requests reach the app with it removed. @default "/<name>"'),
    image: text("a container image reference", (s) => s.length > 0 && !/\s/.test(s))
        .refine(rules.hasTagOrDigest, {
            message:
                'must name a tag or a digest (e.g. "ghcr.io/acme/app:1.2" or "…@sha256:…"): without one Kubernetes pulls whatever ":latest" is that day',
        })
        .optional()
        .describe(
            "Your own image (with a tag or digest) instead of the demo app; it must serve HTTP on `port` and /healthz.",
        ),
    port: intIn(1, 65535, "a port number from 1 to 65535")
        .refine((p) => !rules.ISTIO_RESERVED_PORTS.includes(p), {
            message: `must not be one of the ports the Istio sidecar uses (${rules.ISTIO_RESERVED_PORTS.join(", ")})`,
        })
        .default(DEFAULT_APP_PORT)
        .describe("@default 8080"),
    target: z
        .string({ error: "must be a string" })
        .max(256, { message: "must be at most 256 characters" })
        .optional()
        .describe("A string the demo app returns. @default the app's name"),
    affinity: affinitySchema.prefault({ mode: AffinityMode.None }).describe('@default {mode: "none"} (round robin)'),
    match: matchSchema
        .optional()
        .describe("Route only requests with these exact header values here (apps may then share a path)."),
    direct: directSchema.prefault({}).describe("Direct routing to a chosen pod."),
    autoscaling: autoscalingSchema
        .optional()
        .describe("A HorizontalPodAutoscaler and a PodDisruptionBudget instead of a fixed replica count."),
    strictMtls: z
        .boolean({ error: "must be true or false" })
        .default(true)
        .describe(
            "Require mutual TLS for traffic to the app (PeerAuthentication STRICT); false: PERMISSIVE. @default true",
        ),
    stripPath: z
        .boolean({ error: "must be true or false" })
        .optional()
        .describe(
            "Remove the path prefix before the app sees the request. @default true, false for an existing Service",
        ),
    hosts: gatewayHosts
        .optional()
        .describe(
            'The gateway hosts the app is served on, each among the gateway\'s hosts. @default all of them ("*")',
        ),
    service: existingServiceSchema
        .optional()
        .describe(
            "An existing Service to make sticky instead of deploying a workload (image, replicas, autoscaling, target, port and strictMtls are then left out).",
        ),
}).meta({ title: "App", description: "The settings of one app, as stack config and StickySessions take them." });

/** The keys of an app's settings, in the schema's order (StickyApp takes each of them among its args). */
export const APP_KEYS = Object.keys(appFields.shape) as readonly (keyof typeof appFields.shape)[];

/** Refuses workload keys next to `service` (checked on the raw input, before defaults fill them in). */
const appSchemaChecked = z.preprocess((raw, ctx) => {
    if (
        raw !== null &&
        typeof raw === "object" &&
        !Array.isArray(raw) &&
        (raw as Record<string, unknown>).service !== undefined
    ) {
        for (const key of WORKLOAD_KEYS) {
            if (!takenByExisting(raw as Record<string, unknown>, key)) {
                ctx.addIssue({
                    code: "custom",
                    path: [key],
                    input: raw,
                    message: `cannot be set for an app that is an existing Service (${WORKLOAD_KEY_REASON[key]})`,
                });
            }
        }
    }
    return raw;
}, appFields) as z.ZodType<z.output<typeof appFields>, z.input<typeof appFields>>;

export const appSchema = appSchemaChecked
    .superRefine((a, ctx) => {
        if (a.service && a.direct.enabled && a.service.podLabels === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["service", "podLabels"],
                message:
                    "is required with direct routing: its NetworkPolicy lets the gateway reach the pods on their port only, and selects them by these labels",
            });
        }
        if (a.direct.enabled) {
            const routing = [
                ...(a.affinity.headerName ? [[a.affinity.headerName, "affinity.headerName"]] : []),
                ...Object.keys(a.match?.headers ?? {}).map((h) => [h, `match.headers.${h}`]),
            ];
            for (const [header, field] of routing) {
                if (header === a.direct.header) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["direct", "header"],
                        message: `must differ from ${field} ("${header}"): the route that refuses unguarded direct requests would match every request carrying it, and answer 403`,
                    });
                }
            }
        }
        if (a.autoscaling && a.replicas !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["replicas"],
                message: "must be left out when autoscaling is set: the HorizontalPodAutoscaler owns the replica count",
            });
        }
    })
    .transform((a) => ({
        ...a,
        ...(a.service
            ? { port: a.service.port, strictMtls: false, service: { ...a.service, name: a.service.name ?? a.name } }
            : {}),
        stripPath: a.stripPath ?? a.service === undefined,
        hosts: a.hosts && !a.hosts.includes("*") ? [...new Set(a.hosts)] : undefined,
        replicas: a.service || a.autoscaling ? undefined : (a.replicas ?? DEFAULT_REPLICAS),
        namespace: a.namespace ?? a.name,
        path: a.path ?? `/${a.name}`,
        target: a.target ?? a.name,
    }));

export const DEFAULT_GATEWAY_NAME = "istio-ingressgateway";
export const DEFAULT_GATEWAY_NAMESPACE = "istio-ingress";

const gatewaySchema = strict({
    name: dnsLabel
        .default(DEFAULT_GATEWAY_NAME)
        .describe(
            'Helm release name of the gateway; also its Deployment and Service name. @default "istio-ingressgateway"',
        ),
    namespace: dnsLabel.default(DEFAULT_GATEWAY_NAMESPACE).describe('@default "istio-ingress"'),
    serviceType: enumOf(GatewayServiceType)
        .default(GatewayServiceType.LoadBalancer)
        .describe('NodePort for kind and minikube. @default "LoadBalancer"'),
    labels: labelMap("the gateway's selectors match on them")
        .optional()
        .describe('Gateway pod labels. @default {app: <name>, istio: <name without "istio-">}'),
    hosts: gatewayHosts.default(["*"]).describe('Hosts the shared Istio Gateway serves. @default ["*"]'),
    externalTrafficPolicy: enumOf(ExternalTrafficPolicy)
        .optional()
        .describe(
            'Local keeps client addresses (NodePort and LoadBalancer only). @default "Local" with direct routing at the gateway, else Kubernetes\' "Cluster"',
        ),
    numTrustedProxies: intIn(0, 10)
        .default(0)
        .describe("Proxies in front of the gateway that append to X-Forwarded-For. @default 0"),
    api: enumOf(IngressApi)
        .default(IngressApi.Istio)
        .describe(
            "Istio's Gateway and VirtualServices, or the Kubernetes Gateway API's Gateway and HTTPRoutes (CRDs installed with the mesh). @default \"istio\"",
        ),
})
    .meta({ title: "Gateway" })
    .superRefine((g, ctx) => {
        if (g.externalTrafficPolicy !== undefined && g.serviceType === GatewayServiceType.ClusterIP) {
            ctx.addIssue({
                code: "custom",
                path: ["externalTrafficPolicy"],
                message:
                    "applies to NodePort and LoadBalancer Services only: Kubernetes rejects it on a ClusterIP Service",
            });
        }
    })
    .transform((g) => ({ ...g, labels: g.labels ?? gatewayPodLabels(g.name) }));

/** The pod labels the gateway chart gives release `name`; set explicitly so the selector cannot drift. */
export function gatewayPodLabels(name: string): Record<string, string> {
    return { app: name, istio: name.replace(/^istio-/, "") };
}

const valuesMap = z.record(z.string(), z.unknown(), { error: "must be a map of Helm values" });

/** Where a chart comes from: an https:// Helm repository or an oci:// registry (a mirror); never a retired host. */
const chartRepository = (fallback: string) =>
    text(
        "an https:// Helm repository URL or an oci:// registry path, without a trailing slash (http:// only on loopback)",
        rules.isChartRepository,
    )
        .superRefine((s, ctx) => {
            const retired = retiredHostOf(s);
            if (retired) ctx.addIssue({ code: "custom", message: retiredMessage(retired, s, "chartRepository") });
        })
        .default(fallback);

/**
 * Chart values a first-class setting owns, per chart: a value set here as well
 * would silently override it and let the objects aimed at the gateway drift
 * from the gateway (selectors, labels, revision).
 */
const OWNED_VALUES: Readonly<Record<"base" | "istiod" | "gateway" | "cni" | "ztunnel", readonly [string, string][]>> = {
    base: [["defaultRevision", "mesh.revision"]],
    istiod: [
        ["revision", "mesh.revision"],
        ["profile", "mesh.dataplane"],
        ["global.hub", "mesh.hub"],
        ["global.tag", "mesh.version"],
    ],
    cni: [
        ["profile", "mesh.dataplane"],
        ["global.hub", "mesh.hub"],
        ["global.tag", "mesh.version"],
    ],
    ztunnel: [
        ["profile", "mesh.dataplane"],
        ["hub", "mesh.hub"],
        ["tag", "mesh.version"],
    ],
    gateway: [
        ["name", "mesh.gateway.name"],
        [
            "labels",
            "mesh.gateway.labels (the Gateway, EnvoyFilter, AuthorizationPolicy and NetworkPolicy select the pods by them)",
        ],
        ["revision", "mesh.revision"],
        ["service.type", "mesh.gateway.serviceType"],
        ["service.externalTrafficPolicy", "mesh.gateway.externalTrafficPolicy"],
    ],
};

/** The value at a dotted path of a values map, or undefined. */
export function valueAt(values: Readonly<Record<string, unknown>>, dotted: string): unknown {
    return dotted
        .split(".")
        .reduce<unknown>(
            (v, k) =>
                v !== null && typeof v === "object" && !Array.isArray(v)
                    ? (v as Record<string, unknown>)[k]
                    : undefined,
            values,
        );
}

export const meshSchema = strict({
    install: z
        .boolean({ error: "must be true or false" })
        .default(true)
        .describe("Install Istio, or use one already in the cluster. @default true"),
    chartRepository: chartRepository(ISTIO_CHART_REPO).describe(
        'Where the charts come from: an https:// Helm repository or an oci:// registry. @default "https://blob.istio.io/istio-release/charts"',
    ),
    version: text(
        'an Istio version such as "1.31.1"',
        (s) => rules.parseVersion(s) !== undefined,
        versionAsNumber("1.30.5"),
    )
        .superRefine((s, ctx) => {
            const why = unsupportedIstioVersion(s);
            if (why) ctx.addIssue({ code: "custom", message: why });
        })
        .default(DEFAULT_ISTIO_VERSION)
        .describe(
            "Istio version for every chart: 1.30 (1.30.5 or later, until its end of life) or 1.31. @default the newest 1.31 patch",
        ),
    // istiod's and istio-cni's global.hub, ztunnel's hub, and through injection the gateway's and sidecars' proxy:
    // Docker Hub, or a mirror of it.
    hub: text(
        'an image registry path such as "docker.io/istio" or "registry.example.com/istio" (no scheme, no tag)',
        rules.isImageHub,
    )
        .superRefine((s, ctx) => {
            const retired = retiredHostOf(s);
            if (retired) ctx.addIssue({ code: "custom", message: retiredMessage(retired, s, "hub") });
        })
        .default(ISTIO_IMAGE_HUB)
        .describe('Where Istio\'s images come from (a registry path, no tag). @default "docker.io/istio"'),
    // When the stack installs them, as on the Gateway API's GitHub releases (a mirror keeps that layout).
    gatewayApiCrdsRepository: text("an https:// URL without a trailing slash (http:// only on loopback)", (s) =>
        rules.isArtifactUrl(s),
    )
        .default(GATEWAY_API_RELEASES)
        .describe(
            "Where the Gateway API's CRDs come from: <this>/<version>/standard-install.yaml. @default the Gateway API's GitHub releases",
        ),
    revision: dnsLabel
        .optional()
        .describe("An Istio revision (canary upgrades); app namespaces then use `istio.io/rev`."),
    dataplane: enumOf(Dataplane)
        .default(Dataplane.Sidecar)
        .describe(
            'Sidecars, or ambient: istio-cni and ztunnel installed too, app namespaces enrolled, waypoints for in-mesh L7. @default "sidecar"',
        ),
    gateway: gatewaySchema.prefault({}),
    values: strict({
        base: valuesMap.default({}).describe("@default {}"),
        istiod: valuesMap.default({}).describe("@default {}"),
        gateway: valuesMap.default({}).describe("@default {}"),
        cni: valuesMap.default({}).describe("istio-cni (ambient only). @default {}"),
        ztunnel: valuesMap.default({}).describe("ztunnel (ambient only). @default {}"),
    })
        .meta({
            title: "MeshValues",
            description: "Extra Helm values per chart, merged over the ones the package sets.",
        })
        .prefault({}),
})
    .meta({ title: "Mesh" })
    .superRefine((m, ctx) => {
        if (m.dataplane === Dataplane.Ambient && m.revision !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["revision"],
                message:
                    'is not supported with dataplane "ambient" by this package (ztunnel and istio-cni serve one control plane here); leave it out',
            });
        }
        for (const chart of ["base", "istiod", "gateway", "cni", "ztunnel"] as const) {
            for (const [key, owner] of OWNED_VALUES[chart]) {
                if (valueAt(m.values[chart], key) !== undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["values", chart, ...key.split(".")],
                        message: `is set by ${owner}; set it there`,
                    });
                }
            }
            for (const [path, value, retired] of retiredReferencesIn(m.values[chart])) {
                ctx.addIssue({
                    code: "custom",
                    path: ["values", chart, ...path],
                    message: `"${value}" ${retiredMessage(retired, value, "value")}`,
                });
            }
        }
    });

export { DEFAULT_CERT_MANAGER_VERSION, MIN_CERT_MANAGER_MINOR } from "./versions";
export const LETS_ENCRYPT_SERVER = "https://acme-v02.api.letsencrypt.org/directory";

const hostName = text(
    "a DNS host name such as shop.example.com",
    (s) => s.length <= 253 && /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$/.test(s),
);

const acmeSchema = strict({
    email: text("an email address for the ACME account", (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s)),
    server: text("an https:// ACME directory URL", (s) => URL.canParse(s) && new URL(s).protocol === "https:")
        .default(LETS_ENCRYPT_SERVER)
        .describe("@default Let's Encrypt's production directory"),
    ingressClass: text("an ingress class name", rules.isDnsLabel)
        .default("istio")
        .describe('The ingress class the HTTP-01 solver uses; Istio serves "istio". @default "istio"'),
}).meta({ title: "Acme" });

const tlsFields = strict({
    // No default here: settings given without `enabled` are refused below instead of silently doing nothing.
    enabled: z
        .boolean({ error: "must be true or false" })
        .optional()
        .describe("Settings without `enabled` are refused; `false` keeps them while it is off. @default false"),
    installCertManager: z
        .boolean({ error: "must be true or false" })
        .default(true)
        .describe("Install cert-manager (CRDs included). @default true"),
    certManagerVersion: text(
        'a cert-manager version such as "v1.21.2"',
        (s) => /^v\d+\.\d+\.\d+$/.test(s),
        versionAsNumber("v1.21.2"),
    )
        // zod runs this refinement even when the one above failed: a text that is no version is left to that one.
        .refine(
            (s) => {
                const v = rules.parseVersion(s.slice(1));
                return !v || rules.compareMinor(v, MIN_CERT_MANAGER_MINOR.major, MIN_CERT_MANAGER_MINOR.minor) >= 0;
            },
            {
                message: `must be v${MIN_CERT_MANAGER_MINOR.major}.${MIN_CERT_MANAGER_MINOR.minor}.0 or newer: the cert-manager this package installs and tests (1.19 is past its end of life); to keep an older one, install it yourself and set installCertManager: false`,
            },
        )
        .default(DEFAULT_CERT_MANAGER_VERSION)
        .describe("@default the newest confirmed cert-manager patch"),
    chartRepository: chartRepository(CERT_MANAGER_CHART_REPO).describe(
        'An oci:// registry or an https:// repository. @default "oci://quay.io/jetstack/charts"',
    ),
    issuer: enumOf(TlsIssuer).default(TlsIssuer.SelfSigned).describe('@default "selfSigned"'),
    acme: acmeSchema.optional(),
    hosts: z
        .array(hostName, { error: "must be a list of host names" })
        .default([])
        .describe("The certificate's names (each among the gateway's hosts)."),
    httpsRedirect: z
        .boolean({ error: "must be true or false" })
        .optional()
        .describe("Redirect HTTP to HTTPS. @default true, except with ACME (HTTP-01 answers on port 80)"),
}).meta({ title: "Tls" });

export const tlsSchema = requiringEnabled(
    "TLS",
    tlsFields,
    tlsFields
        .superRefine((t, ctx) => {
            if (t.enabled && t.hosts.length === 0) {
                ctx.addIssue({
                    code: "custom",
                    path: ["hosts"],
                    message: "must list at least one host when TLS is enabled (the certificate's names)",
                });
            }
            if (t.issuer === TlsIssuer.Acme && !t.acme) {
                ctx.addIssue({
                    code: "custom",
                    path: ["acme"],
                    message: 'is required with issuer "acme" (at least an email)',
                });
            }
            if (t.issuer !== TlsIssuer.Acme && t.acme) {
                ctx.addIssue({ code: "custom", path: ["acme"], message: `is not used by issuer "${t.issuer}"` });
            }
            if (t.issuer === TlsIssuer.Acme) {
                t.hosts.forEach((h, i) => {
                    if (h.startsWith("*."))
                        ctx.addIssue({
                            code: "custom",
                            path: ["hosts", i],
                            message: "cannot be a wildcard with ACME HTTP-01 (it needs a DNS-01 solver)",
                        });
                });
                if (t.httpsRedirect === true) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["httpsRedirect"],
                        message:
                            'cannot be true with issuer "acme": HTTP-01 challenges (issuance and every renewal) are answered over plain HTTP on port 80',
                    });
                }
            }
        })
        .transform((t) => ({
            ...t,
            enabled: t.enabled ?? false,
            httpsRedirect: t.httpsRedirect ?? t.issuer !== TlsIssuer.Acme,
        })),
);

export type TlsSettings = z.output<typeof tlsSchema>;
export type AffinitySettings = z.output<typeof affinitySchema>;
export type AffinityInput = z.input<typeof affinitySchema>;
export type CookieSettings = z.output<typeof cookieSchema>;
export type AppSettings = z.output<typeof appSchema>;
export type AppInput = z.input<typeof appSchema>;
export type ExistingServiceSettings = NonNullable<AppSettings["service"]>;
export type GatewaySettings = z.output<typeof gatewaySchema>;
export type MeshSettings = z.output<typeof meshSchema>;
export type MeshInput = z.input<typeof meshSchema>;

/** The port the app's pods listen on: where a direct request goes. */
export function podPort(app: Pick<AppSettings, "port" | "service">): number {
    return app.service?.targetPort ?? app.port;
}

/** Whether the package runs the demo app for the app: its own workload, without an image of the user's. */
export function runsDemoApp(app: Pick<AppSettings, "image" | "service">): boolean {
    return app.image === undefined && app.service === undefined;
}

/** The name of the app's Service: its own, or the existing one it names. */
export function serviceName(app: Pick<AppSettings, "name" | "service">): string {
    return app.service?.name ?? app.name;
}

export function needsPersistentSessions(apps: readonly AppSettings[]): boolean {
    return apps.some((a) => isPersistentMode(a.affinity.mode));
}
