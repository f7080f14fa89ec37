/**
 * The lab's Kubernetes control plane (lab/cluster/controlplane.ts), built here and run on loopback:
 * the API server reports its release, a Deployment gets Ready pods with IPs from kwok, the
 * Service's EndpointSlice lists them, and server-side apply merges a partial patch.
 *
 * Runs when ISTIO_STICKY_CLUSTER is set (the cold build takes tens of minutes on two cores):
 *   ISTIO_STICKY_CLUSTER=1 npx mocha --config tests/.mocharc.json lab/tests/cluster/controlplane.test.ts
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import * as k8s from "@kubernetes/client-node";
import { ensureControlPlane, startCluster, type Cluster } from "../../cluster/controlplane";
import { poll } from "../support/poll";

const NS = "cp-test";
const APP = "web";

describe("lab control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok on loopback)", function () {
    this.timeout(60 * 60_000);
    let cluster: Cluster | undefined;
    let kc: k8s.KubeConfig;

    before(async function () {
        if (!process.env.ISTIO_STICKY_CLUSTER) {
            console.log(
                "    skipped: set ISTIO_STICKY_CLUSTER=1 to build (cold: tens of minutes) and run the lab's control plane",
            );
            this.skip();
        }
        const cp = ensureControlPlane();
        console.log(
            `    control plane: Kubernetes ${cp.versions.kubernetes}, etcd ${cp.versions.etcd}, kwok ${cp.versions.kwok}, ${cp.versions.go}; ` +
                (cp.cached ? "build cached" : `built in ${cp.seconds.toFixed(1)} s`) +
                ` (${cp.bin})`,
        );
        cluster = await startCluster();
        console.log(
            `    cluster ${cluster.server} (${cluster.version}) started in ${cluster.startSeconds.toFixed(1)} s`,
        );
        kc = new k8s.KubeConfig();
        kc.loadFromFile(cluster.kubeconfig);
    });

    after(async function () {
        if (cluster && this.currentTest?.state === "failed") console.log(cluster.logs());
        await cluster?.stop();
    });

    afterEach(function () {
        if (cluster && this.currentTest?.state === "failed") console.log(cluster.logs());
    });

    it("reports the Kubernetes release it was built from, to the API and to its kubectl", () => {
        const c = cluster!;
        assert.match(c.version, /^v1\.36\.\d+$/);
        const out = JSON.parse(
            execFileSync(path.join(c.bin, "kubectl"), ["--kubeconfig", c.kubeconfig, "version", "-o", "json"], {
                encoding: "utf8",
                timeout: 30_000,
            }),
        );
        assert.equal(out.serverVersion.gitVersion, c.version);
        assert.equal(out.clientVersion.gitVersion, c.version);
        assert.equal(out.serverVersion.minor, "36");
    });

    it("runs a Deployment of 2 replicas to Ready pods with IPs, listed ready in the Service's EndpointSlice", async () => {
        const core = kc.makeApiClient(k8s.CoreV1Api);
        const apps = kc.makeApiClient(k8s.AppsV1Api);
        const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
        const labels = { app: APP };
        await core.createNamespace({ body: { metadata: { name: NS } } });
        await apps.createNamespacedDeployment({
            namespace: NS,
            body: {
                metadata: { name: APP, labels },
                spec: {
                    replicas: 2,
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels },
                        spec: {
                            containers: [
                                {
                                    name: APP,
                                    image: "example.invalid/web:1",
                                    ports: [{ name: "http", containerPort: 8080 }],
                                },
                            ],
                        },
                    },
                },
            },
        });
        await core.createNamespacedService({
            namespace: NS,
            body: {
                metadata: { name: APP, labels },
                spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
            },
        });

        const started = performance.now();
        const pods = await poll("2 Ready pods with IPs", 240, async () => {
            const list = await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${APP}` });
            const ready = list.items.filter(
                (p) => p.status?.podIP && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
            );
            return ready.length === 2 ? ready : undefined;
        });
        const ips = pods.map((p) => p.status!.podIP!).sort();
        assert.equal(new Set(ips).size, 2);
        assert.ok(pods.every((p) => p.spec?.nodeName === cluster!.nodeName && p.status?.phase === "Running"));

        const endpoints = await poll("an EndpointSlice listing both pods ready", 120, async () => {
            const slices = await discovery.listNamespacedEndpointSlice({
                namespace: NS,
                labelSelector: `kubernetes.io/service-name=${APP}`,
            });
            const ready = slices.items.flatMap((s) =>
                s.endpoints.filter((e) => e.conditions?.ready).flatMap((e) => e.addresses),
            );
            return ready.length === 2 ? ready.sort() : undefined;
        });
        assert.deepEqual(endpoints, ips);
        console.log(
            `    pods ${ips.join(", ")} Ready and in the EndpointSlice ${((performance.now() - started) / 1000).toFixed(1)} s after the Deployment`,
        );
    });

    it("merges a server-side apply of a partial Service (a label) under field manager test", async () => {
        const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
        const core = kc.makeApiClient(k8s.CoreV1Api);
        await objects.patch(
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: APP, namespace: NS, labels: { "sticky.test/applied": "yes" } },
            },
            undefined,
            undefined,
            "test",
            true,
            k8s.PatchStrategy.ServerSideApply,
        );
        const svc = await core.readNamespacedService({ name: APP, namespace: NS });
        assert.deepEqual(svc.metadata?.labels, { app: APP, "sticky.test/applied": "yes" });
        assert.equal(svc.spec?.ports?.[0].port, 80);
        assert.deepEqual(svc.spec?.selector, { app: APP });
        const managers = (svc.metadata?.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
        assert.ok(managers.includes("test/Apply"), managers.join(", "));
    });
});
