import { strict as assert } from "assert";
import { AffinityMode } from "istio-sticky";
import { affinitySchema } from "../../../components/settings/schema";
import {
    loadBalancerFor,
    serviceLabelsFor,
    sessionKeyFor,
    describeAffinity,
} from "../../../components/policy/affinity";
import { stickinessProbe } from "../../../components/outputs/endpoints";
import { AFFINITY_BY_MODE, ALL_MODES } from "../../support/fixtures";

const settings = (mode: AffinityMode) => affinitySchema.parse(AFFINITY_BY_MODE[mode]);

describe("policy/affinity", () => {
    it("hashes on the header, without locality load balancing", () => {
        assert.deepEqual(loadBalancerFor(settings(AffinityMode.Header)), {
            consistentHash: { httpHeaderName: "x-user" },
            localityLbSetting: { enabled: false },
        });
    });
    it("has Envoy set the cookie with TTL, path and attributes", () => {
        assert.deepEqual(loadBalancerFor(settings(AffinityMode.Cookie)).consistentHash, {
            httpCookie: {
                name: "sticky",
                path: "/",
                ttl: "60s",
                attributes: [{ name: "SameSite", value: "Lax" }, { name: "HttpOnly" }],
            },
        });
    });
    it("leaves the TTL out when none is given, so Envoy only reads the cookie", () => {
        const lb = loadBalancerFor(affinitySchema.parse({ mode: "cookie", cookie: { name: "app-session" } }));
        assert.deepEqual(lb.consistentHash, { httpCookie: { name: "app-session", path: "/" } });
    });
    it("hashes on the query parameter with a maglev table", () => {
        assert.deepEqual(loadBalancerFor(settings(AffinityMode.QueryParameter)).consistentHash, {
            httpQueryParameterName: "user",
            maglev: { tableSize: 65537 },
        });
    });
    it("hashes on the source IP with a ring size", () => {
        assert.deepEqual(loadBalancerFor(settings(AffinityMode.SourceIp)).consistentHash, {
            useSourceIp: true,
            ringHash: { minimumRingSize: 2048 },
        });
    });
    it("uses round robin and no hash for persistent modes and none", () => {
        for (const mode of [AffinityMode.PersistentCookie, AffinityMode.PersistentHeader, AffinityMode.None]) {
            assert.deepEqual(loadBalancerFor(settings(mode)), { simple: "ROUND_ROBIN" }, mode);
        }
    });
    it("labels the Service only for persistent modes, as Istio expects", () => {
        assert.deepEqual(serviceLabelsFor(settings(AffinityMode.PersistentCookie)), {
            "istio.io/persistent-session": "sticky-pod",
        });
        assert.deepEqual(serviceLabelsFor(settings(AffinityMode.PersistentHeader)), {
            "istio.io/persistent-session-header": "x-session-pod",
        });
        for (const mode of [AffinityMode.Header, AffinityMode.Cookie, AffinityMode.None])
            assert.deepEqual(serviceLabelsFor(settings(mode)), {});
    });
    it("tells the demo app where the session key travels", () => {
        assert.deepEqual(sessionKeyFor(settings(AffinityMode.Header)), { source: "header", name: "x-user" });
        // The routing cookie or header names the pod, shared by every client on it: the app counts by a key of the client's own.
        assert.deepEqual(sessionKeyFor(settings(AffinityMode.PersistentCookie)), {
            source: "issued-cookie",
            name: "demo-session",
        });
        assert.deepEqual(sessionKeyFor(settings(AffinityMode.PersistentHeader)), {
            source: "header",
            name: "x-session-id",
        });
        assert.deepEqual(sessionKeyFor(settings(AffinityMode.QueryParameter)), { source: "query", name: "user" });
        assert.deepEqual(sessionKeyFor(settings(AffinityMode.SourceIp)), { source: "none" });
    });
    it("gives every mode a probe loop that carries its session key", () => {
        const url = "http://203.0.113.10/web/";
        assert.match(
            stickinessProbe(settings(AffinityMode.Header), url),
            /curl -s -H 'x-user: alice' http:\/\/203\.0\.113\.10\/web\/ /,
        );
        assert.match(stickinessProbe(settings(AffinityMode.QueryParameter), url), /\/web\/\?user=alice/);
        assert.match(
            stickinessProbe(settings(AffinityMode.Cookie), url),
            /-b \/tmp\/sticky\.jar -c \/tmp\/sticky\.jar/,
        );
        assert.match(stickinessProbe(settings(AffinityMode.PersistentHeader), url), /-H 'x-session-pod: '"\$h"/);
        for (const mode of ALL_MODES) assert.match(stickinessProbe(settings(mode), url), /for i in \$\(seq 1 10\)/);
        for (const mode of ALL_MODES) assert.ok(describeAffinity(settings(mode)).length > 10);
    });
});
