// istio-sticky from Go: Istio from Helm and three sticky apps behind its gateway, the same program
// as the TypeScript, Python and YAML examples beside this one.
//
//	pulumi package add <path or git URL of istio-sticky>   # generates sdks/istio-sticky, adds its replace to go.mod
//	pulumi up
package main

import (
	"example.com/pulumi-istio-sticky/sdk/go/istiosticky"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		// Optional: an Istio release other than the package's default, or a mirror of Istio's charts.
		cfg := config.New(ctx, "")
		optional := func(key string) pulumi.StringPtrInput {
			if v := cfg.Get(key); v != "" {
				return pulumi.String(v)
			}
			return nil
		}
		serviceType := istiosticky.GatewayServiceTypeNodePort // LoadBalancer outside kind
		mesh, err := istiosticky.NewIstioMesh(ctx, "mesh", &istiosticky.IstioMeshArgs{
			// The cart app below uses a persistent mode: istiod runs Envoy's stateful-session filter.
			PersistentSessions: pulumi.Bool(true),
			Gateway:            &istiosticky.GatewayArgs{ServiceType: &serviceType},
			Version:            optional("istioVersion"),
			ChartRepository:    optional("chartRepository"),
		})
		if err != nil {
			return err
		}

		// From Go, DependsOn reaches the package as a reference, not the mesh: each app waits for the
		// whole mesh, and takes the mesh's gateway and what istiod runs from the mesh's outputs.
		onMesh := func(args *istiosticky.StickyAppArgs) *istiosticky.StickyAppArgs {
			args.GatewayNamespace = mesh.GatewayNamespace
			args.GatewaySelector = mesh.GatewayLabels
			args.MeshPersistentSessions = mesh.PersistentSessions
			return args
		}
		afterMesh := pulumi.DependsOn([]pulumi.Resource{mesh})

		shop, err := istiosticky.NewStickyApp(ctx, "shop", onMesh(&istiosticky.StickyAppArgs{
			Name: pulumi.String("shop"),
			// A namespace of its own: "shop" is the orders team's (below). An app whose namespace exists
			// already takes it over, and pulumi destroy would delete it with everything in it.
			Namespace: pulumi.String("storefront"),
			Replicas:  pulumi.Float64(3),
			Affinity: &istiosticky.AffinityArgs{
				Mode:   istiosticky.AffinityModeCookie,
				Cookie: &istiosticky.CookieArgs{Name: "shop-session", Ttl: pulumi.StringRef("3600s")},
			},
		}), afterMesh)
		if err != nil {
			return err
		}

		cart, err := istiosticky.NewStickyApp(ctx, "cart", onMesh(&istiosticky.StickyAppArgs{
			Name: pulumi.String("cart"),
			Affinity: &istiosticky.AffinityArgs{
				Mode:       istiosticky.AffinityModePersistentHeader,
				HeaderName: pulumi.StringRef("x-cart-pod"),
			},
			// What decides which resources exist is plain: a Go value here, not an Input.
			Autoscaling: &istiosticky.AutoscalingArgs{MinReplicas: 2, MaxReplicas: 6},
		}), afterMesh)
		if err != nil {
			return err
		}

		// A Service your own chart deploys: no workload here. Its port gets appProtocol through a
		// server-side-apply patch (undone on destroy), and its namespace is left as it is.
		_, err = istiosticky.NewStickyApp(ctx, "orders", onMesh(&istiosticky.StickyAppArgs{
			Name:      pulumi.String("orders"),
			Namespace: pulumi.String("shop"),
			Service:   &istiosticky.ExistingServiceArgs{Name: pulumi.StringRef("orders-api"), Port: 80, EnrolNamespace: false},
			Affinity: &istiosticky.AffinityArgs{
				Mode:       istiosticky.AffinityModeHeader,
				HeaderName: pulumi.StringRef("x-user"),
			},
		}), afterMesh)
		if err != nil {
			return err
		}

		ctx.Export("ingress", mesh.Ingress)
		ctx.Export("shopPods", shop.Pods)
		ctx.Export("cartPods", cart.Pods)
		ctx.Export("cartMeshRequirements", cart.MeshRequirements)
		return nil
	})
}
