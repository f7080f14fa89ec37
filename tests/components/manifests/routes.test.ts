import { strict as assert } from "assert";
import { buildRoutes } from "../../../components/manifests/routes";
import { parseStackConfig } from "istio-sticky";

const ctx = { gateway: "istio-ingress/sticky-gateway", hosts: ["*"], namespace: "istio-ingress" };
const apps = (list: unknown[]) => parseStackConfig({ "istio-sticky:apps": list }).value.apps;

describe("objects/routes", () => {
    it("puts apps that share a path in one VirtualService: header matches in order, then the default", () => {
        const vss = buildRoutes(
            apps([
                { name: "backend-1", path: "/api", match: { headers: { target: "backend-1" } } },
                { name: "other", path: "/other" },
                { name: "backend-2", path: "/api", match: { headers: { target: "backend-2" } } },
                { name: "fallback", path: "/api" },
            ]),
            ctx,
        );
        assert.deepEqual(
            vss.map((v) => `${v.metadata.namespace}/${v.metadata.name}`),
            ["istio-ingress/path-api", "istio-ingress/path-other"],
        );
        const http = vss[0].spec.http;
        assert.deepEqual(
            http.map((r: any) => r.name),
            ["backend-1", "backend-2", "fallback"],
        );
        assert.deepEqual(http[1].match, [
            { uri: { exact: "/api" }, headers: { target: { exact: "backend-2" } } },
            { uri: { prefix: "/api/" }, headers: { target: { exact: "backend-2" } } },
        ]);
        assert.equal(http[1].route[0].destination.host, "backend-2.backend-2.svc.cluster.local");
        assert.deepEqual(http[2].match, [{ uri: { exact: "/api" } }, { uri: { prefix: "/api/" } }]);
    });

    it("puts nested paths in one VirtualService named by the outermost, the longest path first", () => {
        const vss = buildRoutes(
            apps([
                { name: "site", path: "/" },
                { name: "shop", path: "/shop" },
                { name: "other", path: "/other/x" },
                { name: "api", path: "/shop/api", match: { headers: { v: "2" } } },
                { name: "deep", path: "/shop/api/v1" },
            ]),
            ctx,
        );
        assert.deepEqual(
            vss.map((v) => v.metadata.name),
            ["path-root"],
            "everything nests in /",
        );
        assert.deepEqual(
            vss[0].spec.http.map((r: any) => r.name),
            ["deep", "api", "unmatched-path-shop--api", "other", "shop", "site"],
        );
        const apart = buildRoutes(
            apps([
                { name: "shop", path: "/shop" },
                { name: "api", path: "/shop/api" },
                { name: "blog", path: "/blog" },
            ]),
            ctx,
        );
        assert.deepEqual(
            apart.map((v) => [v.metadata.name, v.spec.http.map((r: any) => r.name)]),
            [
                ["path-shop", ["api", "shop"]],
                ["path-blog", ["blog"]],
            ],
        );
    });

    it("retries a hash-mode app's requests on another pod (istiod leaves the previous-hosts predicate out for hashes)", () => {
        const [vs] = buildRoutes(
            apps([
                { name: "h", path: "/h", affinity: { mode: "header", headerName: "x-user" } },
                {
                    name: "q",
                    path: "/h",
                    match: { headers: { t: "q" } },
                    affinity: { mode: "queryParameter", queryParameterName: "u" },
                },
                {
                    name: "p",
                    path: "/h",
                    match: { headers: { t: "p" } },
                    affinity: { mode: "persistentCookie", cookie: { name: "c" } },
                },
                { name: "n", path: "/h", match: { headers: { t: "n" } }, affinity: { mode: "none" } },
            ]),
            ctx,
        );
        const retries = Object.fromEntries(vs.spec.http.map((r: any) => [r.name, r.retries]));
        const predicate = {
            attempts: 2,
            retryOn: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
            retryIgnorePreviousHosts: true,
        };
        assert.deepEqual(retries, { q: predicate, p: undefined, n: undefined, h: predicate });
    });

    it("answers 404 on a path where no app takes unmatched requests", () => {
        const [vs] = buildRoutes(apps([{ name: "b1", path: "/api", match: { headers: { target: "b1" } } }]), ctx);
        const last = vs.spec.http.at(-1);
        assert.equal(last.directResponse.status, 404);
        assert.match(last.directResponse.body.string, /route it with header target/);
        assert.equal(last.route, undefined);
    });

    it("guards direct routing: the pod network and port only, anything else refused, never forwarded", () => {
        const [vs] = buildRoutes(apps([{ name: "web", direct: { enabled: true, podCidr: "10.244.0.0/16" } }]), ctx);
        const [direct, refused, normal] = vs.spec.http;
        assert.equal(direct.route[0].destination.subset, "direct");
        assert.deepEqual(direct.match[1].headers["use-direct"], { exact: "true" });
        assert.match(direct.match[1].headers["x-envoy-original-dst-host"].regex, /^10\\.244\\..*:8080$/);
        assert.deepEqual(direct.match[1].uri, { prefix: "/web/" });
        assert.equal(refused.directResponse.status, 403);
        assert.equal(refused.route, undefined, "a refused direct request is never forwarded");
        assert.deepEqual(refused.match[0].headers, { "use-direct": { regex: ".*" } });
        assert.equal(normal.route[0].destination.subset, "normal");
        assert.deepEqual(normal.headers, { request: { remove: ["x-envoy-original-dst-host"] } });
        assert.equal(vs.spec.http.length, 3);
    });

    it("keeps an app's header match on its direct routes", () => {
        const [vs] = buildRoutes(
            apps([
                {
                    name: "b1",
                    path: "/api",
                    match: { headers: { target: "b1" } },
                    direct: { enabled: true, podCidr: "10.0.0.0/8" },
                },
            ]),
            ctx,
        );
        for (const r of vs.spec.http.slice(0, 3)) assert.deepEqual(r.match[0].headers.target, { exact: "b1" }, r.name);
    });
});
