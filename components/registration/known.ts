import * as pulumi from "@pulumi/pulumi";
import { SettingsError } from "../settings/validate";

/**
 * True when the value holds no Output or Promise anywhere, so it can be
 * validated now, before any resource is registered.
 */
export function isKnown<T>(input: pulumi.Input<T> | undefined): input is T {
    return unknownPaths(input).length === 0;
}

/** Where the value holds an Output or a Promise, as paths like `apps[0].name` under `root`. */
export function unknownPaths(input: unknown, root = ""): string[] {
    const seen = new Set<unknown>();
    const paths: string[] = [];
    const visit = (v: unknown, at: string): void => {
        if (pulumi.Output.isInstance(v) || v instanceof Promise) {
            paths.push(at || "(the value)");
            return;
        }
        if (v === null || typeof v !== "object" || seen.has(v) || pulumi.Resource.isInstance(v)) return;
        seen.add(v);
        for (const [k, child] of Object.entries(v as object))
            visit(child, Array.isArray(v) ? `${at}[${k}]` : at ? `${at}.${k}` : k);
    };
    visit(input, root);
    return paths;
}

/** Refuses an Output or a Promise in args that decide which resources exist: they must be known when the component is created. */
export function requireKnown<A extends object>(args: A, fields: readonly (keyof A & string)[], where: string): void {
    for (const field of fields) {
        if (args[field] !== undefined && !isKnown(args[field])) {
            throw new SettingsError([
                `${where}.${field}: must be known when the component is created (it decides which resources exist)`,
            ]);
        }
    }
}
