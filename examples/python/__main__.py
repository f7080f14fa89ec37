"""istio-sticky from Python: Istio from Helm and three sticky apps behind its gateway, the same
program as the TypeScript, Go and YAML examples beside this one.

    pulumi package add <path or git URL of istio-sticky>   # generates sdks/istio-sticky, installs it into venv
    pulumi up
"""

import pulumi
import pulumi_istio_sticky as sticky

# Optional: an Istio release other than the package's default, or a mirror of Istio's charts.
config = pulumi.Config()

mesh = sticky.IstioMesh(
    "mesh",
    # The cart app below uses a persistent mode: istiod runs Envoy's stateful-session filter.
    persistent_sessions=True,
    gateway=sticky.GatewayArgs(service_type=sticky.GatewayServiceType.NODE_PORT),  # LoadBalancer outside kind
    version=config.get("istioVersion"),
    chart_repository=config.get("chartRepository"),
)

# From Python, depends_on reaches the package as a reference, not the mesh: each app waits for the
# whole mesh, and takes the mesh's gateway and what istiod runs from the mesh's outputs.
on_mesh = dict(
    gateway_namespace=mesh.gateway_namespace,
    gateway_selector=mesh.gateway_labels,
    mesh_persistent_sessions=mesh.persistent_sessions,
    opts=pulumi.ResourceOptions(depends_on=[mesh]),
)

shop = sticky.StickyApp(
    "shop",
    name="shop",
    # A namespace of its own: "shop" is the orders team's (below). An app whose namespace exists
    # already takes it over, and pulumi destroy would delete it with everything in it.
    namespace="storefront",
    replicas=3,
    affinity=sticky.AffinityArgs(
        mode=sticky.AffinityMode.COOKIE,
        cookie=sticky.CookieArgs(name="shop-session", ttl="3600s"),
    ),
    **on_mesh,
)

cart = sticky.StickyApp(
    "cart",
    name="cart",
    affinity=sticky.AffinityArgs(mode=sticky.AffinityMode.PERSISTENT_HEADER, header_name="x-cart-pod"),
    # What decides which resources exist is plain: it must be written here, not taken from an output.
    autoscaling=sticky.AutoscalingArgs(min_replicas=2, max_replicas=6),
    **on_mesh,
)

# A Service your own chart deploys: no workload here. Its port gets appProtocol through a
# server-side-apply patch (undone on destroy), and its namespace is left as it is.
orders = sticky.StickyApp(
    "orders",
    name="orders",
    namespace="shop",
    service=sticky.ExistingServiceArgs(name="orders-api", port=80, enrol_namespace=False),
    affinity=sticky.AffinityArgs(mode=sticky.AffinityMode.HEADER, header_name="x-user"),
    **on_mesh,
)

pulumi.export("ingress", mesh.ingress)
pulumi.export("shopPods", shop.pods)
pulumi.export("cartPods", cart.pods)
pulumi.export("cartMeshRequirements", cart.mesh_requirements)
