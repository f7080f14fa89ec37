/**
 * The components under Pulumi's standard mocks, as its unit-testing guide writes them: every
 * resource's state is its inputs, so the reads of the cluster (the gateway Service, the ready pods)
 * hold nothing, and the outputs say so instead of failing.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { StickySessions, IstioMesh, StickyApp, AffinityMode, GatewayServiceType } from "istio-sticky";
import { NOT_READ } from "../../components/outputs/ingress";
import { valueOf } from "../support/mocks";
import { useGuideMocks } from "../consumer/guideMocks";

describe("the components under Pulumi's standard mocks (state = inputs)", function () {
    this.timeout(30_000);
    // The mocks of Pulumi's guide (docs/iac/guides/testing/unit), nothing added: the consumer test's own.
    beforeEach(() => void useGuideMocks());

    it("StickySessions exports an ingress that was not read, no pods, and commands that start with $INGRESS", async () => {
        const sticky = new StickySessions("shop", {
            mesh: { gateway: { serviceType: GatewayServiceType.NodePort } },
            tls: { enabled: true, hosts: ["shop.test"], httpsRedirect: false },
            apps: [
                { name: "cart", affinity: { mode: AffinityMode.Cookie, cookie: { name: "cart", ttl: "0s" } } },
                {
                    name: "search",
                    affinity: { mode: AffinityMode.Header, headerName: "x-user" },
                    direct: { enabled: true, podCidr: "10.244.0.0/16" },
                },
            ],
        });
        const [ingress, endpoints] = await valueOf(pulumi.all([sticky.ingress, sticky.endpoints]));
        assert.equal(ingress.type, NOT_READ);
        assert.match(ingress.howToReach, /istio-ingress\/istio-ingressgateway.*export INGRESS=/);
        assert.deepEqual(endpoints.cart.pods, []);
        assert.deepEqual(endpoints.search.directCurls, []);
        assert.equal(endpoints.cart.verify, `npx istio-sticky-verify --url "$INGRESS/cart/" --mode cookie --insecure`);
        assert.equal(endpoints.search.url, undefined);
    });

    it("IstioMesh and StickyApp on their own", async () => {
        const mesh = new IstioMesh("mesh", { persistentSessions: true });
        const app = new StickyApp(
            "cart",
            { name: "cart", affinity: { mode: AffinityMode.PersistentCookie, cookie: { name: "cart-pod" } } },
            { dependsOn: [mesh] },
        );
        const [ingress, pods, requirements] = await valueOf(pulumi.all([mesh.ingress, app.pods, app.meshRequirements]));
        assert.equal(ingress.type, NOT_READ);
        assert.deepEqual(pods, []);
        assert.deepEqual(requirements, []);
    });
});
