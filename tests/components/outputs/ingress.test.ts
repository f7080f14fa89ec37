import { strict as assert } from "assert";
import { ingressFromService } from "../../../components/outputs/ingress";

const ports = [
    { name: "status-port", port: 15021, nodePort: 30021 },
    { name: "http2", port: 80, nodePort: 30080 },
    { name: "https", port: 443, nodePort: 30443 },
];

describe("objects/ingress", () => {
    it("reads a load balancer's IP or hostname", () => {
        assert.deepEqual(
            ingressFromService({
                spec: { type: "LoadBalancer", ports },
                status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } },
            }).url,
            "http://203.0.113.7",
        );
        const byName = ingressFromService({
            spec: { type: "LoadBalancer", ports },
            status: { loadBalancer: { ingress: [{ hostname: "lb.example.com" }] } },
        });
        assert.equal(byName.host, "lb.example.com");
        assert.equal(byName.port, 80);
    });
    it("says how to wait for a load balancer that has no address yet", () => {
        const r = ingressFromService({
            metadata: { name: "gw", namespace: "edge" },
            spec: { type: "LoadBalancer", ports },
            status: {},
        });
        assert.equal(r.url, undefined);
        assert.match(r.howToReach, /kubectl -n edge get svc gw/);
    });
    it("gives node ports and how to reach them for NodePort", () => {
        const r = ingressFromService({ spec: { type: "NodePort", ports } });
        assert.deepEqual(r.nodePorts, { http: 30080, https: 30443 });
        assert.match(r.howToReach, /http:\/\/<node-ip>:30080/);
    });
    it("gives a port-forward for ClusterIP", () => {
        assert.match(
            ingressFromService({ metadata: { name: "gw", namespace: "edge" }, spec: { type: "ClusterIP", ports } })
                .howToReach,
            /kubectl -n edge port-forward svc\/gw 8080:80/,
        );
    });
});
