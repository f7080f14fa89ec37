import { AffinityMode, isPersistentMode } from "../../components/settings/enums";
import type { AffinityInput } from "../../components/settings/schema";
import { parseStackConfig, StackSettings, APPS_KEY, MESH_KEY, TLS_KEY } from "../../components/settings/validate";

/** One valid affinity per mode, with the options users set most. */
export const AFFINITY_BY_MODE: Record<AffinityMode, AffinityInput> = {
    [AffinityMode.Header]: { mode: AffinityMode.Header, headerName: "x-user" },
    [AffinityMode.Cookie]: {
        mode: AffinityMode.Cookie,
        cookie: { name: "sticky", ttl: "60s", attributes: [{ name: "SameSite", value: "Lax" }, { name: "HttpOnly" }] },
    },
    [AffinityMode.QueryParameter]: {
        mode: AffinityMode.QueryParameter,
        queryParameterName: "user",
        algorithm: "maglev" as any,
        maglevTableSize: 65537,
    },
    [AffinityMode.SourceIp]: { mode: AffinityMode.SourceIp, algorithm: "ringHash" as any, minimumRingSize: 2048 },
    [AffinityMode.PersistentCookie]: { mode: AffinityMode.PersistentCookie, cookie: { name: "sticky-pod" } },
    [AffinityMode.PersistentHeader]: { mode: AffinityMode.PersistentHeader, headerName: "x-session-pod" },
    [AffinityMode.None]: { mode: AffinityMode.None },
};

export const ALL_MODES = Object.values(AffinityMode);

/** A validated stack with one app per given mode; `app` adds settings to every app (or to app i). */
export function stackWith(
    modes: AffinityMode[],
    mesh: Record<string, unknown> = {},
    app: Record<string, unknown> | ((i: number) => Record<string, unknown>) = {},
): StackSettings {
    const extra = typeof app === "function" ? app : () => app;
    return parseStackConfig({
        [MESH_KEY]: mesh,
        [APPS_KEY]: modes.map((mode, i) => ({ name: `app-${i}`, affinity: AFFINITY_BY_MODE[mode], ...extra(i) })),
    }).value;
}

/** Apps that are existing Services: in one namespace (enrolled for the mesh), on one path told apart by a header, keeping the path. */
const EXISTING_EXTRAS: Record<string, (i: number) => Record<string, unknown>> = {
    "existing Services in one enrolled namespace, one shared path": (i) => ({
        namespace: "theirs",
        path: "/shared",
        match: { headers: { target: `b${i}` } },
        service: { name: `svc-${i}`, port: 80, targetPort: 8080, enrolNamespace: true },
    }),
};

/** Generated configs: every mode, with every option, on every gateway type, with and without TLS and an installed Istio. */
export function generatedConfigs(): [string, Record<string, unknown>][] {
    const out: [string, Record<string, unknown>][] = [];
    type Extras = Record<string, (i: number) => Record<string, unknown>>;
    /** Every app on one path in one namespace, told apart by a header. */
    const sharedPath = (i: number) => ({
        path: "/shared",
        namespace: "shared",
        match: { headers: { target: `b${i}` } },
    });
    const tlsVariants: Record<string, Record<string, unknown>> = {
        "no TLS": {},
        "self-signed": { enabled: true, hosts: ["sticky.test"] },
        ACME: { enabled: true, issuer: "acme", hosts: ["sticky.example.com"], acme: { email: "ops@example.com" } },
    };
    /** One app per mode, for every TLS variant × Istio installed or not × extra, on the mesh `mesh` gives. */
    const matrix = (
        label: string,
        modes: readonly AffinityMode[],
        extras: Extras,
        mesh: (install: boolean) => Record<string, unknown>,
    ) => {
        for (const [tlsName, tls] of Object.entries(tlsVariants)) {
            for (const install of [true, false]) {
                for (const [extraName, extra] of Object.entries(extras)) {
                    const apps = modes.map((mode, i) => ({
                        name: `app-${i}`,
                        affinity: AFFINITY_BY_MODE[mode],
                        ...extra(i),
                    }));
                    out.push([
                        `${label}, ${tlsName}, ${install ? "Istio installed" : "existing Istio"}, ${extraName}`,
                        { [APPS_KEY]: apps, [MESH_KEY]: mesh(install), [TLS_KEY]: tls },
                    ]);
                }
            }
        }
    };
    const extras: Extras = {
        plain: () => ({}),
        "direct (gateway and sidecar), autoscaling, one shared path": (i) => ({
            ...sharedPath(i),
            direct: {
                enabled: true,
                podCidr: "10.244.0.0/16",
                contexts: ["gateway", "sidecar"],
                allowedClients: ["10.0.0.0/8"],
            },
            autoscaling: { minReplicas: 2, maxReplicas: 4 },
            strictMtls: i % 2 === 0,
        }),
        "own image and port, replicas": (i) => ({ image: "ghcr.io/acme/app:1.2", port: 9000 + i, replicas: 2 }),
        ...EXISTING_EXTRAS,
        "existing Services, direct routing (gateway and sidecar), not enrolled": (i) => ({
            service: {
                name: `svc-${i}`,
                port: 80,
                targetPort: 8080 + i,
                podLabels: { "app.kubernetes.io/instance": `svc-${i}` },
                appProtocol: ["http", "http2", "grpc"][i % 3],
                enrolNamespace: false,
            },
            direct: {
                enabled: true,
                podCidr: "10.244.0.0/16",
                contexts: ["gateway", "sidecar"],
                allowedClients: ["10.0.0.0/8"],
            },
        }),
    };
    for (const serviceType of ["LoadBalancer", "NodePort", "ClusterIP"])
        matrix(serviceType, ALL_MODES, extras, (install) => ({ install, gateway: { serviceType } }));
    // On the Gateway API: direct routing only for in-mesh callers. The gateway's DENY on the direct header keys on client addresses, which Local keeps.
    const gatewayApiExtras: Extras = {
        plain: () => ({}),
        "direct (sidecar), autoscaling, one shared path": (i) => ({
            ...sharedPath(i),
            direct: { enabled: true, podCidr: "10.244.0.0/16", contexts: ["sidecar"] },
            autoscaling: { minReplicas: 2, maxReplicas: 4 },
        }),
        ...EXISTING_EXTRAS,
    };
    matrix("Gateway API", ALL_MODES, gatewayApiExtras, (install) => ({
        install,
        gateway: { serviceType: "NodePort", api: "gatewayApi", externalTrafficPolicy: "Local" },
    }));
    // Ambient: every mode a waypoint honours, on both ingress APIs.
    const ambientModes = ALL_MODES.filter((m) => !isPersistentMode(m));
    const ambientExtras: Extras = {
        plain: () => ({}),
        "autoscaling, one shared path": (i) => ({ ...sharedPath(i), autoscaling: { minReplicas: 2, maxReplicas: 4 } }),
        "existing Services, every other namespace enrolled": (i) => ({
            service: { name: `svc-${i}`, port: 80, enrolNamespace: i % 2 === 0 },
        }),
    };
    for (const api of ["istio", "gatewayApi"]) {
        matrix(`ambient, ${api}`, ambientModes, ambientExtras, (install) => ({
            install,
            dataplane: "ambient",
            gateway: { serviceType: "NodePort", api },
        }));
    }
    // Istio 1.30's waypoints hash only on a VirtualService's routes: hash-mode apps get one.
    matrix("ambient on Istio 1.30", ambientModes, { plain: () => ({}) }, (install) => ({
        install,
        version: "1.30.5",
        dataplane: "ambient",
        gateway: { serviceType: "NodePort" },
    }));
    // Sidecars of a revision: namespaces and pods select the revision's injector.
    matrix("a revision", ALL_MODES, { plain: () => ({}) }, (install) => ({
        install,
        revision: "canary",
        gateway: { serviceType: "NodePort" },
    }));
    // Nested paths: the root, a path, a path inside it told apart by a header, and direct routing on the outer one.
    const nested = (i: number) => ({
        path: ["/", "/shop", "/shop/api", "/shop/api"][i % 4],
        ...(i % 4 === 2 ? { match: { headers: { v: "2" } } } : {}),
        ...(i % 4 === 1 ? { direct: { enabled: true, podCidr: "10.244.0.0/16", contexts: ["sidecar"] } } : {}),
    });
    for (const api of ["istio", "gatewayApi"])
        matrix(`nested paths, ${api}`, ALL_MODES.slice(0, 4), { plain: nested }, (install) => ({
            install,
            gateway: { serviceType: "NodePort", api, externalTrafficPolicy: "Local" },
        }));
    // Apps on hosts of their own: two hosts each with its app on /, a wildcard's app on /, and an app on every host (/shared).
    const hostApps = [
        { name: "a", hosts: ["a.example.com"], path: "/", affinity: AFFINITY_BY_MODE[AffinityMode.Header] },
        {
            name: "b",
            hosts: ["b.example.com"],
            path: "/",
            affinity: AFFINITY_BY_MODE[AffinityMode.Cookie],
            service: { port: 80, enrolNamespace: false },
        },
        { name: "everywhere", path: "/shared", affinity: AFFINITY_BY_MODE[AffinityMode.QueryParameter] },
        {
            name: "wild",
            hosts: ["*.example.com"],
            path: "/",
            affinity: AFFINITY_BY_MODE[AffinityMode.PersistentCookie],
        },
    ];
    for (const api of ["istio", "gatewayApi"]) {
        for (const [tlsName, tls] of Object.entries({
            "no TLS": {},
            "self-signed for every host": { enabled: true, hosts: ["sticky.test", "*.example.com"] },
        })) {
            out.push([
                `apps on hosts of their own, ${api}, ${tlsName}`,
                {
                    [APPS_KEY]: hostApps,
                    [MESH_KEY]: { gateway: { serviceType: "NodePort", api, hosts: ["sticky.test", "*.example.com"] } },
                    [TLS_KEY]: tls,
                },
            ]);
        }
    }
    const more: [string, Record<string, unknown>][] = [
        [
            "a mesh-wide outlier detection with minHealthPercent (Istio 1.31)",
            {
                [APPS_KEY]: [{ name: "h", affinity: { mode: "header", headerName: "x-u" } }],
                [MESH_KEY]: {
                    values: {
                        istiod: {
                            meshConfig: { defaultTrafficPolicy: { outlierDetection: { minHealthPercent: 50 } } },
                        },
                    },
                },
            },
        ],
        [
            "a revision, maglev and ring-hash sizes, a trusted proxy",
            {
                [APPS_KEY]: [
                    {
                        name: "m",
                        affinity: { mode: "header", headerName: "x-u", algorithm: "maglev" },
                        direct: { enabled: true, podCidr: "10.244.0.0/16" },
                    },
                    {
                        name: "r",
                        affinity: {
                            mode: "queryParameter",
                            queryParameterName: "u",
                            algorithm: "ringHash",
                            minimumRingSize: 4096,
                        },
                    },
                ],
                [MESH_KEY]: { revision: "canary", gateway: { numTrustedProxies: 1, hosts: ["*.example.com"] } },
            },
        ],
        [
            "one app on the root path, with direct routing",
            {
                [APPS_KEY]: [
                    {
                        name: "root",
                        path: "/",
                        affinity: { mode: "cookie", cookie: { name: "c", ttl: "0s" } },
                        direct: { enabled: true, podCidr: "10.244.0.0/16" },
                    },
                ],
                [MESH_KEY]: { gateway: { serviceType: "NodePort" } },
            },
        ],
        [
            "a custom gateway name, namespace and labels",
            {
                [APPS_KEY]: [
                    {
                        name: "web",
                        affinity: { mode: "persistentHeader", headerName: "x-pod" },
                        direct: { enabled: true, podCidr: "172.16.0.0/12" },
                    },
                ],
                [MESH_KEY]: {
                    gateway: {
                        name: "edge-gw",
                        namespace: "edge",
                        labels: { "example.com/role": "edge", istio: "edge" },
                        externalTrafficPolicy: "Local",
                    },
                },
                [TLS_KEY]: {
                    enabled: true,
                    issuer: "acme",
                    hosts: ["a.example.com"],
                    acme: { email: "o@example.com" },
                },
            },
        ],
    ];
    return [...out, ...more];
}
