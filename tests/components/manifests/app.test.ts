import { strict as assert } from "assert";
import { AffinityMode } from "istio-sticky";
import { buildAppObjects, serviceHost } from "../../../components/manifests/app";
import { buildRoutes } from "../../../components/manifests/routes";
import { buildDemoScript, demoScriptRef } from "../../../components/manifests/demoApp";
import { stackWith } from "../../support/fixtures";

const source = "console.log('hi')";
const ctx = {
    demoScript: demoScriptRef("istio-sticky-demo-app", source),
    gatewayNamespace: "istio-ingress",
    gatewaySelector: { istio: "ingressgateway" },
    rootNamespace: "istio-system",
};
const routeCtx = { gateway: "istio-ingress/sticky-gateway", hosts: ["*"], namespace: "istio-ingress" };

describe("objects/app", () => {
    const [app] = stackWith([AffinityMode.Header]).apps;
    const o = buildAppObjects(app, ctx);
    const container = o.deployment!.spec.template.spec.containers[0];

    it("runs the demo app from a ConfigMap on the public node image", () => {
        const script = buildDemoScript(ctx.demoScript, app.namespace, source);
        assert.equal(script.data!["server.js"], source);
        assert.equal(container.image, "node:22-alpine");
        assert.deepEqual(container.command, ["node", "/app/server.js"]);
        assert.equal(o.deployment!.spec.template.spec.volumes[0].configMap.name, script.metadata.name);
        assert.match(o.deployment!.spec.template.metadata.annotations["istio-sticky/script-sha256"], /^[0-9a-f]{64}$/);
        const changed = buildAppObjects(app, {
            ...ctx,
            demoScript: demoScriptRef("istio-sticky-demo-app", `${source};`),
        });
        assert.notEqual(
            changed.deployment!.spec.template.metadata.annotations["istio-sticky/script-sha256"],
            o.deployment!.spec.template.metadata.annotations["istio-sticky/script-sha256"],
            "a changed script rolls the pods",
        );
    });
    it("runs pods non-root, read-only, with limits and probes", () => {
        assert.equal(container.securityContext.runAsNonRoot, true);
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
        assert.ok(container.resources.limits.memory && container.resources.requests.cpu);
        assert.equal(container.readinessProbe.httpGet.path, "/healthz");
        assert.equal(o.deployment!.spec.template.spec.automountServiceAccountToken, false);
        assert.equal(o.deployment!.spec.replicas, 3);
    });
    it("passes the pod's name and IP through the downward API and the session key by env", () => {
        const env = Object.fromEntries(
            container.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]),
        );
        assert.deepEqual(
            { name: env.POD_NAME, ip: env.POD_IP, source: env.SESSION_SOURCE, key: env.SESSION_KEY, port: env.PORT },
            { name: "metadata.name", ip: "status.podIP", source: "header", key: "x-user", port: "8080" },
        );
    });
    it("names the Service port for HTTP, so header and cookie hashing apply", () => {
        assert.deepEqual(o.service!.spec.ports, [
            { name: "http", port: 8080, targetPort: "http", protocol: "TCP", appProtocol: "http" },
        ]);
        assert.deepEqual(o.service!.spec.selector, o.deployment!.spec.selector.matchLabels);
    });
    it("routes the path prefix through the gateway and rewrites it to /", () => {
        const [vs] = buildRoutes([app], routeCtx);
        const [route] = vs.spec.http;
        assert.deepEqual([vs.metadata.name, vs.metadata.namespace], ["path-app-0", "istio-ingress"]);
        assert.deepEqual(vs.spec.gateways, ["istio-ingress/sticky-gateway"]);
        assert.deepEqual(route.match, [{ uri: { exact: "/app-0" } }, { uri: { prefix: "/app-0/" } }]);
        assert.deepEqual(route.rewrite, { uri: "/" });
        assert.equal(route.route[0].destination.host, serviceHost(app));
        assert.equal(o.destinationRule.spec.host, "app-0.app-0.svc.cluster.local");
    });
    it("routes everything without rewrite for the root path", () => {
        const [root] = stackWith([AffinityMode.None], {}, { path: "/" }).apps;
        const [route] = buildRoutes([root], routeCtx)[0].spec.http;
        assert.deepEqual(route.match, [{ uri: { prefix: "/" } }]);
        assert.equal(route.rewrite, undefined);
    });
    it("runs a custom image as it is, without the script", () => {
        const [custom] = stackWith([AffinityMode.None], {}, { image: "ghcr.io/acme/shop:1.2", port: 9000 }).apps;
        const objs = buildAppObjects(custom, { ...ctx, demoScript: undefined });
        const c = objs.deployment!.spec.template.spec.containers[0];
        assert.equal(c.image, "ghcr.io/acme/shop:1.2");
        assert.equal(c.command, undefined);
        assert.equal(c.ports[0].containerPort, 9000);
        assert.ok(!objs.deployment!.spec.template.spec.volumes.some((v: any) => v.configMap));
    });
    it("gives the autoscaler the replica count, and keeps one pod through disruptions", () => {
        const [scaled] = stackWith(
            [AffinityMode.PersistentCookie],
            {},
            { autoscaling: { minReplicas: 2, maxReplicas: 8, cpuUtilization: 70 } },
        ).apps;
        const objs = buildAppObjects(scaled, ctx);
        assert.equal("replicas" in objs.deployment!.spec, false);
        assert.deepEqual(objs.horizontalPodAutoscaler!.spec, {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "app-0" },
            minReplicas: 2,
            maxReplicas: 8,
            metrics: [
                {
                    type: "Resource",
                    resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
                },
            ],
        });
        assert.deepEqual(objs.podDisruptionBudget!.spec, {
            minAvailable: 1,
            selector: { matchLabels: { app: "app-0" } },
        });
        assert.equal(o.horizontalPodAutoscaler, undefined);
    });
    it("adds the normal and direct subsets and the EnvoyFilters for direct routing", () => {
        const [direct] = stackWith(
            [AffinityMode.Header],
            {},
            { direct: { enabled: true, podCidr: "10.244.0.0/16", contexts: ["gateway", "sidecar"] } },
        ).apps;
        const objs = buildAppObjects(direct, ctx);
        const [normal, passthrough] = objs.destinationRule.spec.subsets;
        assert.equal(normal.name, "normal");
        assert.deepEqual(normal.trafficPolicy.loadBalancer, objs.destinationRule.spec.trafficPolicy.loadBalancer);
        assert.deepEqual(
            [passthrough.name, passthrough.trafficPolicy.loadBalancer],
            ["direct", { simple: "PASSTHROUGH" }],
        );
        const gw = objs.gatewayEnvoyFilter!;
        assert.deepEqual(
            [gw.metadata.namespace, gw.spec.workloadSelector],
            ["istio-ingress", { labels: { istio: "ingressgateway" } }],
        );
        assert.deepEqual(gw.spec.configPatches[0], {
            applyTo: "CLUSTER",
            match: {
                context: "GATEWAY",
                cluster: { service: "app-0.app-0.svc.cluster.local", subset: "direct", portNumber: 8080 },
            },
            patch: { operation: "MERGE", value: { original_dst_lb_config: { use_http_header: true } } },
        });
        const mesh = objs.meshEnvoyFilter!;
        assert.deepEqual(
            [mesh.metadata.namespace, mesh.spec.workloadSelector, mesh.spec.configPatches[0].match.context],
            ["istio-system", undefined, "SIDECAR_OUTBOUND"],
        );
        assert.deepEqual(objs.meshVirtualService!.spec.gateways, ["mesh"]);
        assert.deepEqual(
            objs.meshVirtualService!.spec.http.map((r: any) => r.name),
            ["app-0-direct", "app-0-direct-refused", "app-0"],
        );
        assert.equal(o.gatewayEnvoyFilter, undefined);
        assert.equal(o.destinationRule.spec.subsets, undefined);
    });
});
