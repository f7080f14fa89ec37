import * as pulumi from "@pulumi/pulumi";

/**
 * The value itself when it holds no Output or Promise anywhere (so it can be
 * validated now, before any resource is registered); undefined otherwise.
 */
export function knownValue<T>(input: pulumi.Input<T> | undefined): T | undefined {
    const seen = new Set<unknown>();
    const known = (v: unknown): boolean => {
        if (pulumi.Output.isInstance(v) || v instanceof Promise) return false;
        if (v === null || typeof v !== "object" || seen.has(v)) return true;
        if (pulumi.Resource.isInstance(v)) return true;
        seen.add(v);
        return Object.values(v as object).every(known);
    };
    return known(input) ? (input as T) : undefined;
}
