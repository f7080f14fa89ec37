/**
 * Which Ingresses ingress-nginx served, decided as its controller decides
 * (kubernetes/ingress-nginx internal/ingress/controller/store/store.go:
 * GetIngressClass): `spec.ingressClassName` first, naming an IngressClass whose
 * `spec.controller` is "k8s.io/ingress-nginx"; else the `kubernetes.io/ingress.class`
 * annotation, equal to the controller's `--ingress-class` ("nginx" by default,
 * internal/ingress/controller/ingressclass/ingressclass.go); else, with no class
 * at all, only when the controller ran with `--watch-ingress-without-class`
 * (the chart's `controller.watchIngressWithoutClass`, false by default).
 */
import type { Ingress, IngressClass } from "./input";
import { approximate, exact, Finding, notMapped } from "./report";

export const NGINX_CONTROLLER = "k8s.io/ingress-nginx";
export const DEFAULT_CLASS = "nginx";
export const CLASS_ANNOTATION = "kubernetes.io/ingress.class";

export interface ClassOptions {
    /** Class names given with --class; none given: "nginx". */
    classes: readonly string[];
    /** Ingresses without any class are treated as ingress-nginx's (its --watch-ingress-without-class). */
    withoutClass: boolean;
}

export interface ClassDecision {
    nginx: boolean;
    finding: Finding;
}

/** The class names that mean ingress-nginx: those given (or "nginx"), and IngressClasses in the input whose controller is ingress-nginx. */
export function nginxClassNames(opts: ClassOptions, classes: readonly IngressClass[]): Set<string> {
    const given = opts.classes.length ? opts.classes : [DEFAULT_CLASS];
    const names = new Set(given);
    for (const c of classes) {
        if (c.controller === NGINX_CONTROLLER) names.add(c.name);
        // An IngressClass in the input that belongs to another controller overrides the default name, not a name given with --class.
        else if (opts.classes.length === 0 && c.controller !== undefined) names.delete(c.name);
    }
    return names;
}

export function decideClass(ing: Ingress, names: ReadonlySet<string>, opts: ClassOptions): ClassDecision {
    const list = [...names].map((n) => `"${n}"`).join(", ");
    if (ing.ingressClassName !== undefined) {
        return names.has(ing.ingressClassName)
            ? { nginx: true, finding: exact(`spec.ingressClassName "${ing.ingressClassName}" is ingress-nginx's`) }
            : {
                  nginx: false,
                  finding: notMapped(
                      `spec.ingressClassName "${ing.ingressClassName}" is not ingress-nginx's (${list}; add --class ${ing.ingressClassName} if it is); skipped`,
                  ),
              };
    }
    const annotated = ing.annotations[CLASS_ANNOTATION];
    if (annotated !== undefined) {
        return names.has(annotated)
            ? { nginx: true, finding: exact(`annotation ${CLASS_ANNOTATION} "${annotated}" is ingress-nginx's`) }
            : {
                  nginx: false,
                  finding: notMapped(
                      `annotation ${CLASS_ANNOTATION} "${annotated}" is not ingress-nginx's (${list}); skipped`,
                  ),
              };
    }
    return opts.withoutClass
        ? {
              nginx: true,
              finding: approximate(
                  "it names no ingress class; imported because of --without-class (ingress-nginx serves such Ingresses only with --watch-ingress-without-class)",
              ),
          }
        : {
              nginx: false,
              finding: notMapped(
                  "it names no ingress class (no spec.ingressClassName, no kubernetes.io/ingress.class annotation), and ingress-nginx serves " +
                      "such Ingresses only with --watch-ingress-without-class, false by default (store.go: GetIngressClass); skipped: " +
                      "pass --without-class if your controller ran with it",
              ),
          };
}
