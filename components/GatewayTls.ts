import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { TlsIssuer } from "./settings/enums";
import { tlsSchema, type TlsSettings } from "./settings/schema";
import { fieldPath, SettingsError } from "./settings/validate";
import { buildTlsPlan } from "./plan";
import { createObject, createRelease } from "./pulumi/objects";
import { knownValue } from "./pulumi/known";

export interface AcmeArgs {
    email: pulumi.Input<string>;
    /** Default: Let's Encrypt's production directory. */
    server?: pulumi.Input<string>;
    /** The ingress class the HTTP-01 solver uses; Istio serves "istio". */
    ingressClass?: pulumi.Input<string>;
}

export interface GatewayTlsArgs {
    /** The certificate's names (also the gateway's hosts). */
    hosts: pulumi.Input<pulumi.Input<string>[]>;
    /** Install cert-manager (CRDs included). Default true. */
    installCertManager?: pulumi.Input<boolean>;
    certManagerVersion?: pulumi.Input<string>;
    /** Where the cert-manager chart comes from: an https:// repository or an oci:// registry. Default https://charts.jetstack.io. */
    chartRepository?: pulumi.Input<string>;
    /** Default selfSigned. */
    issuer?: pulumi.Input<TlsIssuer>;
    acme?: pulumi.Input<AcmeArgs>;
    /** The gateway's namespace: the Certificate and its Secret go there. */
    gatewayNamespace: pulumi.Input<string>;
    /** Resources the Certificate waits for (e.g. the gateway's namespace). */
    dependsOn?: pulumi.Resource[];
}

/**
 * A certificate for the ingress gateway from cert-manager: cert-manager itself
 * (when asked), then a ClusterIssuer, then the Certificate in the gateway's
 * namespace, whose Secret the Istio Gateway's HTTPS server names.
 */
export class GatewayTls extends pulumi.ComponentResource {
    readonly settings: TlsSettings;
    readonly certificate: pulumi.CustomResource;
    readonly issuer: pulumi.CustomResource;
    /** cert-manager's Helm release, when this component installs it. */
    readonly certManager?: k8s.helm.v3.Release;

    constructor(name: string, args: GatewayTlsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const { gatewayNamespace, dependsOn, ...rest } = args;
        const known = knownValue({ ...rest, enabled: true });
        if (!known) throw new SettingsError([`GatewayTls ${name}: settings must be known when the component is created (they decide which resources exist)`]);
        const parsed = tlsSchema.safeParse(known);
        if (!parsed.success) throw new SettingsError(parsed.error.issues.map((i) => `${fieldPath(`GatewayTls ${name}`, i.path)}: ${i.message}`));
        super("istio-sticky:index:GatewayTls", name, {}, opts);
        this.settings = parsed.data;

        const child = { parent: this };
        const plan = pulumi.output(gatewayNamespace).apply((ns) => buildTlsPlan(this.settings, ns)!);
        // Which objects exist does not depend on the namespace.
        const staticPlan = buildTlsPlan(this.settings, "-")!;
        const typeOf = (o: { apiVersion: string; kind: string }) => ({ apiVersion: o.apiVersion, kind: o.kind });

        const certManagerReady: pulumi.Resource[] = [];
        if (staticPlan.certManager) {
            const cm = staticPlan.certManager;
            const ns = createObject(`${name}-cert-manager-namespace`, typeOf(cm.namespace), cm.namespace, child);
            this.certManager = createRelease(`${name}-cert-manager`, cm.release, { ...child, dependsOn: [ns] });
            certManagerReady.push(this.certManager);
        }
        // Issuers and certificates need cert-manager's CRDs and its webhook.
        this.issuer = createObject(`${name}-issuer`, typeOf(staticPlan.issuer), plan.issuer, { ...child, dependsOn: certManagerReady });
        this.certificate = createObject(`${name}-certificate`, typeOf(staticPlan.certificate), plan.certificate, {
            ...child,
            dependsOn: [this.issuer, ...certManagerReady, ...(dependsOn ?? [])],
        });
        this.registerOutputs({ certificate: this.certificate.urn, issuer: this.issuer.urn, acme: this.settings.issuer === TlsIssuer.Acme });
    }
}
