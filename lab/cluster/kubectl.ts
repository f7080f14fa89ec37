/** The control plane's kubectl, as a team's tooling runs it against the harness's cluster. */
import { execFile, execFileSync, spawnSync } from "child_process";
import * as path from "path";

/** Where kubectl (built with the control plane) finds the cluster. */
export interface Kubectl {
    bin: string;
    kubeconfig: string;
}

/** `kubectl <args>`, bounded in time; its output, or an error with its stderr. */
export function kubectl(k: Kubectl, args: string[], input?: string): string {
    return execFileSync(path.join(k.bin, "kubectl"), ["--kubeconfig", k.kubeconfig, ...args], {
        encoding: "utf8",
        input,
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["pipe", "pipe", "pipe"],
    });
}

/**
 * `kubectl <args>` without blocking: for loops that run while the harness waits on the Pulumi CLI
 * (the pod processes, the load balancer, the Job gates). Bounded in time; its output, or an error with its stderr.
 */
export function kubectlAsync(k: Kubectl, args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            path.join(k.bin, "kubectl"),
            ["--kubeconfig", k.kubeconfig, ...args],
            { encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
            (err, stdout, stderr) =>
                err ? reject(new Error(`kubectl ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
        );
        if (input !== undefined) child.stdin?.end(input);
    });
}

/**
 * Objects applied as a chart's tooling would, with kubectl's server-side apply under `fieldManager`.
 * (A typed client would not do for CRDs: @kubernetes/client-node serializes a CRD through its
 * model, which drops `x-kubernetes-int-or-string`, and the API server then refuses Istio's schemas.)
 */
export function applyServerSide(
    k: Kubectl,
    objects: readonly object[],
    fieldManager: string,
    namespace?: string,
): void {
    kubectl(
        k,
        ["apply", "--server-side", "--field-manager", fieldManager, ...(namespace ? ["-n", namespace] : []), "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    );
}

/** kubectl's name for an object's type, group and version spelled out ("NetworkPolicy.v1.networking.k8s.io", "Service"). */
export function typeRef(o: { apiVersion: string; kind: string }): string {
    const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
    return group ? `${o.kind}.${version}.${group}` : o.kind;
}

/**
 * The object as the API server holds it, as plain JSON (a typed client renames fields such as
 * NetworkPolicy's `from`), or undefined when it does not exist.
 */
export function getObject(
    k: Kubectl,
    o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } },
): any | undefined {
    const r = spawnSync(
        path.join(k.bin, "kubectl"),
        [
            "--kubeconfig",
            k.kubeconfig,
            "get",
            `${typeRef(o)}/${o.metadata.name}`,
            ...(o.metadata.namespace ? ["-n", o.metadata.namespace] : []),
            "-o",
            "json",
        ],
        { encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.status === 0) return JSON.parse(r.stdout);
    // Not found, or its type is gone with its CRD.
    if (/NotFound|not found|doesn't have a resource type/.test(r.stderr ?? "")) return undefined;
    throw new Error(`kubectl get ${typeRef(o)}/${o.metadata.name}: ${r.stderr || r.error?.message}`);
}
