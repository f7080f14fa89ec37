/**
 * The lab's artifact server (lab/cluster/artifacts.ts): Istio's and cert-manager's charts as Helm
 * repositories and the Gateway API's standard CRDs in its releases' layout, served from 127.0.0.1.
 * The shipped stacks, pointed at it through their mirror settings, pass the package's validation;
 * the real Helm CLI adds the repositories, pulls a chart and renders every release the stacks'
 * plans hold from the URL, version and values of that release; and each CRD file a plan names
 * is served with the Gateway API release the plan asks for.
 *
 * Runs when ISTIO_STICKY_CLUSTER is set (the cold build, Helm included, takes about 5 minutes on
 * two cores with empty Go caches):
 *   ISTIO_STICKY_CLUSTER=1 npx mocha --node-option import=tsx --timeout 3600000 --exit lab/tests/cluster/artifacts.test.ts
 */
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";
import { buildPlan, type Plan, parseStackConfig } from "istio-sticky";
import { CERT_MANAGER_TYPE, HELM_RELEASE_TYPE, MANIFEST_FILE_TYPE, gatewayApiVersionFor } from "istio-sticky/plan";
import {
    ensureArtifacts,
    ensureHelm,
    helmEnv,
    serveArtifacts,
    type ArtifactServer,
    type Artifacts,
    type Helm,
} from "../../cluster/artifacts";
import { PROJECT_DIR } from "../../build";

const REPO = PROJECT_DIR;
const STACKS = ["dev", "staging", "prod", "ambient"] as const;

interface K8sDoc {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
    spec?: any;
}

/** The stack's config file, pointed at the server, at the Istio release served. */
function stackConfig(stack: string, server: ArtifactServer, istio: string): Record<string, unknown> {
    const config = (
        parse(fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as {
            config: Record<string, any>;
        }
    ).config;
    const mesh = config["istio-sticky:mesh"] ?? {};
    config["istio-sticky:mesh"] = {
        ...mesh,
        version: istio,
        chartRepository: server.istioChartRepository,
        gatewayApiCrdsRepository: server.gatewayApiCrdsRepository,
    };
    if (config["istio-sticky:tls"])
        config["istio-sticky:tls"] = {
            ...config["istio-sticky:tls"],
            chartRepository: server.certManagerChartRepository,
        };
    return config;
}

/** A Helm release of a plan: what the Kubernetes provider is given. */
interface PlannedRelease {
    stack: string;
    name: string;
    namespace: string;
    chart: string;
    repo: string;
    version: string;
    values: Record<string, unknown>;
}

function releasesOf(stack: string, plan: Plan): PlannedRelease[] {
    return plan.objects.flatMap(({ object: o }): PlannedRelease[] => {
        if (o.apiVersion === HELM_RELEASE_TYPE.apiVersion && o.kind === HELM_RELEASE_TYPE.kind) {
            const s = o.spec as { chart: string; repo: string; version: string; values: Record<string, unknown> };
            return [{ stack, name: o.metadata.name, namespace: o.metadata.namespace!, ...s }];
        }
        if (o.apiVersion === CERT_MANAGER_TYPE.apiVersion && o.kind === CERT_MANAGER_TYPE.kind) {
            const h = (o.spec as { helmOptions: any }).helmOptions;
            return [
                {
                    stack,
                    name: h.name,
                    namespace: h.namespace,
                    chart: h.chart,
                    repo: h.repositoryOpts.repo,
                    version: h.version,
                    values: h.values,
                },
            ];
        }
        return [];
    });
}

describe("lab artifact server (Istio's and cert-manager's charts, the Gateway API's CRDs, on 127.0.0.1)", function () {
    this.timeout(60 * 60_000);
    let helm: Helm;
    let artifacts: Artifacts;
    let server: ArtifactServer;
    let tmp: string;
    let env: NodeJS.ProcessEnv;
    const plans = new Map<string, Plan>();

    /** Runs helm without blocking: the server answering it is in this process. */
    const run = (args: string[]) =>
        new Promise<{ code: number | null; stdout: string; stderr: string; detail: string }>((resolve, reject) => {
            execFile(
                helm.helm,
                args,
                { env, encoding: "utf8", timeout: 10 * 60_000, maxBuffer: 256 * 1024 * 1024 },
                (err, stdout, stderr) => {
                    const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
                    if (err && code === null) return reject(err);
                    resolve({
                        code,
                        stdout,
                        stderr,
                        detail: `\n--- helm ${args.join(" ")} ---\n${stderr}\n${stdout.slice(-4000)}`,
                    });
                },
            );
        });

    before(async function () {
        if (!process.env.ISTIO_STICKY_CLUSTER) {
            console.log(
                "    skipped: set ISTIO_STICKY_CLUSTER=1 to build (cold: about 5 minutes) and serve the lab's charts and CRDs",
            );
            this.skip();
        }
        artifacts = ensureArtifacts();
        helm = ensureHelm();
        const warmStarted = performance.now();
        const warm = ensureArtifacts();
        const warmSeconds = (performance.now() - warmStarted) / 1000;
        assert.equal(warm.dir, artifacts.dir);
        assert.ok(warm.cached);
        const v = artifacts.versions;
        console.log(
            `    artifacts: helm ${v.helm}, Istio ${v.istio.release} (istio.io/istio ${v.istio.module}), cert-manager ${v.certManager}, ` +
                `Gateway API ${v.gatewayApi.join(", ")}, ${v.go}`,
        );
        console.log(
            `    ${artifacts.cached ? "cold build not measured (cached)" : `cold build ${artifacts.seconds.toFixed(1)} s (helm ${helm.cached ? "cached" : "built"})`}, ` +
                `warm ${warmSeconds.toFixed(2)} s, in ${artifacts.dir}`,
        );
        server = await serveArtifacts(artifacts.dir);
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-artifacts-"));
        env = helmEnv(path.join(tmp, "helm"));
        delete env.KUBECONFIG;
    });

    after(async function () {
        if (server) {
            await server.close();
            console.log(`    the server answered ${server.requests().length} requests`);
        }
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the helm built reports its release; the folder holds the charts, their indexes and the CRD files", async function () {
        assert.equal((await run(["version", "--template", "{{.Version}}"])).stdout.trim(), helm.version);
        const files = (dir: string) => fs.readdirSync(dir).sort();
        const istio = artifacts.versions.istio.release;
        assert.deepEqual(files(artifacts.istioCharts), [
            `base-${istio}.tgz`,
            `cni-${istio}.tgz`,
            `gateway-${istio}.tgz`,
            "index.yaml",
            `istiod-${istio}.tgz`,
            `ztunnel-${istio}.tgz`,
        ]);
        assert.deepEqual(files(artifacts.certManagerCharts), [
            `cert-manager-${artifacts.versions.certManager}.tgz`,
            "index.yaml",
        ]);
        for (const v of artifacts.versions.gatewayApi)
            assert.ok(fs.statSync(path.join(artifacts.gatewayApi, v, "standard-install.yaml")).size > 100_000);
        // The index names the charts relative to the repository, so it works from whatever port serves it.
        const index = parse(fs.readFileSync(path.join(artifacts.istioCharts, "index.yaml"), "utf8")) as {
            entries: Record<string, any[]>;
        };
        assert.deepEqual(Object.keys(index.entries).sort(), ["base", "cni", "gateway", "istiod", "ztunnel"]);
        for (const [name, [entry]] of Object.entries(index.entries)) {
            assert.deepEqual([entry.version, entry.appVersion, entry.urls], [istio, istio, [`${name}-${istio}.tgz`]]);
        }
    });

    it("the shipped stacks, pointed at the server (http:// on loopback), pass the package's validation", function () {
        for (const stack of STACKS) {
            const settings = parseStackConfig(stackConfig(stack, server, artifacts.versions.istio.release)).value;
            assert.equal(settings.mesh.chartRepository, server.istioChartRepository);
            assert.equal(settings.mesh.gatewayApiCrdsRepository, server.gatewayApiCrdsRepository);
            if (settings.tls.enabled) {
                assert.equal(settings.tls.chartRepository, server.certManagerChartRepository);
                assert.equal(
                    settings.tls.certManagerVersion,
                    artifacts.versions.certManager,
                    `${stack}: the cert-manager version the stack asks for is served`,
                );
            }
            assert.ok(artifacts.versions.gatewayApi.includes(gatewayApiVersionFor(settings.mesh.version)));
            plans.set(stack, buildPlan(settings, { demoAppSource: "" }));
        }
        // The server's own address, not loopback in general, is what the settings were given.
        assert.match(server.istioChartRepository, /^http:\/\/127\.0\.0\.1:\d+\/charts\/istio$/);
    });

    it("helm repo add, search and pull: the charts come from the server, at the digest its index gives", async function () {
        const istio = artifacts.versions.istio.release;
        let r = await run(["repo", "add", "istio", server.istioChartRepository]);
        assert.equal(r.code, 0, r.detail);
        r = await run(["repo", "add", "jetstack", server.certManagerChartRepository]);
        assert.equal(r.code, 0, r.detail);
        r = await run(["search", "repo", "--versions", "-o", "json", "istio/"]);
        assert.equal(r.code, 0, r.detail);
        const found = (JSON.parse(r.stdout) as { name: string; version: string; app_version: string }[]).map(
            (c) => `${c.name} ${c.version} ${c.app_version}`,
        );
        assert.deepEqual(
            found.sort(),
            ["base", "cni", "gateway", "istiod", "ztunnel"].map((c) => `istio/${c} ${istio} ${istio}`),
        );

        const dest = path.join(tmp, "pulled");
        fs.mkdirSync(dest);
        r = await run(["pull", "istio/istiod", "--version", istio, "--destination", dest]);
        assert.equal(r.code, 0, r.detail);
        const pulled = fs.readFileSync(path.join(dest, `istiod-${istio}.tgz`));
        assert.ok(pulled.equals(fs.readFileSync(path.join(artifacts.istioCharts, `istiod-${istio}.tgz`))));
        r = await run([
            "pull",
            "jetstack/cert-manager",
            "--version",
            artifacts.versions.certManager,
            "--destination",
            dest,
        ]);
        assert.equal(r.code, 0, r.detail);
        const requests = server.requests();
        for (const want of [
            "GET /charts/istio/index.yaml 200",
            `GET /charts/istio/istiod-${istio}.tgz 200`,
            "GET /charts/cert-manager/index.yaml 200",
            `GET /charts/cert-manager/cert-manager-${artifacts.versions.certManager}.tgz 200`,
        ]) {
            assert.ok(requests.includes(want), `${want} in\n${requests.join("\n")}`);
        }
    });

    it("every release of the stacks' plans renders with helm template from its repository URL, version and values", async function () {
        const releases = [...plans].flatMap(([stack, plan]) => releasesOf(stack, plan));
        const charts = new Set(releases.map((r) => r.chart));
        assert.deepEqual([...charts].sort(), ["base", "cert-manager", "cni", "gateway", "istiod", "ztunnel"]);
        const istio = artifacts.versions.istio.release;
        for (const rel of releases) {
            const values = path.join(tmp, `${rel.stack}-${rel.name}.json`);
            fs.writeFileSync(values, JSON.stringify(rel.values));
            // As the provider's embedded Helm is given it: the repository URL and the chart's name, no `helm repo add`.
            const args = [
                "template",
                rel.name,
                rel.chart,
                "--repo",
                rel.repo,
                "--version",
                rel.version,
                "--namespace",
                rel.namespace,
                "-f",
                values,
            ];
            const r = await run(args);
            assert.equal(r.code, 0, `${rel.stack}: ${r.detail}`);
            const docs = parseAllDocuments(r.stdout)
                .map((d) => d.toJS() as K8sDoc | null)
                .filter((d): d is K8sDoc => !!d && typeof d === "object");
            const named = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
            const has = (kind: string, name: string) =>
                assert.ok(named(kind, name), `${rel.stack} ${rel.chart}: ${kind} ${name} rendered`);
            // Istio's ambient profile (files/profile-ambient.yaml of each chart) picks the distroless images.
            const tag = rel.values.profile === "ambient" ? `${istio}-distroless` : istio;
            const containerImages = (kind: string, name: string) =>
                (named(kind, name)?.spec?.template?.spec?.containers ?? []).map(
                    (c: { image: string }) => c.image,
                ) as string[];
            switch (rel.chart) {
                case "base":
                    has("CustomResourceDefinition", "virtualservices.networking.istio.io");
                    has("CustomResourceDefinition", "destinationrules.networking.istio.io");
                    break;
                case "istiod":
                    has("Deployment", "istiod");
                    has("MutatingWebhookConfiguration", "istio-sidecar-injector");
                    assert.deepEqual(containerImages("Deployment", "istiod"), [`docker.io/istio/pilot:${tag}`]);
                    break;
                case "gateway": {
                    has("Deployment", rel.name);
                    has("Service", rel.name);
                    const type = (rel.values.service as { type: string }).type;
                    assert.equal(
                        named("Service", rel.name)!.spec.type,
                        type,
                        `${rel.stack}: the gateway Service is a ${type}`,
                    );
                    break;
                }
                case "cni":
                    has("DaemonSet", "istio-cni-node");
                    assert.deepEqual(containerImages("DaemonSet", "istio-cni-node"), [
                        `docker.io/istio/install-cni:${tag}`,
                    ]);
                    break;
                case "ztunnel":
                    has("DaemonSet", "ztunnel");
                    assert.deepEqual(containerImages("DaemonSet", "ztunnel"), [`docker.io/istio/ztunnel:${tag}`]);
                    break;
                case "cert-manager": {
                    const cm = artifacts.versions.certManager;
                    for (const [d, image] of [
                        ["cert-manager", "cert-manager-controller"],
                        ["cert-manager-cainjector", "cert-manager-cainjector"],
                        ["cert-manager-webhook", "cert-manager-webhook"],
                    ]) {
                        has("Deployment", d);
                        assert.deepEqual(containerImages("Deployment", d), [`quay.io/jetstack/${image}:${cm}`]);
                    }
                    const crds = docs.filter((d) => d.kind === "CustomResourceDefinition");
                    assert.deepEqual(
                        crds.map((c) => c.metadata.name).sort(),
                        [
                            "certificaterequests.cert-manager.io",
                            "certificates.cert-manager.io",
                            "challenges.acme.cert-manager.io",
                            "clusterissuers.cert-manager.io",
                            "issuers.cert-manager.io",
                            "orders.acme.cert-manager.io",
                        ],
                        `${rel.stack}: crds.enabled renders cert-manager's CRDs`,
                    );
                    for (const c of crds)
                        assert.equal(
                            c.metadata.annotations?.["helm.sh/resource-policy"],
                            "keep",
                            `${c.metadata.name} kept (crds.keep)`,
                        );
                    break;
                }
                default:
                    assert.fail(`${rel.stack}: unexpected chart ${rel.chart}`);
            }
        }
        console.log(
            `    rendered ${releases.length} releases of ${plans.size} stacks (${[...charts].sort().join(", ")})`,
        );
    });

    it("each Gateway API CRD file a plan names is served, with the HTTPRoute CRD of that release", async function () {
        const urls = new Set<string>();
        for (const plan of plans.values()) {
            for (const { object: o } of plan.objects) {
                if (o.apiVersion === MANIFEST_FILE_TYPE.apiVersion && o.kind === MANIFEST_FILE_TYPE.kind)
                    urls.add((o.spec as { url: string }).url);
            }
        }
        // Istio 1.30's release, which no shipped stack installs, is served too.
        urls.add(`${server.gatewayApiCrdsRepository}/v1.5.1/standard-install.yaml`);
        assert.ok(urls.has(`${server.gatewayApiCrdsRepository}/v1.6.3/standard-install.yaml`), [...urls].join(", "));
        for (const url of urls) {
            const version = /\/(v\d+\.\d+\.\d+)\/standard-install\.yaml$/.exec(url)![1];
            const res = await fetch(url);
            assert.equal(res.status, 200, url);
            const docs = parseAllDocuments(await res.text())
                .map((d) => d.toJS() as K8sDoc | null)
                .filter((d): d is K8sDoc => !!d);
            const crds = docs.filter((d) => d.kind === "CustomResourceDefinition");
            const httpRoute = crds.find((d) => d.metadata.name === "httproutes.gateway.networking.k8s.io");
            assert.ok(httpRoute, `${url}: the HTTPRoute CRD`);
            assert.equal(httpRoute.metadata.annotations?.["gateway.networking.k8s.io/bundle-version"], version);
            assert.equal(httpRoute.metadata.annotations?.["gateway.networking.k8s.io/channel"], "standard");
            for (const c of crds)
                assert.equal(
                    c.metadata.annotations?.["gateway.networking.k8s.io/bundle-version"],
                    version,
                    c.metadata.name,
                );
            // The same CRDs as the release's config/crd/standard, where a copy of it is on this machine.
            const shared = path.join(REPO, "..", "shared", "charts", `gateway-api-${version}`);
            if (fs.existsSync(shared)) {
                const expected = fs
                    .readdirSync(shared)
                    .filter((f) => f.endsWith(".yaml"))
                    .sort()
                    .flatMap((f) =>
                        parseAllDocuments(fs.readFileSync(path.join(shared, f), "utf8")).map((d) => d.toJS()),
                    )
                    .filter(Boolean);
                assert.deepEqual(docs, expected, `${url}: the documents of ${shared}`);
            }
            console.log(`    ${version}: ${crds.length} CRDs (${docs.length - crds.length} other documents)`);
        }
    });

    it("a version the repository does not hold fails with Helm's not-found message; other paths and methods are refused", async function () {
        let r = await run(["pull", "istio/istiod", "--version", "1.31.9", "--destination", path.join(tmp, "none")]);
        assert.notEqual(r.code, 0, r.detail);
        assert.match(r.stderr, /chart "istiod" matching 1\.31\.9 not found in istio index/, r.detail);
        r = await run(["template", "istiod", "istiod", "--repo", server.istioChartRepository, "--version", "1.31.9"]);
        assert.notEqual(r.code, 0, r.detail);
        assert.ok(
            r.stderr.includes(`chart "istiod" version "1.31.9" not found in ${server.istioChartRepository} repository`),
            r.detail,
        );

        const status = async (p: string, method = "GET") => (await fetch(`${server.url}${p}`, { method })).status;
        assert.equal(await status("/charts/istio/istiod-1.31.9.tgz"), 404);
        assert.equal(await status("/charts/istio/"), 404);
        // A path never leaves the folder: this one is <folder>/etc/hostname, which does not exist.
        assert.equal(await status("/charts/%2e%2e/%2e%2e/%2e%2e/etc/hostname"), 404);
        assert.equal(await status("/versions.json", "HEAD"), 200);
        assert.equal(await status("/charts/istio/index.yaml", "POST"), 405);
        assert.ok(server.requests().includes("POST /charts/istio/index.yaml 405"));
    });
});
