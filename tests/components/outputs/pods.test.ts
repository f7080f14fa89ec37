import { strict as assert } from "assert";
import { podsFromEndpointSlices, PodView, slicesSettled } from "../../../components/outputs/pods";
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

describe("outputs/pods slicesSettled", () => {
    const pod = (ip: string, ready = true, deleting = false): PodView => ({
        metadata: { name: ip, ...(deleting ? { deletionTimestamp: "2026-12-05T00:00:00Z" } : {}) },
        status: { podIP: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
    const listed = (...ips: string[]) => ips.map((ip) => ({ name: ip, ip }));

    it("is settled when the slices list every ready pod and nothing else", () => {
        const pods = [pod("10.0.0.1"), pod("10.0.0.2"), pod("10.0.0.3", false)];
        assert.deepEqual(slicesSettled(listed("10.0.0.1", "10.0.0.2"), pods), {
            settled: true,
            missing: [],
            stale: [],
        });
        // A pod not yet ready may already be listed (the controller saw it first): it exists, so it is not stale.
        assert.equal(slicesSettled(listed("10.0.0.1", "10.0.0.2", "10.0.0.3"), pods).settled, true);
        // No pods selected, none listed: nothing to wait for.
        assert.equal(slicesSettled([], []).settled, true);
    });

    it("waits for a ready pod the slices miss, and for a deleted or terminating pod they still list", () => {
        const pods = [pod("10.0.0.1"), pod("10.0.0.2"), pod("10.0.0.4", true, true)];
        assert.deepEqual(slicesSettled(listed("10.0.0.1"), pods), { settled: false, missing: ["10.0.0.2"], stale: [] });
        assert.deepEqual(slicesSettled(listed("10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.9"), pods), {
            settled: false,
            missing: [],
            stale: ["10.0.0.4", "10.0.0.9"],
        });
        // publishNotReadyAddresses: the controller lists a terminating pod as ready, and keeps doing so.
        assert.equal(slicesSettled(listed("10.0.0.1", "10.0.0.2", "10.0.0.4"), pods, true).settled, true);
    });

    it("reads IPv4 pods only, as the pod list does", () => {
        assert.equal(slicesSettled([], [pod("fd00::1"), { metadata: { name: "pending" }, status: {} }]).settled, true);
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
