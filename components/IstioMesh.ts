import * as pulumi from "@pulumi/pulumi";
import type { MeshSettings } from "./settings/schema";
import { parseMesh } from "./settings/validate";
import { meshKeys, meshPart, MeshInputs } from "./plan/mesh";
import { ComponentType } from "./plan/types";
import type { MeshKeys } from "./plan/waits";
import type { IngressAddress } from "./outputs/ingress";
import { Registrar } from "./registration/registrar";
import { isKnown } from "./registration/known";
import type { Agree, Check, MeshArgs, Plain } from "./args";
import { handoffOf } from "./handoff";

export interface IstioMeshArgs {
    /** Istio version for all three charts. @default the newest confirmed 1.30 patch */
    version?: pulumi.Input<string>;
    /** Where the charts come from: an https:// Helm repository or an oci:// registry such as oci://registry.istio.io/release/charts. */
    chartRepository?: pulumi.Input<string>;
    /** An Istio revision (canary upgrades); app namespaces then use `istio.io/rev`. */
    revision?: pulumi.Input<string>;
    gateway?: pulumi.Input<NonNullable<MeshArgs["gateway"]>>;
    /** Extra Helm values per chart, merged over the ones this component sets. */
    values?: pulumi.Input<NonNullable<MeshArgs["values"]>>;
    /** Turn on Envoy's stateful-session filter in istiod (persistent affinity modes need it). @default false */
    persistentSessions?: pulumi.Input<boolean>;
}

/** IstioMeshArgs, Inputs unwrapped, agree with MeshArgs (and so with the schema) but for `install` (this component installs): the build fails otherwise. */
export type IstioMeshArgsAgree = Check<Agree<Plain<Omit<IstioMeshArgs, "persistentSessions">>, Omit<MeshArgs, "install">>>;

/** Istio from its official Helm charts: base, then istiod, then an ingress gateway. */
export class IstioMesh extends pulumi.ComponentResource {
    readonly settings: pulumi.Output<MeshSettings>;
    /** The gateway pods' labels: use them as the selector of any Istio Gateway. */
    readonly gatewayLabels: pulumi.Output<Record<string, string>>;
    readonly gatewayNamespace: pulumi.Output<string>;
    readonly gatewayServiceName: pulumi.Output<string>;
    readonly version: pulumi.Output<string>;
    readonly ingress: pulumi.Output<IngressAddress>;
    /** @internal The keys of the objects other components wait for. */
    readonly keys: MeshKeys;
    /** @internal Its resources by planned key. */
    readonly registered: ReadonlyMap<string, pulumi.Resource>;

    constructor(name: string, args: IstioMeshArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
        const handoff = handoffOf(args);
        const { persistentSessions, ...meshArgs } = args;
        const where = `IstioMesh ${name}`;
        // Known settings are checked before anything is registered; Outputs once they resolve.
        const input: pulumi.Input<MeshInputs> | undefined = handoff
            ? undefined
            : isKnown(meshArgs) && isKnown(persistentSessions)
              ? { mesh: parseMesh({ install: true, ...meshArgs }, where), persistentSessions: persistentSessions ?? false }
              : pulumi
                    .all([pulumi.output(meshArgs), pulumi.output(persistentSessions)])
                    .apply(([m, p]) => ({ mesh: parseMesh({ install: true, ...m }, where), persistentSessions: p ?? false }));
        super(ComponentType.IstioMesh, name, {}, opts);

        let registrar: Registrar;
        if (handoff) {
            // A stack's mesh: its part of the stack's plan, settings validated with the stack.
            registrar = handoff.registrar;
            registrar.objects(
                handoff.plan.objects.filter((o) => o.owner === name),
                this,
            );
            const read = handoff.plan.reads.find((r) => r.owner === name)!;
            this.settings = pulumi.output(handoff.plan.settings.mesh);
            this.ingress = registrar.gatewayService(read, read, this);
        } else {
            registrar = new Registrar();
            const part = meshPart(name);
            registrar.entries(part.entries, input!, this);
            const [read] = part.reads;
            this.settings = pulumi.output(input!).mesh;
            this.ingress = registrar.gatewayService(read, registrar.readOf(read, input!), this);
        }
        this.keys = meshKeys(name);
        this.registered = registrar.resources;
        this.gatewayLabels = this.settings.gateway.labels;
        this.gatewayNamespace = this.settings.gateway.namespace;
        this.gatewayServiceName = this.settings.gateway.name;
        this.version = this.settings.version;

        this.registerOutputs({ gatewayLabels: this.gatewayLabels, gatewayNamespace: this.gatewayNamespace, version: this.version, ingress: this.ingress });
    }
}
