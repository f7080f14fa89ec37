// istio-sticky from TypeScript: Istio from Helm and three sticky apps behind its gateway, the same
// program as the Python, Go and YAML examples beside this one.
//   npm install && pulumi up
import * as pulumi from "@pulumi/pulumi";
import { AffinityMode, GatewayServiceType, IstioMesh, StickyApp } from "istio-sticky";

// Optional: an Istio release other than the package's default, or a mirror of Istio's charts.
const config = new pulumi.Config();

const mesh = new IstioMesh("mesh", {
    // The cart app below uses a persistent mode: istiod runs Envoy's stateful-session filter.
    persistentSessions: true,
    gateway: { serviceType: GatewayServiceType.NodePort }, // kind and minikube; LoadBalancer elsewhere
    version: config.get("istioVersion"),
    chartRepository: config.get("chartRepository"),
});

// In TypeScript the mesh among dependsOn is the object itself: each app object waits for exactly the
// mesh objects it needs, and the app binds to the mesh's gateway and knows what istiod runs.
const shop = new StickyApp(
    "shop",
    {
        name: "shop",
        // A namespace of its own: "shop" is the orders team's (below). An app whose namespace exists
        // already takes it over, and pulumi destroy would delete it with everything in it.
        namespace: "storefront",
        replicas: 3,
        affinity: { mode: AffinityMode.Cookie, cookie: { name: "shop-session", ttl: "3600s" } },
    },
    { dependsOn: [mesh] },
);

const cart = new StickyApp(
    "cart",
    {
        name: "cart",
        affinity: { mode: AffinityMode.PersistentHeader, headerName: "x-cart-pod" },
        // What decides which resources exist is plain: it must be written here, not taken from an output.
        autoscaling: { minReplicas: 2, maxReplicas: 6 },
    },
    { dependsOn: [mesh] },
);

// A Service your own chart deploys: no workload here. Its port gets appProtocol through a
// server-side-apply patch (undone on destroy), and its namespace is left as it is.
new StickyApp(
    "orders",
    {
        name: "orders",
        namespace: "shop",
        service: { name: "orders-api", port: 80, enrolNamespace: false },
        affinity: { mode: AffinityMode.Header, headerName: "x-user" },
    },
    { dependsOn: [mesh] },
);

export const ingress = mesh.ingress;
export const shopPods = shop.pods;
export const cartPods = cart.pods;
export const cartMeshRequirements = cart.meshRequirements;
