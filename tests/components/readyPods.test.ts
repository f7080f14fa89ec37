/**
 * The ready-pods and gateway Service reads, run the way Pulumi runs them: the component registered under mocks,
 * its dynamic provider serialized into the resource's inputs, then created and refreshed by
 * Pulumi's own dynamic-provider host in a process of its own. Two fake Kubernetes API servers
 * on 127.0.0.1 answer the EndpointSlice list and the Service read: one is the cluster of the provider the component
 * is given, the other the one the default kubeconfig (KUBECONFIG) points at.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import type { AddressInfo } from "net";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { StickyApp, IstioMesh, GatewayServiceType } from "istio-sticky";
import { GATEWAY_SERVICE_TYPE, installMocks, READY_PODS_TYPE, Recorder, settle } from "../support/mocks";
import { DynamicHost, startDynamicHost } from "../support/dynamicHost";
import { versionOf } from "../../components/registration/reads";

interface FakeApi {
    url: string;
    requests: { path: string; authorization: string }[];
    close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 (openssl), as an API server's serving certificate and its own CA. */
function selfSigned(dir: string): { cert: string; key: string } {
    const [cert, key] = [path.join(dir, "tls.crt"), path.join(dir, "tls.key")];
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ].concat(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert]),
        { stdio: "ignore", timeout: 30_000 },
    );
    return { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8") };
}

/** The Service the fake API serves with a selector: its slices catch up with its pods only on the third list. */
const ROLLING = "rolling";

/**
 * A Kubernetes API server over TLS that answers three calls: listing a Service's EndpointSlices, with ready pods
 * of its own; reading a Service, a NodePort one whose resourceVersion and managed fields change on every read,
 * as a live object's do; and listing the pods a Service selects. Every Service but `ROLLING` has no selector.
 * `ROLLING` selects three ready pods and a terminating one; its slices lag as the EndpointSlice controller's
 * can after a rollout: the first list misses the third pod and still shows the terminating one ready, the
 * second misses the third pod, the third is up to date.
 */
async function fakeApi(tls: { cert: string; key: string }, podIps: string[]): Promise<FakeApi> {
    const requests: FakeApi["requests"] = [];
    const server = https.createServer(tls, (req, res) => {
        requests.push({ path: req.url ?? "", authorization: req.headers.authorization ?? "" });
        const svc = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/?]+)$/.exec(req.url ?? "");
        if (svc) {
            const [, namespace, name] = svc;
            const ports = [
                { name: "status-port", port: 15021, targetPort: 15021, nodePort: 31021, protocol: "TCP" },
                { name: "http2", port: 80, targetPort: 80, nodePort: 31080, protocol: "TCP" },
            ];
            const metadata = {
                name,
                namespace,
                resourceVersion: String(requests.length),
                managedFields: [{ manager: `helm-${requests.length}` }],
            };
            res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({
                    apiVersion: "v1",
                    kind: "Service",
                    metadata,
                    spec: {
                        type: "NodePort",
                        clusterIP: "10.96.0.10",
                        ports,
                        ...(name === ROLLING ? { selector: { app: ROLLING } } : {}),
                    },
                    status: { loadBalancer: {} },
                }),
            );
            return;
        }
        const selected = /^\/api\/v1\/namespaces\/([^/]+)\/pods\?labelSelector=app%3D([^&]+)$/.exec(req.url ?? "");
        if (selected) {
            const pod = (i: number, deleting = false) => ({
                metadata: {
                    name: `${ROLLING}-${i}`,
                    ...(deleting ? { deletionTimestamp: "2026-12-05T00:00:00Z" } : {}),
                },
                status: { podIP: `10.244.9.${i}`, conditions: [{ type: "Ready", status: "True" }] },
            });
            res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({
                    apiVersion: "v1",
                    kind: "PodList",
                    metadata: {},
                    items: [0, 1, 2].map((i) => pod(i)).concat(pod(3, true)),
                }),
            );
            return;
        }
        const m =
            /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices\?labelSelector=kubernetes\.io%2Fservice-name%3D([^&]+)$/.exec(
                req.url ?? "",
            );
        if (!m) {
            res.writeHead(404, { "content-type": "application/json" }).end(
                JSON.stringify({ kind: "Status", code: 404 }),
            );
            return;
        }
        const [, namespace, service] = m;
        const lists = requests.filter((r) => r.path === req.url).length;
        const ips =
            service !== ROLLING
                ? podIps
                : lists === 1
                  ? ["10.244.9.0", "10.244.9.1", "10.244.9.3"]
                  : lists === 2
                    ? ["10.244.9.0", "10.244.9.1"]
                    : ["10.244.9.0", "10.244.9.1", "10.244.9.2"];
        const endpoints = ips.map((ip, i) => ({
            addresses: [ip],
            conditions: { ready: true },
            targetRef: { kind: "Pod", name: `${service}-${i}` },
        }));
        const item = {
            metadata: { name: `${service}-abc`, namespace, labels: { "kubernetes.io/service-name": service } },
            addressType: "IPv4",
            endpoints,
        };
        res.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
                apiVersion: "discovery.k8s.io/v1",
                kind: "EndpointSliceList",
                metadata: {},
                items: [item],
            }),
        );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
        url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        close: () => new Promise((r) => server.close(() => r())),
    };
}

/** A kubeconfig with one cluster (trusting `ca`), user and context of that name. */
const kubeconfig = (name: string, server: string, token: string, ca: string) =>
    [
        "apiVersion: v1",
        "kind: Config",
        `current-context: ${name}`,
        `clusters: [{name: ${name}, cluster: {server: "${server}", certificate-authority-data: ${Buffer.from(ca).toString("base64")}}}]`,
        `users: [{name: ${name}, user: {token: ${token}}}]`,
        `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}}}]`,
        "",
    ].join("\n");

describe("the ready-pods read, in Pulumi's dynamic-provider host (registration/reads)", function () {
    this.timeout(60_000);
    const rec = new Recorder();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-kubeconfig-"));
    let given: FakeApi;
    let fallback: FakeApi;
    let host: DynamicHost;
    let givenFile: string;
    let closedPort: number;
    let ca: string;

    before(async () => {
        const tls = selfSigned(dir);
        ca = tls.cert;
        given = await fakeApi(tls, ["10.244.1.11", "10.244.2.12"]);
        fallback = await fakeApi(tls, ["10.99.0.1"]);
        givenFile = path.join(dir, "given.yaml");
        fs.writeFileSync(givenFile, kubeconfig("given", given.url, "given-token", ca));
        const defaultFile = path.join(dir, "default.yaml");
        fs.writeFileSync(defaultFile, kubeconfig("fallback", fallback.url, "fallback-token", ca));
        // A port nothing listens on: taken, then released.
        const probe = http.createServer();
        await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
        closedPort = (probe.address() as AddressInfo).port;
        await new Promise((r) => probe.close(r));
        // The host sees the default kubeconfig; only what the component hands it can point elsewhere.
        host = await startDynamicHost({ KUBECONFIG: defaultFile, HOME: dir });
        await installMocks(rec);
    });
    after(async () => {
        host?.close();
        await Promise.all([given?.close(), fallback?.close()]);
        pulumi.runtime.setAllConfig({});
        fs.rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(() => {
        rec.reset();
        given.requests.length = 0;
        fallback.requests.length = 0;
        pulumi.runtime.setAllConfig({});
    });

    /** The ReadyPods inputs a StickyApp registers (its serialized provider included). */
    async function readInputs(
        name: string,
        opts: pulumi.ComponentResourceOptions = {},
    ): Promise<Record<string, unknown>> {
        new StickyApp(name, { name }, opts);
        await settle(rec);
        const read = rec.byNameOf(`${name}-ready-pods`);
        assert.equal(read.type, READY_PODS_TYPE);
        assert.equal(typeof read.inputs.__provider, "string", "the provider travels serialized");
        return read.inputs;
    }

    it("lists the pods in the cluster of the provider the component is given (kubeconfig as contents), and again on refresh", async () => {
        const provider = new k8s.Provider("given", { kubeconfig: kubeconfig("given", given.url, "given-token", ca) });
        const inputs = await readInputs("shop", { providers: [provider] });
        assert.ok(
            JSON.stringify(inputs.kubeconfig).includes("4dabf18193072939515e22adb298388d"),
            "the kubeconfig is a secret in state",
        );
        const { id, outs } = await host.create(READY_PODS_TYPE, "shop-ready-pods", inputs);
        assert.equal(id, "shop/shop");
        assert.deepEqual(outs.pods, [
            { name: "shop-0", ip: "10.244.1.11" },
            { name: "shop-1", ip: "10.244.2.12" },
        ]);
        // The Service has no selector here: nothing to check the slices against, one list.
        assert.deepEqual(given.requests, [
            { path: "/api/v1/namespaces/shop/services/shop", authorization: "Bearer given-token" },
            {
                path: "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dshop",
                authorization: "Bearer given-token",
            },
        ]);
        assert.equal(fallback.requests.length, 0, "the default kubeconfig's cluster is not asked");
        // pulumi refresh: the host gets the outputs, which carry the cluster's access.
        const refreshed = await host.read(READY_PODS_TYPE, "shop-ready-pods", id, outs);
        assert.deepEqual(refreshed.pods, outs.pods);
        assert.equal(given.requests.length, 4);
    });

    it("takes the provider's kubeconfig as a path too, with its context", async () => {
        const provider = new k8s.Provider("by-path", { kubeconfig: givenFile, context: "given" });
        const { outs } = await host.create(
            READY_PODS_TYPE,
            "cart-ready-pods",
            await readInputs("cart", { providers: { kubernetes: provider } }),
        );
        assert.equal(outs.pods.length, 2);
        assert.deepEqual([given.requests.length, fallback.requests.length], [2, 0]);
    });

    it("without a provider, reads the cluster of the stack's kubernetes: config, else the default kubeconfig", async () => {
        const { outs } = await host.create(READY_PODS_TYPE, "plain-ready-pods", await readInputs("plain"));
        assert.deepEqual(outs.pods, [{ name: "plain-0", ip: "10.99.0.1" }]);
        assert.deepEqual([given.requests.length, fallback.requests.length], [0, 2]);
        pulumi.runtime.setAllConfig({ "kubernetes:kubeconfig": givenFile });
        const configured = await host.create(READY_PODS_TYPE, "conf-ready-pods", await readInputs("conf"));
        assert.equal(configured.outs.pods.length, 2);
        assert.deepEqual([given.requests.length, fallback.requests.length], [2, 2]);
    });

    it("reads the gateway Service's address in the provider's cluster, keeping only what the address is made from, and a refresh finds it unchanged", async () => {
        const provider = new k8s.Provider("mesh", { kubeconfig: kubeconfig("given", given.url, "given-token", ca) });
        const mesh = new IstioMesh(
            "mesh",
            { gateway: { serviceType: GatewayServiceType.NodePort } },
            { providers: [provider] },
        );
        await settle(rec);
        const read = rec.byNameOf("mesh-gateway-service");
        assert.equal(read.type, GATEWAY_SERVICE_TYPE);
        assert.deepEqual([read.inputs.namespace, read.inputs.service], ["istio-ingress", "istio-ingressgateway"]);
        const { id, outs } = await host.create(GATEWAY_SERVICE_TYPE, "mesh-gateway-service", read.inputs);
        assert.equal(id, "istio-ingress/istio-ingressgateway");
        assert.deepEqual(outs.view, {
            metadata: { name: "istio-ingressgateway", namespace: "istio-ingress" },
            spec: {
                type: "NodePort",
                ports: [
                    { name: "status-port", port: 15021, nodePort: 31021 },
                    { name: "http2", port: 80, nodePort: 31080 },
                ],
            },
            status: { loadBalancer: { ingress: [] } },
        });
        assert.deepEqual(given.requests, [
            {
                path: "/api/v1/namespaces/istio-ingress/services/istio-ingressgateway",
                authorization: "Bearer given-token",
            },
        ]);
        // pulumi refresh: the live object changed (resourceVersion, managed fields), the address did not; so neither does the state.
        const refreshed = await host.read(GATEWAY_SERVICE_TYPE, "mesh-gateway-service", id, outs);
        assert.deepEqual(refreshed, outs);
        assert.ok(mesh);
    });

    it("waits for the slices to catch up with the pods the Service selects (a rollout the controller has not written yet)", async () => {
        const provider = new k8s.Provider("rolling", { kubeconfig: kubeconfig("given", given.url, "given-token", ca) });
        const { outs } = await host.create(
            READY_PODS_TYPE,
            `${ROLLING}-ready-pods`,
            await readInputs(ROLLING, { providers: [provider] }),
        );
        assert.deepEqual(
            outs.pods.map((p: { ip: string }) => p.ip),
            ["10.244.9.0", "10.244.9.1", "10.244.9.2"],
            "the three ready pods, not the terminating one",
        );
        const lists = given.requests.filter((r) => r.path.includes("/endpointslices?"));
        assert.equal(lists.length, 3, "listed until the slices agreed with the pods");
    });

    it("names the cluster it cannot reach", async () => {
        const provider = new k8s.Provider("gone", {
            kubeconfig: kubeconfig("gone", `https://127.0.0.1:${closedPort}`, "t", ca),
        });
        const inputs = await readInputs("lost", { providers: [provider] });
        await assert.rejects(
            host.create(READY_PODS_TYPE, "lost-ready-pods", inputs),
            new RegExp(
                `cannot read the ready pods of Service lost/lost from cluster "gone" at https://127\\.0\\.0\\.1:${closedPort} \\(context "gone", kubeconfig given as contents\\): ECONNREFUSED`,
            ),
        );
    });
});

describe("what a read waits for (registration/reads versionOf)", () => {
    /** A resource as the Kubernetes provider returns it after an up or a refresh: its id, live metadata and spec. */
    const live = (metadata: { resourceVersion?: string; generation?: number }, spec: unknown = { replicas: 2 }) =>
        ({
            id: pulumi.output("shop/shop"),
            metadata: pulumi.output(metadata),
            spec: pulumi.output(spec),
        }) as unknown as pulumi.CustomResource;
    const version = (r: pulumi.CustomResource) => new Promise<string>((resolve) => versionOf(r).apply(resolve));

    it("changes with a Deployment's spec (a new rollout), not with its status nor the replicas an autoscaler sets", async () => {
        const template = { metadata: { labels: { app: "shop" } }, spec: { containers: [{ image: "app:1" }] } };
        const afterUp = await version(live({ resourceVersion: "1021", generation: 2 }, { replicas: 2, template }));
        const afterRefresh = await version(live({ resourceVersion: "1187", generation: 2 }, { replicas: 2, template }));
        // A HorizontalPodAutoscaler scaled it after the up: a refresh stores the new count and generation.
        const autoscaled = await version(live({ resourceVersion: "1190", generation: 3 }, { replicas: 3, template }));
        const rolledOut = await version(
            live(
                { resourceVersion: "1203", generation: 4 },
                { replicas: 3, template: { ...template, spec: { containers: [{ image: "app:2" }] } } },
            ),
        );
        assert.match(afterUp, /^shop\/shop@[0-9a-f]{12}$/);
        assert.equal(afterRefresh, afterUp, "a status update alone reads nothing again");
        assert.equal(autoscaled, afterUp, "the autoscaler's count reads nothing again");
        assert.notEqual(rolledOut, afterUp);
    });

    it("stands for a Service (no generation) by its spec: status conditions written by istiod change nothing", async () => {
        const spec = { selector: { app: "shop" }, ports: [{ port: 8080 }] };
        const afterUp = await version(live({ resourceVersion: "258" }, spec));
        const afterRefresh = await version(live({ resourceVersion: "650" }, spec));
        const reselected = await version(
            live({ resourceVersion: "700" }, { ...spec, selector: { app: "shop", track: "canary" } }),
        );
        assert.match(afterUp, /^shop\/shop@[0-9a-f]{12}$/);
        assert.equal(afterRefresh, afterUp);
        assert.notEqual(reselected, afterUp);
    });
});
