/**
 * End to end against a real cluster (kind or minikube): `pulumi up` of a stack
 * through the Automation API, then requests through the ingress gateway that
 * must stay on one pod per session. It reaches the gateway only through
 * `kubectl port-forward` on 127.0.0.1.
 *
 * Runs when KUBECONFIG is set and the pulumi and kubectl CLIs are on PATH:
 *   KUBECONFIG=~/.kube/config PULUMI_CONFIG_PASSPHRASE= npm test
 * Three variants: Istio's API (STICKY_STACK, default dev), the Kubernetes Gateway
 * API (staging) and the ambient data plane (ambient). KEEP_STACK=1 leaves them deployed.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync, ChildProcess } from "child_process";
import * as net from "net";
import { PROJECT_DIR } from "../../build";
import { parseVerifyArgs, verifyStickiness, formatReport } from "istio-sticky/verify";
import { freePort } from "../../envoy";

const onPath = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

export function missingForCluster(env = process.env): string[] {
    const missing: string[] = [];
    if (!env.KUBECONFIG) missing.push("KUBECONFIG");
    if (!onPath("pulumi")) missing.push("the pulumi CLI");
    if (!onPath("kubectl")) missing.push("kubectl");
    return missing;
}

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
        const ok = await new Promise<boolean>((r) =>
            net
                .connect(port, "127.0.0.1")
                .once("connect", function (this: net.Socket) {
                    this.destroy();
                    r(true);
                })
                .once("error", () => r(false)),
        );
        if (ok) return;
        await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`nothing listened on 127.0.0.1:${port} within ${deadlineMs} ms`);
}

/** The stacks the cluster test deploys, one per ingress API. */
export const CLUSTER_VARIANTS: { stack: string; api: "istio" | "gatewayApi"; ambient?: boolean }[] = [
    { stack: process.env.STICKY_STACK ?? "dev", api: "istio" },
    { stack: "staging", api: "gatewayApi" },
    { stack: "ambient", api: "istio", ambient: true },
];

/** A Gateway API object's condition status, as its controller (istiod) reports it. */
function conditionOf(kind: string, namespace: string, name: string, type: string): string {
    const r = spawnSync(
        "kubectl",
        [
            "-n",
            namespace,
            "get",
            kind,
            ...(name ? [name] : []),
            "-o",
            `jsonpath={.status..conditions[?(@.type=="${type}")].status}`,
        ],
        {
            encoding: "utf8",
        },
    );
    return r.stdout.trim();
}

for (const variant of CLUSTER_VARIANTS) {
    const label = `${variant.api === "istio" ? "Istio's API" : "the Gateway API"}${variant.ambient ? ", ambient" : ""}`;
    describe(`cluster (${label}, stack ${variant.stack}): pulumi up, then sticky sessions through the ingress`, function () {
        this.timeout(30 * 60 * 1000);
        const missing = missingForCluster();
        let forward: ChildProcess | undefined;
        let port = 0;
        let stack: any;

        before(function () {
            if (missing.length) {
                console.log(`      skipped: needs ${missing.join(", ")} (a kind or minikube cluster)`);
                this.skip();
            }
        });
        after(async () => {
            forward?.kill();
            if (stack && process.env.KEEP_STACK !== "1") await stack.destroy();
        });

        it("keeps every request of a session on one pod, measured by verify with the stack's own flags", async () => {
            const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
            stack = await LocalWorkspace.createOrSelectStack(
                { stackName: variant.stack, workDir: PROJECT_DIR },
                { envVars: { PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "" } },
            );
            const result = await stack.up({ onOutput: (s: string) => process.stdout.write(s) });
            if (variant.api === "gatewayApi") {
                // istiod accepted the Gateway on the Helm-installed gateway, and every route on it.
                assert.equal(
                    conditionOf("gateways.gateway.networking.k8s.io", "istio-ingress", "sticky-gateway", "Programmed"),
                    "True",
                );
                const routes = spawnSync(
                    "kubectl",
                    ["-n", "istio-ingress", "get", "httproutes.gateway.networking.k8s.io", "-o", "name"],
                    { encoding: "utf8" },
                );
                for (const route of routes.stdout.trim().split("\n").filter(Boolean)) {
                    assert.match(
                        conditionOf(route, "istio-ingress", "", "Accepted"),
                        /^True( True)*$/,
                        `${route} accepted`,
                    );
                    assert.match(
                        conditionOf(route, "istio-ingress", "", "ResolvedRefs"),
                        /^True( True)*$/,
                        `${route} resolved its backends`,
                    );
                }
            }
            if (variant.ambient) {
                // istio-cni enrolled the app pods (no sidecars), and istiod programmed each waypoint.
                const pods = spawnSync(
                    "kubectl",
                    ["get", "pods", "-A", "-l", "app.kubernetes.io/part-of=istio-sticky", "-o", "json"],
                    { encoding: "utf8" },
                );
                for (const pod of JSON.parse(pods.stdout).items) {
                    assert.equal(
                        pod.metadata.annotations?.["ambient.istio.io/redirection"],
                        "enabled",
                        `${pod.metadata.name} is in ambient`,
                    );
                    assert.ok(
                        !pod.spec.containers.some((c: { name: string }) => c.name === "istio-proxy"),
                        `${pod.metadata.name} has no sidecar`,
                    );
                }
                for (const ns of ["sticky", "carts"])
                    assert.equal(
                        conditionOf("gateways.gateway.networking.k8s.io", ns, "waypoint", "Programmed"),
                        "True",
                        `${ns}/waypoint`,
                    );
            }
            const apps = result.outputs.apps.value as Record<string, { path: string; verifyArgs: string[] }>;
            port = await freePort();
            forward = spawn(
                "kubectl",
                ["-n", "istio-ingress", "port-forward", "svc/istio-ingressgateway", `${port}:80`],
                { stdio: "ignore" },
            );
            await waitForPort(port, 30_000);
            for (const [name, app] of Object.entries(apps)) {
                // The stack's own verify flags, pointed at the port-forward.
                const args = app.verifyArgs.map((a, i) =>
                    app.verifyArgs[i - 1] === "--url" ? `http://127.0.0.1:${port}${app.path}/` : a,
                );
                const report = await verifyStickiness(
                    parseVerifyArgs([...args, "--sessions", "20", "--requests", "20"]),
                );
                process.stdout.write(formatReport(report));
                assert.ok(report.pass, `${name}: stickiness ${report.stickiness}`);
                if (report.stateUnknown === 0)
                    assert.equal(
                        report.stateKept,
                        report.sessions,
                        `${name}: the app's counter rose by one in every session`,
                    );
            }
        });

        it("reaches each exported pod directly, and refuses addresses outside the pod network", async function () {
            const apps = (await stack.outputs()).apps.value as Record<
                string,
                { path: string; pods: { name: string; ip: string }[]; directCurls?: string[] }
            >;
            const direct = Object.entries(apps).filter(([, a]) => a.directCurls);
            if (direct.length === 0) this.skip();
            for (const [name, app] of direct) {
                assert.ok(app.pods.length > 0, `${name} exported no pods`);
                for (const pod of app.pods) {
                    const res = await fetch(`http://127.0.0.1:${port}${app.path}/`, {
                        headers: { "use-direct": "true", "x-envoy-original-dst-host": `${pod.ip}:8080` },
                    });
                    assert.equal(((await res.json()) as { pod: string }).pod, pod.name, `${name}: direct to ${pod.ip}`);
                }
                const refused = await fetch(`http://127.0.0.1:${port}${app.path}/`, {
                    headers: { "use-direct": "true", "x-envoy-original-dst-host": "169.254.169.254:80" },
                });
                assert.equal(refused.status, 403, `${name}: a metadata-service address must be refused`);
            }
        });
    });
}
