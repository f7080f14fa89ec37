import { dump, type DumpOptions } from "js-yaml";
import type { Plan } from "./stack";
import type { K8sObject } from "../manifests/types";

/**
 * js-yaml's writer: no line folding, no anchors (an object used twice is written twice: plain YAML
 * for kubectl and Helm), strings that YAML 1.1 or 1.2 would read as something else ("1.30", "on",
 * "8080") in double quotes. It writes 5,000 apps' documents in about a second, several times faster
 * than the `yaml` package's stringify (`npm run bench`).
 */
const DUMP: DumpOptions = { lineWidth: -1, noRefs: true, quotingType: '"' };

/** Every document of a plan, in the order a deploy creates them: exactly the plan's objects. */
export function planDocuments(plan: Plan): K8sObject[] {
    return plan.objects.map((o) => o.object);
}

/** Multi-document YAML. */
export function toYaml(docs: readonly K8sObject[]): string {
    return docs.map((d) => dump(d, DUMP)).join("---\n");
}

/** What render says of a patch: it changes fields of an object the stack does not own. */
export const PATCH_NOTE =
    "server-side-apply patch of an existing object: only these fields are set, and removed again on destroy";

/** The plan as multi-document YAML, each document headed by a comment with its Pulumi name and owner (and, for a patch, what it is). */
export function planYaml(plan: Plan): string {
    return plan.objects
        .map((o) => `# ${o.key} (${o.owner})\n${o.patch ? `# ${PATCH_NOTE}\n` : ""}${dump(o.object, DUMP)}`)
        .join("---\n");
}

/** True for the names documentFileName gives. */
export function isDocumentFileName(file: string): boolean {
    return /^\d{3,}-[a-z0-9]+-[A-Za-z0-9.-]+\.yaml$/.test(file);
}

/** A file name for a document that sorts in deploy order. */
export function documentFileName(doc: K8sObject, index: number): string {
    const ns = doc.metadata.namespace ? `${doc.metadata.namespace}-` : "";
    return `${String(index + 1).padStart(3, "0")}-${doc.kind.toLowerCase()}-${ns}${doc.metadata.name}.yaml`;
}
