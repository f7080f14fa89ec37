package strip

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// An Istio-only config: a type upstream Envoy does not know (a Struct stands in for its bytes).
func istioConfig(t *testing.T) *anypb.Any {
	return &anypb.Any{TypeUrl: "type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig", Value: mustAny(t, &structpb.Struct{}).Value}
}

func TestListenerKeepsRoutingAndDropsIstioFilters(t *testing.T) {
	hashRoute := &routev3.Route{
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			HashPolicy: []*routev3.RouteAction_HashPolicy{{PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: "x-user"}}}},
		}},
		TypedPerFilterConfig: map[string]*anypb.Any{"istio.alpn": istioConfig(t), "envoy.filters.http.stateful_session": mustAny(t, &structpb.Struct{})},
	}
	hcm := &hcmv3.HttpConnectionManager{
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: "istio.metadata_exchange", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: istioConfig(t)}},
			{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}},
		},
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Routes: []*routev3.Route{hashRoute}}},
		}},
		Tracing: &hcmv3.HttpConnectionManager_Tracing{},
	}
	l := &listenerv3.Listener{Name: "0.0.0.0_80", FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{
		{Name: "istio.metadata_exchange"},
		{Name: hcmName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)}},
	}}}}
	var r Report
	out, keep, err := Resource(mustAny(t, l), &r)
	if err != nil || !keep {
		t.Fatalf("keep=%v err=%v", keep, err)
	}
	got := &listenerv3.Listener{}
	if err := out.UnmarshalTo(got); err != nil {
		t.Fatal(err)
	}
	filters := got.FilterChains[0].Filters
	if len(filters) != 1 || filters[0].Name != hcmName {
		t.Fatalf("network filters: %v", filters)
	}
	h := &hcmv3.HttpConnectionManager{}
	if err := filters[0].GetTypedConfig().UnmarshalTo(h); err != nil {
		t.Fatal(err)
	}
	if len(h.HttpFilters) != 1 || h.HttpFilters[0].Name != "envoy.filters.http.router" || h.Tracing != nil {
		t.Fatalf("http filters %v, tracing %v", h.HttpFilters, h.Tracing)
	}
	route := h.GetRouteConfig().VirtualHosts[0].Routes[0]
	if len(route.GetRoute().HashPolicy) != 1 || route.GetRoute().HashPolicy[0].GetHeader().HeaderName != "x-user" {
		t.Fatalf("the route's hash policy changed: %v", route.GetRoute().HashPolicy)
	}
	if _, ok := route.TypedPerFilterConfig["istio.alpn"]; ok {
		t.Fatal("istio.alpn's per-route config kept")
	}
	if _, ok := route.TypedPerFilterConfig["envoy.filters.http.stateful_session"]; !ok {
		t.Fatal("the stateful session's per-route config was removed")
	}
	want := map[string]int{NetworkFilters: 1, HTTPFilters: 2, LogsTracing: 1}
	for k, v := range want {
		if r.Counts()[k] != v {
			t.Fatalf("counts %v, want %v", r.Counts(), want)
		}
	}
}

func TestClustersAndEndpoints(t *testing.T) {
	var r Report
	if _, keep, _ := Resource(mustAny(t, &clusterv3.Cluster{Name: "connect_originate"}), &r); keep {
		t.Fatal("connect_originate kept")
	}
	c := &clusterv3.Cluster{
		Name:     "outbound|8080||web.shop.svc.cluster.local",
		LbPolicy: clusterv3.Cluster_RING_HASH,
		TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{
			TypedConfig: mustAny(t, &tlsv3.UpstreamTlsContext{Sni: "outbound_.8080_._.web.shop.svc.cluster.local"}),
		}},
		Filters: []*clusterv3.Filter{{Name: "istio.metadata_exchange"}},
	}
	out, keep, err := Resource(mustAny(t, c), &r)
	if err != nil || !keep {
		t.Fatalf("keep=%v err=%v", keep, err)
	}
	got := &clusterv3.Cluster{}
	_ = out.UnmarshalTo(got)
	if got.TransportSocket != nil || len(got.Filters) != 0 || got.LbPolicy != clusterv3.Cluster_RING_HASH {
		t.Fatalf("cluster: %v", got)
	}
	la := &endpointv3.ClusterLoadAssignment{Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{Address: &corev3.Address_EnvoyInternalAddress{
			EnvoyInternalAddress: &corev3.EnvoyInternalAddress{EndpointId: "10.244.0.7:8080"},
		}}}},
	}}}}}
	out, _, _ = Resource(mustAny(t, la), &r)
	gotLa := &endpointv3.ClusterLoadAssignment{}
	_ = out.UnmarshalTo(gotLa)
	sa := gotLa.Endpoints[0].LbEndpoints[0].GetEndpoint().GetAddress().GetSocketAddress()
	if sa.GetAddress() != "10.244.0.7" || sa.GetPortValue() != 8080 {
		t.Fatalf("endpoint: %v", gotLa)
	}
	want := map[string]int{ConnectOrig: 1, UpstreamMTLS: 1, NetworkFilters: 1, HBONEEndpoints: 1}
	for k, v := range want {
		if r.Counts()[k] != v {
			t.Fatalf("counts %v, want %v", r.Counts(), want)
		}
	}
}

func TestEveryRuleIsListedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, rule := range Rules {
		if seen[rule.ID] || rule.What == "" || rule.Why == "" || len(rule.In) == 0 {
			t.Fatalf("rule %+v", rule)
		}
		seen[rule.ID] = true
	}
	for _, id := range []string{HTTPFilters, NetworkFilters, UpstreamMTLS, ConnectOrig, HBONEEndpoints, LogsTracing} {
		if !seen[id] {
			t.Fatalf("%s is not in removals.json", id)
		}
	}
}
