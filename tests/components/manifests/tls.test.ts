import { strict as assert } from "assert";
import {
    buildCertManager,
    buildClusterIssuer,
    buildGatewayCertificate,
    GATEWAY_TLS_SECRET,
} from "../../../components/manifests/tls";
import { buildSharedGateway, meshForStack } from "../../../components/plan/stack";
import { buildMeshReleases } from "../../../components/manifests/releases";
import { parseStackConfig } from "istio-sticky";

const stackOf = (tls: Record<string, unknown>, mesh: Record<string, unknown> = {}) =>
    parseStackConfig({ "istio-sticky:apps": [{ name: "web" }], "istio-sticky:tls": tls, "istio-sticky:mesh": mesh })
        .value;
const selfSigned = stackOf({ enabled: true, hosts: ["web.test"] });
const acme = stackOf({ enabled: true, issuer: "acme", hosts: ["web.example.com"], acme: { email: "ops@example.com" } });

describe("objects/tls", () => {
    it("installs cert-manager through its Pulumi component, every Helm option pinned: chart, version, repository, CRDs, rollback, history", () => {
        assert.deepEqual(buildCertManager(selfSigned.tls), {
            apiVersion: "render.istio-sticky/v1",
            kind: "CertManager",
            metadata: { name: "cert-manager", namespace: "cert-manager" },
            spec: {
                helmOptions: {
                    name: "cert-manager",
                    namespace: "cert-manager",
                    // cert-manager's recommended home: its OCI registry (published first; charts.jetstack.io is the legacy repository).
                    chart: "oci://quay.io/jetstack/charts/cert-manager",
                    version: "v1.21.2",
                    // installCRDs is deprecated (and not sent); the CRDs stay when the release goes (deleting them deletes every Certificate).
                    values: { crds: { enabled: true, keep: true } },
                    atomic: true,
                    cleanupOnFail: true,
                    timeout: 600,
                    maxHistory: 10,
                },
            },
        });
        const legacy = buildCertManager(
            stackOf({ enabled: true, hosts: ["web.test"], chartRepository: "https://charts.jetstack.io" }).tls,
        ).spec.helmOptions;
        assert.deepEqual(
            [legacy.chart, legacy.repositoryOpts],
            ["cert-manager", { repo: "https://charts.jetstack.io" }],
        );
    });
    it("issues self-signed certificates, or ACME through the Istio ingress class", () => {
        assert.deepEqual(buildClusterIssuer(selfSigned.tls).spec, { selfSigned: {} });
        assert.deepEqual(buildClusterIssuer(acme.tls).spec.acme, {
            email: "ops@example.com",
            server: "https://acme-v02.api.letsencrypt.org/directory",
            privateKeySecretRef: { name: "istio-sticky-acme-account" },
            // The ingress.class annotation, which istiod matches against meshConfig.ingressClass: no Istio
            // chart creates the IngressClass object an ingressClassName would need.
            solvers: [{ http01: { ingress: { class: "istio" } } }],
        });
    });
    it("puts the certificate in the gateway's namespace, its Secret named as the Gateway's credentialName", () => {
        const cert = buildGatewayCertificate(acme.tls, "edge");
        assert.deepEqual(
            [cert.metadata.namespace, cert.spec.secretName, cert.spec.dnsNames, cert.spec.issuerRef],
            [
                "edge",
                GATEWAY_TLS_SECRET,
                ["web.example.com"],
                { name: "istio-sticky-acme", kind: "ClusterIssuer", group: "cert-manager.io" },
            ],
        );
        const [http, https] = buildSharedGateway(selfSigned.mesh, selfSigned.tls).spec.servers;
        assert.deepEqual(http, {
            port: { number: 80, name: "http", protocol: "HTTP" },
            hosts: ["*"],
            tls: { httpsRedirect: true },
        });
        assert.deepEqual(https, {
            port: { number: 443, name: "https", protocol: "HTTPS" },
            hosts: ["web.test"],
            tls: { mode: "SIMPLE", credentialName: GATEWAY_TLS_SECRET },
        });
        assert.equal(
            buildSharedGateway(acme.mesh, acme.tls).spec.servers[0].tls,
            undefined,
            "no redirect with ACME: HTTP-01 answers on port 80",
        );
        assert.equal(buildSharedGateway(stackOf({}).mesh, stackOf({}).tls).spec.servers.length, 1);
    });
    it("makes the gateway istiod's ingress controller for ACME, and touches nothing otherwise", () => {
        const istiod = buildMeshReleases(meshForStack(acme), { persistentSessions: false }).istiod.values;
        assert.deepEqual(istiod.meshConfig, {
            ingressClass: "istio",
            ingressControllerMode: "STRICT",
            ingressService: "istio-ingressgateway",
            ingressSelector: "ingressgateway",
            accessLogFile: "/dev/stdout",
        });
        // istiod looks meshConfig.ingressService up in K8S_INGRESS_NS (default istio-system), not the gateway's namespace.
        assert.deepEqual(istiod.env, { K8S_INGRESS_NS: "istio-ingress" });
        assert.deepEqual(meshForStack(selfSigned), selfSigned.mesh);
    });
});
