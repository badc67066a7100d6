package invoke

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// BenchmarkRefusal measures the two refusals a prober compares, an
// unknown alias and a known alias with a wrong token, beside a bare
// net/http handler in the same run; the two refusals should cost about
// the same (compare their ns/op), since both look up the endpoint and the
// flow and open a sealed token.
func BenchmarkRefusal(b *testing.B) {
	st := storetest.SQLite(b)
	bd := setup(b, st, clientToken(), Config{})
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer bare.Close()
	unknown := bd.srv.URL + "/api/flo/" + strings.Repeat("a", len(bd.ep.Alias)) + "/invoke"
	for _, bc := range []struct{ name, url string }{
		{"bare net/http", bare.URL},
		{"unknown alias", unknown},
		{"wrong token", bd.url},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				resp, _ := bd.do(b, http.MethodPost, bc.url, `{}`, map[string]string{"x-api-client-token": "wrong-token-of-some-length-0000000"})
				if resp.StatusCode != http.StatusUnauthorized {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// stubFlows starts nothing: BenchmarkAccept measures the handler's own
// work, not the execution's.
type stubFlows struct{ target Target }

func (s stubFlows) InvokeTarget(ctx context.Context, flowID string) (Target, error) {
	if flowID != s.target.FlowID {
		return Target{}, store.ErrNotFound
	}
	return s.target, nil
}
func (stubFlows) Start(ctx context.Context, p StartParams) error { return nil }
func (stubFlows) Wait(ctx context.Context, execID string) (Outcome, error) {
	return Outcome{Done: true, Status: "succeeded", Output: map[string]any{"route": "record"}}, nil
}
func (stubFlows) Backlog(ctx context.Context, flowID string) (int, error) { return 0, nil }

// benchEvent is an issue event of about 1 KB, as an event hook sends it.
var benchEvent = `{"eventType":"com.okta.ispm.issue.created","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",` +
	`"eventId":"5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0","eventTime":"2026-11-28T10:00:00.000Z","data":{"issue":{` +
	`"id":"iss_01JD8Z6Q0X9V4N7W2K5M3R8T1Y","title":"Admin account without MFA","severity":"HIGH","status":"OPEN",` +
	`"description":"An account with administrator privileges can sign in without a second factor.",` +
	`"entity":{"type":"ACCOUNT","id":"00u1a2b3c4d5e6f7g8h9","login":"ada.lovelace@example.com","displayName":"Ada Lovelace",` +
	`"department":"Engineering","manager":"charles.babbage@example.com","lastLogin":"2026-11-27T18:22:10.000Z"},` +
	`"privileges":["SUPER_ADMIN","ORG_ADMIN"],"factors":[],"apps":["Okta Admin Console","AWS","Salesforce"]},` +
	`"tenant":{"id":"ten_01JD8Z","name":"Example Corp"}}}`

// BenchmarkAccept measures what the handler itself costs an invocation
// that passes every check (alias, client token, body, limits), with a
// flows service that starts nothing, synchronous and asynchronous; run it
// with -benchmem for the allocations per request.
func BenchmarkAccept(b *testing.B) {
	bd := setup(b, storetest.SQLite(b), clientToken(), Config{Rate: -1, MaxBacklog: -1})
	for _, response := range []string{dsl.ResponseSync, dsl.ResponseAsync} {
		b.Run(response, func(b *testing.B) {
			api := dsl.APIEndpoint{Security: dsl.SecurityClientToken, Response: response}
			bd.h.flows = stubFlows{target: Target{FlowID: "flw_1", Title: "Flow", On: true, Endpoint: &api}}
			path := "/api/flo/" + bd.ep.Alias + "/invoke"
			want := http.StatusOK
			if response == dsl.ResponseAsync {
				want = http.StatusAccepted
			}
			b.ReportAllocs()
			for range b.N {
				r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(benchEvent))
				r.SetPathValue("alias", bd.ep.Alias)
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("X-Api-Client-Token", bd.token)
				r.Header.Set("User-Agent", "Okta-Hooks")
				w := httptest.NewRecorder()
				bd.h.ServeHTTP(w, r)
				if w.Code != want {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
