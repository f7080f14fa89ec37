import * as pulumi from "@pulumi/pulumi";
import { isPersistentMode } from "./settings/enums";
import type { AppSettings } from "./settings/schema";
import { APP_KEYS, DEFAULT_GATEWAY_NAMESPACE, gatewayPodLabels } from "./settings/schema";
import { parseApp, parseDirect, SettingsError } from "./settings/validate";
import { describeAffinity } from "./policy/affinity";
import { serviceHost } from "./manifests/names";
import { ISTIO_SYSTEM_NAMESPACE } from "./manifests/releases";
import { appLayout, standaloneAppPart, standaloneDemoScript, StandaloneInputs, StandaloneLayout } from "./plan/app";
import { persistentSessionRequirement } from "./plan/stack";
import { ComponentType } from "./plan/types";
import type { PodAddress } from "./outputs/pods";
import { Registrar } from "./registration/registrar";
import { isKnown, requireKnown } from "./registration/known";
import { demoAppSource } from "./registration/demoAppScript";
import type { AppArgs, StickyAppArgs } from "./args";
import type { Agree, Check, Plain } from "./agree";
import { IstioMesh, meshInternals } from "./IstioMesh";
import type { Handoff } from "./handoff";

export type { StickyAppArgs } from "./args";

/** The app settings among StickyApp's args, Inputs unwrapped, agree with AppArgs (and so with the schema): the build fails otherwise. */
export type StickyAppArgsAgree = Check<Agree<Plain<Pick<StickyAppArgs, (typeof APP_KEYS)[number]>>, AppArgs>>;

const internals = new WeakMap<StickyApp, { settings: pulumi.Output<AppSettings> }>();

/** The IstioMesh among a `dependsOn` option given as a list or a resource, and the rest of it. */
function meshAmong(
    dependsOn: pulumi.ResourceOptions["dependsOn"],
    where: string,
): { mesh?: IstioMesh; others: pulumi.ResourceOptions["dependsOn"] } {
    const list = Array.isArray(dependsOn) ? dependsOn : dependsOn instanceof IstioMesh ? [dependsOn] : undefined;
    if (!list) return { others: dependsOn };
    const meshes = list.filter((d): d is IstioMesh => d instanceof IstioMesh);
    if (meshes.length > 1)
        throw new SettingsError([`${where}: dependsOn: name at most one IstioMesh (an app binds to one gateway)`]);
    return { mesh: meshes[0], others: list.filter((d) => !(d instanceof IstioMesh)) };
}

/**
 * A stateful app behind the Istio ingress gateway with the session-affinity policy it asks for.
 * Every object of the app waits for the component's `dependsOn`. With an IstioMesh of the
 * same program among them, each waits for exactly the mesh objects it needs (CRDs, istiod)
 * rather than the whole mesh, and the app binds to that mesh's gateway unless told otherwise.
 */
export class StickyApp extends pulumi.ComponentResource {
    /** The app's namespace. */
    readonly namespace: pulumi.Output<string>;
    /** In-cluster host of the app's Service. */
    readonly serviceHost: pulumi.Output<string>;
    /** Path prefix on the gateway. */
    readonly path: pulumi.Output<string>;
    readonly affinity: pulumi.Output<string>;
    /** The ready pods (name, IP) after the rollout: a snapshot from `pulumi up` or `pulumi refresh`. */
    readonly pods: pulumi.Output<PodAddress[]>;
    /** What the Istio it runs on must provide (empty when the stack plans the mesh, or an IstioMesh it depends on does). */
    readonly meshRequirements: pulumi.Output<string[]>;

    /** The validated settings (TypeScript only; not an output). */
    get settings(): pulumi.Output<AppSettings> {
        return internals.get(this)!.settings;
    }

    /**
     * @param handoff Given by StickySessions only: this component's part of the stack's plan, whose
     * settings were validated with the stack (the args then repeat them and are not parsed again).
     */
    constructor(name: string, args: StickyAppArgs, opts: pulumi.ComponentResourceOptions = {}, handoff?: Handoff) {
        const where = `StickyApp ${name}`;
        const { mesh, others } = handoff ? { mesh: undefined, others: undefined } : meshAmong(opts.dependsOn, where);
        const raw = Object.fromEntries(APP_KEYS.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
        // Known settings are checked before anything is registered; Outputs once they resolve.
        if (!handoff) requireKnown(args, ["direct", "autoscaling", "service"], where);
        if (!handoff && args.service && args.createNamespace) {
            throw new SettingsError([
                `${where}.createNamespace: an existing Service's namespace exists already; leave createNamespace out (service.enrolNamespace labels it)`,
            ]);
        }
        const early = !handoff && isKnown(raw) ? parseApp(raw, where) : undefined;
        const layout: StandaloneLayout | undefined = handoff
            ? undefined
            : {
                  ...(early
                      ? appLayout(early.value)
                      : {
                            autoscaling: args.autoscaling !== undefined,
                            direct: parseDirect(args.direct, where),
                            ...(args.service ? { existing: true } : {}),
                        }),
                  createNamespace: args.createNamespace ?? args.service === undefined,
                  enrolNamespace: args.service?.enrolNamespace === true,
                  demo: args.image === undefined && args.service === undefined,
                  route: args.route ?? true,
                  ownGateway: args.gateway === undefined,
              };
        super(ComponentType.StickyApp, name, {}, opts);

        let settings: pulumi.Output<AppSettings>;
        if (handoff) {
            // A stack's app: its part of the stack's plan, settings validated with the stack.
            const { plan, registrar, app } = handoff;
            registrar.objects(
                plan.objects.filter((o) => o.owner === name),
                this,
            );
            const read = plan.reads.find((r) => r.owner === name)!;
            settings = pulumi.output(app!);
            this.pods = registrar.readyPods(read, read, this);
        } else {
            const registrar = new Registrar(mesh ? meshInternals(mesh).registered : undefined);
            const checked = early ? pulumi.output(early) : pulumi.output(raw).apply((r) => parseApp(r, where));
            if (!args.quiet) checked.warnings.apply((ws) => ws.forEach((w) => pulumi.log.warn(w, this)));
            const source = layout!.demo ? demoAppSource() : undefined;
            const context = {
                app: early ? early.value : checked.value,
                selector: args.gatewaySelector ?? mesh?.gatewayLabels ?? gatewayPodLabels("istio-ingressgateway"),
                gatewayNamespace: args.gatewayNamespace ?? mesh?.gatewayNamespace ?? DEFAULT_GATEWAY_NAMESPACE,
                hosts: args.hosts ?? ["*"],
                gateway: args.gateway,
                revision: args.revision,
            };
            const build = (c: pulumi.Unwrap<typeof context>): StandaloneInputs => ({
                app: c.app,
                ctx: {
                    demoScript: standaloneDemoScript(c.app, source),
                    gatewayNamespace: c.gatewayNamespace,
                    gatewaySelector: c.selector,
                    rootNamespace: ISTIO_SYSTEM_NAMESPACE,
                    revision: c.revision,
                },
                hosts: c.hosts,
                gateway: c.gateway,
                revision: c.revision,
                demoSource: source,
            });
            type Context = pulumi.Unwrap<typeof context>;
            const input: pulumi.Input<StandaloneInputs> = isKnown(context as unknown)
                ? build(context as Context)
                : (pulumi.output(context) as pulumi.Output<Context>).apply(build);
            const part = standaloneAppPart(name, layout!, mesh ? meshInternals(mesh).keys : undefined);
            registrar.entries(part.entries, input, this, others);
            const [read] = part.reads;
            settings = pulumi.output(input).app;
            this.pods = registrar.readyPods(read, registrar.readOf(read, input), this);
        }
        internals.set(this, { settings });
        this.namespace = settings.namespace;
        this.serviceHost = settings.apply(serviceHost);
        this.path = settings.path;
        this.affinity = settings.apply((s) => describeAffinity(s.affinity));
        const provided = handoff
            ? pulumi.output(true)
            : args.meshPersistentSessions !== undefined
              ? pulumi.output(args.meshPersistentSessions)
              : mesh
                ? meshInternals(mesh).persistentSessions
                : pulumi.output(false);
        this.meshRequirements = pulumi
            .all([settings, provided])
            .apply(([s, p]) =>
                isPersistentMode(s.affinity.mode) && !p ? [persistentSessionRequirement([s.name])] : [],
            );
        if (!args.quiet) {
            this.meshRequirements.apply((reqs) =>
                reqs.forEach((r) => pulumi.log.warn(`the Istio this app runs on must run ${r}`, this)),
            );
        }

        this.registerOutputs({
            namespace: this.namespace,
            serviceHost: this.serviceHost,
            path: this.path,
            affinity: this.affinity,
            pods: this.pods,
            meshRequirements: this.meshRequirements,
        });
    }
}
