import { strict as assert } from "assert";
import { ISTIO_MAX_REGEX_LENGTH, podAddressRegex } from "../../../components/policy/direct";

/** Envoy matches the whole value; JavaScript needs anchors to do the same. */
const accepts = (cidr: string, port: number, value: string) =>
    new RegExp(`^(?:${podAddressRegex(cidr, port)})$`).test(value);

describe("policy/direct", () => {
    it("accepts exactly the addresses inside the pod network, on the app's port", () => {
        for (const ok of ["10.244.0.0:8080", "10.244.3.17:8080", "10.244.255.255:8080"])
            assert.ok(accepts("10.244.0.0/16", 8080, ok), ok);
        for (const bad of [
            "10.245.0.1:8080",
            "10.244.3.17:8081",
            "10.244.3.17",
            "169.254.169.254:80",
            "10.244.3.17:8080x",
            "10.244.3.256:8080",
            "x10.244.3.17:8080",
            "10.244.3.17:80800",
        ]) {
            assert.ok(!accepts("10.244.0.0/16", 8080, bad), bad);
        }
    });
    it("handles prefixes that cut through an octet", () => {
        assert.ok(accepts("10.244.128.0/17", 80, "10.244.200.9:80"));
        assert.ok(!accepts("10.244.128.0/17", 80, "10.244.127.9:80"));
        assert.ok(accepts("100.64.0.0/10", 80, "100.127.1.1:80"));
        assert.ok(!accepts("100.64.0.0/10", 80, "100.128.1.1:80"));
        assert.ok(accepts("192.168.7.9/32", 80, "192.168.7.9:80"));
        assert.ok(!accepts("192.168.7.9/32", 80, "192.168.7.8:80"));
    });
    it("stays within Istio's regex length limit for every prefix", () => {
        for (let prefix = 8; prefix <= 32; prefix++) {
            assert.ok(podAddressRegex(`10.0.0.0/${prefix}`, 65535).length <= ISTIO_MAX_REGEX_LENGTH, `/${prefix}`);
        }
    });
});
