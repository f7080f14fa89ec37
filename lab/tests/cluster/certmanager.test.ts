/**
 * cert-manager built here (lab/cluster/certmanager.ts) against the lab's control plane: the Pulumi
 * component plugin answers over gRPC; cert-manager-controller and -cainjector, run outside a pod
 * with the chart's args and CERT_MANAGER_PROGRAMS' extra args, issue a self-signed certificate for
 * sticky.test and inject its CA into a webhook configuration; cert-manager-webhook serves TLS on
 * 127.0.0.1:10250 with a certificate from its own CA Secret and judges AdmissionReviews.
 * The negative: with no controller running, the same Certificate gets no Secret within the bound.
 *
 * Runs when ISTIO_STICKY_CLUSTER is set (a cold build takes about 6 minutes on two cores, plus the
 * control plane's if it is not built yet):
 *   ISTIO_STICKY_CLUSTER=1 npx mocha --node-option import=tsx --timeout 3600000 --exit lab/tests/cluster/certmanager.test.ts
 */
import { strict as assert } from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import { createPrivateKey, X509Certificate } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import type { TLSSocket } from "tls";
import * as grpc from "@grpc/grpc-js";
import { CERT_MANAGER_PROGRAMS, ensureCertManager, type CertManagerBuild } from "../../cluster/certmanager";
import { startCluster, type Cluster } from "../../cluster/controlplane";
import { applyServerSide, getObject, kubectl, type Kubectl } from "../../cluster/kubectl";
import { poll } from "../support/poll";

// The Node SDK's generated gRPC stubs (CommonJS, untyped here).
const providerGrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const providerPb = require("@pulumi/pulumi/proto/provider_pb");
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");

/** The namespace the chart would be installed in ($(POD_NAMESPACE) of its pods). */
const CM_NS = "cert-manager";
/** Where the test's Issuer and Certificates live. */
const NS = "sticky-tls";
const HOST = "sticky.test";
/** The chart's image tag: what the programs play. */
const CHART_IMAGE = (name: string) => `quay.io/jetstack/${name}:v1.21.2`;
/** The webhook's port as the chart sets it (webhook.securePort) and its default healthz port. */
const WEBHOOK_PORT = 10250;
const WEBHOOK_HEALTHZ_PORT = 6080;
const WEBHOOK_SERVICE = "cert-manager-webhook";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown by a poll's check to end the poll at once (a process it waits on has exited). */
class Fatal extends Error {}

/** `poll` that stops at once on a Fatal error (a program that exited will not come back). */
const pollAlive = <T>(what: string, count: number, check: () => Promise<T | undefined> | T | undefined) =>
    poll(what, count, check, (e) => e instanceof Fatal);

/** The chart's args of each program (templates of chart v1.21.1 with default values, release "cert-manager"). */
const CHART_ARGS: Record<keyof typeof CERT_MANAGER_PROGRAMS, string[]> = {
    controller: [
        "--v=2",
        `--cluster-resource-namespace=${CM_NS}`,
        "--leader-election-namespace=kube-system",
        `--acme-http01-solver-image=${CHART_IMAGE("cert-manager-acmesolver")}`,
        "--max-concurrent-challenges=60",
    ],
    cainjector: ["--v=2", "--leader-election-namespace=kube-system"],
    webhook: [
        "--v=2",
        `--secure-port=${WEBHOOK_PORT}`,
        `--dynamic-serving-ca-secret-namespace=${CM_NS}`,
        `--dynamic-serving-ca-secret-name=${WEBHOOK_SERVICE}-ca`,
        `--dynamic-serving-dns-names=${WEBHOOK_SERVICE}`,
        `--dynamic-serving-dns-names=${WEBHOOK_SERVICE}.${CM_NS}`,
        `--dynamic-serving-dns-names=${WEBHOOK_SERVICE}.${CM_NS}.svc`,
    ],
};

interface Running {
    name: string;
    proc: ChildProcess;
    log: string;
}

function exited(p: ChildProcess): boolean {
    return p.exitCode !== null || p.signalCode !== null;
}

async function stopProcess(p: ChildProcess): Promise<void> {
    if (exited(p)) return;
    const done = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await done;
    clearTimeout(t);
}

/** One HTTPS request, bounded in time; resolves with the status, body and the server's certificate. */
function request(
    opts: https.RequestOptions & { body?: string },
    timeoutMs = 10_000,
): Promise<{ status: number; body: string; peer: X509Certificate | undefined; authorized: boolean }> {
    return new Promise((resolve, reject) => {
        const req = https.request({ ...opts, agent: false, timeout: timeoutMs }, (res) => {
            // The socket is let go once the response ends: read the handshake's outcome now.
            const sock = res.socket as TLSSocket;
            const raw = sock.getPeerCertificate().raw;
            const peer = raw ? new X509Certificate(raw) : undefined;
            const authorized = sock.authorized;
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body, peer, authorized }));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
        req.end(opts.body);
    });
}

function httpGet(url: string, timeoutMs = 5000): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: timeoutMs }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
    });
}

/** An AdmissionReview of a create of `object` (a cert-manager.io/v1 Certificate). */
function admissionReview(uid: string, object: object): string {
    return JSON.stringify({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: {
            uid,
            kind: { group: "cert-manager.io", version: "v1", kind: "Certificate" },
            resource: { group: "cert-manager.io", version: "v1", resource: "certificates" },
            requestKind: { group: "cert-manager.io", version: "v1", kind: "Certificate" },
            requestResource: { group: "cert-manager.io", version: "v1", resource: "certificates" },
            name: (object as { metadata: { name: string } }).metadata.name,
            namespace: NS,
            operation: "CREATE",
            userInfo: { username: "sticky-test" },
            object,
            oldObject: null,
            dryRun: false,
            options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
        },
    });
}

function certificate(name: string, secretName: string, dnsNames: string[]): object {
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name, namespace: NS },
        spec: { secretName, dnsNames, issuerRef: { name: "selfsigned", kind: "Issuer", group: "cert-manager.io" } },
    };
}

function readyCondition(
    obj:
        { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } } | undefined,
) {
    return obj?.status?.conditions?.find((c) => c.type === "Ready");
}

describe("lab cert-manager (component plugin v0.2.0; controller, cainjector and webhook v1.21.2 against the lab's API server)", function () {
    this.timeout(60 * 60_000);
    let build: CertManagerBuild;
    let cluster: Cluster | undefined;
    let k: Kubectl;
    let tmp: string;
    const running: Running[] = [];

    /** Starts a program of CERT_MANAGER_PROGRAMS with its chart args, the extra args and POD_NAMESPACE, as a pod-process runner would. */
    const start = (program: keyof typeof CERT_MANAGER_PROGRAMS): Running => {
        const p = CERT_MANAGER_PROGRAMS[program];
        assert.match(CHART_IMAGE(p.binary), p.image);
        const log = path.join(tmp, `${p.binary}.log`);
        const fd = fs.openSync(log, "a");
        const root = fs.mkdtempSync(path.join(tmp, `${program}-root-`));
        const proc = spawn(
            path.join(build.bin, p.binary),
            [...CHART_ARGS[program], ...p.extraArgs(cluster!.kubeconfig)],
            {
                cwd: root,
                stdio: ["ignore", fd, fd],
                env: {
                    PATH: process.env.PATH ?? "/usr/bin:/bin",
                    HOME: root,
                    POD_NAMESPACE: CM_NS,
                    ...p.extraEnv(cluster!.kubeconfig),
                },
            },
        );
        fs.closeSync(fd);
        const r = { name: program, proc, log };
        running.push(r);
        return r;
    };
    const logs = (): string =>
        running
            .map(
                ({ name, proc, log }) =>
                    `=== ${name}${exited(proc) ? ` (exited ${proc.exitCode ?? proc.signalCode})` : ""}\n${fs.readFileSync(log, "utf8").slice(-6000)}`,
            )
            .join("\n");
    const alive = (r: Running) => {
        if (exited(r.proc)) throw new Fatal(`${r.name} exited (${r.proc.exitCode ?? r.proc.signalCode})`);
    };
    const apply = (objects: object[]) => applyServerSide(k, objects, "sticky-test");

    before(async function () {
        if (!process.env.ISTIO_STICKY_CLUSTER) {
            console.log(
                "    skipped: set ISTIO_STICKY_CLUSTER=1 to build (cold: about 6 minutes) and run cert-manager against the lab's control plane",
            );
            this.skip();
        }
        build = ensureCertManager();
        const warmStarted = performance.now();
        const warm = ensureCertManager();
        const warmSeconds = (performance.now() - warmStarted) / 1000;
        assert.equal(warm.bin, build.bin);
        assert.ok(warm.cached);
        const v = build.versions;
        const size = execFileSync("du", ["-sh", path.dirname(build.bin)], { encoding: "utf8" }).split("\t")[0];
        console.log(
            `    cert-manager ${v.certManager.module} (cmd/ of ${v.certManager.programsCommit.slice(0, 12)}), ` +
                `pulumi-resource-kubernetes-cert-manager ${v.plugin.reports} (${v.plugin.commit.slice(0, 12)}, sdk ${v.plugin.sdk}), ${v.go}`,
        );
        console.log(
            `    ${build.cached ? "cold build not measured (cached)" : `cold build ${build.seconds.toFixed(1)} s`}, warm ${warmSeconds.toFixed(2)} s, ${size} in ${path.dirname(build.bin)}`,
        );
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-certmanager-"));
        cluster = await startCluster();
        k = { bin: cluster.bin, kubeconfig: cluster.kubeconfig };
        console.log(
            `    cluster ${cluster.server} (${cluster.version}) started in ${cluster.startSeconds.toFixed(1)} s`,
        );

        kubectl(k, ["apply", "--server-side", "--field-manager=sticky-test", "-f", build.crds]);
        kubectl(k, ["wait", "--for=condition=Established", "--timeout=60s", "-f", build.crds]);
        apply([
            { apiVersion: "v1", kind: "Namespace", metadata: { name: CM_NS } },
            { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
        ]);
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed") {
            console.log(logs());
            if (cluster) console.log(cluster.logs());
        }
    });

    after(async function () {
        for (const r of running) await stopProcess(r.proc);
        await cluster?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the component plugin reports v0.2.0 and serves the CertManager component's schema over gRPC", async () => {
        const plugin = spawn(path.join(build.bin, "pulumi-resource-kubernetes-cert-manager"), [], {
            stdio: ["ignore", "pipe", "pipe"],
        });
        try {
            // With no engine address the plugin starts in attach mode and prints the port it serves on.
            const port = await new Promise<number>((resolve, reject) => {
                let out = "";
                const t = setTimeout(() => reject(new Error(`no port within 30 s: ${out}`)), 30_000);
                plugin.stdout!.on("data", (c) => {
                    out += c;
                    const m = /^(\d+)\n/.exec(out);
                    if (m) {
                        clearTimeout(t);
                        resolve(Number(m[1]));
                    }
                });
                plugin.once("exit", (code) => reject(new Error(`the plugin exited (${code}): ${out}`)));
            });
            const client = new providerGrpc.ResourceProviderClient(
                `127.0.0.1:${port}`,
                grpc.credentials.createInsecure(),
            );
            const call = <T>(method: string, req: unknown) =>
                new Promise<T>((resolve, reject) =>
                    client[method](
                        req,
                        new grpc.Metadata(),
                        { deadline: Date.now() + 30_000 },
                        (err: Error | null, res: T) => (err ? reject(err) : resolve(res)),
                    ),
                );
            try {
                const info = await call<{ getVersion(): string }>("getPluginInfo", new emptyPb.Empty());
                assert.equal(info.getVersion(), "v0.2.0");
                const res = await call<{ getSchema(): string }>("getSchema", new providerPb.GetSchemaRequest());
                const schema = JSON.parse(res.getSchema());
                assert.equal(schema.name, "kubernetes-cert-manager");
                const component = schema.resources["kubernetes-cert-manager:index:CertManager"];
                assert.equal(component?.isComponent, true);
                for (const input of ["installCRDs", "helmOptions", "webhook", "cainjector", "startupapicheck"]) {
                    assert.ok(input in component.inputProperties, `CertManager has input ${input}`);
                }
                console.log(
                    `    plugin on 127.0.0.1:${port}: version ${info.getVersion()}, schema ${Object.keys(component.inputProperties).length} inputs`,
                );
            } finally {
                client.close();
            }
        } finally {
            await stopProcess(plugin);
        }
    });

    it("without cert-manager-controller running, a Certificate for sticky.test gets no Secret and no Ready condition within 15 s", async () => {
        apply([
            {
                apiVersion: "cert-manager.io/v1",
                kind: "Issuer",
                metadata: { name: "selfsigned", namespace: NS },
                spec: { selfSigned: {} },
            },
            certificate("sticky", "sticky-tls", [HOST]),
        ]);
        for (let i = 0; i < 30; i++) {
            assert.equal(
                getObject(k, { apiVersion: "v1", kind: "Secret", metadata: { name: "sticky-tls", namespace: NS } }),
                undefined,
            );
            await sleep(500);
        }
        const cert = getObject(k, {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: "sticky", namespace: NS },
        });
        assert.equal(readyCondition(cert), undefined);
    });

    it("cert-manager-controller issues the Certificate: a Secret whose tls.crt names sticky.test, and Ready=True", async () => {
        const started = performance.now();
        const controller = start("controller");
        const cert = await pollAlive("Certificate sticky Ready=True", 240, () => {
            alive(controller);
            const c = getObject(k, {
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: { name: "sticky", namespace: NS },
            });
            return readyCondition(c)?.status === "True" ? c : undefined;
        });
        const seconds = (performance.now() - started) / 1000;
        const secret = getObject(k, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "sticky-tls", namespace: NS },
        });
        assert.equal(secret?.type, "kubernetes.io/tls");
        const x509 = new X509Certificate(Buffer.from(secret.data["tls.crt"], "base64"));
        assert.match(x509.subjectAltName ?? "", /(^|, )DNS:sticky\.test(,|$)/);
        assert.ok(x509.verify(x509.publicKey), "self-signed: signed with its own key");
        assert.ok(
            x509.checkPrivateKey(createPrivateKey(Buffer.from(secret.data["tls.key"], "base64"))),
            "tls.key is the certificate's key",
        );
        const issuer = getObject(k, {
            apiVersion: "cert-manager.io/v1",
            kind: "Issuer",
            metadata: { name: "selfsigned", namespace: NS },
        });
        assert.equal(readyCondition(issuer)?.status, "True");
        assert.equal(cert.status.notAfter, new Date(x509.validTo).toISOString().replace(".000Z", "Z"));
        const log = fs.readFileSync(controller.log, "utf8");
        assert.match(log, /starting cert-manager controller.*version="v1\.21\.2"/);
        assert.ok(
            getObject(k, {
                apiVersion: "coordination.k8s.io/v1",
                kind: "Lease",
                metadata: { name: "cert-manager-controller", namespace: "kube-system" },
            }),
            "the controller holds its leader-election Lease in kube-system",
        );
        console.log(
            `    issued ${x509.subjectAltName} (valid to ${x509.validTo}) ${seconds.toFixed(1)} s after the controller started`,
        );
    });

    it("cert-manager-cainjector with --kubeconfig but no KUBECONFIG exits looking for the in-cluster config (why extraEnv sets it)", async () => {
        const p = CERT_MANAGER_PROGRAMS.cainjector;
        const log = path.join(tmp, "cainjector-without-env.log");
        const fd = fs.openSync(log, "a");
        const proc = spawn(
            path.join(build.bin, p.binary),
            [...CHART_ARGS.cainjector, ...p.extraArgs(cluster!.kubeconfig)],
            {
                cwd: tmp,
                stdio: ["ignore", fd, fd],
                env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmp, POD_NAMESPACE: CM_NS },
            },
        );
        fs.closeSync(fd);
        const code = await new Promise<number | null>((resolve) => {
            const t = setTimeout(() => proc.kill("SIGKILL"), 30_000);
            proc.once("exit", (c) => {
                clearTimeout(t);
                resolve(c);
            });
        });
        assert.notEqual(code, 0);
        assert.match(fs.readFileSync(log, "utf8"), /unable to load in-cluster config/);
    });

    it("cert-manager-cainjector injects the Certificate's CA into a ValidatingWebhookConfiguration that asks for it", async () => {
        const cainjector = start("cainjector");
        const name = "sticky-inject-test";
        apply([
            {
                apiVersion: "admissionregistration.k8s.io/v1",
                kind: "ValidatingWebhookConfiguration",
                metadata: { name, annotations: { "cert-manager.io/inject-ca-from": `${NS}/sticky` } },
                webhooks: [
                    {
                        name: "nothing.sticky.test",
                        admissionReviewVersions: ["v1"],
                        sideEffects: "None",
                        failurePolicy: "Ignore",
                        // A group nobody serves: the API server never calls this webhook.
                        rules: [
                            {
                                apiGroups: ["sticky.test"],
                                apiVersions: ["v1"],
                                operations: ["CREATE"],
                                resources: ["nothing"],
                            },
                        ],
                        clientConfig: { url: "https://127.0.0.1:1/nothing" },
                    },
                ],
            },
        ]);
        const secret = getObject(k, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "sticky-tls", namespace: NS },
        });
        const started = performance.now();
        const bundle = await pollAlive("caBundle injected", 240, () => {
            alive(cainjector);
            const w = getObject(k, {
                apiVersion: "admissionregistration.k8s.io/v1",
                kind: "ValidatingWebhookConfiguration",
                metadata: { name },
            });
            return w?.webhooks?.[0]?.clientConfig?.caBundle as string | undefined;
        });
        assert.equal(Buffer.from(bundle, "base64").toString(), Buffer.from(secret.data["ca.crt"], "base64").toString());
        console.log(
            `    caBundle injected ${((performance.now() - started) / 1000).toFixed(1)} s after the cainjector started`,
        );
    });

    it("cert-manager-webhook serves TLS on 127.0.0.1:10250 with a certificate of its CA Secret and judges AdmissionReviews", async () => {
        const webhook = start("webhook");
        await pollAlive(`webhook healthz on 127.0.0.1:${WEBHOOK_HEALTHZ_PORT}`, 120, async () => {
            alive(webhook);
            return (await httpGet(`http://127.0.0.1:${WEBHOOK_HEALTHZ_PORT}/healthz`)) === 200 ? true : undefined;
        });
        const caSecret = await pollAlive("the webhook's CA Secret", 60, () =>
            getObject(k, {
                apiVersion: "v1",
                kind: "Secret",
                metadata: { name: `${WEBHOOK_SERVICE}-ca`, namespace: CM_NS },
            }),
        );
        const ca = Buffer.from(caSecret.data["ca.crt"], "base64");
        const servername = `${WEBHOOK_SERVICE}.${CM_NS}.svc`;
        const post = (body: string) =>
            request({
                host: "127.0.0.1",
                port: WEBHOOK_PORT,
                path: "/validate",
                method: "POST",
                ca,
                servername,
                headers: { "Content-Type": "application/json" },
                body,
            });

        // The serving certificate may lag the CA by a moment: retry the handshake (bounded).
        const allowed = await pollAlive(`a verified TLS answer on 127.0.0.1:${WEBHOOK_PORT}`, 60, async () => {
            alive(webhook);
            return await post(
                admissionReview("11111111-1111-1111-1111-111111111111", certificate("fine", "fine-tls", [HOST])),
            );
        });
        assert.ok(allowed.authorized, "the serving certificate verifies against the CA Secret's ca.crt");
        assert.match(allowed.peer?.subjectAltName ?? "", new RegExp(`DNS:${servername.replace(/\./g, "\\.")}`));
        assert.ok(allowed.peer?.checkIssued(new X509Certificate(ca)));
        assert.equal(allowed.status, 200);
        const ok = JSON.parse(allowed.body).response;
        assert.equal(ok.uid, "11111111-1111-1111-1111-111111111111");
        assert.equal(ok.allowed, true, allowed.body);

        const denied = await post(
            admissionReview("22222222-2222-2222-2222-222222222222", {
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: { name: "broken", namespace: NS },
                spec: { secretName: "broken-tls", issuerRef: { name: "selfsigned" } },
            }),
        );
        const no = JSON.parse(denied.body).response;
        assert.equal(no.allowed, false, denied.body);
        assert.match(no.status?.message ?? "", /at least one of commonName.*dnsNames|dnsNames/i);
        console.log(
            `    webhook: ${allowed.peer?.subjectAltName}; denied a Certificate without names: ${no.status.message}`,
        );
    });
});
