import * as pulumi from "@pulumi/pulumi";
import type { TlsSettings } from "./settings/schema";
import { parseTls } from "./settings/validate";
import { tlsKeys, tlsPart, TlsInputs } from "./plan/tls";
import { ComponentType } from "./plan/types";
import { GATEWAY_TLS_SECRET, issuerName } from "./manifests/tls";
import { Registrar } from "./registration/registrar";
import { isKnown } from "./registration/known";
import type { GatewayTlsArgs, TlsArgs } from "./args";
import type { Agree, Check, Plain } from "./agree";
import type { Handoff } from "./handoff";

export type { GatewayTlsArgs } from "./args";

/** The settings of TlsArgs GatewayTls takes (the rest is the stack's: enabled, httpsRedirect); with TLS on, hosts are required. */
type GatewayTlsSettingsArgs = Omit<TlsArgs, "enabled" | "httpsRedirect" | "hosts"> & Required<Pick<TlsArgs, "hosts">>;

/** GatewayTlsArgs, Inputs unwrapped, agree with those settings (and so with the schema): the build fails otherwise. */
export type GatewayTlsArgsAgree = Check<Agree<Plain<Omit<GatewayTlsArgs, "gatewayNamespace">>, GatewayTlsSettingsArgs>>;

interface TlsInternals {
    settings: pulumi.Output<TlsSettings>;
    certificate: pulumi.Resource;
    issuer: pulumi.Resource;
    certManager?: pulumi.Resource;
}

const internals = new WeakMap<GatewayTls, TlsInternals>();

/**
 * A certificate for the ingress gateway from cert-manager: cert-manager itself
 * (when asked), then a ClusterIssuer, then the Certificate in the gateway's
 * namespace, whose Secret the Istio Gateway's HTTPS server names. Every object
 * waits for the component's `dependsOn` (e.g. the gateway's namespace).
 */
export class GatewayTls extends pulumi.ComponentResource {
    /** The Secret cert-manager writes the certificate to, in the gateway's namespace (an Istio Gateway's credentialName). */
    readonly secretName: pulumi.Output<string>;
    /** The ClusterIssuer that signs it. */
    readonly issuerName: pulumi.Output<string>;
    /** The names the certificate is for. */
    readonly hosts: pulumi.Output<string[]>;

    /** The validated settings (TypeScript only; not an output). */
    get settings(): pulumi.Output<TlsSettings> {
        return internals.get(this)!.settings;
    }
    /** The Certificate resource (TypeScript only). */
    get certificate(): pulumi.Resource {
        return internals.get(this)!.certificate;
    }
    /** The ClusterIssuer resource (TypeScript only). */
    get issuer(): pulumi.Resource {
        return internals.get(this)!.issuer;
    }
    /** cert-manager's Helm release, when this component installs it (TypeScript only). */
    get certManager(): pulumi.Resource | undefined {
        return internals.get(this)!.certManager;
    }

    /**
     * @param handoff Given by StickySessions only: this component's part of the stack's plan, whose
     * settings were validated with the stack (the args then repeat them and are not parsed again).
     */
    constructor(name: string, args: GatewayTlsArgs, opts: pulumi.ComponentResourceOptions = {}, handoff?: Handoff) {
        const { gatewayNamespace, ...settings } = args;
        const where = `GatewayTls ${name}`;
        const parse = (s: GatewayTlsSettingsArgs, ns: string): TlsInputs => ({
            tls: parseTls(s, where),
            gatewayNamespace: ns,
        });
        const input: pulumi.Input<TlsInputs> = handoff
            ? { tls: handoff.plan.settings.tls, gatewayNamespace: handoff.plan.settings.mesh.gateway.namespace }
            : isKnown(settings) && isKnown(gatewayNamespace)
              ? parse(settings as GatewayTlsSettingsArgs, gatewayNamespace)
              : pulumi
                    .all([pulumi.output(settings), pulumi.output(gatewayNamespace)])
                    .apply(([s, ns]) => parse(s as GatewayTlsSettingsArgs, ns));
        super(ComponentType.GatewayTls, name, {}, opts);

        const registrar = handoff?.registrar ?? new Registrar();
        if (handoff)
            registrar.objects(
                handoff.plan.objects.filter((o) => o.owner === name),
                this,
            );
        else
            registrar.entries(
                tlsPart(name, { installCertManager: args.installCertManager ?? true }).entries,
                input,
                this,
                opts.dependsOn,
            );
        const keys = tlsKeys(name);
        const tls = pulumi.output(input).tls;
        internals.set(this, {
            settings: tls,
            certificate: registrar.resources.get(keys.certificate)!,
            issuer: registrar.resources.get(keys.issuer)!,
            certManager: registrar.resources.get(keys.certManager),
        });
        this.secretName = pulumi.output(GATEWAY_TLS_SECRET);
        this.issuerName = tls.apply(issuerName);
        this.hosts = tls.hosts;
        this.registerOutputs({ secretName: this.secretName, issuerName: this.issuerName, hosts: this.hosts });
    }
}
