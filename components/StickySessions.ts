import * as pulumi from "@pulumi/pulumi";
import { parseStack } from "./settings/validate";
import { buildPlan, Plan } from "./plan/stack";
import { ComponentType } from "./plan/types";
import type { IngressAddress } from "./outputs/ingress";
import { appEndpoint, AppEndpoint } from "./outputs/endpoints";
import { Registrar } from "./registration/registrar";
import { demoAppSource } from "./registration/demoAppScript";
import type { AppArgs, MeshArgs, TlsArgs } from "./args";
import { PLANNED, WithHandoff } from "./handoff";
import { IstioMesh, IstioMeshArgs } from "./IstioMesh";
import { GatewayTls, GatewayTlsArgs } from "./GatewayTls";
import { StickyApp, StickyAppArgs } from "./StickyApp";

export interface StickySessionsArgs {
    /** Istio: installed by this component (default) or already in the cluster. */
    mesh?: MeshArgs;
    /** HTTPS on the gateway with a certificate from cert-manager. @default off */
    tls?: TlsArgs;
    /** One or more apps, all behind one shared gateway. */
    apps: AppArgs[];
}

/**
 * The whole thing a stack deploys: Istio (or an existing one), one shared Istio
 * Gateway, and one StickyApp per app. Every setting is plain: together they
 * decide which resources exist, and they are validated together before
 * anything is registered. Its outputs are the stack's outputs.
 */
export class StickySessions extends pulumi.ComponentResource {
    /** The plan this component registered: the same objects `render` prints. */
    readonly plan: Plan;
    readonly mesh?: IstioMesh;
    readonly tls?: GatewayTls;
    readonly apps: StickyApp[];
    readonly ingress: pulumi.Output<IngressAddress>;
    readonly endpoints: pulumi.Output<Record<string, AppEndpoint>>;
    readonly gatewayLabels: pulumi.Output<Record<string, string>>;
    readonly meshRequirements: pulumi.Output<string[]>;

    constructor(name: string, args: StickySessionsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const { value: stack, warnings } = parseStack(args, `StickySessions ${name}:`);
        const plan = buildPlan(stack, { name, demoAppSource: demoAppSource() });
        super(ComponentType.StickySessions, name, {}, opts);
        this.plan = plan;
        warnings.forEach((w) => pulumi.log.warn(w, this));

        const registrar = new Registrar();
        // Child components name the Kubernetes provider themselves: the engine records a component's providers from
        // its own options, and a component constructed remotely (another language) sees only those.
        const provider = this.getProvider("kubernetes::");
        const child: pulumi.ComponentResourceOptions = { parent: this, ...(provider ? { providers: [provider] } : {}) };
        const handoff = (app?: (typeof plan.settings.apps)[number]) => ({ [PLANNED]: { plan, registrar, app } });
        const componentOf = (type: ComponentType) => plan.components.find((c) => c.type === type && c.parent === name);
        const meshComponent = componentOf(ComponentType.IstioMesh);
        const tlsComponent = componentOf(ComponentType.GatewayTls);
        if (meshComponent) this.mesh = new IstioMesh(meshComponent.key, handoff() as WithHandoff<IstioMeshArgs>, child);
        if (tlsComponent) this.tls = new GatewayTls(tlsComponent.key, handoff() as unknown as WithHandoff<GatewayTlsArgs>, child);
        // The namespaces, demo scripts, shared Gateway and routes: what the apps share.
        registrar.objects(
            plan.objects.filter((o) => o.owner === name),
            this,
        );
        this.apps = plan.settings.apps.map((app) => new StickyApp(`${name}-${app.name}`, handoff(app) as unknown as WithHandoff<StickyAppArgs>, child));

        const ownRead = plan.reads.find((r) => r.owner === name);
        this.ingress = this.mesh ? this.mesh.ingress : registrar.gatewayService(ownRead!, ownRead!, this);
        this.gatewayLabels = pulumi.output(plan.settings.mesh.gateway.labels);
        this.meshRequirements = pulumi.output(plan.meshRequirements);
        plan.meshRequirements.forEach((r) => pulumi.log.warn(`the existing Istio must provide ${r}`, this));
        const { apps, tls } = plan.settings;
        this.endpoints = pulumi
            .all([this.ingress, pulumi.all(this.apps.map((a) => a.pods))])
            .apply(([ingress, pods]) => Object.fromEntries(apps.map((app, i) => [app.name, appEndpoint(app, tls, ingress, pods[i])])));

        this.registerOutputs({
            ingress: this.ingress,
            endpoints: this.endpoints,
            gatewayLabels: this.gatewayLabels,
            meshRequirements: this.meshRequirements,
        });
    }
}
