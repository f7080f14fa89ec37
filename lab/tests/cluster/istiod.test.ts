/**
 * A real istiod answers the API server's webhook calls in the lab's cluster: Istio 1.31.0's base and
 * istiod charts (from the istio.io/istio module istiod is built from, rendered with helm) are applied
 * as a Helm install would apply them, and lab/cluster/podProcesses.ts runs pilot-discovery (built
 * from the same module, lab/cluster/istiod.ts) for the istiod pod kwok makes Running. The API server
 * calls the webhooks at the pod's IP (--enable-aggregator-routing), which the network namespace of
 * lab/cluster/netns.sh makes local. Then:
 *
 * - before istiod runs, the injector's failurePolicy Fail keeps the pods of an injected namespace
 *   from being created (the ReplicaSet's FailedCreate names the webhook and the pod IP it dialled);
 * - istiod patches its own CA into the injector and validator webhooks and switches validation to
 *   failurePolicy Fail;
 * - a Deployment in a namespace labelled istio-injection=enabled gets pods with istiod's istio-proxy,
 *   one in an unlabelled namespace gets pods without;
 * - a DestinationRule the CRD schema accepts but istiod's validation refuses (a Maglev table size
 *   that is not prime) is refused by the API server with istiod's message.
 *
 * Runs when ISTIO_STICKY_CLUSTER is set, inside the network namespace, after the builds:
 *   npx tsx lab/cluster/prepare.ts
 *   ISTIO_STICKY_CLUSTER=1 unshare --net -- bash lab/cluster/netns.sh \
 *     npx mocha --node-option import=tsx --timeout 1800000 --exit lab/tests/cluster/istiod.test.ts
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { helmTemplate, ensureHelm } from "../../charts";
import { startCluster, type Cluster } from "../../cluster/controlplane";
import { ensureIstiod, istioChartDirs, istiodPodProgram, type Istiod } from "../../cluster/istiod";
import { applyServerSide, getObject, kubectl, type Kubectl } from "../../cluster/kubectl";
import { poll } from "../support/poll";
import { startPodProcesses, type PodProcess, type PodProcesses } from "../../cluster/podProcesses";

const ISTIO_NS = "istio-system";
const HUB = "docker.io/istio";
/** Both the negative case's namespace and the injected one are labelled; the plain one is not. */
const BLOCKED_NS = "injected-before-istiod";
const INJECTED_NS = "injected";
const PLAIN_NS = "plain";

/** `kubectl apply --server-side` of objects as a Helm install's tooling applies them. */
const apply = (k: Kubectl, objects: readonly object[], namespace?: string) =>
    applyServerSide(k, objects, "helm", namespace);

/** A Deployment of one replica of an app that does not exist anywhere (kwok runs nothing). */
function deployment(namespace: string, name: string): object {
    const labels = { app: name };
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
                metadata: { labels },
                spec: {
                    containers: [{ name: "app", image: "example.invalid/app:1", ports: [{ containerPort: 8080 }] }],
                },
            },
        },
    };
}

function namespace(name: string, labels: Record<string, string> = {}): object {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

const listJson = (k: Kubectl, args: string[]): any[] => JSON.parse(kubectl(k, ["get", ...args, "-o", "json"])).items;

/** Every container of a pod, init containers (native sidecars) included, by name. */
const containerNames = (pod: any): string[] =>
    [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c: any) => c.name);

/** A DestinationRule with a cookie-hash Maglev policy: valid for the CRD's schema whatever the table size. */
function maglevRule(name: string, tableSize: number): object {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name, namespace: PLAIN_NS },
        spec: {
            host: `app.${PLAIN_NS}.svc.cluster.local`,
            trafficPolicy: {
                loadBalancer: { consistentHash: { httpCookie: { name: "session", ttl: "0s" }, maglev: { tableSize } } },
            },
        },
    };
}

describe("a real istiod answers the API server's webhooks (lab cluster in a network namespace)", function () {
    this.timeout(60 * 60_000);
    let cluster: Cluster | undefined;
    let runner: PodProcesses | undefined;
    let k: Kubectl;
    let istiod: Istiod;
    let istiodPodIP = "";
    let pilot: PodProcess | undefined;
    const timings: string[] = [];

    before(async function () {
        if (!process.env.ISTIO_STICKY_CLUSTER) {
            console.log(
                "    skipped: set ISTIO_STICKY_CLUSTER=1 and run inside lab/cluster/netns.sh (after lab/cluster/prepare.ts)",
            );
            this.skip();
        }
        if (!process.env.ISTIO_STICKY_NETNS) {
            throw new Error(
                "run inside the lab's network namespace, where pod IPs are local:\n" +
                    "  npx tsx lab/cluster/prepare.ts && ISTIO_STICKY_CLUSTER=1 unshare --net -- bash lab/cluster/netns.sh " +
                    "npx mocha --node-option import=tsx --timeout 1800000 --exit lab/tests/cluster/istiod.test.ts",
            );
        }
        istiod = ensureIstiod();
        timings.push(
            `istiod ${istiod.version}: ${istiod.cached ? "build cached" : `built in ${istiod.seconds.toFixed(1)} s`}`,
        );
        cluster = await startCluster();
        k = { bin: cluster.bin, kubeconfig: cluster.kubeconfig };
        timings.push(`cluster ${cluster.version} started in ${cluster.startSeconds.toFixed(1)} s`);
    });

    after(async function () {
        if (timings.length) console.log(timings.map((t) => `    ${t}`).join("\n"));
        await runner?.stop();
        // ISTIO_STICKY_VERBOSE=1: the runner's events and the tail of istiod's log, passed or not (the whole log is kept).
        if (runner && process.env.ISTIO_STICKY_VERBOSE) console.log(`${runner.logs(20_000)}\n(kept: ${runner.dir})`);
        await cluster?.stop();
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed") {
            if (runner) console.log(runner.logs(20_000));
            if (cluster) console.log(cluster.logs());
        }
    });

    it("applies Istio's base and istiod charts of the release istiod is built from; kwok runs the istiod pod", async () => {
        const charts = istioChartDirs();
        const helm = ensureHelm();
        const started = performance.now();
        const base = helmTemplate(helm, charts.base, "istio-base", ISTIO_NS, { defaultRevision: "default" });
        const discovery = helmTemplate(helm, charts.istiod, "istiod", ISTIO_NS, {
            global: { hub: HUB, tag: istiod.version },
        });
        apply(k, [namespace(ISTIO_NS)]);
        apply(k, base, ISTIO_NS);
        kubectl(k, ["wait", "--for", "condition=Established", "crd", "--all", "--timeout", "120s"]);
        apply(k, discovery, ISTIO_NS);

        const deploy = discovery.find((o) => o.kind === "Deployment");
        assert.equal(deploy?.spec.template.spec.containers[0].image, `${HUB}/pilot:${istiod.version}`);
        const mwc = discovery.find((o) => o.kind === "MutatingWebhookConfiguration");
        assert.ok(
            mwc.webhooks.every(
                (w: any) =>
                    w.failurePolicy === "Fail" && w.clientConfig.service.name === "istiod" && !w.clientConfig.caBundle,
            ),
            "the chart's injector webhooks fail closed and carry no caBundle",
        );

        const pod = await poll("the istiod pod Running with an IP", 240, () => {
            const pods = listJson(k, ["pods", "-n", ISTIO_NS, "-l", "app=istiod"]);
            return pods.find((p) => p.status?.phase === "Running" && p.status.podIP);
        });
        istiodPodIP = pod.status.podIP;
        assert.match(istiodPodIP, /^10\.244\.0\.\d+$/);
        await poll("the istiod Service's EndpointSlice listing the pod ready on 15017", 240, () => {
            const slices = listJson(k, ["endpointslices", "-n", ISTIO_NS, "-l", "kubernetes.io/service-name=istiod"]);
            return slices.some(
                (s) =>
                    s.ports?.some((p: any) => p.port === 15017) &&
                    s.endpoints?.some((e: any) => e.conditions?.ready && e.addresses.includes(istiodPodIP)),
            )
                ? true
                : undefined;
        });
        timings.push(
            `charts rendered and applied, istiod pod ${istiodPodIP} Running in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
    });

    it("without istiod running, the injector (failurePolicy Fail) keeps an injected namespace's pods from being created", async () => {
        apply(k, [namespace(BLOCKED_NS, { "istio-injection": "enabled" }), deployment(BLOCKED_NS, "app")]);
        const event = await poll("a FailedCreate event of the ReplicaSet", 240, () =>
            listJson(k, ["events", "-n", BLOCKED_NS]).find(
                (e) => e.reason === "FailedCreate" && e.involvedObject?.kind === "ReplicaSet",
            ),
        );
        // The API server called the webhook at the istiod pod's IP and port 15017 (the Service's endpoint).
        assert.match(event.message, /failed calling webhook "namespace\.sidecar-injector\.istio\.io"/);
        assert.ok(event.message.includes(`${istiodPodIP}:15017`), event.message);
        assert.match(event.message, /connection refused/);
        assert.deepEqual(listJson(k, ["pods", "-n", BLOCKED_NS]), []);
    });

    it("runs pilot-discovery for the istiod pod; istiod patches its CA into the injector webhooks", async () => {
        runner = startPodProcesses({
            kubectl: k,
            programs: { pilot: istiodPodProgram(istiod.bin) },
            keep: !!process.env.ISTIO_STICKY_VERBOSE,
        });
        pilot = await runner.waitFor("pilot", 120_000);
        assert.equal(pilot.pod.split("/")[0], ISTIO_NS);
        assert.equal(pilot.podIP, istiodPodIP);
        assert.deepEqual(pilot.argv.slice(0, 2), ["discovery", "--monitoringAddr=:15014"]);
        // What a kubelet would have given istiod: its istio-ca token and the service account's files.
        const token = fs.readFileSync(path.join(pilot.root, "var/run/secrets/tokens/istio-token"), "utf8");
        const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
        assert.deepEqual(claims.aud, ["istio-ca"]);
        assert.equal(claims.sub, `system:serviceaccount:${ISTIO_NS}:istiod`);
        assert.equal(
            fs.readFileSync(path.join(pilot.root, "var/run/secrets/kubernetes.io/serviceaccount/namespace"), "utf8"),
            ISTIO_NS,
        );

        const mwc = await poll("a caBundle in every injector webhook", 360, () => {
            const o = getObject(k, {
                apiVersion: "admissionregistration.k8s.io/v1",
                kind: "MutatingWebhookConfiguration",
                metadata: { name: "istio-sidecar-injector" },
            });
            return o?.webhooks.every((w: any) => w.clientConfig.caBundle) ? o : undefined;
        });
        const seconds = (performance.now() - pilot.startedAt) / 1000;
        timings.push(`istiod started → injector caBundle patched: ${seconds.toFixed(1)} s`);
        const bundle = Buffer.from(mwc.webhooks[0].clientConfig.caBundle, "base64").toString();
        assert.match(bundle, /-----BEGIN CERTIFICATE-----/);
        assert.ok(mwc.webhooks.every((w: any) => w.clientConfig.caBundle === mwc.webhooks[0].clientConfig.caBundle));
        // The CA istiod made for itself (the istio-ca-secret Secret it keeps its root in) signed its webhooks' certificate.
        const caSecret = getObject(k, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "istio-ca-secret", namespace: ISTIO_NS },
        });
        assert.ok(caSecret, "istiod keeps its self-signed CA in istio-system/istio-ca-secret");
        assert.equal(Buffer.from(caSecret.data["ca-cert.pem"], "base64").toString().trim(), bundle.trim());
    });

    it("injects istio-proxy into a Deployment's pods in a namespace labelled istio-injection=enabled, not in an unlabelled one", async () => {
        const started = performance.now();
        apply(k, [
            namespace(INJECTED_NS, { "istio-injection": "enabled" }),
            deployment(INJECTED_NS, "app"),
            namespace(PLAIN_NS),
            deployment(PLAIN_NS, "app"),
        ]);
        const injected = await poll(
            "a pod in the injected namespace",
            240,
            () => listJson(k, ["pods", "-n", INJECTED_NS, "-l", "app=app"])[0],
        );
        const plain = await poll(
            "a pod in the plain namespace",
            240,
            () => listJson(k, ["pods", "-n", PLAIN_NS, "-l", "app=app"])[0],
        );
        timings.push(
            `injected pod created ${((performance.now() - started) / 1000).toFixed(1)} s after its Deployment`,
        );

        const names = containerNames(injected);
        assert.ok(names.includes("istio-proxy"), `containers of the injected pod: ${names.join(", ")}`);
        assert.ok(names.includes("app"));
        const proxy = [...(injected.spec.initContainers ?? []), ...injected.spec.containers].find(
            (c: any) => c.name === "istio-proxy",
        );
        assert.equal(proxy.image, `${HUB}/proxyv2:${istiod.version}`);
        const status = JSON.parse(injected.metadata.annotations["sidecar.istio.io/status"]);
        assert.ok(
            status.containers.includes("istio-proxy") || status.initContainers.includes("istio-proxy"),
            JSON.stringify(status),
        );
        assert.ok(proxy.args.includes("proxy") && proxy.args.includes("sidecar"), proxy.args.join(" "));
        // Rendered from the chart's injection template by istiod with its values: the CA is istiod's Service.
        const env = (name: string) => proxy.env.find((e: any) => e.name === name)?.value;
        assert.equal(env("CA_ADDR"), "istiod.istio-system.svc:15012");
        assert.equal(env("ISTIO_META_CLUSTER_ID"), "Kubernetes");
        const native = (injected.spec.initContainers ?? []).some(
            (c: any) => c.name === "istio-proxy" && c.restartPolicy === "Always",
        );
        timings.push(
            `istio-proxy injected as ${native ? "a native sidecar (init container, restartPolicy Always)" : "a container"}`,
        );

        assert.deepEqual(containerNames(plain), ["app"]);
        assert.equal(plain.metadata.annotations?.["sidecar.istio.io/status"], undefined);
    });

    it("refuses a DestinationRule the CRD accepts but istiod's validation does not, with istiod's message", async () => {
        const started = performance.now();
        const validators = await poll(
            "istiod's validating webhooks with a caBundle and failurePolicy Fail",
            360,
            () => {
                const list = listJson(k, ["validatingwebhookconfigurations", "-l", "istio.io/rev=default"]);
                const names = list.map((v) => v.metadata.name).sort();
                const ready = list.every((v) =>
                    v.webhooks.every((w: any) => w.failurePolicy === "Fail" && w.clientConfig.caBundle),
                );
                return ready && names.length === 2 ? names : undefined;
            },
        );
        assert.deepEqual(validators, ["istio-validator-istio-system", "istiod-default-validator"]);
        timings.push(
            `istiod started → validation fail-closed: ${((performance.now() - pilot!.startedAt) / 1000).toFixed(1)} s ` +
                `(${((performance.now() - started) / 1000).toFixed(1)} s waited here)`,
        );

        const create = (o: object) =>
            spawnSync(path.join(k.bin, "kubectl"), ["--kubeconfig", k.kubeconfig, "create", "-f", "-"], {
                input: JSON.stringify(o),
                encoding: "utf8",
                timeout: 60_000,
            });
        // The CRD's schema takes any table size of 0 or more: only istiod knows Maglev wants a prime.
        const crd = getObject(k, {
            apiVersion: "apiextensions.k8s.io/v1",
            kind: "CustomResourceDefinition",
            metadata: { name: "destinationrules.networking.istio.io" },
        });
        const v1 = crd.spec.versions.find((v: any) => v.name === "v1");
        const lb = v1.schema.openAPIV3Schema.properties.spec.properties.trafficPolicy.properties.loadBalancer;
        const tableSize = lb.properties.consistentHash.properties.maglev.properties.tableSize;
        assert.deepEqual(
            Object.keys(tableSize).filter((key) => key !== "description"),
            ["minimum", "type"],
        );
        const refused = create(maglevRule("not-prime", 1000));
        assert.notEqual(refused.status, 0, `created: ${refused.stdout}`);
        assert.match(refused.stderr, /admission webhook "validation\.istio\.io" denied the request/);
        assert.match(refused.stderr, /tableSize must be a prime number for maglev/);
        assert.equal(getObject(k, maglevRule("not-prime", 1000) as any), undefined);

        const accepted = create(maglevRule("prime", 65537));
        assert.equal(accepted.status, 0, accepted.stderr);
        assert.ok(getObject(k, maglevRule("prime", 65537) as any));
    });
});
