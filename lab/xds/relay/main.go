// Command relay stands between the gateway's Envoy and istiod where istio-agent would: Envoy
// dials it over the agent's socket (./etc/istio/proxy/XDS in its working directory, as the
// bootstrap names it), the relay dials istiod's plaintext xDS port and passes every request and
// push through, both ways, with the node Envoy sends (the bootstrap istio-agent writes). Each
// push is changed only by the lab's removals (package strip), counted by rule; every request
// that rejects a push (a NACK) is recorded. GET /status on --status answers with the counts:
//
//	{"removals": {rule: n}, "pushes": {typeUrl: n}, "nacks": [{typeUrl, message}], "streams": n, "upstreamErrors": [...]}
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"istio-sticky/lab/xds/strip"
)

type nack struct {
	TypeURL string `json:"typeUrl"`
	Message string `json:"message"`
}

type relay struct {
	discovery.UnimplementedAggregatedDiscoveryServiceServer
	upstream *grpc.ClientConn
	report   strip.Report

	mu       sync.Mutex
	pushes   map[string]int
	nacks    []nack
	streams  int
	upErrors []string
}

func (r *relay) countPush(typeURL string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pushes[typeURL]++
}

func (r *relay) recordNack(typeURL, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nacks = append(r.nacks, nack{typeURL, msg})
}

func (r *relay) upstreamError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.upErrors) < 100 {
		r.upErrors = append(r.upErrors, err.Error())
	}
}

func (r *relay) status(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"removals":       r.report.Counts(),
		"rules":          strip.Rules,
		"pushes":         r.pushes,
		"nacks":          append([]nack{}, r.nacks...),
		"streams":        r.streams,
		"upstreamErrors": append([]string{}, r.upErrors...),
	})
}

func outgoing(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	return metadata.NewOutgoingContext(ctx, md.Copy())
}

// A request as the relay reads it: its type, and the error of a NACK.
type request interface {
	GetTypeUrl() string
	GetErrorDetail() *statuspb.Status
}

// One side of a stream: what it sends and receives.
type side[S, R any] interface {
	Send(S) error
	Recv() (R, error)
}

// pump passes requests from Envoy to istiod (recording NACKs) and istiod's pushes back,
// each changed by `change`, until either side ends; io.EOF from Envoy is a clean end.
func pump[Req request, Res interface{ GetTypeUrl() string }](r *relay, down side[Res, Req], up side[Req, Res], change func(Res) error) error {
	r.mu.Lock()
	r.streams++
	r.mu.Unlock()
	errs := make(chan error, 2)
	go func() {
		for {
			req, err := down.Recv()
			if err != nil {
				errs <- err
				return
			}
			if d := req.GetErrorDetail(); d != nil {
				r.recordNack(req.GetTypeUrl(), d.GetMessage())
			}
			if err := up.Send(req); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		for {
			res, err := up.Recv()
			if err != nil {
				r.upstreamError(err)
				errs <- err
				return
			}
			if err := change(res); err != nil {
				errs <- err
				return
			}
			r.countPush(res.GetTypeUrl())
			if err := down.Send(res); err != nil {
				errs <- err
				return
			}
		}
	}()
	err := <-errs
	if err == io.EOF {
		return nil
	}
	return err
}

// DeltaAggregatedResources relays one delta ADS stream (the API istio-agent's bootstrap asks for).
func (r *relay) DeltaAggregatedResources(down discovery.AggregatedDiscoveryService_DeltaAggregatedResourcesServer) error {
	ctx, cancel := context.WithCancel(down.Context())
	defer cancel()
	up, err := discovery.NewAggregatedDiscoveryServiceClient(r.upstream).DeltaAggregatedResources(outgoing(ctx))
	if err != nil {
		r.upstreamError(err)
		return err
	}
	return pump[*discovery.DeltaDiscoveryRequest, *discovery.DeltaDiscoveryResponse](r, down, up, func(res *discovery.DeltaDiscoveryResponse) error {
		kept := res.Resources[:0]
		for _, rs := range res.Resources {
			a, keep, err := strip.Resource(rs.GetResource(), &r.report)
			if err != nil {
				return err
			}
			if keep {
				rs.Resource = a
				kept = append(kept, rs)
			}
		}
		res.Resources = kept
		return nil
	})
}

// StreamAggregatedResources relays a state-of-the-world ADS stream the same way.
func (r *relay) StreamAggregatedResources(down discovery.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	ctx, cancel := context.WithCancel(down.Context())
	defer cancel()
	up, err := discovery.NewAggregatedDiscoveryServiceClient(r.upstream).StreamAggregatedResources(outgoing(ctx))
	if err != nil {
		r.upstreamError(err)
		return err
	}
	return pump[*discovery.DiscoveryRequest, *discovery.DiscoveryResponse](r, down, up, func(res *discovery.DiscoveryResponse) error {
		kept := res.Resources[:0]
		for _, a := range res.Resources {
			out, keep, err := strip.Resource(a, &r.report)
			if err != nil {
				return err
			}
			if keep {
				kept = append(kept, out)
			}
		}
		res.Resources = kept
		return nil
	})
}

func main() {
	listen := flag.String("listen", "", "the unix socket Envoy dials (its bootstrap's xds-grpc pipe)")
	upstream := flag.String("upstream", "", "istiod's plaintext xDS address, host:15010")
	statusAddr := flag.String("status", "127.0.0.1:0", "where GET /status answers; the address taken is printed on stdout")
	flag.Parse()
	if *listen == "" || *upstream == "" {
		fmt.Fprintln(os.Stderr, "usage: relay --listen <socket> --upstream <host:port> [--status <host:port>]")
		os.Exit(2)
	}
	conn, err := grpc.NewClient(*upstream,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r := &relay{upstream: conn, pushes: map[string]int{}}
	_ = os.MkdirAll(filepath.Dir(*listen), 0o755)
	_ = os.Remove(*listen)
	lis, err := net.Listen("unix", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(1 << 30))
	discovery.RegisterAggregatedDiscoveryServiceServer(srv, r)
	sl, err := net.Listen("tcp", *statusAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/status", r.status)
	go func() { _ = http.Serve(sl, mux) }()
	fmt.Printf("status http://%s/status\n", sl.Addr().String())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		srv.Stop()
	}()
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
