// Package strip takes out of istiod's configuration for the gateway what only Istio's proxy
// build or agent provides, and nothing that decides where a request goes. The rules are the
// lab's one list (removals.json beside this file, which lab/envoy.ts reads too);
// each change is counted under its rule's id.
package strip

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

//go:embed removals.json
var removalsJSON []byte

// Rule is one entry of removals.json.
type Rule struct {
	ID   string   `json:"id"`
	What string   `json:"what"`
	Why  string   `json:"why"`
	In   []string `json:"in"`
}

// Rules is the list, in its order.
var Rules = func() []Rule {
	var rules []Rule
	if err := json.Unmarshal(removalsJSON, &rules); err != nil {
		panic("removals.json: " + err.Error())
	}
	return rules
}()

const (
	HTTPFilters    = "istio-http-filters"
	NetworkFilters = "istio-network-filters"
	UpstreamMTLS   = "upstream-mtls"
	ConnectOrig    = "hbone-connect-originate"
	HBONEEndpoints = "hbone-endpoints"
	LogsTracing    = "access-logs-tracing"
)

// Report counts the changes made, by rule id. Safe for concurrent use.
type Report struct {
	mu     sync.Mutex
	counts map[string]int
}

func (r *Report) add(id string) {
	known := false
	for _, rule := range Rules {
		known = known || rule.ID == id
	}
	if !known {
		panic("strip: no rule " + id + " in removals.json")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[id]++
}

// Counts is a copy of the counts so far.
func (r *Report) Counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.counts {
		out[k] = v
	}
	return out
}

// The type URLs of the resources changed here.
const (
	ListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	ClusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	RouteType    = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	EndpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	hcmName      = "envoy.filters.network.http_connection_manager"
	connectOrig  = "connect_originate"
)

func istioOnly(name string) bool { return strings.HasPrefix(name, "istio.") || name == "istio_authn" }

// withoutIstio keeps the filters upstream Envoy knows, counting each one left out under `rule`.
func withoutIstio[F interface{ GetName() string }](filters []F, rule string, r *Report) []F {
	kept := filters[:0]
	for _, f := range filters {
		if istioOnly(f.GetName()) {
			r.add(rule)
			continue
		}
		kept = append(kept, f)
	}
	return kept
}

// Resource returns the resource with the lab's changes, or keep=false when it is left out
// altogether. Types other than listeners, clusters, routes and endpoints pass unchanged.
func Resource(a *anypb.Any, r *Report) (out *anypb.Any, keep bool, err error) {
	var m proto.Message
	switch a.GetTypeUrl() {
	case ListenerType:
		m = &listenerv3.Listener{}
	case ClusterType:
		m = &clusterv3.Cluster{}
	case RouteType:
		m = &routev3.RouteConfiguration{}
	case EndpointType:
		m = &endpointv3.ClusterLoadAssignment{}
	default:
		return a, true, nil
	}
	if err := a.UnmarshalTo(m); err != nil {
		return nil, false, fmt.Errorf("%s: %w", a.GetTypeUrl(), err)
	}
	switch v := m.(type) {
	case *listenerv3.Listener:
		if v.GetName() == connectOrig {
			r.add(ConnectOrig)
			return nil, false, nil
		}
		if err := listener(v, r); err != nil {
			return nil, false, err
		}
	case *clusterv3.Cluster:
		if v.GetName() == connectOrig {
			r.add(ConnectOrig)
			return nil, false, nil
		}
		cluster(v, r)
	case *routev3.RouteConfiguration:
		Routes(v, r)
	case *endpointv3.ClusterLoadAssignment:
		Endpoints(v, r)
	}
	out, err = anypb.New(m)
	return out, err == nil, err
}

func listener(l *listenerv3.Listener, r *Report) error {
	if len(l.AccessLog) > 0 {
		l.AccessLog = nil
		r.add(LogsTracing)
	}
	for _, fc := range l.FilterChains {
		kept := fc.Filters[:0]
		for _, f := range fc.Filters {
			if istioOnly(f.GetName()) {
				r.add(NetworkFilters)
				continue
			}
			if f.GetName() == hcmName && f.GetTypedConfig() != nil {
				h := &hcmv3.HttpConnectionManager{}
				if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
					return fmt.Errorf("listener %s: %w", l.GetName(), err)
				}
				HCM(h, r)
				a, err := anypb.New(h)
				if err != nil {
					return err
				}
				f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
			}
			kept = append(kept, f)
		}
		fc.Filters = kept
	}
	return nil
}

// HCM takes the Istio-only HTTP filters, access logs and tracing out of a connection manager,
// and the Istio-only per-filter configs out of its inline routes.
func HCM(h *hcmv3.HttpConnectionManager, r *Report) {
	if len(h.AccessLog) > 0 || h.Tracing != nil {
		h.AccessLog, h.Tracing = nil, nil
		r.add(LogsTracing)
	}
	h.HttpFilters = withoutIstio(h.HttpFilters, HTTPFilters, r)
	if rc := h.GetRouteConfig(); rc != nil {
		Routes(rc, r)
	}
}

func perFilter(m map[string]*anypb.Any, r *Report) {
	for k := range m {
		if istioOnly(k) {
			delete(m, k)
			r.add(HTTPFilters)
		}
	}
}

// Routes takes the Istio-only per-filter configs out of a route configuration.
func Routes(rc *routev3.RouteConfiguration, r *Report) {
	perFilter(rc.TypedPerFilterConfig, r)
	for _, vh := range rc.VirtualHosts {
		perFilter(vh.TypedPerFilterConfig, r)
		for _, rt := range vh.Routes {
			perFilter(rt.TypedPerFilterConfig, r)
		}
	}
}

func cluster(c *clusterv3.Cluster, r *Report) {
	if c.TransportSocket != nil || len(c.TransportSocketMatches) > 0 {
		c.TransportSocket, c.TransportSocketMatches = nil, nil
		r.add(UpstreamMTLS)
	}
	c.Filters = withoutIstio(c.Filters, NetworkFilters, r)
	if la := c.GetLoadAssignment(); la != nil {
		Endpoints(la, r)
	}
}

// Endpoints addresses the endpoints istiod sends through ambient's tunnel to the pod itself.
func Endpoints(la *endpointv3.ClusterLoadAssignment, r *Report) {
	for _, loc := range la.Endpoints {
		for _, e := range loc.LbEndpoints {
			internal := e.GetEndpoint().GetAddress().GetEnvoyInternalAddress()
			if internal == nil {
				continue
			}
			host, port, err := net.SplitHostPort(internal.GetEndpointId())
			p, perr := strconv.Atoi(port)
			if err != nil || perr != nil {
				continue
			}
			e.GetEndpoint().Address = &corev3.Address{Address: &corev3.Address_SocketAddress{
				SocketAddress: &corev3.SocketAddress{Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(p)}},
			}}
			r.add(HBONEEndpoints)
		}
	}
}
