import * as pulumi from "@pulumi/pulumi";
import { isKnown } from "./known";
import * as k8s from "@pulumi/kubernetes";
import * as certmanager from "@pulumi/kubernetes-cert-manager";
import {
    chartSource,
    HELM_RELEASE_POLICY,
    K8sObject,
    releaseOfDocument,
    type HelmReleaseSpec,
} from "../manifests/types";
import type { CertManagerHelmOptions, CertManagerValues } from "../manifests/tls";
import { checkExistingService } from "./reads";
import { withExternal } from "./dependsOn";

import { CERT_MANAGER_TYPE, HELM_RELEASE_TYPE, MANIFEST_FILE_TYPE, type ObjectType } from "../plan/types";

type Ctor = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** Typed classes for the built-in kinds; anything else is a custom resource. */
const BUILT_IN: Record<string, Ctor> = {
    "v1/Namespace": k8s.core.v1.Namespace,
    "v1/ConfigMap": k8s.core.v1.ConfigMap,
    "v1/Service": k8s.core.v1.Service,
    "apps/v1/Deployment": k8s.apps.v1.Deployment,
    "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy,
};

/**
 * Server-side-apply patches of objects the stack does not own (an existing Service, its namespace): the
 * provider applies only the fields given, under a field manager of its own, and on delete removes those
 * fields again (fields another manager also set stay). A conflict with another manager's value fails the update.
 */
const PATCHES: Record<string, Ctor> = {
    "v1/Namespace": k8s.core.v1.NamespacePatch,
    "v1/Service": k8s.core.v1.ServicePatch,
};

/** The top-level fields of a planned object besides its type: every one K8sObject has (a field added there and not here fails the build). */
const BODY_FIELDS = Object.keys({ metadata: true, spec: true, data: true } satisfies Record<
    Exclude<keyof K8sObject, "apiVersion" | "kind">,
    true
>) as (keyof K8sObject)[];

/** Resource args from a value that may still be an Output: as they are when known, field by field otherwise. */
function argsOf<T extends object>(value: pulumi.Input<T>, fields: readonly (keyof T)[]): any {
    if (isKnown(value)) return { ...value };
    const o = pulumi.output(value) as unknown as pulumi.Output<T>;
    return Object.fromEntries(fields.map((f) => [f, o.apply((x) => x[f])]));
}

/**
 * The fields of a Helm release this package sets: the args of a helm.v3.Release, and the
 * helmOptions of cert-manager's component. Typed by both, so neither can part from the list.
 */
const RELEASE_FIELDS = [
    "name",
    "namespace",
    "chart",
    "version",
    "repositoryOpts",
    "values",
    "atomic",
    "cleanupOnFail",
    "timeout",
    "maxHistory",
] as const satisfies readonly (keyof k8s.helm.v3.ReleaseArgs &
    keyof CertManagerHelmOptions &
    keyof NonNullable<certmanager.CertManagerArgs["helmOptions"]>)[];

/** A Helm release's args: a failed install or upgrade rolls back. Typed by RELEASE_FIELDS, so the list and the args cannot part. */
function releaseArgs(spec: HelmReleaseSpec): Pick<k8s.helm.v3.ReleaseArgs, (typeof RELEASE_FIELDS)[number]> {
    const source = chartSource(spec);
    return {
        name: spec.name,
        namespace: spec.namespace,
        chart: source.chart,
        version: spec.version,
        repositoryOpts: source.repositoryOpts ?? {},
        values: spec.values,
        ...HELM_RELEASE_POLICY,
    };
}

/**
 * The component copies its typed args over helmOptions.values key by key, and drops a
 * values key that has a typed arg of that name even when the arg is not set
 * (pulumi-go-helmbase base.go InitDefaults: mapstructure writes every typed field): the
 * values planned here must use no such key. The build fails otherwise.
 */
export const CERT_MANAGER_VALUES_KEPT: [Extract<keyof CertManagerValues, keyof certmanager.CertManagerArgs>] extends [
    never,
]
    ? true
    : never = true;

/**
 * Registers one planned object: a ConfigFile for a ManifestFile document, a Helm release for a HelmRelease document, the
 * typed class for a built-in kind, a CustomResource otherwise. `type` is known
 * up front (it picks the class); the content may still be an Output.
 */
export function registerObject(
    key: string,
    type: ObjectType,
    object: pulumi.Input<K8sObject>,
    opts: pulumi.CustomResourceOptions,
): pulumi.Resource {
    if (type.apiVersion === MANIFEST_FILE_TYPE.apiVersion && type.kind === MANIFEST_FILE_TYPE.kind) {
        // Applied from its URL (the objects it holds are its children); the document pins the version in the URL.
        const file = isKnown(object) ? object.spec.url : pulumi.output(object).apply((doc) => doc.spec.url as string);
        return new k8s.yaml.v2.ConfigFile(key, { file }, opts);
    }
    if (type.apiVersion === CERT_MANAGER_TYPE.apiVersion && type.kind === CERT_MANAGER_TYPE.kind) {
        // A remote component (its Go plugin builds the Helm release): it sees only the providers named here.
        const helmOptions = isKnown(object)
            ? object.spec.helmOptions
            : pulumi.output(object).apply((doc) => doc.spec.helmOptions as CertManagerHelmOptions);
        const provider = opts.parent?.getProvider("kubernetes::");
        return new certmanager.CertManager(
            key,
            { helmOptions: argsOf(helmOptions, RELEASE_FIELDS) },
            {
                parent: opts.parent,
                dependsOn: opts.dependsOn,
                ...(provider ? { providers: { kubernetes: provider } } : {}),
            },
        );
    }
    if (type.apiVersion === HELM_RELEASE_TYPE.apiVersion && type.kind === HELM_RELEASE_TYPE.kind) {
        const args = isKnown(object)
            ? releaseArgs(releaseOfDocument(object))
            : pulumi.output(object).apply((doc) => releaseArgs(releaseOfDocument(doc)));
        return new k8s.helm.v3.Release(key, argsOf(args, RELEASE_FIELDS), opts);
    }
    if (type.patch) {
        const patch = PATCHES[`${type.apiVersion}/${type.kind}`];
        if (!patch) throw new Error(`${key}: no patch resource for ${type.apiVersion}/${type.kind}`);
        const check = type.kind === "Service" ? [checkExistingService(key, object, opts)] : [];
        const dependsOn = check.length ? withExternal(check, opts.dependsOn) : opts.dependsOn;
        return new patch(
            key,
            { apiVersion: type.apiVersion, kind: type.kind, ...argsOf(object, BODY_FIELDS) },
            { ...opts, dependsOn },
        );
    }
    const ctor = BUILT_IN[`${type.apiVersion}/${type.kind}`] ?? k8s.apiextensions.CustomResource;
    return new ctor(key, { ...type, ...argsOf(object, BODY_FIELDS) }, opts);
}
