/**
 * Whether a live Service has the port a patch names. Kept free of imports: the check runs inside
 * a dynamic provider, whose code Pulumi serializes with everything it references.
 */

/** A port of a Service as the API server returns it. */
export interface LivePort {
    name?: string;
    port: number;
    protocol?: string;
    targetPort?: number | string;
    appProtocol?: string;
}

/** Why Service `id` cannot take a patch of `port`/`protocol`, or undefined. */
export function missingPortProblem(
    id: string,
    port: number,
    protocol: string,
    ports: readonly LivePort[],
): string | undefined {
    if (ports.some((p) => p.port === port && (p.protocol ?? "TCP") === protocol)) return undefined;
    const have = ports.length
        ? ports.map((p) => `${p.port}/${p.protocol ?? "TCP"}${p.name ? ` (${p.name})` : ""}`).join(", ")
        : "none";
    return `Service ${id} has no port ${port}/${protocol} (its ports: ${have}): set service.port to the port the gateway should route to`;
}
