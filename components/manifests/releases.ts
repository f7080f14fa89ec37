import type { MeshSettings } from "../settings/schema";
import { PERSISTENT_SESSION_ENV } from "../policy/affinity";
import { unhealthyEndpointsEnv } from "../policy/health";
import { Dataplane } from "../settings/enums";
import type { HelmReleaseSpec } from "./types";

export const ISTIO_SYSTEM_NAMESPACE = "istio-system";

export interface MeshReleases {
    base: HelmReleaseSpec;
    istiod: HelmReleaseSpec;
    gateway: HelmReleaseSpec;
    /** Ambient only: the node agent that enrols pods into ambient (redirects their traffic to ztunnel). */
    cni?: HelmReleaseSpec;
    /** Ambient only: the per-node proxy carrying L4 traffic and mutual TLS (HBONE). */
    ztunnel?: HelmReleaseSpec;
}

/** Istio's ambient profile, as each chart's templates/zzz_profile.yaml reads it (files/profile-ambient.yaml). */
const AMBIENT_PROFILE = { profile: "ambient" } as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Helm-style merge: maps merge key by key, anything else in `over` replaces. */
export function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
        out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeValues(out[k] as Record<string, unknown>, v) : v;
    }
    return out;
}

/**
 * The three Istio releases. Only `persistentSessions` depends on the apps, so
 * changing an app's policy or replicas leaves the releases as they are unless it
 * switches persistent sessions on or off (one istiod env var, upgraded in place).
 */
export function buildMeshReleases(mesh: MeshSettings, opts: { persistentSessions: boolean }): MeshReleases {
    const common = { repo: mesh.chartRepository, version: mesh.version };
    const ambient = mesh.dataplane === Dataplane.Ambient;
    const revision = mesh.revision ? { revision: mesh.revision } : {};
    // Images pinned to the hub and the version asked for: published charts of some 1.30 patches default their hub
    // to registry.istio.io (retired), and source charts to a testing hub and "latest".
    const images = { global: { hub: mesh.hub, tag: mesh.version } };
    const istiodDefaults: Record<string, unknown> = {
        ...revision,
        ...(ambient ? AMBIENT_PROFILE : {}),
        ...images,
        // Access logs show which pod served each request: the first place to look when a session moves.
        meshConfig: { accessLogFile: "/dev/stdout" },
        env: {
            ...(opts.persistentSessions ? { [PERSISTENT_SESSION_ENV]: "true" } : {}),
            ...unhealthyEndpointsEnv(mesh),
        },
    };
    const g = mesh.gateway;
    const gatewayDefaults: Record<string, unknown> = {
        ...revision,
        name: g.name,
        labels: { ...g.labels },
        service: {
            type: g.serviceType,
            ...(g.externalTrafficPolicy ? { externalTrafficPolicy: g.externalTrafficPolicy } : {}),
        },
        // The gateway takes the client address from X-Forwarded-For past this many proxies (remoteIpBlocks use it).
        ...(g.numTrustedProxies > 0
            ? {
                  podAnnotations: {
                      "proxy.istio.io/config": JSON.stringify({
                          gatewayTopology: { numTrustedProxies: g.numTrustedProxies },
                      }),
                  },
              }
            : {}),
    };
    return {
        base: {
            ...common,
            name: "istio-base",
            namespace: ISTIO_SYSTEM_NAMESPACE,
            chart: "base",
            values: mergeValues(mesh.revision ? { defaultRevision: mesh.revision } : {}, mesh.values.base),
        },
        istiod: {
            ...common,
            name: mesh.revision ? `istiod-${mesh.revision}` : "istiod",
            namespace: ISTIO_SYSTEM_NAMESPACE,
            chart: "istiod",
            values: mergeValues(istiodDefaults, mesh.values.istiod),
        },
        gateway: {
            ...common,
            name: mesh.gateway.name,
            namespace: mesh.gateway.namespace,
            chart: "gateway",
            values: mergeValues(gatewayDefaults, mesh.values.gateway),
        },
        ...(ambient
            ? {
                  cni: {
                      ...common,
                      name: "istio-cni",
                      namespace: ISTIO_SYSTEM_NAMESPACE,
                      chart: "cni",
                      values: mergeValues({ ...AMBIENT_PROFILE, ...images }, mesh.values.cni),
                  },
                  ztunnel: {
                      ...common,
                      name: "ztunnel",
                      namespace: ISTIO_SYSTEM_NAMESPACE,
                      chart: "ztunnel",
                      // ztunnel's chart takes its hub and tag at the top level.
                      values: mergeValues(
                          { ...AMBIENT_PROFILE, hub: mesh.hub, tag: mesh.version },
                          mesh.values.ztunnel,
                      ),
                  },
              }
            : {}),
    };
}
