/**
 * What the harness checks in the cluster after `pulumi up` and `pulumi destroy`: every rendered
 * object exists with the rendered fields (the API server adds defaults, so the live object must
 * contain the rendered one), a patch's fields are on the object it patches, and afterwards
 * nothing the stack created is left, while the objects it only patched are back as they were.
 */
import { HELM_RELEASE_API_VERSION } from "istio-sticky/plan";
import type { K8sObject, PlannedObject } from "istio-sticky";
import { getObject, type Kubectl } from "./kubectl";

/** Documents render prints that are not Kubernetes objects (Helm releases, the CRD manifest file, cert-manager's component). */
export const RENDER_ONLY = HELM_RELEASE_API_VERSION;

/** Where `live` lacks or differs from a field of `wanted`, as dotted paths; lists element by element. */
export function missingFields(wanted: unknown, live: unknown, at = ""): string[] {
    if (wanted === undefined) return [];
    if (wanted === null || typeof wanted !== "object") {
        // The API server keeps quantities and ports as given; numbers sent as strings come back as strings.
        return wanted === live
            ? []
            : [`${at || "(value)"}: want ${JSON.stringify(wanted)}, have ${JSON.stringify(live)}`];
    }
    if (live === null || typeof live !== "object") return [`${at}: missing`];
    if (Array.isArray(wanted)) {
        if (!Array.isArray(live)) return [`${at}: not a list`];
        return wanted.flatMap((w, i) => missingFields(w, live[i], `${at}[${i}]`));
    }
    return Object.entries(wanted as Record<string, unknown>).flatMap(([k, v]) =>
        v === undefined ? [] : missingFields(v, (live as Record<string, unknown>)[k], at ? `${at}.${k}` : k),
    );
}

/** A patch's list of ports, matched to the live object's by port and protocol (server-side apply's keys), not by position. */
function patchedPorts(patch: K8sObject, live: any): string[] {
    const out: string[] = [];
    for (const p of patch.spec?.ports ?? []) {
        const l = (live?.spec?.ports ?? []).find(
            (x: any) => x.port === p.port && (x.protocol ?? "TCP") === (p.protocol ?? "TCP"),
        );
        if (!l) out.push(`spec.ports: no port ${p.port}`);
        else out.push(...missingFields(p, l, `spec.ports[port ${p.port}]`));
    }
    return out;
}

export interface ObjectCheck {
    key: string;
    kind: string;
    name: string;
    problems: string[];
}

/** What the checks read of a plan: its objects (a stack's state gives the same, lab/cluster/programs.ts). */
export interface Objects {
    objects: readonly Pick<PlannedObject, "key" | "object" | "patch">[];
}

/** Every planned Kubernetes object against the cluster. */
export function checkRendered(k: Kubectl, plan: Objects): ObjectCheck[] {
    const out: ObjectCheck[] = [];
    for (const o of plan.objects.filter((x) => x.object.apiVersion !== RENDER_ONLY)) {
        const live = getObject(k, o.object);
        const id = `${o.object.metadata.namespace ? `${o.object.metadata.namespace}/` : ""}${o.object.metadata.name}`;
        let problems: string[];
        if (!live) problems = ["missing"];
        else if (o.patch)
            problems = [
                ...missingFields(o.object.metadata.labels ?? {}, live.metadata?.labels ?? {}, "metadata.labels"),
                ...patchedPorts(o.object, live),
            ];
        else
            problems = [
                ...missingFields(o.object.metadata, live.metadata, "metadata"),
                ...missingFields(o.object.spec, live.spec, "spec"),
                ...missingFields(o.object.data, live.data, "data"),
            ];
        out.push({ key: o.key, kind: o.object.kind, name: id, problems });
    }
    return out;
}

/**
 * After destroy: the objects the stack created that still exist, and the fields of its patches
 * still on the objects it patched (those objects must still exist: they are not the stack's).
 */
export function leftBehind(k: Kubectl, plan: Objects): string[] {
    const out: string[] = [];
    for (const o of plan.objects.filter((x) => x.object.apiVersion !== RENDER_ONLY)) {
        const live = getObject(k, o.object);
        const id = `${o.object.kind} ${o.object.metadata.namespace ? `${o.object.metadata.namespace}/` : ""}${o.object.metadata.name}`;
        if (!o.patch) {
            // A namespace being deleted still reads back until its finalizers have run.
            if (live && !(o.object.kind === "Namespace" && live.status?.phase === "Terminating"))
                out.push(`${id} still exists`);
            continue;
        }
        if (!live) {
            out.push(`${id} is gone: a patch must not delete what it patched`);
            continue;
        }
        for (const k of Object.keys(o.object.metadata.labels ?? {}))
            if (live.metadata?.labels?.[k] !== undefined) out.push(`${id} keeps label ${k}`);
        for (const p of o.object.spec?.ports ?? []) {
            const l = (live.spec?.ports ?? []).find((x: any) => x.port === p.port);
            for (const f of Object.keys(p).filter((f) => !["port", "protocol"].includes(f))) {
                if (l?.[f] !== undefined) out.push(`${id} port ${p.port} keeps ${f}: ${JSON.stringify(l[f])}`);
            }
        }
    }
    return out;
}
