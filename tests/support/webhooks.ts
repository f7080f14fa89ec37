/**
 * Which admission webhooks the API server calls for a pod: a webhook is called when its
 * namespaceSelector matches the pod's namespace labels and its objectSelector the pod's
 * labels (k8s.io/apiserver/pkg/admission/plugin/webhook/predicates: namespace and object
 * matchers; the namespace carries kubernetes.io/metadata.name, set by the API server).
 * Used with the real istiod chart's MutatingWebhookConfigurations to tell which pods get
 * a sidecar.
 */

export interface LabelSelectorRequirement {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
}

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: LabelSelectorRequirement[];
}

/** metav1.LabelSelectorAsSelector semantics: every matchLabels pair and every expression must hold; an empty selector matches all. */
export function selectorMatches(
    selector: LabelSelector | undefined,
    labels: Readonly<Record<string, string>>,
): boolean {
    if (!selector) return true;
    const pairs = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const expressions = (selector.matchExpressions ?? []).every((e) => {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        switch (e.operator) {
            case "In":
                return has && (e.values ?? []).includes(labels[e.key]);
            case "NotIn":
                return !has || !(e.values ?? []).includes(labels[e.key]);
            case "Exists":
                return has;
            case "DoesNotExist":
                return !has;
            default:
                throw new Error(`unknown selector operator ${(e as LabelSelectorRequirement).operator}`);
        }
    });
    return pairs && expressions;
}

export interface PodInNamespace {
    /** What the pod is, for messages. */
    who: string;
    namespace: string;
    /** The namespace's labels (without kubernetes.io/metadata.name, added here). */
    namespaceLabels: Record<string, string>;
    podLabels: Record<string, string>;
}

/** Whether a webhook's rules take pod CREATE (the injector's do). */
function takesPodCreate(webhook: any): boolean {
    return (webhook.rules ?? []).some(
        (r: any) =>
            (r.operations ?? []).some((o: string) => o === "CREATE" || o === "*") &&
            (r.apiGroups ?? []).some((g: string) => g === "" || g === "*") &&
            (r.resources ?? []).some((x: string) => x === "pods" || x === "*"),
    );
}

/** The names ("<configuration>/<webhook>") of the mutating webhooks the API server calls when the pod is created. */
export function webhooksFor(configurations: readonly any[], pod: PodInNamespace): string[] {
    const nsLabels = { ...pod.namespaceLabels, "kubernetes.io/metadata.name": pod.namespace };
    return configurations
        .filter((c) => c.kind === "MutatingWebhookConfiguration")
        .flatMap((c) =>
            (c.webhooks ?? [])
                .filter(
                    (w: any) =>
                        takesPodCreate(w) &&
                        selectorMatches(w.namespaceSelector, nsLabels) &&
                        selectorMatches(w.objectSelector, pod.podLabels),
                )
                .map((w: any) => `${c.metadata.name}/${w.name}`),
        );
}
