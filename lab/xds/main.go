// Command xds runs Istio's own config pipeline (pilot/test/xds, the in-memory
// istiod that Istio's tests use) over rendered objects and prints the Envoy
// configuration istiod would send to each proxy asked for.
//
// Input (stdin): a JSON array of cases. Output (stdout): a JSON array of
// results, one per case, in order. See lab/xds.ts for the shapes.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"syscall"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/bootstrap"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/schema/collections"
	"sigs.k8s.io/yaml"

	"istio-sticky/lab/xds/strip"
)

// Proxy is one Envoy that asks istiod for its configuration.
type Proxy struct {
	Name      string            `json:"name"`
	Type      string            `json:"type"` // router | sidecar | waypoint
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
	IP        string            `json:"ip"`
	ID        string            `json:"id"`
}

// Case is one stack's objects.
type Case struct {
	Name string `json:"name"`
	// Istio custom resources (networking.istio.io, security.istio.io, ...), YAML documents.
	Configs string `json:"configs"`
	// Kubernetes objects: Namespaces, Services, Pods, EndpointSlices, Secrets, Gateway API objects.
	Kubernetes string `json:"kubernetes"`
	// meshConfig as YAML (the istiod chart's meshConfig values); empty for Istio's default.
	MeshConfig   string  `json:"meshConfig"`
	IstioVersion string  `json:"istioVersion"`
	Proxies      []Proxy `json:"proxies"`
	// Istio's Envoy bootstrap template (tools/packaging/common/envoy_bootstrap.json of the same
	// module); when set, each gateway's result also holds the bootstrap istio-agent would write.
	BootstrapTemplate string `json:"bootstrapTemplate,omitempty"`
}

// Invalid is one object istiod's validation (the validating webhook's code) refused.
type Invalid struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Error     string `json:"error,omitempty"`
	Warning   string `json:"warning,omitempty"`
}

// Result is what istiod generated for one case.
type Result struct {
	Name       string                     `json:"name"`
	Error      string                     `json:"error,omitempty"`
	Validation []Invalid                  `json:"validation"`
	Proxies    map[string]json.RawMessage `json:"proxies"`
}

type failer struct {
	cleanups []func()
	logs     []string
}

type fatal struct{ msg string }

func (f *failer) Fail()                             { panic(fatal{"failed"}) }
func (f *failer) FailNow()                          { panic(fatal{"failed"}) }
func (f *failer) Fatal(args ...any)                 { panic(fatal{fmt.Sprint(args...)}) }
func (f *failer) Fatalf(format string, args ...any) { panic(fatal{fmt.Sprintf(format, args...)}) }
func (f *failer) Log(args ...any)                   { f.logs = append(f.logs, fmt.Sprint(args...)) }
func (f *failer) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *failer) TempDir() string {
	d, err := os.MkdirTemp("", "istio-sticky-xds-")
	if err != nil {
		panic(fatal{err.Error()})
	}
	f.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}
func (f *failer) Helper()           {}
func (f *failer) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *failer) Skip(args ...any)  { panic(fatal{"skipped: " + fmt.Sprint(args...)}) }
func (f *failer) done() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

var marshal = protojson.MarshalOptions{UseProtoNames: true}

func list[T proto.Message](items []T) json.RawMessage {
	parts := make([]string, 0, len(items))
	for _, m := range items {
		b, err := marshal.Marshal(m)
		if err != nil {
			panic(fatal{err.Error()})
		}
		parts = append(parts, string(b))
	}
	return json.RawMessage("[" + strings.Join(parts, ",") + "]")
}

// validate runs each Istio resource through the validation istiod's webhook runs,
// one document at a time as the API server would receive them, and returns the
// documents it accepts: a rejected object never reaches istiod, the others do.
func validate(configs string) ([]Invalid, string) {
	out := []Invalid{}
	accepted := []string{}
	for _, doc := range strings.Split(configs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		cfgs, _, err := crd.ParseInputs(doc)
		if err != nil {
			var meta struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			_ = yaml.Unmarshal([]byte(doc), &meta)
			out = append(out, Invalid{Kind: meta.Kind, Name: meta.Metadata.Name, Namespace: meta.Metadata.Namespace, Error: err.Error()})
			continue
		}
		accepted = append(accepted, doc)
		for _, c := range cfgs {
			s, ok := collections.All.FindByGroupVersionAliasesKind(c.GroupVersionKind)
			if !ok {
				out = append(out, Invalid{Kind: c.GroupVersionKind.String(), Name: c.Name, Namespace: c.Namespace, Error: "unknown kind"})
				continue
			}
			if warn, _ := s.ValidateConfig(c); warn != nil {
				out = append(out, Invalid{Kind: c.GroupVersionKind.Kind, Name: c.Name, Namespace: c.Namespace, Warning: warn.Error()})
			}
		}
	}
	return out, strings.Join(accepted, "\n---\n")
}

func proxyType(t string) model.NodeType {
	switch t {
	case "router":
		return model.Router
	case "waypoint":
		return model.Waypoint
	default:
		return model.SidecarProxy
	}
}

func run(c Case) (res Result) {
	res = Result{Name: c.Name, Proxies: map[string]json.RawMessage{}}
	f := &failer{}
	defer f.done()
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(fatal); ok {
				res.Error = e.msg
				return
			}
			res.Error = fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	var accepted string
	res.Validation, accepted = validate(c.Configs)
	m := mesh.DefaultMeshConfig()
	if strings.TrimSpace(c.MeshConfig) != "" {
		var err error
		if m, err = mesh.ApplyMeshConfigDefaults(c.MeshConfig); err != nil {
			panic(fatal{"meshConfig: " + err.Error()})
		}
	}
	s := xds.NewFakeDiscoveryServer(f, xds.FakeOptions{
		ConfigString:           accepted,
		KubernetesObjectString: c.Kubernetes,
		MeshConfig:             m,
	})
	for _, p := range c.Proxies {
		proxy := s.SetupProxy(&model.Proxy{
			Type:            proxyType(p.Type),
			ID:              p.ID,
			ConfigNamespace: p.Namespace,
			Labels:          p.Labels,
			IPAddresses:     []string{p.IP},
			Metadata: &model.NodeMetadata{
				IstioVersion: c.IstioVersion,
				Labels:       p.Labels,
				Namespace:    p.Namespace,
			},
		})
		listeners := s.Listeners(proxy)
		clusters, routes, endpoints := s.Clusters(proxy), s.RoutesFromListeners(proxy, listeners), s.Endpoints(proxy)
		out := map[string]json.RawMessage{
			"listeners": list(listeners),
			"clusters":  list(clusters),
			"routes":    list(routes),
			"endpoints": list(endpoints),
		}
		if c.BootstrapTemplate != "" && p.Type == "router" {
			out["bootstrap"] = agentBootstrap(p, c.IstioVersion, m, c.BootstrapTemplate)
		}
		if p.Type == "router" {
			var report strip.Report
			out["stripped"] = stripped(&report, map[string][]proto.Message{
				"listeners": messages(listeners),
				"clusters":  messages(clusters),
				"routes":    messages(routes),
				"endpoints": messages(endpoints),
			})
			counts, _ := json.Marshal(report.Counts())
			out["removals"] = counts
		}
		b, _ := json.Marshal(out)
		res.Proxies[p.Name] = b
	}
	return res
}

func messages[T proto.Message](items []T) []proto.Message {
	out := make([]proto.Message, len(items))
	for i, m := range items {
		out[i] = m
	}
	return out
}

// stripped is the gateway's configuration with the lab's removals (package strip, the code the live
// relay runs on istiod's pushes), by kind; what strip leaves out altogether is not listed.
func stripped(report *strip.Report, kinds map[string][]proto.Message) json.RawMessage {
	out := map[string]json.RawMessage{}
	for kind, items := range kinds {
		kept := []proto.Message{}
		for _, m := range items {
			a, err := anypb.New(m)
			if err != nil {
				panic(fatal{err.Error()})
			}
			changed, keep, err := strip.Resource(a, report)
			if err != nil {
				panic(fatal{"strip: " + err.Error()})
			}
			if !keep {
				continue
			}
			back := m.ProtoReflect().New().Interface()
			if err := changed.UnmarshalTo(back); err != nil {
				panic(fatal{err.Error()})
			}
			kept = append(kept, back)
		}
		out[kind] = list(kept)
	}
	b, _ := json.Marshal(out)
	return b
}

// agentBootstrap is the Envoy bootstrap istio-agent writes for the proxy, made by the agent's own
// code (pkg/bootstrap): the node as GetNodeMetaData builds it from the pod (its labels and namespace
// as ISTIO_META_* variables, the mesh's default proxy config), through Istio's template.
func agentBootstrap(p Proxy, version string, m *meshconfig.MeshConfig, template string) json.RawMessage {
	labels, _ := json.Marshal(p.Labels)
	node, err := bootstrap.GetNodeMetaData(bootstrap.MetadataOptions{
		Envs: []string{
			"ISTIO_META_ISTIO_VERSION=" + version,
			"ISTIO_META_NAMESPACE=" + p.Namespace,
			"ISTIO_METAJSON_LABELS=" + string(labels),
		},
		InstanceIPs: []string{p.IP},
		ID:          p.ID,
		ProxyConfig: m.GetDefaultConfig(),
		// pilot-agent's defaults (pilot/cmd/pilot-agent/options/options.go: ENVOY_STATUS_PORT,
		// ENVOY_PROMETHEUS_PORT), which pkg/istio-agent/agent.go passes on here.
		EnvoyStatusPort:     15021,
		EnvoyPrometheusPort: 15090,
	})
	if err != nil {
		panic(fatal{"bootstrap: " + err.Error()})
	}
	var b bytes.Buffer
	if err := bootstrap.New(bootstrap.Config{Node: node}).WriteTo(template, &b); err != nil {
		panic(fatal{"bootstrap: " + err.Error()})
	}
	return b.Bytes()
}

func main() {
	// istiod logs to stdout: keep stdout for the results and send everything else to stderr.
	resultsFd, err := syscall.Dup(1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := syscall.Dup2(2, 1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	results := os.NewFile(uintptr(resultsFd), "results")
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var cases []Case
	if err := json.Unmarshal(in, &cases); err != nil {
		fmt.Fprintln(os.Stderr, "input:", err)
		os.Exit(2)
	}
	out := make([]Result, 0, len(cases))
	for _, c := range cases {
		out = append(out, run(c))
	}
	if err := json.NewEncoder(results).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
