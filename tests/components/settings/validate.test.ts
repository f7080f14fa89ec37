import { strict as assert } from "assert";
import { AffinityMode, HashAlgorithm } from "istio-sticky";
import {
    hostCovered,
    parseApp,
    parseStackConfig,
    SettingsError,
    APPS_KEY,
    MESH_KEY,
    TLS_KEY,
} from "../../../components/settings/validate";
import { DEFAULT_ISTIO_VERSION } from "../../../components/settings/versions";

function problemsOf(config: Record<string, unknown>): string[] {
    try {
        parseStackConfig(config);
    } catch (e) {
        assert.ok(e instanceof SettingsError, `expected a SettingsError, got ${e}`);
        return [...e.problems];
    }
    assert.fail("expected the config to be rejected");
}

const app = (affinity: unknown, extra: Record<string, unknown> = {}) => ({
    [APPS_KEY]: [{ name: "web", affinity, ...extra }],
});

/** Each bad input, and a piece of the message that must name the field and the reason. */
export const BAD_INPUTS: [string, Record<string, unknown>, RegExp][] = [
    [
        "unknown mode",
        app({ mode: "sticky" }),
        /apps\[0\]\.affinity\.mode: must be one of header, cookie, queryParameter, sourceIp, persistentCookie, persistentHeader, none \(got "sticky"\)/,
    ],
    [
        "a key of another mode",
        app({ mode: "header", headerName: "x-user", cookie: { name: "c" } }),
        /apps\[0\]\.affinity\.cookie: is not used by mode "header"/,
    ],
    [
        "query key with cookie mode",
        app({ mode: "cookie", cookie: { name: "c", ttl: "1s" }, queryParameterName: "u" }),
        /affinity\.queryParameterName: is not used by mode "cookie"/,
    ],
    [
        "hash algorithm on a persistent mode",
        app({ mode: "persistentHeader", headerName: "x-s", algorithm: "maglev" }),
        /affinity\.algorithm: is not used by mode "persistentHeader"/,
    ],
    [
        "any key on none",
        app({ mode: "none", headerName: "x-user" }),
        /affinity\.headerName: is not used by mode "none" \(it takes no other keys\)/,
    ],
    [
        "cookie without name",
        app({ mode: "cookie", cookie: { ttl: "60s" } }),
        /affinity\.cookie\.name: is required: a cookie name/,
    ],
    ["header mode without header", app({ mode: "header" }), /affinity\.headerName: is required by mode "header"/],
    [
        "TTL that is not a duration",
        app({ mode: "cookie", cookie: { name: "c", ttl: "60" } }),
        /affinity\.cookie\.ttl: must be a duration/,
    ],
    [
        "maglev size not prime",
        app({ mode: "header", headerName: "x-u", algorithm: "maglev", maglevTableSize: 65536 }),
        /affinity\.maglevTableSize: must be a prime number below 5000011/,
    ],
    [
        "maglev size too big",
        app({ mode: "header", headerName: "x-u", algorithm: "maglev", maglevTableSize: 5000011 }),
        /affinity\.maglevTableSize: must be a prime number below 5000011/,
    ],
    [
        "maglev size with ringHash",
        app({ mode: "header", headerName: "x-u", algorithm: "ringHash", maglevTableSize: 65537 }),
        /affinity\.maglevTableSize: belongs to algorithm "maglev", not "ringHash"/,
    ],
    [
        "ring size out of range",
        app({ mode: "sourceIp", algorithm: "ringHash", minimumRingSize: 0 }),
        /affinity\.minimumRingSize: must be a whole number from 1 to 8388608/,
    ],
    [
        "ring size too big",
        app({ mode: "sourceIp", minimumRingSize: 8388609 }),
        /affinity\.minimumRingSize: must be a whole number from 1 to 8388608/,
    ],
    [
        "ring size with maglev",
        app({ mode: "sourceIp", algorithm: "maglev", minimumRingSize: 1024 }),
        /affinity\.minimumRingSize: belongs to algorithm "ringHash"/,
    ],
    [
        "unknown algorithm",
        app({ mode: "sourceIp", algorithm: "random" }),
        /affinity\.algorithm: must be one of ringHash, maglev/,
    ],
    [
        "replicas below 1",
        app({ mode: "none" }, { replicas: 0 }),
        /apps\[0\]\.replicas: must be a whole number of at least 1/,
    ],
    ["replicas not whole", app({ mode: "none" }, { replicas: 1.5 }), /apps\[0\]\.replicas: must be a whole number/],
    ["name not a DNS label", { [APPS_KEY]: [{ name: "Web_App" }] }, /apps\[0\]\.name: must be a DNS-1123 label/],
    [
        "namespace not a DNS label",
        app({ mode: "none" }, { namespace: "my.ns" }),
        /apps\[0\]\.namespace: must be a DNS-1123 label/,
    ],
    [
        "header name with a space",
        app({ mode: "persistentHeader", headerName: "x user" }),
        /affinity\.headerName: must be an HTTP header name .*\(got "x user"\)$/,
    ],
    [
        "path without a leading slash",
        app({ mode: "none" }, { path: "web" }),
        /apps\[0\]\.path: must be a path starting with "\/"/,
    ],
    [
        "unknown stack config key",
        { [APPS_KEY]: [{ name: "web" }], "istio-sticky:appz": [] },
        /istio-sticky:appz: unknown config key \(allowed: istio-sticky:mesh, istio-sticky:apps, istio-sticky:tls\)/,
    ],
    [
        "unknown key inside an app",
        app({ mode: "none" }, { replica: 2 }),
        /apps\[0\]: unknown key "replica" \(allowed: name, namespace, replicas/,
    ],
    [
        "unknown key inside the mesh",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { verison: "1.30.5" } },
        /istio-sticky:mesh: unknown key "verison"/,
    ],
    [
        "two apps with the same name",
        { [APPS_KEY]: [{ name: "web" }, { name: "web", path: "/other" }] },
        /apps\[1\]\.name: "web" is already used by istio-sticky:apps\[0\]/,
    ],
    [
        "two apps with the same path",
        {
            [APPS_KEY]: [
                { name: "a", path: "/x" },
                { name: "b", path: "/x" },
            ],
        },
        /apps\[1\]\.path: "\/x" is already used by istio-sticky:apps\[0\]/,
    ],
    [
        "one path twice, neither told apart by a header",
        {
            [APPS_KEY]: [
                { name: "a", path: "/x" },
                { name: "b", path: "/x" },
            ],
        },
        /apps\[1\]\.path: "\/x" is already used by istio-sticky:apps\[0\]; give one of them a match/,
    ],
    ["no apps", { [APPS_KEY]: [] }, /istio-sticky:apps: must list at least one app/],
    ["apps missing", {}, /istio-sticky:apps: is required/],
    [
        "Istio 1.30.0",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { version: "1.30.0" } },
        /mesh\.version: 1\.30\.0 must not be used: .*istio\/istio#60312/,
    ],
    [
        "Istio 1.30.0 as a release candidate",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { version: "1.30.0-rc.1" } },
        /1\.30\.0-rc\.1 must not be used/,
    ],
    [
        "Istio 1.30 below its floor (a security advisory)",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { version: "1.30.4" } },
        /mesh\.version: Istio 1\.30\.4 is older than 1\.30\.5, the oldest 1\.30 patch .*GHSA-qm8v-g4f9-qhjx/,
    ],
    [
        "Istio past its end of life",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { version: "1.29.4" } },
        /mesh\.version: Istio 1\.29 is past its end of life \(2026-10-15\): this package supports 1\.30 and 1\.31/,
    ],
    [
        "Istio far too old",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { version: "1.22.3" } },
        /Istio 1\.22 is past its end of life: this package supports/,
    ],
    [
        "an Istio minor this package does not know yet",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { version: "1.32.0" } },
        /mesh\.version: Istio 1\.32 is newer than this package knows: this package supports 1\.30 and 1\.31/,
    ],
    [
        "Istio's retired chart bucket",
        {
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { chartRepository: "https://istio-release.storage.googleapis.com/charts" },
        },
        /mesh\.chartRepository: names istio-release\.storage\.googleapis\.com, which is retired: .*2026-12-08 15:00 UTC.*; use https:\/\/blob\.istio\.io\/istio-release\/charts instead/,
    ],
    [
        "the same bucket by its path-style URL",
        {
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { chartRepository: "https://storage.googleapis.com/istio-release/charts" },
        },
        /mesh\.chartRepository: names istio-release\.storage\.googleapis\.com, which is retired/,
    ],
    [
        "Istio's retired OCI charts on gcr.io",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { chartRepository: "oci://gcr.io/istio-release/charts" } },
        /mesh\.chartRepository: names gcr\.io\/istio-release, which is retired: .*; use oci:\/\/ghcr\.io\/istio\/release\/charts instead/,
    ],
    [
        "registry.istio.io as an OCI chart registry",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { chartRepository: "oci://registry.istio.io/release/charts" } },
        /mesh\.chartRepository: names registry\.istio\.io, which is retired: .*decommissions it.*; use oci:\/\/ghcr\.io\/istio\/release\/charts instead/,
    ],
    [
        "registry.istio.io as the image hub",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { hub: "registry.istio.io/release" } },
        /mesh\.hub: names registry\.istio\.io, which is retired: .*; use docker\.io\/istio instead/,
    ],
    [
        "a regional gcr.io hub",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { hub: "eu.gcr.io/istio-release" } },
        /mesh\.hub: names gcr\.io\/istio-release/,
    ],
    [
        "an image hub with a scheme",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { hub: "https://docker.io/istio" } },
        /mesh\.hub: must be an image registry path such as "docker\.io\/istio"/,
    ],
    [
        "a retired image among the Helm values",
        {
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { values: { istiod: { pilot: { image: "gcr.io/istio-release/pilot:1.31.1" } } } },
        },
        /mesh\.values\.istiod\.pilot\.image: "gcr\.io\/istio-release\/pilot:1\.31\.1" names gcr\.io\/istio-release, which is retired: .*; use images from docker\.io\/istio, charts from https:\/\/blob\.istio\.io\/istio-release\/charts instead/,
    ],
    [
        "the hub among istiod's values",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { values: { istiod: { global: { hub: "docker.io/istio" } } } } },
        /mesh\.values\.istiod\.global\.hub: is set by mesh\.hub; set it there/,
    ],
    [
        "ztunnel's tag among its values",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { dataplane: "ambient", values: { ztunnel: { tag: "1.31.0" } } } },
        /mesh\.values\.ztunnel\.tag: is set by mesh\.version; set it there/,
    ],
    [
        "a Gateway API CRD mirror over plain HTTP",
        {
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { gatewayApiCrdsRepository: "http://mirror.example.com/gateway-api" },
        },
        /mesh\.gatewayApiCrdsRepository: must be an https:\/\/ URL without a trailing slash \(http:\/\/ only on loopback\)/,
    ],
    [
        "a chart mirror over plain HTTP off loopback",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { chartRepository: "http://charts.example.com" } },
        /mesh\.chartRepository: must be an https:\/\/ Helm repository URL/,
    ],
    [
        "a cert-manager version without its v",
        {
            [APPS_KEY]: [{ name: "web" }],
            [TLS_KEY]: { enabled: true, hosts: ["w.example.com"], certManagerVersion: "1.21.2" },
        },
        /tls\.certManagerVersion: must be a cert-manager version such as "v1\.21\.2" \(got "1\.21\.2"\)$/m,
    ],
    [
        "cert-manager older than the one this package tests",
        {
            [APPS_KEY]: [{ name: "web" }],
            [TLS_KEY]: { enabled: true, hosts: ["w.example.com"], certManagerVersion: "v1.19.4" },
        },
        /tls\.certManagerVersion: must be v1\.21\.0 or newer: .*installCertManager: false/,
    ],
    [
        "bad gateway service type",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { gateway: { serviceType: "Ingress" } } },
        /mesh\.gateway\.serviceType: must be one of LoadBalancer, NodePort, ClusterIP/,
    ],
    [
        "Path as a cookie attribute",
        app({ mode: "cookie", cookie: { name: "c", ttl: "1s", attributes: [{ name: "Path", value: "/" }] } }),
        /cookie\.attributes\[0\]\.name: is set by the cookie's own field/,
    ],
    [
        "persistent cookie with a TTL",
        app({ mode: "persistentCookie", cookie: { name: "s", ttl: "60s" } }),
        /cookie\.ttl: cannot be set: Istio's persistent-session cookie is always a session cookie/,
    ],
    [
        "persistent cookie with a path",
        app({ mode: "persistentCookie", cookie: { name: "s", path: "/web" } }),
        /cookie\.path: must be "\/": Istio reads "<cookie>:<path>" from a Service label/,
    ],
    [
        "app port the sidecar uses",
        app({ mode: "none" }, { port: 15001 }),
        /apps\[0\]\.port: must not be one of the ports the Istio sidecar uses/,
    ],
    [
        "app in istio-system",
        app({ mode: "none" }, { namespace: "istio-system" }),
        /apps\[0\]\.namespace: "istio-system" is reserved/,
    ],
    [
        "app in the gateway namespace",
        app({ mode: "none" }, { namespace: "istio-ingress" }),
        /apps\[0\]\.namespace: "istio-ingress" is the gateway's namespace/,
    ],
    ["apps given as text", { [APPS_KEY]: "web" }, /istio-sticky:apps: must be a structured value/],
    [
        "direct routing without a pod CIDR",
        app({ mode: "none" }, { direct: { enabled: true } }),
        /apps\[0\]\.direct\.podCidr: is required when direct routing is enabled: .*open proxy/,
    ],
    [
        "a pod CIDR that is not one",
        app({ mode: "none" }, { direct: { enabled: true, podCidr: "10.244.0.0" } }),
        /direct\.podCidr: must be an IPv4 CIDR/,
    ],
    [
        "a pod CIDR wider than /8",
        app({ mode: "none" }, { direct: { enabled: true, podCidr: "0.0.0.0/0" } }),
        /direct\.podCidr: must be \/8 or narrower/,
    ],
    [
        "a pod CIDR with host bits",
        app({ mode: "none" }, { direct: { enabled: true, podCidr: "10.244.1.0/16" } }),
        /direct\.podCidr: must be a network address/,
    ],
    [
        "the original-destination header as opt-in",
        app(
            { mode: "none" },
            { direct: { enabled: true, podCidr: "10.0.0.0/8", header: "x-envoy-original-dst-host" } },
        ),
        /direct\.header: must differ from x-envoy-original-dst-host/,
    ],
    [
        "an unknown direct context",
        app({ mode: "none" }, { direct: { enabled: true, podCidr: "10.0.0.0/8", contexts: ["egress"] } }),
        /direct\.contexts\[0\]: must be one of gateway, sidecar/,
    ],
    ["an unknown direct key", app({ mode: "none" }, { direct: { enable: true } }), /direct: unknown key "enable"/],
    [
        "autoscaling min above max",
        app({ mode: "none" }, { autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
        /autoscaling\.minReplicas: must not exceed maxReplicas \(5 > 2\)/,
    ],
    [
        "autoscaling min below 1",
        app({ mode: "none" }, { autoscaling: { minReplicas: 0, maxReplicas: 2 } }),
        /autoscaling\.minReplicas: must be a whole number from 1 to 1000/,
    ],
    [
        "autoscaling CPU above 100 %",
        app({ mode: "none" }, { autoscaling: { minReplicas: 1, maxReplicas: 2, cpuUtilization: 101 } }),
        /autoscaling\.cpuUtilization: must be a percentage from 1 to 100/,
    ],
    [
        "autoscaling CPU at 0 %",
        app({ mode: "none" }, { autoscaling: { minReplicas: 1, maxReplicas: 2, cpuUtilization: 0 } }),
        /autoscaling\.cpuUtilization: must be a percentage from 1 to 100/,
    ],
    [
        "replicas next to autoscaling",
        app({ mode: "none" }, { replicas: 3, autoscaling: { minReplicas: 2, maxReplicas: 4 } }),
        /apps\[0\]\.replicas: must be left out when autoscaling is set/,
    ],
    [
        "a match without headers",
        app({ mode: "none" }, { match: { headers: {} } }),
        /match\.headers: must name at least one header/,
    ],
    [
        "a match on a header name with a colon",
        app({ mode: "none" }, { match: { headers: { "Tar:get": "a" } } }),
        /match\.headers\.Tar:get: must be an HTTP header name/,
    ],
    [
        "overlapping matches on one path",
        {
            [APPS_KEY]: [
                { name: "a", path: "/b", match: { headers: { target: "x" } } },
                { name: "b", path: "/b", match: { headers: { target: "x", user: "u" } } },
            ],
        },
        /apps\[1\]\.match: overlaps istio-sticky:apps\[0\]\.match on path "\/b"/,
    ],
    [
        "matches on different headers overlap",
        {
            [APPS_KEY]: [
                { name: "a", path: "/b", match: { headers: { target: "x" } } },
                { name: "b", path: "/b", match: { headers: { user: "u" } } },
            ],
        },
        /apps\[1\]\.match: overlaps/,
    ],
    [
        "two defaults on one path",
        {
            [APPS_KEY]: [
                { name: "a", path: "/b" },
                { name: "c", path: "/b", match: { headers: { t: "1" } } },
                { name: "d", path: "/b" },
            ],
        },
        /apps\[2\]\.path: "\/b" is already used by istio-sticky:apps\[0\]; give one of them a match/,
    ],
    [
        "TLS on with no hosts",
        { [APPS_KEY]: [{ name: "web" }], [TLS_KEY]: { enabled: true } },
        /istio-sticky:tls\.hosts: must list at least one host when TLS is enabled/,
    ],
    [
        "an invalid TLS host",
        { [APPS_KEY]: [{ name: "web" }], [TLS_KEY]: { enabled: true, hosts: ["Shop_1"] } },
        /istio-sticky:tls\.hosts\[0\]: must be a DNS host name/,
    ],
    [
        "an invalid ACME email",
        {
            [APPS_KEY]: [{ name: "web" }],
            [TLS_KEY]: { enabled: true, issuer: "acme", hosts: ["a.example.com"], acme: { email: "ops" } },
        },
        /istio-sticky:tls\.acme\.email: must be an email address/,
    ],
    [
        "ACME over plain HTTP",
        {
            [APPS_KEY]: [{ name: "web" }],
            [TLS_KEY]: {
                enabled: true,
                issuer: "acme",
                hosts: ["a.example.com"],
                acme: { email: "o@example.com", server: "http://acme.example.com/directory" },
            },
        },
        /istio-sticky:tls\.acme\.server: must be an https:\/\/ ACME directory URL/,
    ],
    [
        "ACME with an HTTPS redirect",
        {
            [APPS_KEY]: [{ name: "web" }],
            [TLS_KEY]: {
                enabled: true,
                issuer: "acme",
                hosts: ["a.example.com"],
                acme: { email: "o@example.com" },
                httpsRedirect: true,
            },
        },
        /istio-sticky:tls\.httpsRedirect: cannot be true with issuer "acme": HTTP-01 challenges/,
    ],
    [
        "ACME with a wildcard host",
        {
            [APPS_KEY]: [{ name: "web" }],
            [TLS_KEY]: { enabled: true, issuer: "acme", hosts: ["*.example.com"], acme: { email: "o@example.com" } },
        },
        /istio-sticky:tls\.hosts\[0\]: cannot be a wildcard with ACME HTTP-01/,
    ],
    [
        "ACME without its settings",
        { [APPS_KEY]: [{ name: "web" }], [TLS_KEY]: { enabled: true, issuer: "acme", hosts: ["a.example.com"] } },
        /istio-sticky:tls\.acme: is required with issuer "acme"/,
    ],
    [
        "ACME settings with a self-signed issuer",
        {
            [APPS_KEY]: [{ name: "web" }],
            [TLS_KEY]: { enabled: true, hosts: ["a.example.com"], acme: { email: "o@example.com" } },
        },
        /istio-sticky:tls\.acme: is not used by issuer "selfSigned"/,
    ],
    [
        "an unknown issuer",
        { [APPS_KEY]: [{ name: "web" }], [TLS_KEY]: { enabled: true, hosts: ["a.example.com"], issuer: "vault" } },
        /istio-sticky:tls\.issuer: must be one of selfSigned, acme/,
    ],
    [
        "a TLS host no route serves",
        {
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { gateway: { hosts: ["a.example.com"] } },
            [TLS_KEY]: { enabled: true, hosts: ["b.example.com"] },
        },
        /istio-sticky:tls\.hosts\[0\]: "b\.example\.com" is not among the gateway's hosts/,
    ],
    [
        "an unknown TLS key",
        { [APPS_KEY]: [{ name: "web" }], [TLS_KEY]: { enable: true } },
        /istio-sticky:tls: unknown key "enable"/,
    ],
    [
        "a Secure cookie with TLS off",
        app({ mode: "cookie", cookie: { name: "c", ttl: "1s", attributes: [{ name: "Secure" }] } }),
        /affinity\.cookie\.attributes\[0\]: "Secure" contradicts TLS being off \(istio-sticky:tls\.enabled\)/,
    ],
    [
        "strictMtls that is not a boolean",
        app({ mode: "none" }, { strictMtls: "yes" }),
        /apps\[0\]\.strictMtls: must be true or false/,
    ],
    [
        "a direct client range that is not a CIDR",
        app({ mode: "none" }, { direct: { enabled: true, podCidr: "10.0.0.0/8", allowedClients: ["203.0.113.7"] } }),
        /direct\.allowedClients\[0\]: must be an IPv4 CIDR/,
    ],
    // Accepted once, though each breaks at deploy time or routes wrong.
    [
        "the direct header equal to the affinity header",
        app(
            { mode: "header", headerName: "x-user" },
            { direct: { enabled: true, podCidr: "10.244.0.0/16", header: "x-user" } },
        ),
        /apps\[0\]\.direct\.header: must differ from affinity\.headerName \("x-user"\): .*403/,
    ],
    [
        "the direct header equal to the persistent header",
        app(
            { mode: "persistentHeader", headerName: "x-pod" },
            { direct: { enabled: true, podCidr: "10.244.0.0/16", header: "x-pod" } },
        ),
        /direct\.header: must differ from affinity\.headerName/,
    ],
    [
        "the direct header equal to the app's match header",
        app(
            { mode: "none" },
            {
                match: { headers: { target: "a" } },
                direct: { enabled: true, podCidr: "10.244.0.0/16", header: "target" },
            },
        ),
        /apps\[0\]\.direct\.header: must differ from match\.headers\.target/,
    ],
    [
        "the direct header equal to another app's match header on the path",
        {
            [APPS_KEY]: [
                { name: "a", path: "/p", match: { headers: { target: "a" } } },
                { name: "b", path: "/p", direct: { enabled: true, podCidr: "10.244.0.0/16", header: "target" } },
            ],
        },
        /apps\[1\]\.direct\.header: "target" is also the routing header of istio-sticky:apps\[0\]\.match on path "\/p"/,
    ],
    [
        "gateway labels overridden through Helm values",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { values: { gateway: { labels: { istio: "edge" } } } } },
        /mesh\.values\.gateway\.labels: is set by mesh\.gateway\.labels .*select the pods by them/,
    ],
    [
        "the gateway name overridden through Helm values",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { values: { gateway: { name: "other" } } } },
        /mesh\.values\.gateway\.name: is set by mesh\.gateway\.name/,
    ],
    [
        "the gateway Service type overridden through Helm values",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { values: { gateway: { service: { type: "ClusterIP" } } } } },
        /mesh\.values\.gateway\.service\.type: is set by mesh\.gateway\.serviceType/,
    ],
    [
        "the revision overridden through istiod values",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { values: { istiod: { revision: "x" } } } },
        /mesh\.values\.istiod\.revision: is set by mesh\.revision/,
    ],
    [
        "a gateway label key with a space",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { gateway: { labels: { "app name": "gw" } } } },
        /mesh\.gateway\.labels\.app name: must be a Kubernetes label key/,
    ],
    [
        "no gateway labels at all",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { gateway: { labels: {} } } },
        /mesh\.gateway\.labels: must hold at least one label/,
    ],
    [
        "an app in default",
        app({ mode: "none" }, { namespace: "default" }),
        /apps\[0\]\.namespace: "default" is reserved \(labelling it for sidecar injection/,
    ],
    [
        "an app in a kube-* namespace",
        app({ mode: "none" }, { namespace: "kube-extra" }),
        /apps\[0\]\.namespace: "kube-extra" is reserved \(the kube-\* namespaces belong to Kubernetes\)/,
    ],
    [
        "an app in cert-manager's namespace when TLS installs it",
        { [APPS_KEY]: [{ name: "web", namespace: "cert-manager" }], [TLS_KEY]: { enabled: true, hosts: ["web.test"] } },
        /apps\[0\]\.namespace: "cert-manager" is where istio-sticky:tls\.installCertManager installs cert-manager/,
    ],
    [
        "a public pod CIDR",
        app({ mode: "none" }, { direct: { enabled: true, podCidr: "8.8.0.0/16" } }),
        /direct\.podCidr: must lie inside a private range \(10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, 100\.64\.0\.0\/10\)/,
    ],
    [
        "loopback as the pod CIDR",
        app({ mode: "none" }, { direct: { enabled: true, podCidr: "127.0.0.0/8" } }),
        /direct\.podCidr: must lie inside a private range/,
    ],
    [
        "link-local (cloud metadata) as the pod CIDR",
        app({ mode: "none" }, { direct: { enabled: true, podCidr: "169.254.0.0/16" } }),
        /direct\.podCidr: must lie inside a private range/,
    ],
    [
        "a misspelled config namespace",
        { [APPS_KEY]: [{ name: "web" }], "istio-stiky:mesh": { gateway: { serviceType: "NodePort" } } },
        /istio-stiky:mesh: not read: its namespace is "istio-stiky", not "istio-sticky" \(did you mean istio-sticky:mesh\?\)/,
    ],
    [
        "the project's keys under another namespace",
        { [APPS_KEY]: [{ name: "web" }], "myproject:tls": { enabled: true } },
        /myproject:tls: not read: .*did you mean istio-sticky:tls\?/,
    ],
    [
        "TLS hosts without enabled",
        { [APPS_KEY]: [{ name: "web" }], [TLS_KEY]: { hosts: ["web.example.com"] } },
        /istio-sticky:tls\.enabled: is required with hosts: TLS is off unless "enabled: true"/,
    ],
    [
        "a pod CIDR without enabled",
        app({ mode: "none" }, { direct: { podCidr: "10.244.0.0/16" } }),
        /apps\[0\]\.direct\.enabled: is required with podCidr: direct routing is off unless "enabled: true"/,
    ],
    [
        "a cookie TTL beyond what Istio parses",
        app({ mode: "cookie", cookie: { name: "c", ttl: "2562048h" } }),
        /affinity\.cookie\.ttl: must be at most 2562047h \(Istio parses durations with Go's time\.ParseDuration/,
    ],
    [
        "an image without a tag",
        app({ mode: "none" }, { image: "nginx" }),
        /apps\[0\]\.image: must name a tag or a digest/,
    ],
    [
        "an image on a registry port without a tag",
        app({ mode: "none" }, { image: "registry.local:5000/team/app" }),
        /apps\[0\]\.image: must name a tag or a digest/,
    ],
    [
        "externalTrafficPolicy Cluster under a direct-routing guard",
        {
            [APPS_KEY]: [{ name: "web", direct: { enabled: true, podCidr: "10.244.0.0/16" } }],
            [MESH_KEY]: { gateway: { externalTrafficPolicy: "Cluster" } },
        },
        /mesh\.gateway\.externalTrafficPolicy: "Cluster" hides client addresses .*would admit everyone/,
    ],
    [
        "externalTrafficPolicy on a ClusterIP gateway",
        {
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { gateway: { serviceType: "ClusterIP", externalTrafficPolicy: "Local" } },
        },
        /mesh\.gateway\.externalTrafficPolicy: applies to NodePort and LoadBalancer Services only/,
    ],
    [
        "ACME with gateway labels that have no istio label",
        {
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { gateway: { labels: { app: "edge" } } },
            [TLS_KEY]: { enabled: true, issuer: "acme", hosts: ["a.example.com"], acme: { email: "o@example.com" } },
        },
        /mesh\.gateway\.labels: must hold an "istio" label with issuer "acme"/,
    ],
    [
        "ACME with the ingress class overridden in istiod values",
        {
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { values: { istiod: { meshConfig: { ingressClass: "nginx" } } } },
            [TLS_KEY]: { enabled: true, issuer: "acme", hosts: ["a.example.com"], acme: { email: "o@example.com" } },
        },
        /mesh\.values\.istiod\.meshConfig\.ingressClass: is set by istio-sticky:tls\.issuer "acme"/,
    ],
    [
        "a chart repository over plain HTTP",
        { [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { chartRepository: "http://charts.example.com" } },
        /mesh\.chartRepository: must be an https:\/\/ Helm repository URL or an oci:\/\/ registry path/,
    ],
    [
        "the demo app's own cookie as the persistent cookie",
        app({ mode: "persistentCookie", cookie: { name: "demo-session" } }),
        /affinity\.cookie\.name: "demo-session" is the demo app's own session cookie/,
    ],
];

describe("settings/validate", () => {
    describe("rejects bad input, naming the field", () => {
        for (const [what, config, message] of BAD_INPUTS) {
            it(what, () => {
                const problems = problemsOf(config);
                assert.ok(
                    problems.some((p) => message.test(p)),
                    `no problem matched ${message}:\n${problems.join("\n")}`,
                );
            });
        }
    });

    it("quotes the value it refused in every refusal of a value given (a missing value has none to quote)", () => {
        const unquoted: string[] = [];
        for (const [what, config, message] of BAD_INPUTS) {
            const problem = problemsOf(config).find((p) => message.test(p))!;
            const given = /\(got [^)]|"[^"]*"|\{"|\(\d+ > \d+\)/.test(problem);
            const missing =
                /: is required|must list at least one host when|not read: its namespace/.test(problem) ||
                /: unknown (config )?key/.test(problem);
            if (!given && !missing) unquoted.push(`${what}: ${problem}`);
        }
        assert.deepEqual(unquoted, []);
    });

    it("names what YAML made of an unquoted version, a quoted number, a name and a header, with the value", () => {
        const problems = problemsOf({
            [MESH_KEY]: { version: 1.3 },
            [TLS_KEY]: { enabled: true, hosts: ["a.test"], certManagerVersion: 1.21 },
            [APPS_KEY]: [
                { name: "Shop_App", replicas: "3" },
                { name: "cart", affinity: { mode: "header", headerName: "X User" } },
            ],
        });
        assert.deepEqual(problems, [
            'istio-sticky:mesh.version: must be an Istio version such as "1.31.1" (got the number 1.3: YAML reads an unquoted version as a number (to YAML 1.30 and 1.3 are the same number); write it in quotes, e.g. "1.30.5")',
            'istio-sticky:tls.certManagerVersion: must be a cert-manager version such as "v1.21.2" (got the number 1.21: YAML reads an unquoted version as a number; write it in quotes, e.g. "v1.21.2")',
            "istio-sticky:apps[0].name: must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters) (got \"Shop_App\")",
            'istio-sticky:apps[0].replicas: must be a whole number of at least 1 (and at most 1000) (got the text "3": write the number without quotes)',
            'istio-sticky:apps[1].affinity.headerName: must be an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-) (got "X User")',
        ]);
        // A number that is no version, and a number out of range, are quoted as numbers.
        assert.match(
            problemsOf(app({ mode: "none" }, { replicas: 0 })).join(),
            /must be a whole number of at least 1 \(and at most 1000\) \(got 0\)/,
        );
    });

    it("takes header names in any case and lower-cases them, as Envoy compares them", () => {
        const { value } = parseStackConfig({
            [APPS_KEY]: [
                {
                    name: "a",
                    path: "/p",
                    affinity: { mode: "header", headerName: "X-User" },
                    match: { headers: { "X-Target": "blue" } },
                },
                {
                    name: "b",
                    path: "/p",
                    affinity: { mode: "persistentHeader", headerName: "X-Pod" },
                    match: { headers: { "x-target": "green" } },
                    direct: { enabled: true, podCidr: "10.244.0.0/16", header: "Use-Direct" },
                },
            ],
        });
        assert.deepEqual(
            value.apps.map((a) => [a.affinity.headerName, a.match?.headers, a.direct.header]),
            [
                ["x-user", { "x-target": "blue" }, "use-direct"],
                ["x-pod", { "x-target": "green" }, "use-direct"],
            ],
        );
        // Lower-cased before the checks that compare them: the same header twice in two cases is one header.
        assert.match(
            problemsOf({
                [APPS_KEY]: [
                    { name: "a", path: "/p", match: { headers: { "X-Target": "b" } } },
                    { name: "b", path: "/p", match: { headers: { "x-target": "b" } } },
                ],
            }).join(),
            /apps\[1\]\.match: overlaps istio-sticky:apps\[0\]\.match on path "\/p"/,
        );
    });

    it("lists every problem at once", () => {
        const problems = problemsOf({ [APPS_KEY]: [{ name: "A", replicas: 0, path: "x" }], "istio-sticky:nope": 1 });
        assert.equal(problems.length, 4, problems.join("\n"));
    });

    it("fills in defaults", () => {
        const { value } = parseStackConfig({ [APPS_KEY]: [{ name: "web" }] });
        assert.equal(value.mesh.install, true);
        assert.equal(value.mesh.version, DEFAULT_ISTIO_VERSION);
        assert.deepEqual(value.mesh.gateway, {
            name: "istio-ingressgateway",
            namespace: "istio-ingress",
            serviceType: "LoadBalancer",
            hosts: ["*"],
            labels: { app: "istio-ingressgateway", istio: "ingressgateway" },
            numTrustedProxies: 0,
            api: "istio",
        });
        assert.equal(value.mesh.chartRepository, "https://blob.istio.io/istio-release/charts");
        assert.equal(value.mesh.hub, "docker.io/istio");
        assert.equal(
            value.mesh.gatewayApiCrdsRepository,
            "https://github.com/kubernetes-sigs/gateway-api/releases/download",
        );
        const [web] = value.apps;
        assert.deepEqual(
            {
                ns: web.namespace,
                path: web.path,
                replicas: web.replicas,
                port: web.port,
                target: web.target,
                mode: web.affinity.mode,
            },
            { ns: "web", path: "/web", replicas: 3, port: 8080, target: "web", mode: AffinityMode.None },
        );
    });

    it("derives gateway labels from the release name, as the gateway chart does", () => {
        const { value } = parseStackConfig({
            [APPS_KEY]: [{ name: "web" }],
            [MESH_KEY]: { gateway: { name: "istio-ingress", namespace: "edge" } },
        });
        assert.deepEqual(value.mesh.gateway.labels, { app: "istio-ingress", istio: "ingress" });
    });

    it("reads structured values that Pulumi hands over as JSON text", () => {
        const { value } = parseStackConfig({
            [APPS_KEY]: JSON.stringify([{ name: "web", affinity: { mode: "header", headerName: "x-user" } }]),
            "kubernetes:context": "kind-kind",
        });
        assert.equal(value.apps[0].affinity.headerName, "x-user");
    });

    it("infers maglev from a table size and keeps hash settings off other modes", () => {
        const { value } = parseStackConfig(app({ mode: "header", headerName: "x-u", maglevTableSize: 131071 }));
        assert.equal(value.apps[0].affinity.algorithm, HashAlgorithm.Maglev);
        assert.equal(parseStackConfig(app({ mode: "none" })).value.apps[0].affinity.algorithm, undefined);
    });

    it("accepts its own output again unchanged (components re-validate settings)", () => {
        const { value } = parseStackConfig({
            [APPS_KEY]: [{ name: "web", affinity: { mode: "cookie", cookie: { name: "c", ttl: "0s" } } }],
            [MESH_KEY]: { gateway: { serviceType: "NodePort" } },
        });
        const again = parseStackConfig({ [APPS_KEY]: value.apps, [MESH_KEY]: value.mesh }).value;
        assert.deepEqual(again, value);
    });

    it("warns when a cookie has no TTL, and when source-IP hashing sits behind a load balancer", () => {
        const { warnings } = parseStackConfig({
            [APPS_KEY]: [
                { name: "a", affinity: { mode: "cookie", cookie: { name: "c" } } },
                { name: "b", affinity: { mode: "sourceIp" } },
            ],
        });
        assert.equal(warnings.length, 2);
        assert.match(warnings[0], /apps\[0\]\.affinity\.cookie\.ttl is not set: .*new clients are not sticky/);
        assert.match(warnings[1], /apps\[1\]\.affinity\.mode "sourceIp": .*externalTrafficPolicy/);
    });

    it("warns that a minor nearing its end of life stops being accepted on a named date, and not on the newest minor", () => {
        const on = (version: string) =>
            parseStackConfig({ [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: { version } }).warnings;
        const [eol] = on("1.30.5");
        assert.match(
            eol,
            /mesh\.version: Istio 1\.30 reaches its end of life on 2026-12-02 \(estimated: six weeks after/,
        );
        assert.match(eol, /upgrade to 1\.31 \(1\.31\.4\)/);
        assert.deepEqual(on("1.31.4"), []);
        assert.deepEqual(on("1.31.0"), [
            "istio-sticky:mesh.version: Istio 1.31.0 is open to GHSA-qm8v-g4f9-qhjx, a BackendTLSPolicy that fails open to " +
                "plaintext on sidecars (Istio 1.31.1's notes), fixed in 1.31.1: upgrade to 1.31.1 or later",
        ]);
        assert.deepEqual(on("1.31.1"), []);
        assert.deepEqual(parseStackConfig({ [APPS_KEY]: [{ name: "web" }] }).warnings, []);
    });

    it("warns that clients behind a proxy share the cookie Envoy sets, which Envoy derives from the connection", () => {
        const config = (numTrustedProxies: number, cookie: Record<string, unknown>) =>
            parseStackConfig({
                [APPS_KEY]: [{ name: "a", affinity: { mode: "cookie", cookie } }],
                [MESH_KEY]: { gateway: { numTrustedProxies } },
            });
        const behind = config(1, { name: "c", ttl: "60s" }).warnings;
        assert.equal(behind.length, 1);
        assert.match(
            behind[0],
            /apps\[0\]\.affinity\.cookie\.ttl: Envoy derives the "c" cookie it sets from the client connection.*numTrustedProxies.*same pod/,
        );
        assert.deepEqual(
            config(0, { name: "c", ttl: "60s" }).warnings,
            [],
            "no proxy in front: each client has its own connection",
        );
        assert.doesNotMatch(config(1, { name: "c" }).warnings.join("\n"), /derives/, "the app sets the cookie");
    });

    it("lets apps share a path when header matches tell them apart, with one default", () => {
        const { value } = parseStackConfig({
            [APPS_KEY]: [
                { name: "b1", path: "/api", match: { headers: { target: "backend-1" } } },
                { name: "b2", path: "/api", match: { headers: { target: "backend-2" } } },
                { name: "fallback", path: "/api" },
            ],
        });
        assert.deepEqual(
            value.apps.map((a) => a.match?.headers.target ?? null),
            ["backend-1", "backend-2", null],
        );
    });

    it("leaves replicas to the autoscaler and warns once about hash policies that scale", () => {
        const { value, warnings } = parseStackConfig(
            app({ mode: "header", headerName: "x-user" }, { autoscaling: { minReplicas: 2, maxReplicas: 6 } }),
        );
        assert.equal(value.apps[0].replicas, undefined);
        assert.equal(value.apps[0].autoscaling!.cpuUtilization, 80);
        assert.equal(warnings.length, 1);
        assert.match(
            warnings[0],
            /apps\[0\]\.autoscaling: with hash mode "header" each scale event moves sessions to other pods \(measured .*1\/N with maglev, 30–42 % with ring hash\).*persistentCookie or persistentHeader/,
        );
        const persistent = parseStackConfig(
            app(
                { mode: "persistentCookie", cookie: { name: "p" } },
                { autoscaling: { minReplicas: 2, maxReplicas: 6 } },
            ),
        );
        assert.deepEqual(persistent.warnings, []);
        const single = parseStackConfig(app({ mode: "none" }, { autoscaling: { minReplicas: 1, maxReplicas: 3 } }));
        assert.match(single.warnings[0], /minReplicas is 1: the PodDisruptionBudget .*blocks node drains/);
    });

    it("fills in a maglev table size, which istiod's webhook requires", () => {
        const { value } = parseStackConfig(app({ mode: "header", headerName: "x-u", algorithm: "maglev" }));
        assert.deepEqual(
            [value.apps[0].affinity.algorithm, value.apps[0].affinity.maglevTableSize],
            [HashAlgorithm.Maglev, 65537],
        );
        assert.equal(
            parseStackConfig(app({ mode: "header", headerName: "x-u", algorithm: "ringHash" })).value.apps[0].affinity
                .maglevTableSize,
            undefined,
        );
    });

    it("keeps settings of a feature that is explicitly off, and accepts what is valid at the edges", () => {
        const off = parseStackConfig({
            [APPS_KEY]: [{ name: "web", direct: { enabled: false, podCidr: "10.244.0.0/16" } }],
            [TLS_KEY]: { enabled: false, hosts: ["w.example.com"] },
        }).value;
        assert.deepEqual(
            [off.apps[0].direct.enabled, off.apps[0].direct.podCidr, off.tls.enabled],
            [false, "10.244.0.0/16", false],
        );
        const edges = parseStackConfig({
            [APPS_KEY]: [
                {
                    name: "a",
                    image: "registry.local:5000/team/app:1.2",
                    affinity: { mode: "cookie", cookie: { name: "c", ttl: "2562047h" } },
                },
                {
                    name: "b",
                    image: `ghcr.io/acme/app@sha256:${"a".repeat(64)}`,
                    direct: { enabled: true, podCidr: "100.64.0.0/10" },
                },
            ],
            [MESH_KEY]: {
                chartRepository: "oci://ghcr.io/istio/release/charts",
                hub: "registry.local:5000/mirror/istio",
                version: "1.30.5",
                gateway: { labels: { "example.com/tier": "edge", istio: "edge" } },
            },
        }).value;
        assert.deepEqual(
            [edges.mesh.chartRepository, edges.mesh.hub],
            ["oci://ghcr.io/istio/release/charts", "registry.local:5000/mirror/istio"],
        );
        // A mirror on this machine may serve plain HTTP (loopback only).
        const local = {
            chartRepository: "http://127.0.0.1:8879/charts",
            gatewayApiCrdsRepository: "http://localhost:8879/gateway-api",
            hub: "localhost:5000",
        };
        assert.deepEqual(
            parseStackConfig({ [APPS_KEY]: [{ name: "web" }], [MESH_KEY]: local }).value.mesh.gatewayApiCrdsRepository,
            local.gatewayApiCrdsRepository,
        );
        assert.equal(edges.apps[1].direct.podCidr, "100.64.0.0/10");
        // kubernetes:context and other projects' keys that do not look like ours are left alone.
        assert.doesNotThrow(() =>
            parseStackConfig({
                [APPS_KEY]: [{ name: "web" }],
                "kubernetes:context": "kind-kind",
                "aws:region": "eu-west-1",
            }),
        );
    });

    it("keeps direct routing off unless asked, with its defaults", () => {
        const { value } = parseStackConfig(
            app({ mode: "none" }, { direct: { enabled: true, podCidr: "10.244.0.0/16" } }),
        );
        assert.deepEqual(value.apps[0].direct, {
            enabled: true,
            allowedClients: ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
            header: "use-direct",
            podCidr: "10.244.0.0/16",
            contexts: ["gateway"],
        });
        assert.equal(parseStackConfig(app({ mode: "none" })).value.apps[0].direct.enabled, false);
    });

    it("gives Envoy-set cookies Secure, HttpOnly and SameSite=Lax when TLS is on, once", () => {
        const config = {
            [APPS_KEY]: [
                {
                    name: "web",
                    affinity: {
                        mode: "cookie",
                        cookie: { name: "c", ttl: "60s", attributes: [{ name: "samesite", value: "Strict" }] },
                    },
                },
            ],
            [TLS_KEY]: { enabled: true, hosts: ["web.example.com"] },
        };
        const { value, warnings } = parseStackConfig(config);
        assert.deepEqual(value.apps[0].affinity.cookie!.attributes, [
            { name: "samesite", value: "Strict" },
            { name: "Secure" },
            { name: "HttpOnly" },
        ]);
        assert.deepEqual(warnings, []);
        assert.deepEqual(
            parseStackConfig({ ...config, [APPS_KEY]: value.apps, [TLS_KEY]: value.tls }).value,
            value,
            "applying it twice changes nothing",
        );
        assert.equal(value.tls.httpsRedirect, true);
        assert.equal(
            parseStackConfig({
                [APPS_KEY]: [{ name: "web" }],
                [TLS_KEY]: {
                    enabled: true,
                    issuer: "acme",
                    hosts: ["a.example.com"],
                    acme: { email: "o@example.com" },
                },
            }).value.tls.httpsRedirect,
            false,
        );
    });

    it("leaves Secure off Envoy-set cookies when HTTP serves the apps too (no redirect), and warns about a Secure set there", () => {
        const web = (attributes: object[] = []) => ({
            [APPS_KEY]: [{ name: "web", affinity: { mode: "cookie", cookie: { name: "c", ttl: "60s", attributes } } }],
            [TLS_KEY]: { enabled: true, hosts: ["web.example.com"], httpsRedirect: false },
        });
        const plain = parseStackConfig(web());
        // Over http:// no client keeps a Secure cookie: Envoy would make a new one per connection.
        assert.deepEqual(plain.value.apps[0].affinity.cookie!.attributes, [
            { name: "HttpOnly" },
            { name: "SameSite", value: "Lax" },
        ]);
        assert.deepEqual(plain.warnings, []);
        const secure = parseStackConfig(web([{ name: "Secure" }]));
        assert.match(
            secure.warnings.join("\n"),
            /affinity\.cookie\.attributes\[0\]: "Secure" with istio-sticky:tls\.httpsRedirect off: .* HTTP sessions stick only to their connection/,
        );
    });

    it("says what happens to the persistent-session cookie under TLS", () => {
        const persistent = parseStackConfig({
            [APPS_KEY]: [{ name: "web", affinity: { mode: "persistentCookie", cookie: { name: "p" } } }],
            [TLS_KEY]: { enabled: true, hosts: ["w.example.com"] },
        });
        assert.match(
            persistent.warnings[0],
            /Istio sets the persistent-session cookie "p" without Secure, HttpOnly or SameSite/,
        );
    });

    it("matches TLS hosts against the gateway's host patterns", () => {
        assert.ok(hostCovered("shop.example.com", ["*"]));
        assert.ok(hostCovered("shop.example.com", ["*.example.com"]));
        assert.ok(!hostCovered("a.shop.example.com", ["*.example.com"]));
        assert.ok(!hostCovered("example.com", ["*.example.com"]));
    });

    it("validates one app for a component, prefixing its messages", () => {
        assert.throws(
            () => parseApp({ name: "web", affinity: { mode: "header" } }, "StickyApp web"),
            /StickyApp web\.affinity\.headerName: is required by mode "header"/,
        );
        assert.equal(parseApp({ name: "web" }, "StickyApp web").value.path, "/web");
    });
});
