import * as pulumi from "@pulumi/pulumi";

/**
 * True when the value holds no Output or Promise anywhere, so it can be
 * validated now, before any resource is registered.
 */
export function isKnown<T>(input: pulumi.Input<T> | undefined): input is T {
    const seen = new Set<unknown>();
    const known = (v: unknown): boolean => {
        if (pulumi.Output.isInstance(v) || v instanceof Promise) return false;
        if (v === null || typeof v !== "object" || seen.has(v)) return true;
        if (pulumi.Resource.isInstance(v)) return true;
        seen.add(v);
        return Object.values(v as object).every(known);
    };
    return known(input);
}
