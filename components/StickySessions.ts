import * as pulumi from "@pulumi/pulumi";
import { applyTlsDefaults, checkStack, fieldPath, parseMesh, SettingsError, StackSettings } from "./settings/validate";
import { appSchema, needsPersistentSessions, tlsSchema } from "./settings/schema";
import { TlsIssuer } from "./settings/enums";
import { buildAppNamespaces, buildSharedGateway, meshForStack, meshRequirements, routeContext } from "./plan";
import { GatewayTls, GatewayTlsArgs } from "./GatewayTls";
import { serviceHost } from "./objects/app";
import { buildRoutes } from "./objects/routes";
import { directCurl, PodAddress } from "./objects/pods";
import { waitsFor } from "./pulumi/ordering";
import { verifyArgsFor, verifyCommand } from "./verify/command";
import type { IngressAddress } from "./objects/ingress";
import { describeAffinity, stickinessProbe } from "./policy/affinity";
import { createObject, readIngress } from "./pulumi/objects";
import { knownValue } from "./pulumi/known";
import { IstioMesh, IstioMeshArgs } from "./IstioMesh";
import { AppArgs, StickyApp } from "./StickyApp";

export interface StickySessionsMeshArgs extends Omit<IstioMeshArgs, "persistentSessions"> {
    /** Install Istio (default), or use one that is already in the cluster. */
    install?: pulumi.Input<boolean>;
}

export interface StickySessionsTlsArgs extends Omit<GatewayTlsArgs, "gatewayNamespace" | "dependsOn"> {
    /** Default false. */
    enabled?: boolean;
    /** Redirect HTTP to HTTPS. Default true, except with ACME (HTTP-01 answers on port 80). */
    httpsRedirect?: boolean;
}

export interface StickySessionsArgs {
    mesh?: pulumi.Input<StickySessionsMeshArgs>;
    /** HTTPS on the gateway with a certificate from cert-manager. */
    tls?: StickySessionsTlsArgs;
    /** One or more apps, all behind one shared gateway. */
    apps: pulumi.Input<AppArgs>[];
}

export interface AppEndpoint {
    namespace: string;
    serviceHost: string;
    path: string;
    affinity: string;
    /** The app's URL through the ingress, when the ingress has one address. */
    url?: string;
    /** A shell loop that shows which pod serves each request of one session. */
    probe: string;
    /** The ready pods after the rollout (a snapshot from `pulumi up` / `pulumi refresh`). */
    pods: PodAddress[];
    /** With direct routing: one curl per pod that reaches exactly that pod through the ingress. */
    directCurls?: string[];
    /** `npm run verify -- …` that measures this app's stickiness through the ingress. */
    verify: string;
    /** The same as flags, for verify's library function or a script. */
    verifyArgs: string[];
}

/**
 * Validates the whole stack at once (names, paths and policies against each
 * other and against the mesh), before any resource is registered.
 */
export function validateStack(mesh: unknown, apps: readonly unknown[], tls: unknown, where: string): { stack: StackSettings; warnings: string[] } {
    const problems: string[] = [];
    let meshSettings;
    try {
        meshSettings = parseMesh(mesh ?? {}, `${where} mesh`);
    } catch (e) {
        if (!(e instanceof SettingsError)) throw e;
        problems.push(...e.problems);
    }
    const appSettings = apps.map((raw, i) => {
        const r = appSchema.safeParse(raw);
        if (!r.success) r.error.issues.forEach((iss) => problems.push(`${fieldPath(`${where} apps[${i}]`, iss.path)}: ${iss.message}`));
        return r.success ? r.data : undefined;
    });
    if (appSettings.length === 0) problems.push(`${where} apps: must list at least one app`);
    const t = tlsSchema.safeParse(tls ?? {});
    if (!t.success) t.error.issues.forEach((iss) => problems.push(`${fieldPath(`${where} tls`, iss.path)}: ${iss.message}`));
    if (problems.length || !meshSettings || !t.success) throw new SettingsError(problems);
    const stack = { mesh: meshSettings, apps: appSettings as StackSettings["apps"], tls: t.data };
    const checked = checkStack(stack, { mesh: `${where} mesh`, apps: `${where} apps`, tls: `${where} tls` });
    if (checked.problems.length) throw new SettingsError(checked.problems);
    return { stack: applyTlsDefaults(stack), warnings: checked.warnings };
}

/**
 * The whole thing a stack deploys: Istio (or an existing one), one shared Istio
 * Gateway, and one StickyApp per app. Its outputs are the stack's outputs.
 */
export class StickySessions extends pulumi.ComponentResource {
    readonly mesh?: IstioMesh;
    readonly tls?: GatewayTls;
    readonly apps: StickyApp[];
    readonly ingress: pulumi.Output<IngressAddress>;
    readonly endpoints: pulumi.Output<Record<string, AppEndpoint>>;
    readonly gatewayLabels: pulumi.Output<Record<string, string>>;
    readonly meshRequirements: pulumi.Output<string[]>;

    constructor(name: string, args: StickySessionsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const where = `StickySessions ${name}:`;
        const known = knownValue({ mesh: args.mesh, apps: args.apps, tls: args.tls });
        if (!known) {
            // Which resources exist depends on these settings; IstioMesh and StickyApp take Outputs.
            throw new SettingsError([`${where} settings must be known when the component is created (use IstioMesh and StickyApp to pass Outputs)`]);
        }
        const { stack, warnings } = validateStack(known.mesh, known.apps, known.tls, where);
        super("istio-sticky:index:StickySessions", name, {}, opts);
        warnings.forEach((w) => pulumi.log.warn(w, this));

        const { apps, tls } = stack;
        const mesh = meshForStack(stack);
        const child = { parent: this };
        const gatewayType = { apiVersion: "networking.istio.io/v1", kind: "Gateway" };
        if (mesh.install) {
            const { version, revision, gateway, values } = mesh;
            this.mesh = new IstioMesh(`${name}-mesh`, { version, revision, gateway, values, persistentSessions: needsPersistentSessions(apps) }, child);
        }
        if (tls.enabled) {
            const { enabled, httpsRedirect, ...tlsArgs } = tls;
            this.tls = new GatewayTls(
                `${name}-tls`,
                { ...tlsArgs, gatewayNamespace: mesh.gateway.namespace, dependsOn: this.mesh ? [this.mesh.gatewayNamespaceResource] : [] },
                child,
            );
        }
        const istioReady = waitsFor(gatewayType, this.mesh);

        const gateway = buildSharedGateway(mesh, tls);
        // With TLS the HTTPS server is of use once its certificate exists.
        createObject(`${name}-gateway`, { apiVersion: gateway.apiVersion, kind: gateway.kind }, gateway, {
            ...child,
            dependsOn: [...istioReady, ...(this.mesh ? [this.mesh.gatewayNamespaceResource] : []), ...(this.tls ? [this.tls.certificate] : [])],
        });

        const namespaces = new Map(
            buildAppNamespaces(apps, mesh.revision).map((ns) => [
                ns.metadata.name,
                createObject(`${name}-ns-${ns.metadata.name}`, { apiVersion: "v1", kind: "Namespace" }, ns, child),
            ]),
        );
        this.apps = apps.map(
            (app, i) =>
                new StickyApp(
                    `${name}-${app.name}`,
                    {
                        // The validated settings, with what the stack adds (e.g. TLS cookie attributes).
                        ...(app as AppArgs),
                        namespace: app.namespace,
                        dependsOn: [namespaces.get(app.namespace)!],
                        gatewaySelector: mesh.gateway.labels,
                        gatewayNamespace: mesh.gateway.namespace,
                        hosts: mesh.gateway.hosts,
                        createNamespace: false,
                        // Apps on one path share one VirtualService, created below.
                        route: false,
                        // Warnings were logged once for the whole stack above.
                        quiet: true,
                        revision: mesh.revision,
                        mesh: this.mesh,
                    },
                    child,
                ),
        );

        for (const route of buildRoutes(apps, routeContext(mesh))) {
            const type = { apiVersion: route.apiVersion, kind: route.kind };
            createObject(`${name}-route-${route.metadata.name}`, type, route, {
                ...child,
                dependsOn: [namespaces.get(route.metadata.namespace!)!, ...waitsFor(type, this.mesh)],
            });
        }

        this.ingress = this.mesh
            ? this.mesh.ingress
            : readIngress(`${name}-gateway-service`, mesh.gateway.namespace, mesh.gateway.name, undefined, child);
        this.gatewayLabels = pulumi.output(mesh.gateway.labels);
        const requirements = mesh.install ? [] : meshRequirements(mesh, apps, tls);
        this.meshRequirements = pulumi.output(requirements);
        // The StickyApps are quiet: the stack warns once for everything an existing Istio must provide.
        requirements.forEach((r) => pulumi.log.warn(`the existing Istio must provide ${r}`, this));
        // A self-signed certificate is not in any trust store: verify must skip the check.
        const verifyFlags = (app: StackSettings["apps"][number], url: string) => [
            ...verifyArgsFor(app, url),
            ...(tls.enabled && tls.issuer === TlsIssuer.SelfSigned ? ["--insecure"] : []),
        ];
        this.endpoints = pulumi.all([this.ingress, pulumi.all(this.apps.map((a) => a.pods))]).apply(([ingress, pods]) =>
            Object.fromEntries(
                apps.map((app, i) => {
                    // Behind an HTTPS redirect, clients name the certificate's host (resolved to the ingress address).
                    const base = tls.enabled && tls.httpsRedirect ? `https://${tls.hosts[0]}` : (ingress.url ?? "http://$INGRESS");
                    const url = `${base}${app.path === "/" ? "/" : `${app.path}/`}`;
                    return [
                        app.name,
                        {
                            namespace: app.namespace,
                            serviceHost: serviceHost(app),
                            path: app.path,
                            affinity: describeAffinity(app.affinity),
                            ...(ingress.url ? { url } : {}),
                            probe: stickinessProbe(app.affinity, url),
                            pods: pods[i],
                            ...(app.direct.enabled ? { directCurls: pods[i].map((pod) => directCurl(app, pod, url)) } : {}),
                            verify: verifyCommand(verifyFlags(app, url)),
                            verifyArgs: verifyFlags(app, url),
                        },
                    ];
                }),
            ),
        );

        this.registerOutputs({
            ingress: this.ingress,
            endpoints: this.endpoints,
            gatewayLabels: this.gatewayLabels,
            meshRequirements: this.meshRequirements,
        });
    }
}
