import * as pulumi from "@pulumi/pulumi";
import { parseStack, SettingsError } from "./settings/validate";
import { buildPlan, Plan } from "./plan/stack";
import { ComponentType } from "./plan/types";
import type { IngressAddress } from "./outputs/ingress";
import { appEndpoint, AppEndpoint } from "./outputs/endpoints";
import { Registrar } from "./registration/registrar";
import { unknownPaths } from "./registration/known";
import { demoAppSource } from "./registration/demoAppScript";
import type { StickySessionsArgs } from "./args";
import type { Handoff } from "./handoff";
import { IstioMesh } from "./IstioMesh";
import { GatewayTls } from "./GatewayTls";
import { StickyApp } from "./StickyApp";

export type { StickySessionsArgs } from "./args";

interface SessionsInternals {
    plan: Plan;
    mesh?: IstioMesh;
    tls?: GatewayTls;
    apps: StickyApp[];
}

const internals = new WeakMap<StickySessions, SessionsInternals>();

/**
 * The whole thing a stack deploys: Istio (or an existing one), one shared Istio
 * Gateway, and one StickyApp per app. Every setting is plain: together they
 * decide which resources exist, and they are validated together before
 * anything is registered. Its outputs are the stack's outputs.
 */
export class StickySessions extends pulumi.ComponentResource {
    /** Where clients reach the ingress gateway. */
    readonly ingress: pulumi.Output<IngressAddress>;
    /** Per app: namespace, Service host, path, policy, URL, a probe loop, pods, direct-routing curls and a verify command. */
    readonly endpoints: pulumi.Output<Record<string, AppEndpoint>>;
    /** The gateway pod labels, also the Istio Gateway's selector. */
    readonly gatewayLabels: pulumi.Output<Record<string, string>>;
    /** What an existing Istio must provide (empty when this component installs Istio). */
    readonly meshRequirements: pulumi.Output<string[]>;

    /** The plan this component registered: the same objects `render` prints (TypeScript only; not an output). */
    get plan(): Plan {
        return internals.get(this)!.plan;
    }
    /** The IstioMesh child, when this component installs Istio (TypeScript only). */
    get mesh(): IstioMesh | undefined {
        return internals.get(this)!.mesh;
    }
    /** The GatewayTls child, with TLS on (TypeScript only). */
    get tls(): GatewayTls | undefined {
        return internals.get(this)!.tls;
    }
    /** The StickyApp children, in the order of the settings (TypeScript only). */
    get apps(): StickyApp[] {
        return internals.get(this)!.apps;
    }

    constructor(name: string, args: StickySessionsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const late = unknownPaths(args);
        if (late.length) {
            throw new SettingsError(
                late.map(
                    (p) =>
                        `StickySessions ${name}: ${p}: must be a plain value, not an Output or a Promise (these settings decide which resources exist; StickyApp, IstioMesh and GatewayTls take Outputs)`,
                ),
            );
        }
        const { value: stack, warnings } = parseStack(args, `StickySessions ${name}:`);
        const plan = buildPlan(stack, { name, demoAppSource: demoAppSource() });
        super(ComponentType.StickySessions, name, {}, opts);
        warnings.forEach((w) => pulumi.log.warn(w, this));

        const registrar = new Registrar();
        // Child components name the Kubernetes provider themselves: the engine records a component's providers from
        // its own options, and a component constructed remotely (another language) sees only those.
        const provider = this.getProvider("kubernetes::");
        const child: pulumi.ComponentResourceOptions = { parent: this, ...(provider ? { providers: [provider] } : {}) };
        const handoff = (app?: (typeof plan.settings.apps)[number]): Handoff => ({
            plan,
            registrar,
            ...(app ? { app } : {}),
        });
        const componentOf = (type: ComponentType) => plan.components.find((c) => c.type === type && c.parent === name);
        const meshComponent = componentOf(ComponentType.IstioMesh);
        const tlsComponent = componentOf(ComponentType.GatewayTls);
        const mesh = meshComponent && new IstioMesh(meshComponent.key, {}, child, handoff());
        const tls =
            tlsComponent &&
            new GatewayTls(
                tlsComponent.key,
                { hosts: plan.settings.tls.hosts, gatewayNamespace: plan.settings.mesh.gateway.namespace },
                child,
                handoff(),
            );
        // The namespaces, demo scripts, shared Gateway and routes: what the apps share.
        registrar.objects(
            plan.objects.filter((o) => o.owner === name),
            this,
        );
        const apps = plan.settings.apps.map((app) => new StickyApp(`${name}-${app.name}`, app, child, handoff(app)));
        internals.set(this, { plan, mesh, tls, apps });

        const ownRead = plan.reads.find((r) => r.owner === name);
        this.ingress = mesh ? mesh.ingress : registrar.gatewayService(ownRead!, ownRead!, this);
        this.gatewayLabels = pulumi.output(plan.settings.mesh.gateway.labels);
        this.meshRequirements = pulumi.output(plan.meshRequirements);
        plan.meshRequirements.forEach((r) => pulumi.log.warn(`the existing Istio must provide ${r}`, this));
        const settings = plan.settings;
        this.endpoints = pulumi
            .all([this.ingress, pulumi.all(apps.map((a) => a.pods))])
            .apply(([ingress, pods]) =>
                Object.fromEntries(
                    settings.apps.map((app, i) => [app.name, appEndpoint(app, settings.tls, ingress, pods[i])]),
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
