package invoke

import (
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

// A flow document's limits win over the server's, field by field, and 0
// lifts a limit; a saved change applies to the next invocation.
func TestDocumentLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		api := clientToken()
		api.Limits = &dsl.Limits{RatePerSecond: ptr(0.0), MaxBacklog: ptr(0)}
		b := setup(t, st, api, Config{Rate: 0.001, Burst: 2, MaxBacklog: 10})
		b.flows.backlog = 5000
		h := map[string]string{"x-api-client-token": b.token, "Prefer": "respond-async"}
		for i := range 20 {
			if r, out := b.do(t, "POST", b.url, `{}`, h); r.StatusCode != 202 {
				t.Fatalf("request %d without limits: %d %v", i, r.StatusCode, out)
			}
		}

		// The backlog limit of the document, above the server's.
		b.flows.target.Endpoint.Limits = &dsl.Limits{RatePerSecond: ptr(0.0), MaxBacklog: ptr(5001)}
		if r, out := b.do(t, "POST", b.url, `{}`, h); r.StatusCode != 202 {
			t.Fatalf("backlog under the document's limit: %d %v", r.StatusCode, out)
		}
		b.flows.backlog = 5001
		if r, out := b.do(t, "POST", b.url, `{}`, h); r.StatusCode != 503 || errCode(out) != "backlog_full" {
			t.Fatalf("backlog at the document's limit: %d %v", r.StatusCode, out)
		}
		b.flows.backlog = 0

		// A rate set in the document, with a burst of one second's worth.
		b.flows.target.Endpoint.Limits = &dsl.Limits{RatePerSecond: ptr(0.001), Burst: ptr(0)}
		if r, out := b.do(t, "POST", b.url, `{}`, h); r.StatusCode != 202 {
			t.Fatalf("first under a rate: %d %v", r.StatusCode, out)
		}
		r, out := b.do(t, "POST", b.url, `{}`, h)
		if r.StatusCode != 429 || errCode(out) != "rate_limited" || r.Header.Get("Retry-After") != "1000" {
			t.Fatalf("second under a rate: %d %v %v", r.StatusCode, r.Header, out)
		}

		// An absent field takes the server's limit.
		b.flows.target.Endpoint.Limits = &dsl.Limits{RatePerSecond: ptr(0.0)}
		b.flows.backlog = 10
		if r, out := b.do(t, "POST", b.url, `{}`, h); r.StatusCode != 503 || errCode(out) != "backlog_full" {
			t.Fatalf("server backlog limit: %d %v", r.StatusCode, out)
		}
	})
}

func TestServerWithoutLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{Rate: -1, MaxBacklog: -1})
		b.flows.backlog = 1 << 30
		h := map[string]string{"x-api-client-token": b.token, "Prefer": "respond-async"}
		for i := range 300 {
			if r, out := b.do(t, "POST", b.url, `{}`, h); r.StatusCode != 202 {
				t.Fatalf("request %d: %d %v", i, r.StatusCode, out)
			}
		}
	})
}
