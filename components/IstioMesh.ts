import * as pulumi from "@pulumi/pulumi";
import { needsPersistentSessions, type MeshSettings } from "./settings/schema";
import { parseMesh } from "./settings/validate";
import { Dataplane, IngressApi } from "./settings/enums";
import { meshKeys, meshLayout, meshPart, MeshInputs } from "./plan/mesh";
import { ComponentType } from "./plan/types";
import type { MeshKeys } from "./plan/waits";
import type { IngressAddress } from "./outputs/ingress";
import { Registrar } from "./registration/registrar";
import { isKnown, requireKnown } from "./registration/known";
import type { IstioMeshArgs, MeshArgs } from "./args";
import type { Agree, Check, Plain } from "./agree";
import type { Handoff } from "./handoff";
import { claimCluster } from "./oneMesh";

export type { IstioMeshArgs } from "./args";

/** IstioMeshArgs, Inputs unwrapped, agree with MeshArgs (and so with the schema) but for `install` (this component installs): the build fails otherwise. */
export type IstioMeshArgsAgree = Check<
    Agree<Plain<Omit<IstioMeshArgs, "persistentSessions">>, Omit<MeshArgs, "install">>
>;

/** What a mesh keeps besides its outputs: for TypeScript callers and for a StickyApp that depends on it. */
interface MeshInternals {
    settings: pulumi.Output<MeshSettings>;
    /** The keys of the objects other components wait for. */
    keys: MeshKeys;
    /** Its resources by planned key. */
    registered: ReadonlyMap<string, pulumi.Resource>;
    persistentSessions: pulumi.Output<boolean>;
}

const internals = new WeakMap<IstioMesh, MeshInternals>();

/** The waits and gateway a StickyApp takes from a mesh it depends on. @internal */
export function meshInternals(mesh: IstioMesh): MeshInternals {
    return internals.get(mesh)!;
}

/**
 * Istio from its official Helm charts: base, then istiod, then an ingress gateway.
 * A StickyApp with this mesh among its `dependsOn` waits for exactly the mesh
 * objects each of its objects needs and binds to this gateway.
 */
export class IstioMesh extends pulumi.ComponentResource {
    /** The gateway pods' labels: use them as the selector of any Istio Gateway. */
    readonly gatewayLabels: pulumi.Output<Record<string, string>>;
    /** The gateway's namespace. */
    readonly gatewayNamespace: pulumi.Output<string>;
    /** The gateway's Service (and Deployment and Helm release) name. */
    readonly gatewayServiceName: pulumi.Output<string>;
    /** The Istio version installed. */
    readonly version: pulumi.Output<string>;
    /** Where clients reach the gateway. */
    readonly ingress: pulumi.Output<IngressAddress>;
    /**
     * Whether istiod runs Envoy's stateful-session filter. Programs in other languages pass it to
     * each StickyApp's `meshPersistentSessions` (TypeScript apps read it from their `dependsOn`).
     */
    readonly persistentSessions: pulumi.Output<boolean>;

    /** The validated settings (TypeScript only; not an output). */
    get settings(): pulumi.Output<MeshSettings> {
        return internals.get(this)!.settings;
    }

    /**
     * @param handoff Given by StickySessions only: this component's part of the stack's plan, whose
     * settings were validated with the stack (the args then repeat them and are not parsed again).
     */
    constructor(name: string, args: IstioMeshArgs = {}, opts: pulumi.ComponentResourceOptions = {}, handoff?: Handoff) {
        const { persistentSessions, ...meshArgs } = args;
        const where = `IstioMesh ${name}`;
        // dataplane and gateway.api decide which releases and CRDs exist: they must be known now.
        if (!handoff) requireKnown(args, ["dataplane", "gateway"], where);
        const layout = meshLayout({
            gateway: { api: args.gateway?.api ?? IngressApi.Istio },
            dataplane: args.dataplane ?? Dataplane.Sidecar,
        });
        // Known settings are checked before anything is registered; Outputs once they resolve.
        const input: pulumi.Input<MeshInputs> | undefined = handoff
            ? undefined
            : isKnown(meshArgs) && isKnown(persistentSessions)
              ? {
                    mesh: parseMesh({ install: true, ...meshArgs }, where),
                    persistentSessions: persistentSessions ?? false,
                }
              : pulumi.all([pulumi.output(meshArgs), pulumi.output(persistentSessions)]).apply(([m, p]) => ({
                    mesh: parseMesh({ install: true, ...m }, where),
                    persistentSessions: p ?? false,
                }));
        super(ComponentType.IstioMesh, name, {}, opts);
        // Before any of its resources: a second Istio for the same cluster is refused.
        const owner = handoff?.plan.components.find((c) => c.key === name)?.parent;
        claimCluster(this, owner ? `StickySessions ${owner} (it installs Istio: mesh.install)` : `IstioMesh ${name}`);

        let registrar: Registrar;
        let settings: pulumi.Output<MeshSettings>;
        if (handoff) {
            // A stack's mesh: its part of the stack's plan, settings validated with the stack.
            registrar = handoff.registrar;
            registrar.objects(
                handoff.plan.objects.filter((o) => o.owner === name),
                this,
            );
            const read = handoff.plan.reads.find((r) => r.owner === name)!;
            settings = pulumi.output(handoff.plan.settings.mesh);
            this.ingress = registrar.gatewayService(read, read, this);
        } else {
            registrar = new Registrar();
            const part = meshPart(name, layout);
            registrar.entries(part.entries, input!, this);
            const [read] = part.reads;
            settings = pulumi.output(input!).mesh;
            this.ingress = registrar.gatewayService(read, registrar.readOf(read, input!), this);
        }
        internals.set(this, {
            settings,
            keys: meshKeys(name, handoff ? meshLayout(handoff.plan.settings.mesh) : layout),
            registered: registrar.resources,
            persistentSessions: handoff
                ? pulumi.output(needsPersistentSessions(handoff.plan.settings.apps))
                : pulumi.output(input!).persistentSessions,
        });
        this.gatewayLabels = settings.gateway.labels;
        this.gatewayNamespace = settings.gateway.namespace;
        this.gatewayServiceName = settings.gateway.name;
        this.version = settings.version;
        this.persistentSessions = internals.get(this)!.persistentSessions;

        this.registerOutputs({
            gatewayLabels: this.gatewayLabels,
            gatewayNamespace: this.gatewayNamespace,
            gatewayServiceName: this.gatewayServiceName,
            version: this.version,
            ingress: this.ingress,
            persistentSessions: this.persistentSessions,
        });
    }
}
