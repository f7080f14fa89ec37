/**
 * An Ingress path as ingress-nginx matched it → the app's path prefix on the
 * gateway (whole segments: "/cart" and "/cart/…", case-sensitive; components/
 * manifests/routes.ts) and whether the prefix is stripped.
 *
 * ingress-nginx (internal/ingress/controller/location.go: updateServerLocations,
 * template/template.go: buildLocation, enforceRegexModifier, buildProxyPass):
 * - Prefix "/cart": `location "/cart/"` plus `location = "/cart"`: whole segments;
 * - Exact: `location = "/cart"`;
 * - ImplementationSpecific: `location "/cart"`, nginx's plain string prefix (also "/carts");
 * - on a host where any location uses use-regex or a rewrite-target (enforceRegexModifier),
 *   every path of that host becomes `location ~* "^<path>"`: a case-insensitive regex;
 * - rewrite-target T (unless equal to the path): `rewrite "(?i)<path>" T break;`, which
 *   replaces the whole URI with T, with $1… from the path's capture groups.
 */
import { isRoutePath } from "../../components/settings/rules";
import { approximate, exact, Finding } from "./report";

export interface PathContext {
    /** ingress-nginx matched every path of this host as a regex (enforceRegexModifier). */
    hostRegex: boolean;
    /** This Ingress set use-regex itself (else the regex mode came from another Ingress of the host). */
    ownRegex: boolean;
    rewriteTarget?: string;
}

export interface PathMapping {
    path: string;
    stripPath: boolean;
    finding: Finding;
    /** The location path was a regex (the cookie's default path then was the regex text). */
    regex: boolean;
}

export type PathResult = PathMapping | { refused: string };

/**
 * Regex tails that mean "and anything after the prefix", with the capture group (1-based,
 * counted in the tail) that holds the rest and whether that group starts with the "/".
 */
const TAILS: readonly { tail: string; rest?: number; withSlash?: boolean }[] = [
    { tail: "" },
    { tail: ".*" },
    { tail: "/.*" },
    { tail: "(/|$)" },
    { tail: "(/|$)(.*)", rest: 2 },
    { tail: "($|/)(.*)", rest: 2 },
    { tail: "(?:/|$)(.*)", rest: 1 },
    { tail: "/?(.*)", rest: 1 },
    { tail: "/(.*)", rest: 1 },
    { tail: "(.*)", rest: 1 },
    { tail: "(/.*)?", rest: 1, withSlash: true },
    { tail: "(/.*)", rest: 1, withSlash: true },
];

/** Splits a regex location path into its literal prefix and a known tail; undefined when it is another regex. */
export function regexPrefix(path: string): { prefix: string; tail: (typeof TAILS)[number] } | undefined {
    const m = /^((?:\/[A-Za-z0-9._~-]*)*)(.*)$/.exec(path);
    if (!m) return undefined;
    let [, literal, rest] = m;
    // "/cart/(.*)": the literal ends with "/", the tail is "(.*)".
    const tail = TAILS.find((t) => t.tail === rest);
    if (!tail) return undefined;
    literal = literal.replace(/\/+$/, "");
    return { prefix: literal === "" ? "/" : literal, tail };
}

const trimSlash = (p: string) => (p === "/" ? "/" : p.replace(/\/+$/, "") || "/");

/** How a rewrite-target maps, given the capture group that holds the rest of the path (if the path has one). */
function rewriteOf(
    target: string | undefined,
    path: string,
    tail?: (typeof TAILS)[number],
): { stripPath: boolean; note?: string; refused?: string } {
    if (target === undefined || target === "" || target === path) return { stripPath: false };
    if (tail?.rest !== undefined) {
        const want = tail.withSlash ? `$${tail.rest}` : `/$${tail.rest}`;
        if (target === want) return { stripPath: true };
    }
    if (target === "/") {
        return {
            stripPath: true,
            note:
                `rewrite-target "/" replaced the whole path with "/" (buildProxyPass: rewrite "(?i)${path}" / break), so every request reached the ` +
                "Service as /; with stripPath the gateway sends /prefix/x as /x",
        };
    }
    return {
        stripPath: false,
        refused:
            `rewrite-target "${target}" rewrites "${path}" to a path the gateway cannot produce: it can only strip the path prefix (stripPath), ` +
            'which rewrite-target "/$2" with a path such as "/cart(/|$)(.*)" does',
    };
}

export function mapPath(raw: { path: string; pathType: string }, ctx: PathContext): PathResult {
    const path = raw.path === "" ? "/" : raw.path;
    if (!path.startsWith("/")) return { refused: `"${path}" does not start with "/"` };
    if (ctx.hostRegex) {
        const split = regexPrefix(path);
        if (!split) {
            return {
                refused:
                    `"${path}" is matched as a regular expression (~* "^${path}"), and only a plain prefix followed by (/|$)(.*), /(.*), (.*) or .* ` +
                    "can become a path prefix on the gateway",
            };
        }
        if (!isRoutePath(split.prefix))
            return {
                refused: `the prefix "${split.prefix}" holds characters a gateway path cannot (letters, digits and ._~- only)`,
            };
        const rw = rewriteOf(ctx.rewriteTarget, path, split.tail);
        if (rw.refused) return { refused: rw.refused };
        const why = ctx.ownRegex
            ? "use-regex or rewrite-target"
            : "another Ingress of the same host sets use-regex or rewrite-target, which makes ingress-nginx match every path of the host as a regex";
        const notes = [
            `prefix "${split.prefix}"${rw.stripPath ? ", stripped" : ""}: ingress-nginx matched ~* "^${path}" (${why}), case-insensitively; the gateway matches ` +
                `"${split.prefix}" and "${split.prefix}/…" as written`,
            ...(rw.note ? [rw.note] : []),
        ];
        return { path: split.prefix, stripPath: rw.stripPath, regex: true, finding: approximate(notes.join("; ")) };
    }
    const prefix = trimSlash(path);
    if (!isRoutePath(prefix))
        return {
            refused: `"${path}" holds characters a gateway path cannot (letters, digits and ._~- between slashes only)`,
        };
    const rw = rewriteOf(ctx.rewriteTarget, path);
    if (rw.refused) return { refused: rw.refused };
    const stripped = rw.stripPath ? ", stripped" : "";
    const notes: string[] = [];
    let verdict: "exact" | "approximate" = "exact";
    if (raw.pathType === "Prefix") {
        if (prefix !== path) {
            verdict = "approximate";
            notes.push(
                `ingress-nginx answered "${prefix}" with a redirect to "${path}" (nginx does for a location ending in "/"); the gateway sends it to the Service`,
            );
        }
    } else if (raw.pathType === "Exact") {
        verdict = "approximate";
        notes.push(
            prefix === "/"
                ? `Exact "/" matched only "/"; the gateway sends every path to the Service`
                : `Exact "${path}" matched only itself; the gateway also sends "${prefix}/…" to the Service`,
        );
    } else if (prefix !== "/" || path !== "/") {
        verdict = "approximate";
        notes.push(
            path.endsWith("/")
                ? `ImplementationSpecific "${path}" was nginx's string prefix: "${prefix}" got a redirect; the gateway sends it to the Service`
                : `ImplementationSpecific "${path}" was nginx's string prefix, which also matched "${path}x…"; the gateway matches whole segments`,
        );
    }
    if (rw.note) {
        verdict = "approximate";
        notes.push(rw.note);
    }
    const head = `prefix "${prefix}"${stripped}`;
    return {
        path: prefix,
        stripPath: rw.stripPath,
        regex: false,
        finding:
            verdict === "exact"
                ? exact(
                      `${head}${raw.pathType === "Prefix" ? " (Prefix matches whole segments, as the gateway does)" : ""}`,
                  )
                : approximate([head, ...notes].join("; ")),
    };
}
