import { HELM_RELEASE_API_VERSION, K8sObject } from "../manifests/types";
import { MANIFEST_FILE_KIND } from "../manifests/gatewayApi";

/** The Pulumi type token of each component. */
export enum ComponentType {
    StickySessions = "istio-sticky:index:StickySessions",
    IstioMesh = "istio-sticky:index:IstioMesh",
    GatewayTls = "istio-sticky:index:GatewayTls",
    StickyApp = "istio-sticky:index:StickyApp",
}

export interface ObjectType {
    apiVersion: string;
    kind: string;
    /**
     * A server-side-apply patch of an object someone else owns (an existing Service, its namespace):
     * only the fields it sets are applied, and they are removed when it is deleted.
     */
    patch?: boolean;
}

/** How render prints a Helm release, and how the plan carries one. */
export const HELM_RELEASE_TYPE: ObjectType = { apiVersion: HELM_RELEASE_API_VERSION, kind: "HelmRelease" };
/** cert-manager, installed through @pulumi/kubernetes-cert-manager's CertManager component (its helmOptions). */
export const CERT_MANAGER_TYPE: ObjectType = { apiVersion: HELM_RELEASE_API_VERSION, kind: "CertManager" };
/** A manifest applied from its URL (the Gateway API's CRDs). */
export const MANIFEST_FILE_TYPE: ObjectType = { apiVersion: HELM_RELEASE_API_VERSION, kind: MANIFEST_FILE_KIND };

/** One object of a plan: what `pulumi up` registers under `key` and `render` prints. */
export interface PlannedObject {
    /** The Pulumi resource name: stable across edits that do not touch this object. */
    key: string;
    /** The key of the component that registers it (its Pulumi parent). */
    owner: string;
    /** A Kubernetes object, or a HelmRelease document for a Helm release. */
    object: K8sObject;
    /** Keys of the planned objects it waits for. */
    dependsOn: string[];
    /** A server-side-apply patch of an object the stack does not own (ObjectType.patch). */
    patch?: boolean;
}

export enum ReadKind {
    /** The ingress gateway's Service: where clients reach it. */
    GatewayService = "gatewayService",
    /** The ready pods behind an app's Service, from its EndpointSlices. */
    ReadyPods = "readyPods",
}

/** A Service whose state the stack reads (and exports) once the objects it waits for exist. */
export interface ReadTarget {
    namespace: string;
    service: string;
    /**
     * The pods the program asks for (ready-pods reads): a change reads the pods again. Absent when a
     * HorizontalPodAutoscaler sets the count, or for a Service the stack does not deploy.
     */
    replicas?: number;
}

export interface PlannedRead extends ReadTarget {
    key: string;
    owner: string;
    kind: ReadKind;
    dependsOn: string[];
}

export interface PlannedComponent {
    key: string;
    type: ComponentType;
    /** The key of the component it is a child of; absent at the top. */
    parent?: string;
}

/**
 * One planned object before its content is known: its key, owner, type and
 * waits are fixed by the settings that decide which objects exist; `build`
 * turns the full settings `S` into the object. A component whose settings
 * hold Outputs registers the entry now and builds the object once they resolve.
 */
export interface Entry<S> {
    key: string;
    owner: string;
    type: ObjectType;
    dependsOn: string[];
    build: (s: S) => K8sObject;
}

export interface ReadEntry<S> {
    key: string;
    owner: string;
    kind: ReadKind;
    dependsOn: string[];
    target: (s: S) => ReadTarget;
}

/** A component's share of a plan, before its settings are filled in. */
export interface Part<S> {
    entries: Entry<S>[];
    reads: ReadEntry<S>[];
}

/** Builds an entry's object, checking it is of the entry's type (the type picks the resource class before the object exists). */
export function buildEntry<S>(entry: Entry<S>, s: S): K8sObject {
    const object = entry.build(s);
    if (object.apiVersion !== entry.type.apiVersion || object.kind !== entry.type.kind) {
        throw new Error(
            `${entry.key}: planned as ${entry.type.apiVersion}/${entry.type.kind}, built as ${object.apiVersion}/${object.kind}`,
        );
    }
    return object;
}

/** A part with its settings known: planned objects and reads. */
export function fillPart<S>(part: Part<S>, s: S): { objects: PlannedObject[]; reads: PlannedRead[] } {
    return {
        objects: part.entries.map((e) => ({
            key: e.key,
            owner: e.owner,
            object: buildEntry(e, s),
            dependsOn: e.dependsOn,
            ...(e.type.patch ? { patch: true } : {}),
        })),
        reads: part.reads.map((r) => ({
            key: r.key,
            owner: r.owner,
            kind: r.kind,
            dependsOn: r.dependsOn,
            ...r.target(s),
        })),
    };
}
