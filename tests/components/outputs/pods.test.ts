import { strict as assert } from "assert";
import { podsFromEndpointSlices } from "../../../components/outputs/pods";
import { directCurl } from "../../../components/outputs/endpoints";
import { parseApp } from "../../../components/settings/validate";
import { endpointSlicesOf } from "../../support/mocks";

describe("outputs/pods", () => {
    it("lists the ready IPv4 pods behind a Service by name, from all its EndpointSlices", () => {
        assert.deepEqual(podsFromEndpointSlices(endpointSlicesOf("web")), [
            { name: "web-7d9f-a", ip: "10.244.1.11" },
            { name: "web-7d9f-b", ip: "10.244.2.12" },
        ]);
        assert.deepEqual(podsFromEndpointSlices([]), []);
        // A missing ready condition means ready; an endpoint without a Pod reference is named by its address.
        assert.deepEqual(podsFromEndpointSlices([{ endpoints: [{ addresses: ["10.0.0.9"] }] }]), [
            { name: "10.0.0.9", ip: "10.0.0.9" },
        ]);
        assert.deepEqual(
            podsFromEndpointSlices([
                { addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.9"], conditions: { ready: false } }] },
            ]),
            [],
        );
    });
});

describe("outputs/endpoints", () => {
    it("writes a curl that reaches one pod through the ingress", () => {
        const app = parseApp(
            {
                name: "b1",
                path: "/api",
                match: { headers: { target: "b1" } },
                direct: { enabled: true, podCidr: "10.244.0.0/16" },
            },
            "t",
        ).value;
        assert.equal(
            directCurl(app, { name: "b1-x", ip: "10.244.1.11" }, "http://203.0.113.10/api/"),
            "curl -s -H 'target: b1' -H 'use-direct: true' -H 'x-envoy-original-dst-host: 10.244.1.11:8080' http://203.0.113.10/api/",
        );
    });
});
