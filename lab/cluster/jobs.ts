/**
 * When a Job's pod is done, in a cluster started with `gatedJobs` (kwok completes a Job's pod only
 * once it carries JOB_DONE_ANNOTATION). A Helm release waits for its hook Jobs, so what a hook
 * checks must hold before the release is reported installed, as in a real cluster:
 *
 * - cert-manager's startupapicheck (the chart's post-install hook, image
 *   `cert-manager-startupapicheck`) retries until the API can take a Certificate: a server-side
 *   dry-run create, which goes through cert-manager's webhook (pkg/util/cmapichecker/cmapichecker.go
 *   of cert-manager v1.21.2). Until then the webhook's CA may not be injected yet, and the stack's Issuer
 *   would be refused. Its pod is done once the same dry-run create succeeds.
 * - Any other Job's pod is done as soon as it runs (kwok's own behaviour).
 */
import { inBackground } from "./background";
import { JOB_DONE_ANNOTATION } from "./controlplane";
import { kubectlAsync, type Kubectl } from "./kubectl";
import { imageName } from "./podProcesses";

export interface JobGates {
    /** "namespace/pod: how it was let finish", for each pod let finish so far. */
    done(): string[];
    stop(): Promise<void>;
}

/** A Certificate as startupapicheck's dry run creates it, in the namespace of the check's pod. */
const probeCertificate = (namespace: string) =>
    JSON.stringify({
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: "cmapichecker", namespace },
        spec: {
            dnsNames: ["cmapichecker.example.com"],
            secretName: "cmapichecker",
            issuerRef: { name: "cmapichecker" },
        },
    });

/** What must hold before a Job's pod whose image matches is done. */
const GATES: { image: RegExp; what: string; ready: (k: Kubectl, pod: any) => Promise<void> }[] = [
    {
        image: /(^|\/)cert-manager-startupapicheck(:|@|$)/,
        what: "a server-side dry-run create of a Certificate passed cert-manager's webhook",
        ready: async (k, pod) => {
            await kubectlAsync(
                k,
                ["create", "--dry-run=server", "-f", "-", "-o", "name"],
                probeCertificate(pod.metadata.namespace),
            );
        },
    },
];

/** Polls Job pods (every `pollMs`, at most `maxSeconds`) and lets each finish once its gate holds. */
export function startJobGates(k: Kubectl, opts: { pollMs?: number; maxSeconds?: number } = {}): JobGates {
    const done: string[] = [];
    const loop = inBackground(async () => {
        const pods = JSON.parse(await kubectlAsync(k, ["get", "pods", "-A", "-o", "json"])).items as any[];
        const waiting = pods.filter(
            (p) =>
                p.status?.phase === "Running" &&
                (p.metadata.ownerReferences ?? []).some((o: any) => o.kind === "Job") &&
                p.metadata.annotations?.[JOB_DONE_ANNOTATION] !== "true",
        );
        for (const p of waiting) {
            const gate = GATES.find((g) =>
                (p.spec.containers ?? []).some((c: any) => g.image.test(imageName(String(c.image)))),
            );
            try {
                await gate?.ready(k, p);
            } catch {
                continue; // not yet: the next poll checks again, as the Job's own retries would
            }
            await kubectlAsync(k, [
                "annotate",
                "pod",
                p.metadata.name,
                "-n",
                p.metadata.namespace,
                `${JOB_DONE_ANNOTATION}=true`,
            ]);
            done.push(`${p.metadata.namespace}/${p.metadata.name}: ${gate ? gate.what : "ran"}`);
        }
    }, opts);
    return { done: () => [...done], stop: loop.stop };
}
