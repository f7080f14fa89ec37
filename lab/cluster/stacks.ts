/**
 * The shipped stacks (stacks/Pulumi.<stack>.yaml) through the harness's scenario, installing Istio
 * and cert-manager with Helm as a user's `pulumi up` does: the charts come from the loopback
 * artifact server (lab/cluster/artifacts.ts) through the stacks' own mirror settings, and the
 * real istiod and cert-manager run for their pods (lab/cluster/podProcesses.ts), so the API
 * server's calls to their webhooks (injection, validation) are answered by the real programs.
 *
 * What the stack file says is kept; only where the artifacts come from is changed, and the Istio
 * version, to the release whose charts and istiod are built here (the Go module proxy serves
 * istio.io/istio at 1.31.0, not at the default 1.31.1).
 */
import { execFileSync } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";
import { PROJECT_DIR } from "../build";
import type { K8sObject, Plan } from "istio-sticky";
import { helmEnv, type ArtifactServer } from "./artifacts";
import type { ClusterHandle, Scenario } from "./harness";
import { RENDER_ONLY } from "./checks";
import { getObject, kubectl } from "./kubectl";

/** The shipped stacks the harness runs. (prod asks Let's Encrypt for a certificate: it needs the internet.) */
export const SHIPPED_STACKS = ["dev", "staging", "ambient"] as const;
export type ShippedStack = (typeof SHIPPED_STACKS)[number];

/** The app the edit adds: a query-parameter hash, in a namespace of its own. */
export const ADDED_APP = { name: "added", affinity: { mode: "queryParameter", queryParameterName: "u" } };

/** The config of stacks/Pulumi.<stack>.yaml, keys as in the file. */
export function shippedConfig(stack: string): Record<string, unknown> {
    return parse(fs.readFileSync(path.join(PROJECT_DIR, "stacks", `Pulumi.${stack}.yaml`), "utf8")).config as Record<
        string,
        unknown
    >;
}

/** The stack's config with its artifacts from the artifact server and the Istio release built here. */
export function mirroredConfig(
    config: Record<string, unknown>,
    served: ArtifactServer,
    istioRelease: string,
): Record<string, unknown> {
    const mesh = (config["istio-sticky:mesh"] ?? {}) as Record<string, unknown>;
    const tls = config["istio-sticky:tls"] as Record<string, unknown> | undefined;
    return {
        ...config,
        "istio-sticky:mesh": {
            ...mesh,
            version: istioRelease,
            chartRepository: served.istioChartRepository,
            gatewayApiCrdsRepository: served.gatewayApiCrdsRepository,
        },
        ...(tls ? { "istio-sticky:tls": { ...tls, chartRepository: served.certManagerChartRepository } } : {}),
    };
}

const rendered = (plan: Plan, kind: string) =>
    plan.objects.filter((o) => o.object.apiVersion === RENDER_ONLY && o.object.kind === kind).map((o) => o.object);
const live = (plan: Plan, kind: string) =>
    plan.objects
        .filter((o) => o.object.apiVersion !== RENDER_ONLY && !o.patch && o.object.kind === kind)
        .map((o) => o.object);

/** The Helm releases a plan installs: Istio's charts, and cert-manager's through its component. */
function plannedReleases(plan: Plan): { name: string; namespace: string; chart: string; version: string }[] {
    const istio = rendered(plan, "HelmRelease").map((r) => ({
        name: r.metadata.name,
        namespace: r.metadata.namespace!,
        chart: String(r.spec.chart).split("/").at(-1)!,
        version: String(r.spec.version),
    }));
    const certManager = rendered(plan, "CertManager").map((c) => ({
        name: c.spec.helmOptions.name,
        namespace: c.spec.helmOptions.namespace,
        chart: "cert-manager",
        version: String(c.spec.helmOptions.version),
    }));
    return [...istio, ...certManager];
}

/** `helm list -A` in the cluster, with a Helm home of its own. */
function helmReleases(
    cluster: ClusterHandle,
    helm: string,
): { name: string; namespace: string; status: string; chart: string }[] {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-helm-"));
    try {
        const out = execFileSync(helm, ["list", "-A", "-a", "-o", "json", "--kubeconfig", cluster.kubeconfig], {
            encoding: "utf8",
            env: helmEnv(home),
            timeout: 60_000,
        });
        return JSON.parse(out || "[]");
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
}

/** Problems: a planned release not deployed at its chart version. */
function releasesDeployed(cluster: ClusterHandle, plan: Plan, helm: string): string[] {
    const have = helmReleases(cluster, helm);
    return plannedReleases(plan).flatMap((want) => {
        const r = have.find((h) => h.name === want.name && h.namespace === want.namespace);
        if (!r)
            return [
                `release ${want.namespace}/${want.name} is not installed (helm list: ${have.map((h) => `${h.namespace}/${h.name}`).join(", ")})`,
            ];
        const problems: string[] = [];
        if (r.status !== "deployed") problems.push(`release ${want.namespace}/${want.name} is ${r.status}`);
        if (r.chart !== `${want.chart}-${want.version}`)
            problems.push(
                `release ${want.namespace}/${want.name} runs chart ${r.chart}, not ${want.chart}-${want.version}`,
            );
        return problems;
    });
}

const hasProxy = (pod: any) =>
    [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c: any) => c.name === "istio-proxy");

/** The pods a selector picks, as the API server holds them. */
function podsOf(cluster: ClusterHandle, namespace: string, labels: Record<string, string>): any[] {
    const selector = Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    return JSON.parse(kubectl(cluster, ["get", "pods", "-n", namespace, "-l", selector, "-o", "json"])).items;
}

/**
 * Problems: an app's pods without the sidecar their namespace asks for (istio-injection or a
 * revision label), or with one on ambient; the gateway's pods without the proxy the gateway
 * template injects. Each app must have its pods.
 */
function injectedAsPlanned(cluster: ClusterHandle, plan: Plan): string[] {
    const namespaces = new Map(live(plan, "Namespace").map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
    const problems: string[] = [];
    for (const d of live(plan, "Deployment")) {
        const ns = d.metadata.namespace!;
        const labels =
            namespaces.get(ns) ??
            getObject(cluster, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })?.metadata?.labels ??
            {};
        const sidecar = labels["istio-injection"] === "enabled" || labels["istio.io/rev"] !== undefined;
        const pods = podsOf(cluster, ns, d.spec.selector.matchLabels);
        if (pods.length === 0) problems.push(`Deployment ${ns}/${d.metadata.name} has no pods`);
        for (const p of pods) {
            if (hasProxy(p) !== sidecar)
                problems.push(
                    `pod ${ns}/${p.metadata.name} ${sidecar ? "has no" : "has an"} istio-proxy (namespace labels ${JSON.stringify(labels)})`,
                );
        }
    }
    const gateway = rendered(plan, "HelmRelease").find((r) => String(r.spec.chart).endsWith("gateway"));
    if (gateway) {
        const pods = podsOf(cluster, gateway.metadata.namespace!, gateway.spec.values.labels);
        if (pods.length === 0) problems.push("the gateway has no pods");
        for (const p of pods.filter((x) => !hasProxy(x)))
            problems.push(
                `gateway pod ${p.metadata.namespace}/${p.metadata.name} has no istio-proxy: the gateway template was not injected`,
            );
    }
    return problems;
}

/** Problems: a planned Certificate whose Secret cert-manager has not written, or whose certificate does not name its hosts. */
function certificatesIssued(cluster: ClusterHandle, plan: Plan): string[] {
    return live(plan, "Certificate").flatMap((c: K8sObject) => {
        const ns = c.metadata.namespace!;
        const secret = getObject(cluster, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: c.spec.secretName, namespace: ns },
        });
        if (!secret?.data?.["tls.crt"])
            return [`Certificate ${ns}/${c.metadata.name}: no Secret ${c.spec.secretName} with tls.crt`];
        const cert = new X509Certificate(Buffer.from(secret.data["tls.crt"], "base64"));
        const names = (cert.subjectAltName ?? "").split(", ").map((n) => n.replace(/^DNS:/, ""));
        const missing = (c.spec.dnsNames as string[]).filter((h) => !names.includes(h));
        const ready = getObject(cluster, c)?.status?.conditions?.find((x: any) => x.type === "Ready")?.status;
        return [
            ...(missing.length
                ? [
                      `Certificate ${ns}/${c.metadata.name}: the issued certificate names ${names.join(", ")}, not ${missing.join(", ")}`,
                  ]
                : []),
            ...(ready !== "True" ? [`Certificate ${ns}/${c.metadata.name} is not Ready (${ready})`] : []),
        ];
    });
}

/** Problems: a CRD of a planned manifest file (the Gateway API's standard-install.yaml) missing or of another bundle version. */
async function manifestCrdsInstalled(cluster: ClusterHandle, plan: Plan): Promise<string[]> {
    const problems: string[] = [];
    for (const m of rendered(plan, "ManifestFile")) {
        const text = await (await fetch(m.spec.url)).text();
        const crds = parseAllDocuments(text)
            .map((d) => d.toJS())
            .filter((d) => d?.kind === "CustomResourceDefinition");
        if (crds.length === 0) problems.push(`${m.spec.url} holds no CRD`);
        for (const crd of crds) {
            const have = getObject(cluster, {
                apiVersion: "apiextensions.k8s.io/v1",
                kind: "CustomResourceDefinition",
                metadata: { name: crd.metadata.name },
            });
            const bundle = "gateway.networking.k8s.io/bundle-version";
            if (!have) problems.push(`CRD ${crd.metadata.name} is not installed`);
            else if (have.metadata.annotations?.[bundle] !== crd.metadata.annotations?.[bundle])
                problems.push(
                    `CRD ${crd.metadata.name} is bundle ${have.metadata.annotations?.[bundle]}, not ${crd.metadata.annotations?.[bundle]}`,
                );
        }
    }
    return problems;
}

/** A shipped stack as a scenario, its artifacts from `served`; `helm` is the helm executable the checks list releases with. */
export function shippedScenario(
    stack: ShippedStack,
    served: ArtifactServer,
    istioRelease: string,
    helm: string,
): Scenario {
    const config = mirroredConfig(shippedConfig(stack), served, istioRelease);
    const apps = (config["istio-sticky:apps"] ?? []) as object[];
    return {
        stack,
        config,
        edited: { ...config, "istio-sticky:apps": [...apps, ADDED_APP] },
        addedApp: ADDED_APP.name,
        checks: {
            "the Helm releases are deployed, at the planned chart versions": (cluster, plan) =>
                releasesDeployed(cluster, plan, helm),
            "the manifests' CRDs are installed": manifestCrdsInstalled,
            "the real istiod injected sidecars where the namespaces ask for them, and the gateway's proxy":
                injectedAsPlanned,
            "cert-manager issued the planned certificates": certificatesIssued,
        },
        afterDestroy: (cluster) =>
            helmReleases(cluster, helm).map((r) => `release ${r.namespace}/${r.name} is still installed (${r.status})`),
    };
}
