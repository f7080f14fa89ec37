import { strict as assert } from "assert";
import { directCurl, podsFromEndpoints } from "../../../components/objects/pods";
import { parseApp } from "../../../components/settings/validate";
import { endpointSubsets } from "../../support/mocks";

describe("objects/pods", () => {
    it("lists the ready pods behind a Service by name, leaving out the not-ready ones", () => {
        assert.deepEqual(podsFromEndpoints({ subsets: endpointSubsets("web") }), [
            { name: "web-7d9f-a", ip: "10.244.1.11" },
            { name: "web-7d9f-b", ip: "10.244.2.12" },
        ]);
        assert.deepEqual(podsFromEndpoints(undefined), []);
        assert.deepEqual(podsFromEndpoints({ subsets: [{ addresses: [{ ip: "10.0.0.9" }] }] }), [{ name: "10.0.0.9", ip: "10.0.0.9" }]);
    });
    it("writes a curl that reaches one pod through the ingress", () => {
        const app = parseApp({ name: "b1", path: "/api", match: { headers: { target: "b1" } }, direct: { enabled: true, podCidr: "10.244.0.0/16" } }, "t").value;
        assert.equal(
            directCurl(app, { name: "b1-x", ip: "10.244.1.11" }, "http://203.0.113.10/api/"),
            "curl -s -H 'target: b1' -H 'use-direct: true' -H 'x-envoy-original-dst-host: 10.244.1.11:8080' 'http://203.0.113.10/api/'",
        );
    });
});
