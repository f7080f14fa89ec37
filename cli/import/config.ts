/**
 * The import's result as a stack file (`config:` with istio-sticky:apps, :mesh and
 * :tls), and the proof that the package takes it: the text is parsed back and run
 * through `parseStackConfig`, as `pulumi up` would see it, before anything is printed.
 */
import { CORE_SCHEMA, dump, load } from "js-yaml";
import {
    APPS_KEY,
    Checked,
    MESH_KEY,
    parseStackConfig,
    StackSettings,
    TLS_KEY,
} from "../../components/settings/validate";
import type { ImportResult } from "./result";

/** The `config:` map of the stack file. */
export function stackConfigOf(result: ImportResult): Record<string, unknown> {
    return {
        [MESH_KEY]: { gateway: { hosts: result.gatewayHosts } },
        [APPS_KEY]: result.apps.map((a) => ({
            name: a.name,
            namespace: a.namespace,
            ...(a.hosts ? { hosts: a.hosts } : {}),
            path: a.path,
            stripPath: a.stripPath,
            affinity: a.affinity,
            service: a.service,
        })),
        ...(result.tls ? { [TLS_KEY]: result.tls } : {}),
    };
}

/**
 * The stack file's text. js-yaml quotes, in its compatible mode, every string that YAML 1.1 would
 * read as another type, so that a value such as "on" or "yes" stays a string for readers that
 * take YAML 1.1 (Pulumi's Go YAML among them).
 */
export function stackFileYaml(config: Record<string, unknown>, header: readonly string[]): string {
    const body = dump({ config }, { lineWidth: -1, noRefs: true, quotingType: '"' });
    return `${header.map((l) => `# ${l}`.trimEnd()).join("\n")}\n${body}`;
}

/**
 * Validates the stack file's text with the package's own validation, as Pulumi hands
 * it over (each structured value as JSON text); throws SettingsError with every problem.
 */
export function validateStackFile(text: string): Checked<StackSettings> {
    const doc = load(text, { schema: CORE_SCHEMA }) as { config?: Record<string, unknown> };
    const config = Object.fromEntries(
        Object.entries(doc.config ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    return parseStackConfig(config);
}
