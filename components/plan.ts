import { needsClientAddress, type StackSettings } from "./settings/validate";
import { needsPersistentSessions, type AppSettings, type MeshSettings, type TlsSettings } from "./settings/schema";
import { buildMeshReleases, ISTIO_SYSTEM_NAMESPACE, mergeValues, MeshReleases } from "./istio/releases";
import { acmeIngressMeshConfig, buildCertManagerRelease, buildClusterIssuer, buildGatewayCertificate, CERT_MANAGER_NAMESPACE, GATEWAY_TLS_SECRET } from "./objects/tls";
import { buildNamespace } from "./objects/namespace";
import { buildIstioGateway, gatewayRef } from "./objects/gateway";
import { AppObjectSet, AppObjectsContext, buildAppObjects } from "./objects/app";
import { buildRoutes, RouteContext } from "./objects/routes";
import { PERSISTENT_SESSION_ENV } from "./policy/affinity";
import { ExternalTrafficPolicy, GatewayServiceType, isPersistentMode } from "./settings/enums";
import type { HelmReleaseSpec, K8sObject } from "./objects/types";

/** The Istio Gateway every app of a stack shares. */
export const SHARED_GATEWAY_NAME = "sticky-gateway";

export interface AppPlan {
    settings: AppSettings;
    objects: AppObjectSet;
}

/** Everything a stack deploys, as plain objects: what the components create and `render` prints. */
export interface Plan {
    /** Absent when the stack uses an Istio that is already installed. */
    mesh?: { namespaces: K8sObject[]; releases: MeshReleases };
    /** With TLS: cert-manager (when installed here), the ClusterIssuer and the gateway's Certificate. */
    tls?: TlsPlan;
    appNamespaces: K8sObject[];
    gateway: K8sObject;
    apps: AppPlan[];
    /** One gateway VirtualService per path (apps on one path are routed by header). */
    routes: K8sObject[];
    /** What an existing mesh must provide (empty when the stack installs Istio). */
    meshRequirements: string[];
}

export interface TlsPlan {
    certManager?: { namespace: K8sObject; release: HelmReleaseSpec };
    issuer: K8sObject;
    certificate: K8sObject;
}

/** The cert-manager install, issuer and certificate a TLS gateway needs; undefined with TLS off. */
export function buildTlsPlan(tls: TlsSettings, gatewayNamespace: string): TlsPlan | undefined {
    if (!tls.enabled) return undefined;
    return {
        certManager: tls.installCertManager ? { namespace: buildNamespace(CERT_MANAGER_NAMESPACE), release: buildCertManagerRelease(tls) } : undefined,
        issuer: buildClusterIssuer(tls),
        certificate: buildGatewayCertificate(tls, gatewayNamespace),
    };
}

/**
 * The mesh as the stack installs it: an ACME issuer makes the gateway istiod's
 * ingress controller, and direct routing at the gateway keeps client addresses
 * (externalTrafficPolicy Local) unless the stack says otherwise, since its
 * guard keys on them.
 */
export function meshForStack(stack: Pick<StackSettings, "mesh" | "tls" | "apps">): MeshSettings {
    const g = stack.mesh.gateway;
    const keepClients =
        g.externalTrafficPolicy === undefined && g.serviceType !== GatewayServiceType.ClusterIP && g.numTrustedProxies === 0 && needsClientAddress(stack.apps);
    const gateway = keepClients ? { ...g, externalTrafficPolicy: ExternalTrafficPolicy.Local } : g;
    const acme = acmeIngressMeshConfig(stack.tls, stack.mesh);
    const istiod = Object.keys(acme).length ? mergeValues(acme, stack.mesh.values.istiod) : stack.mesh.values.istiod;
    return { ...stack.mesh, gateway, values: { ...stack.mesh.values, istiod } };
}


/** The namespaces the mesh itself needs: istiod's and the gateway's. */
export function buildMeshNamespaces(mesh: MeshSettings): K8sObject[] {
    return [buildNamespace(ISTIO_SYSTEM_NAMESPACE), buildNamespace(mesh.gateway.namespace)];
}

/** One namespace object per distinct app namespace, in order of first use. */
export function buildAppNamespaces(apps: readonly Pick<AppSettings, "namespace">[], revision?: string): K8sObject[] {
    return [...new Set(apps.map((a) => a.namespace))].map((ns) => buildNamespace(ns, { injection: true, revision }));
}

export function buildSharedGateway(mesh: MeshSettings, tls: TlsSettings): K8sObject {
    return buildIstioGateway({
        name: SHARED_GATEWAY_NAME,
        namespace: mesh.gateway.namespace,
        selector: mesh.gateway.labels,
        hosts: mesh.gateway.hosts,
        tls: tls.enabled ? { credentialName: GATEWAY_TLS_SECRET, hosts: tls.hosts, httpsRedirect: tls.httpsRedirect } : undefined,
    });
}

/** What an already-installed Istio must offer for these apps (and an ACME issuer) to work. */
export function meshRequirements(mesh: MeshSettings, apps: readonly AppSettings[], tls?: TlsSettings): string[] {
    const out = [
        `an Istio ${mesh.version.replace(/\.\d+$/, ".x")}-compatible control plane${mesh.revision ? ` with revision "${mesh.revision}"` : ""} with its CRDs installed`,
        `ingress gateway pods in namespace "${mesh.gateway.namespace}" labelled ${JSON.stringify(mesh.gateway.labels)}`,
    ];
    const persistent = apps.filter((a) => isPersistentMode(a.affinity.mode));
    if (persistent.length) out.push(persistentSessionRequirement(persistent.map((a) => a.name)));
    if (needsClientAddress(apps) && mesh.gateway.numTrustedProxies === 0) {
        out.push(
            `a gateway Service that keeps client addresses (externalTrafficPolicy: Local, or ClusterIP), or numTrustedProxies set behind a proxy ` +
                `that adds X-Forwarded-For: the direct-routing guard checks the client address`,
        );
    }
    const acme = tls ? acmeIngressMeshConfig(tls, mesh) : {};
    if (Object.keys(acme).length) {
        out.push(`istiod serving the ACME HTTP-01 challenge Ingress through the gateway: values ${JSON.stringify(acme)}`);
    }
    return out;
}

/** What istiod must run for persistent modes, naming the apps that need it. */
export function persistentSessionRequirement(apps: readonly string[]): string {
    return `istiod with env ${PERSISTENT_SESSION_ENV}=true (needed by ${apps.join(", ")})`;
}

/** What every app of a stack shares: the demo app, the gateway, Istio's root namespace. */
export function appContext(mesh: MeshSettings, demoAppSource: string): AppObjectsContext {
    return { demoAppSource, gatewayNamespace: mesh.gateway.namespace, gatewaySelector: mesh.gateway.labels, rootNamespace: ISTIO_SYSTEM_NAMESPACE };
}

/** Routes serve the gateway's hosts; with TLS those cover the certificate's names (checked at validation). */
export function routeContext(mesh: MeshSettings): RouteContext {
    return { gateway: gatewayRef(SHARED_GATEWAY_NAME, mesh.gateway.namespace), hosts: mesh.gateway.hosts };
}

export function buildPlan(stack: StackSettings, demoAppSource: string): Plan {
    const { apps, tls } = stack;
    const mesh = meshForStack(stack);
    const gateway = buildSharedGateway(mesh, tls);
    const ctx = appContext(mesh, demoAppSource);
    return {
        mesh: mesh.install
            ? { namespaces: buildMeshNamespaces(mesh), releases: buildMeshReleases(mesh, { persistentSessions: needsPersistentSessions(apps) }) }
            : undefined,
        tls: buildTlsPlan(tls, mesh.gateway.namespace),
        appNamespaces: buildAppNamespaces(apps, mesh.revision),
        gateway,
        apps: apps.map((settings) => ({ settings, objects: buildAppObjects(settings, ctx) })),
        routes: buildRoutes(apps, routeContext(mesh)),
        meshRequirements: mesh.install ? [] : meshRequirements(mesh, apps, tls),
    };
}
