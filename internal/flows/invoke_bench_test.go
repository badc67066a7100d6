package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// benchEndpointFlow is the invoke benchmark's flow: an API Endpoint secured
// by a client token, answering synchronously unless the caller prefers
// async, with two tasks that read the body and shape the output.
const benchEndpointFlow = `  metadata:
    vigil:
      trigger:
        apiEndpoint: {security: clientToken}
`

const benchEndpointTasks = `do:
  - pick: {set: {user: '${ .body.user }', title: '${ .body.title }'}}
  - answer: {set: {user: '${ .user }', routed: '${ .title == "Unused Admin Account" }'}}
`

// benchParallelism multiplies GOMAXPROCS (2 on the reference machine) to
// give the number of concurrent callers in the parallel benchmarks.
const benchParallelism = 4

// invokeBench is a served invoke endpoint and a caller for it.
type invokeBench struct {
	tb     *testBundle
	flowID string
	url    string // invoke URL with ?clientToken=
	client *http.Client
	body   []byte
}

// newInvokeBench serves the real invoke handler over httptest in front of
// the durable flows service with the server's in-process pool (64
// executions at once) and a started queue for the overflow (setup's: 4
// workers, FetchPollInterval 10 ms), for a flow with an API Endpoint
// trigger.
func newInvokeBench(b *testing.B, dialect string) *invokeBench {
	b.Helper()
	st := storetest.Open(b, dialect)
	tb := setup(b, st, Config{})
	tb.svc.RunLocally(64)
	b.Cleanup(func() { tb.svc.StopLocal(context.Background()) })
	f := tb.saveOn(b, flowDoc("endpoint", benchEndpointFlow, benchEndpointTasks))
	box := secrettest.Box(b)
	// No rate limit and no backlog bound: the benchmark measures the
	// invoke path, not the limits that protect it.
	endpoints := invoke.NewEndpoints(st, box, nil)
	h := invoke.NewHandler(invoke.Config{Rate: rate.Inf, MaxBacklog: 1 << 30}, st, endpoints, tb.svc.Invoke(),
		netguard.NewClient(netguard.Config{}), slog.New(slog.DiscardHandler))
	ep, err := endpoints.Ensure(tb.ctx, f.ID)
	if err != nil {
		b.Fatal(err)
	}
	token, err := invoke.NewEndpoints(st, box, nil).Token(ep)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(invoke.Pattern, h)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64 // keep connections alive for every parallel caller
	b.Cleanup(tr.CloseIdleConnections)
	body, _ := json.Marshal(map[string]any{"user": "ali.lesch@example.com", "title": "Unused Admin Account"})
	return &invokeBench{tb: tb, flowID: f.ID, client: &http.Client{Transport: tr},
		url: invoke.InvokeURL(srv.URL, ep.Alias) + "?clientToken=" + token, body: body}
}

// invoke posts once. A synchronous call must answer 200 with the flow's
// output; an asynchronous one 202 with the execution id, which the handler
// sends only once the execution and its job are committed.
func (ib *invokeBench) invoke(async bool) error {
	req, err := http.NewRequest(http.MethodPost, ib.url, bytes.NewReader(ib.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if async {
		req.Header.Set("Prefer", "respond-async")
	}
	resp, err := ib.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var out struct {
		User        string `json:"user"`
		Routed      bool   `json:"routed"`
		ExecutionID string `json:"executionId"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("status %d, body %q: %w", resp.StatusCode, raw, err)
	}
	switch {
	case async && (resp.StatusCode != http.StatusAccepted || out.ExecutionID == ""):
		return fmt.Errorf("async invoke: status %d, body %s", resp.StatusCode, raw)
	case !async && (resp.StatusCode != http.StatusOK || out.User != "ali.lesch@example.com" || !out.Routed):
		return fmt.Errorf("sync invoke: status %d, body %s", resp.StatusCode, raw)
	}
	return nil
}

// drain waits, off the clock, until the queue has run every execution the
// asynchronous calls left, so that the next benchmark starts idle.
func (ib *invokeBench) drain(b *testing.B) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n, err := ib.tb.svc.Backlog(ib.tb.ctx, ib.flowID)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d executions still unfinished", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkInvoke posts to a flow's invoke URL through the real handler,
// flows service and queue, on each database: sync waits for the output
// (200), async (Prefer: respond-async) returns once the execution is
// durably stored (202) while the queue runs it in the background. The
// parallel variants run GOMAXPROCS×4 concurrent callers.
func BenchmarkInvoke(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			ib := newInvokeBench(b, dialect)
			for _, mode := range []struct {
				name     string
				async    bool
				parallel bool
			}{
				{"sync", false, false},
				{"async", true, false},
				{"sync-parallel", false, true},
				{"async-parallel", true, true},
			} {
				b.Run(mode.name, func(b *testing.B) {
					ib.drain(b)
					b.ReportAllocs()
					n := 0
					if mode.parallel {
						b.SetParallelism(benchParallelism)
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if err := ib.invoke(mode.async); err != nil {
									b.Error(err)
									return
								}
							}
						})
						b.StopTimer()
						n = b.N
					} else {
						for b.Loop() {
							if err := ib.invoke(mode.async); err != nil {
								b.Fatal(err)
							}
							n++
						}
					}
					b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "invokes/s")
					ib.drain(b)
				})
			}
		})
	}
}
