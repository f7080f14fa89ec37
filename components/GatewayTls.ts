import * as pulumi from "@pulumi/pulumi";
import { TlsIssuer } from "./settings/enums";
import type { TlsSettings } from "./settings/schema";
import { parseTls } from "./settings/validate";
import { tlsKeys, tlsPart, TlsInputs } from "./plan/tls";
import { ComponentType } from "./plan/types";
import { Registrar } from "./registration/registrar";
import { isKnown } from "./registration/known";
import type { AcmeArgs, Agree, Check, Plain, TlsArgs } from "./args";
import { handoffOf } from "./handoff";

export interface GatewayTlsArgs {
    /** The certificate's names. */
    hosts: pulumi.Input<pulumi.Input<string>[]>;
    /** Install cert-manager (CRDs included); it decides which resources exist. @default true */
    installCertManager?: boolean;
    /** @default the newest confirmed cert-manager patch */
    certManagerVersion?: pulumi.Input<string>;
    /** An https:// repository or an oci:// registry. @default "https://charts.jetstack.io" */
    chartRepository?: pulumi.Input<string>;
    /** @default "selfSigned" */
    issuer?: pulumi.Input<TlsIssuer>;
    acme?: pulumi.Input<AcmeArgs>;
    /** The gateway's namespace: the Certificate and its Secret go there. */
    gatewayNamespace: pulumi.Input<string>;
    /** Resources the Certificate waits for (e.g. the gateway's namespace). */
    dependsOn?: pulumi.Resource[];
}

/** The settings of TlsArgs GatewayTls takes (the rest is the stack's: enabled, httpsRedirect); with TLS on, hosts are required. */
type GatewayTlsSettingsArgs = Omit<TlsArgs, "enabled" | "httpsRedirect" | "hosts"> & Required<Pick<TlsArgs, "hosts">>;

/** GatewayTlsArgs, Inputs unwrapped, agree with those settings (and so with the schema): the build fails otherwise. */
export type GatewayTlsArgsAgree = Check<Agree<Plain<Omit<GatewayTlsArgs, "gatewayNamespace" | "dependsOn">>, GatewayTlsSettingsArgs>>;

/**
 * A certificate for the ingress gateway from cert-manager: cert-manager itself
 * (when asked), then a ClusterIssuer, then the Certificate in the gateway's
 * namespace, whose Secret the Istio Gateway's HTTPS server names.
 */
export class GatewayTls extends pulumi.ComponentResource {
    readonly settings: pulumi.Output<TlsSettings>;
    readonly certificate: pulumi.Resource;
    readonly issuer: pulumi.Resource;
    /** cert-manager's Helm release, when this component installs it. */
    readonly certManager?: pulumi.Resource;

    constructor(name: string, args: GatewayTlsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const handoff = handoffOf(args);
        const { gatewayNamespace, dependsOn, ...settings } = args;
        const where = `GatewayTls ${name}`;
        const parse = (s: GatewayTlsSettingsArgs, ns: string): TlsInputs => ({ tls: parseTls(s, where), gatewayNamespace: ns });
        const input: pulumi.Input<TlsInputs> = handoff
            ? { tls: handoff.plan.settings.tls, gatewayNamespace: handoff.plan.settings.mesh.gateway.namespace }
            : isKnown(settings) && isKnown(gatewayNamespace)
              ? parse(settings as GatewayTlsSettingsArgs, gatewayNamespace)
              : pulumi.all([pulumi.output(settings), pulumi.output(gatewayNamespace)]).apply(([s, ns]) => parse(s as GatewayTlsSettingsArgs, ns));
        super(ComponentType.GatewayTls, name, {}, opts);

        const registrar = handoff?.registrar ?? new Registrar();
        if (handoff)
            registrar.objects(
                handoff.plan.objects.filter((o) => o.owner === name),
                this,
            );
        else registrar.entries(tlsPart(name, { installCertManager: args.installCertManager ?? true }).entries, input, this, dependsOn ?? []);
        const keys = tlsKeys(name);
        this.settings = pulumi.output(input).tls;
        this.certificate = registrar.resources.get(keys.certificate)!;
        this.issuer = registrar.resources.get(keys.issuer)!;
        this.certManager = registrar.resources.get(keys.certManager);
        this.registerOutputs({ certificate: this.certificate.urn, issuer: this.issuer.urn });
    }
}
