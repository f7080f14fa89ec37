import * as pulumi from "@pulumi/pulumi";

/** Planned waits and a `dependsOn` option given as a resource, a list, or an Output or Promise of either. */
export function withExternal(
    waits: pulumi.Resource[],
    external: pulumi.ResourceOptions["dependsOn"],
): pulumi.ResourceOptions["dependsOn"] {
    if (external === undefined) return waits;
    if (Array.isArray(external)) return [...waits, ...external];
    if (pulumi.Resource.isInstance(external)) return [...waits, external];
    return pulumi
        .output(external as pulumi.Input<pulumi.Resource | pulumi.Resource[]>)
        .apply((e) => [...waits, ...(Array.isArray(e) ? e : [e])]);
}
