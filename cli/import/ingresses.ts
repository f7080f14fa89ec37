/**
 * The import: ingress-nginx's Ingresses mapped to this package's apps (mapping.ts), then the package's
 * own validation of the stack file they make (config.ts), until the two agree.
 */
import { APPS_KEY, SettingsError } from "../../components/settings/validate";
import { stackConfigOf, stackFileYaml, validateStackFile } from "./config";
import type { ImportInput } from "./input";
import { hostKey, ImportOptions, mapIngresses } from "./mapping";
import type { ImportResult } from "./result";

/** The stack file made from an import, and what the package's validation made of that very text. */
export interface ImportedStack {
    result: ImportResult;
    /** The stack file's text; absent when no app was imported (nothing is written then). */
    text?: string;
    /**
     * The validation of `text`: its warnings, or the SettingsError with every problem. Absent when a header line
     * holds a line break or another control character, which a comment may not: the caller validates `text` itself then.
     */
    validation?: { warnings: readonly string[] } | { refused: SettingsError };
}

/**
 * The import: the mapping, then the package's own validation of its result. A host the validation
 * refuses for an app (apps[i].hosts[k]) is taken out for that Service, the report saying why, and
 * the mapping runs again (another path may then take that host). Any other problem is left to the
 * caller, which writes nothing unless the stack file validates.
 */
export function importIngresses(input: ImportInput, opts: ImportOptions): ImportResult {
    return importStack(input, opts, () => []).result;
}

/** Characters a header line may not hold to stay one YAML comment. */
const NOT_IN_COMMENT = /[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]/;

/**
 * The import, as importIngresses, with the stack file's text (`header` gives its comment lines) and its
 * validation: the text the loop validates is the one the caller writes, so it is validated once.
 */
export function importStack(
    input: ImportInput,
    opts: ImportOptions,
    header: (result: ImportResult) => readonly string[],
): ImportedStack {
    const refusedHosts = new Map<string, string>();
    for (;;) {
        const result = mapIngresses(input, opts, refusedHosts);
        if (result.apps.length === 0) return { result };
        const config = stackConfigOf(result);
        const lines = header(result);
        const text = stackFileYaml(config, lines);
        // Comment lines change nothing the validation reads; a header that might is left out here, and the caller validates the text.
        const comments = lines.every((l) => !NOT_IN_COMMENT.test(l));
        let refused: SettingsError;
        try {
            const { warnings } = validateStackFile(comments ? text : stackFileYaml(config, []));
            return { result, text, ...(comments ? { validation: { warnings } } : {}) };
        } catch (e) {
            if (!(e instanceof SettingsError)) throw e;
            refused = e;
        }
        const found = refusedAppHosts(result, refused).filter(([key]) => !refusedHosts.has(key));
        if (found.length === 0) return { result, text, ...(comments ? { validation: { refused } } : {}) };
        for (const [key, why] of found) refusedHosts.set(key, why);
    }
}

/** A problem of the package's validation with an app's host: istio-sticky:apps[i].hosts[k]: <why>. */
const APP_HOST_PROBLEM = /^\[(\d+)\]\.hosts\[(\d+)\]: (.*)$/s;

/** The hosts the package's validation refused for an app: ["<namespace>/<service> <host>", its reason]. */
function refusedAppHosts(result: ImportResult, e: SettingsError): [string, string][] {
    return e.problems.flatMap((p): [string, string][] => {
        const m = p.startsWith(APPS_KEY) ? APP_HOST_PROBLEM.exec(p.slice(APPS_KEY.length)) : null;
        if (!m) return [];
        const app = result.apps[Number(m[1])];
        const host = app?.hosts?.[Number(m[2])];
        return app && host ? [[hostKey(`${app.namespace}/${app.service.name}`, host), m[3]]] : [];
    });
}
