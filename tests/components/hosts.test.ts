/**
 * Apps on hosts of their own: validation (covered by the gateway, one path per host, no host
 * whose routes istiod would mix with a wildcard's), the routes per host on both ingress APIs,
 * and the URL a stack exports for such an app.
 */
import { strict as assert } from "assert";
import { parseStackConfig, SettingsError, type StackSettings, buildPlan } from "istio-sticky";
import { appEndpoint } from "../../components/outputs/endpoints";

const MESH = { gateway: { hosts: ["a.example.com", "b.example.com", "*.shop.test"] } };

function stack(
    apps: Record<string, unknown>[],
    mesh: Record<string, unknown> = MESH,
    tls: Record<string, unknown> = {},
): StackSettings {
    return parseStackConfig({ "istio-sticky:apps": apps, "istio-sticky:mesh": mesh, "istio-sticky:tls": tls }).value;
}

function problems(
    apps: Record<string, unknown>[],
    mesh: Record<string, unknown> = MESH,
    tls: Record<string, unknown> = {},
): string[] {
    try {
        stack(apps, mesh, tls);
    } catch (e) {
        if (e instanceof SettingsError) return [...e.problems];
        throw e;
    }
    return [];
}

const routes = (s: StackSettings, kind = "VirtualService") =>
    buildPlan(s, { demoAppSource: "" })
        .objects.filter((o) => o.object.kind === kind)
        .map((o) => o.object);

describe("apps on hosts of their own", () => {
    it("takes hosts among the gateway's, and '*' as every host", () => {
        assert.deepEqual(stack([{ name: "a", hosts: ["a.example.com", "a.example.com"] }]).apps[0].hosts, [
            "a.example.com",
        ]);
        assert.equal(stack([{ name: "a", hosts: ["*"] }]).apps[0].hosts, undefined);
        const found = problems([{ name: "c", hosts: ["c.example.com"] }]);
        assert.ok(
            found.some((p) =>
                p.startsWith(`istio-sticky:apps[0].hosts[0]: "c.example.com" is not among the gateway's hosts`),
            ),
            found.join("\n"),
        );
    });

    it("lets one path go to one app per host, and refuses two on a host they share", () => {
        assert.equal(
            stack([
                { name: "a", hosts: ["a.example.com"], path: "/" },
                { name: "b", hosts: ["b.example.com"], path: "/" },
            ]).apps.length,
            2,
        );
        const clash = problems([
            { name: "a", hosts: ["a.example.com"], path: "/" },
            { name: "b", path: "/" },
        ]);
        assert.ok(
            clash.some((p) => p.startsWith(`istio-sticky:apps[1].path: "/" is already used by istio-sticky:apps[0]`)),
            clash.join("\n"),
        );
    });

    it("gives each named host routes of its own, with the apps served everywhere, and keeps the others' routes as they were", () => {
        const vss = routes(
            stack([
                { name: "a", hosts: ["a.example.com"], path: "/" },
                { name: "b", hosts: ["b.example.com"], path: "/" },
                { name: "shared", path: "/shared" },
            ]),
        );
        assert.deepEqual(
            vss.map((v) => [v.metadata.name, v.spec.hosts, v.spec.http.map((r: any) => r.name)]),
            [
                ["path-shared", ["*.shop.test"], ["shared"]],
                ["path-root-on-a.example.com", ["a.example.com"], ["shared", "a"]],
                ["path-root-on-b.example.com", ["b.example.com"], ["shared", "b"]],
            ],
        );
        const plain = routes(stack([{ name: "shared", path: "/shared" }]));
        assert.deepEqual(
            plain.map((v) => [v.metadata.name, v.spec.hosts]),
            [["path-shared", ["a.example.com", "b.example.com", "*.shop.test"]]],
        );
    });

    it("on the Gateway API, attaches each host's routes to the listeners whose hostname they share", () => {
        const s = stack(
            [
                { name: "a", hosts: ["a.example.com"], path: "/" },
                { name: "w", hosts: ["*.shop.test"], path: "/" },
            ],
            { gateway: { api: "gatewayApi", hosts: ["a.example.com", "*.shop.test"] } },
            { enabled: true, hosts: ["a.example.com", "*.shop.test"] },
        );
        const byName = Object.fromEntries(routes(s, "HTTPRoute").map((r) => [r.metadata.name, r.spec]));
        assert.deepEqual(byName["path-root-on-a.example.com"].hostnames, ["a.example.com"]);
        assert.deepEqual(
            byName["path-root-on-a.example.com"].parentRefs.map((p: any) => p.sectionName),
            ["https"],
        );
        assert.deepEqual(
            byName["path-root-on-wildcard.shop.test"].parentRefs.map((p: any) => p.sectionName),
            ["https-2"],
        );
    });

    it("refuses a host istiod would mix a wildcard's routes into, and one that HTTPS redirects away from", () => {
        const merged = problems(
            [
                { name: "a", hosts: ["a.shop.test"], path: "/api" },
                { name: "w", hosts: ["*.shop.test"], path: "/" },
            ],
            { gateway: { hosts: ["a.shop.test", "*.shop.test"] } },
        );
        assert.ok(
            merged.some((p) =>
                p.startsWith(
                    `istio-sticky:apps[0].hosts[0]: "a.shop.test" is a host of the gateway's servers (istio-sticky:mesh.gateway.hosts or istio-sticky:tls.hosts) under the wildcard "*.shop.test"`,
                ),
            ),
            merged.join("\n"),
        );
        assert.deepEqual(
            problems(
                [
                    { name: "a", hosts: ["a.shop.test"], path: "/api" },
                    { name: "w", hosts: ["*.shop.test"], path: "/" },
                ],
                { gateway: { hosts: ["*.shop.test"] } },
            ),
            [],
            "listed under the wildcard only, the host's routes stay its own",
        );
        const redirected = problems([{ name: "a", hosts: ["a.example.com"] }], MESH, {
            enabled: true,
            hosts: ["b.example.com"],
        });
        assert.ok(
            redirected.some((p) => /^istio-sticky:apps\[0\]\.hosts\[0\]: "a\.example\.com" has no certificate/.test(p)),
            redirected.join("\n"),
        );
    });

    it("exports the app's URL on its own host", () => {
        const s = stack([{ name: "a", hosts: ["a.example.com"] }]);
        const e = appEndpoint(s.apps[0], s.tls, { url: "http://203.0.113.10" } as any, []);
        assert.equal(e.url, "http://a.example.com/a/");
    });
});
