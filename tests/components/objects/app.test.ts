import { strict as assert } from "assert";
import { AffinityMode } from "../../../components/settings/enums";
import { buildAppObjects, serviceHost } from "../../../components/objects/app";
import { stackWith } from "../../support/fixtures";

const ctx = { gateway: "istio-ingress/sticky-gateway", hosts: ["*"], demoAppSource: "console.log('hi')" };

describe("objects/app", () => {
    const [app] = stackWith([AffinityMode.Header]).apps;
    const o = buildAppObjects(app, ctx);
    const container = o.deployment.spec.template.spec.containers[0];

    it("runs the demo app from a ConfigMap on the public node image", () => {
        assert.equal(o.configMap!.data!["server.js"], ctx.demoAppSource);
        assert.equal(container.image, "node:22-alpine");
        assert.deepEqual(container.command, ["node", "/app/server.js"]);
        assert.equal(o.deployment.spec.template.spec.volumes[0].configMap.name, o.configMap!.metadata.name);
        assert.match(o.deployment.spec.template.metadata.annotations["istio-sticky/script-sha256"], /^[0-9a-f]{64}$/);
    });
    it("runs pods non-root, read-only, with limits and probes", () => {
        assert.equal(container.securityContext.runAsNonRoot, true);
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
        assert.ok(container.resources.limits.memory && container.resources.requests.cpu);
        assert.equal(container.readinessProbe.httpGet.path, "/healthz");
        assert.equal(o.deployment.spec.template.spec.automountServiceAccountToken, false);
        assert.equal(o.deployment.spec.replicas, 3);
    });
    it("passes the pod's name and IP through the downward API and the session key by env", () => {
        const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
        assert.deepEqual(
            { name: env.POD_NAME, ip: env.POD_IP, source: env.SESSION_SOURCE, key: env.SESSION_KEY, port: env.PORT },
            { name: "metadata.name", ip: "status.podIP", source: "header", key: "x-user", port: "8080" },
        );
    });
    it("names the Service port for HTTP, so header and cookie hashing apply", () => {
        assert.deepEqual(o.service.spec.ports, [{ name: "http", port: 8080, targetPort: "http", protocol: "TCP", appProtocol: "http" }]);
        assert.deepEqual(o.service.spec.selector, o.deployment.spec.selector.matchLabels);
    });
    it("routes the path prefix through the gateway and rewrites it to /", () => {
        const [route] = o.virtualService.spec.http;
        assert.deepEqual(o.virtualService.spec.gateways, ["istio-ingress/sticky-gateway"]);
        assert.deepEqual(route.match, [{ uri: { exact: "/app-0" } }, { uri: { prefix: "/app-0/" } }]);
        assert.deepEqual(route.rewrite, { uri: "/" });
        assert.equal(route.route[0].destination.host, serviceHost(app));
        assert.equal(o.destinationRule.spec.host, "app-0.app-0.svc.cluster.local");
    });
    it("routes everything without rewrite for the root path", () => {
        const [root] = stackWith([AffinityMode.None], {}, { path: "/" }).apps;
        const [route] = buildAppObjects(root, ctx).virtualService.spec.http;
        assert.deepEqual(route.match, [{ uri: { prefix: "/" } }]);
        assert.equal(route.rewrite, undefined);
    });
    it("runs a custom image as it is, without the script", () => {
        const [custom] = stackWith([AffinityMode.None], {}, { image: "ghcr.io/acme/shop:1.2", port: 9000 }).apps;
        const objs = buildAppObjects(custom, ctx);
        const c = objs.deployment.spec.template.spec.containers[0];
        assert.equal(objs.configMap, undefined);
        assert.equal(c.image, "ghcr.io/acme/shop:1.2");
        assert.equal(c.command, undefined);
        assert.equal(c.ports[0].containerPort, 9000);
        assert.ok(!objs.deployment.spec.template.spec.volumes.some((v: any) => v.configMap));
    });
});
