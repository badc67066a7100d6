package invoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/httpjson/httpjsontest"
	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/signature"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// fakeFlows stands in for the flows service: it records starts and answers
// waits with a scripted outcome. The store underneath is real.
type fakeFlows struct {
	mu      sync.Mutex
	st      *store.Store
	target  Target
	starts  []StartParams
	outcome Outcome
	block   bool // Wait never finishes (sync cap test)
	backlog int
	gone    bool           // the flow was deleted: InvokeTarget answers ErrNotFound
	lookups map[string]int // InvokeTarget calls by flow id
}

func (f *fakeFlows) InvokeTarget(ctx context.Context, flowID string) (Target, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lookups == nil {
		f.lookups = map[string]int{}
	}
	f.lookups[flowID]++
	if f.gone || flowID != f.target.FlowID {
		return Target{}, store.ErrNotFound
	}
	return f.target, nil
}

func (f *fakeFlows) Start(ctx context.Context, p StartParams) error {
	err := f.st.InTx(ctx, func(tx *store.Tx) error {
		if p.InTx != nil {
			return p.InTx(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, p)
	return nil
}

func (f *fakeFlows) Wait(ctx context.Context, execID string) (Outcome, error) {
	if f.block {
		<-ctx.Done()
		return Outcome{}, ctx.Err()
	}
	return f.outcome, nil
}

func (f *fakeFlows) Backlog(ctx context.Context, flowID string) (int, error) { return f.backlog, nil }

func (f *fakeFlows) startCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.starts)
}

type bundle struct {
	h       *Handler
	flows   *fakeFlows
	ep      *store.Endpoint
	token   string
	url     string
	srv     *httptest.Server
	now     time.Time
	logs    *bytes.Buffer
	clock   *time.Time
	signKey *rsa.PrivateKey
}

func setup(t testing.TB, st *store.Store, api dsl.APIEndpoint, cfg Config) *bundle {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	box, _ := secret.New(key)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	b := &bundle{now: now, logs: &bytes.Buffer{}}
	b.clock = &now
	cfg.Now = func() time.Time { return *b.clock }
	ff := &fakeFlows{st: st, target: Target{FlowID: "flw_1", Title: "Flow", On: true, Endpoint: &api},
		outcome: Outcome{Done: true, Status: "succeeded", Output: map[string]any{"ok": true}}}
	logger := slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b.signKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &b.signKey.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	}))
	t.Cleanup(jwks.Close)
	if cfg.OAuth.Issuer == "" {
		cfg.OAuth = OAuthConfig{Issuer: "https://issuer.example.com", JWKSURL: jwks.URL, Audience: "api://vigil"}
	}
	b.h = NewHandler(cfg, st, NewEndpoints(st, box, cfg.Now), ff, jwks.Client(), logger)
	b.flows = ff
	ep, err := b.h.endpoints.Ensure(context.Background(), "flw_1")
	if err != nil {
		t.Fatal(err)
	}
	b.ep = ep
	b.token, _ = b.h.endpoints.Token(ep)
	mux := http.NewServeMux()
	mux.Handle(Pattern, b.h)
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	b.url = InvokeURL(b.srv.URL, ep.Alias)
	return b
}

// answer is what do keeps of a response, whose body it reads and closes.
type answer struct {
	StatusCode int
	Header     http.Header
}

func (b *bundle) do(t testing.TB, method, url string, body string, hdr map[string]string) (*answer, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	a := httpjsontest.Do(t, req)
	return &answer{StatusCode: a.StatusCode, Header: a.Header}, a.JSON
}

// sendSigned posts sentBody with the Standard Webhooks headers that sign
// body, made with secret at ts, and returns the status.
func (b *bundle) sendSigned(t testing.TB, secret string, ts time.Time, body, sentBody string) int {
	t.Helper()
	hdr, err := signature.Headers("msg_"+body, ts, []byte(body), secret)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for k := range hdr {
		m[k] = hdr.Get(k)
	}
	r, _ := b.do(t, "POST", b.url, sentBody, m)
	return r.StatusCode
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func clientToken() dsl.APIEndpoint {
	return dsl.APIEndpoint{Security: dsl.SecurityClientToken, Response: dsl.ResponseSync}
}

func TestStatuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{MaxBody: 64})
		tok := map[string]string{"x-api-client-token": b.token}
		cases := []struct {
			name   string
			method string
			url    string
			body   string
			hdr    map[string]string
			setup  func()
			status int
			code   string
		}{
			{name: "method", method: "PUT", url: b.url, hdr: tok, status: 405, code: "method_not_allowed"},
			// An unknown alias answers what a wrong token answers.
			{name: "unknown alias", method: "POST", url: b.srv.URL + "/api/flo/nope/invoke", hdr: tok, status: 401, code: "unauthorized"},
			{name: "too large", method: "POST", url: b.url, body: `{"a":"` + strings.Repeat("x", 100) + `"}`, hdr: tok, status: 413, code: "body_too_large"},
			// The token is checked before the body is read.
			{name: "too large, wrong token", method: "POST", url: b.url, body: `{"a":"` + strings.Repeat("x", 100) + `"}`, hdr: map[string]string{"x-api-client-token": "wrong"}, status: 401, code: "unauthorized"},
			{name: "too large, unknown alias", method: "POST", url: b.srv.URL + "/api/flo/nope/invoke", body: `{"a":"` + strings.Repeat("x", 100) + `"}`, hdr: tok, status: 401, code: "unauthorized"},
			{name: "trigger removed", method: "POST", url: b.url, body: `{}`, hdr: tok, setup: func() { b.flows.target.Endpoint = nil }, status: 401, code: "unauthorized"},
			{name: "missing token", method: "POST", url: b.url, body: `{}`, status: 401, code: "unauthorized"},
			{name: "wrong token", method: "POST", url: b.url, body: `{}`, hdr: map[string]string{"x-api-client-token": "wrong"}, status: 401, code: "unauthorized"},
			{name: "wrong query token", method: "POST", url: b.url + "?clientToken=wrong", body: `{}`, status: 401, code: "unauthorized"},
			{name: "off", method: "POST", url: b.url, body: `{}`, hdr: tok, setup: func() { b.flows.target.On = false }, status: 409, code: "flow_not_active"},
			// A flow that is off says so only to a caller who authenticated.
			{name: "off, wrong token", method: "POST", url: b.url, body: `{}`, hdr: map[string]string{"x-api-client-token": "wrong"}, setup: func() { b.flows.target.On = false }, status: 401, code: "unauthorized"},
			{name: "off, no token", method: "POST", url: b.url, body: `{}`, setup: func() { b.flows.target.On = false }, status: 401, code: "unauthorized"},
			{name: "GET without a token", method: "GET", url: b.url, status: 401, code: "unauthorized"},
			{name: "bad json", method: "POST", url: b.url, body: `{"a":`, hdr: tok, status: 415, code: "invalid_json"},
			{name: "backlog", method: "POST", url: b.url, body: `{}`, hdr: tok, setup: func() { b.flows.backlog = 5000 }, status: 503, code: "backlog_full"},
		}
		api := b.flows.target.Endpoint
		for _, tc := range cases {
			b.flows.target.On, b.flows.backlog, b.flows.target.Endpoint = true, 0, api
			if tc.setup != nil {
				tc.setup()
			}
			resp, out := b.do(t, tc.method, tc.url, tc.body, tc.hdr)
			if resp.StatusCode != tc.status || errCode(out) != tc.code {
				t.Errorf("%s: got %d %q, want %d %q", tc.name, resp.StatusCode, errCode(out), tc.status, tc.code)
			}
		}
		if n := b.flows.startCount(); n != 0 {
			t.Fatalf("rejected requests started %d executions", n)
		}
		// The same 401 body for missing and wrong credentials.
		_, missing := b.do(t, "POST", b.url, `{}`, nil)
		_, wrong := b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": "x"})
		unknown, unknownBody := b.do(t, "POST", b.srv.URL+"/api/flo/"+strings.Repeat("a", len(b.ep.Alias))+"/invoke", `{}`, map[string]string{"x-api-client-token": "x"})
		mj, _ := json.Marshal(missing)
		wj, _ := json.Marshal(wrong)
		uj, _ := json.Marshal(unknownBody)
		if string(mj) != string(wj) || string(uj) != string(wj) || unknown.StatusCode != http.StatusUnauthorized {
			t.Errorf("401 bodies differ: missing %s, wrong %s, unknown alias %d %s", mj, wj, unknown.StatusCode, uj)
		}
		if strings.Contains(b.logs.String(), b.token) {
			t.Fatal("the client token appears in the logs")
		}
	})
}

func TestSyncAsyncAndInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{})
		// Sync, token in the query string.
		resp, out := b.do(t, "POST", b.url+"?clientToken="+b.token+"&x=1", `{"eventData":{"title":"T"}}`, map[string]string{"X-Custom": "v"})
		if resp.StatusCode != 200 || out["ok"] != true {
			t.Fatalf("sync: %d %v", resp.StatusCode, out)
		}
		execID := resp.Header.Get(HeaderExecutionID)
		if !strings.HasPrefix(execID, "exe_") {
			t.Fatalf("execution id header = %q", execID)
		}
		in := b.flows.starts[0].Input
		if in["body"].(map[string]any)["eventData"].(map[string]any)["title"] != "T" {
			t.Errorf("body not parsed: %v", in["body"])
		}
		if in["headers"].(map[string]any)["x-custom"] != "v" {
			t.Errorf("headers not lower-cased: %v", in["headers"])
		}
		q := in["query"].(map[string]any)
		if q["x"] != "1" || q["clientToken"] != nil {
			t.Errorf("query = %v (token must be removed)", q)
		}
		raw := in["raw"].(map[string]any)
		if raw["body"] != `{"eventData":{"title":"T"}}` || strings.Contains(raw["query"].(string), b.token) {
			t.Errorf("raw = %v", raw)
		}
		if in["context"].(map[string]any)["execution_id"] != execID {
			t.Errorf("context.execution_id = %v, want %s", in["context"], execID)
		}
		// Token in the header; async by Prefer.
		resp, out = b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": b.token, "Prefer": "respond-async"})
		if resp.StatusCode != 202 || out["executionId"] != resp.Header.Get(HeaderExecutionID) {
			t.Fatalf("async: %d %v", resp.StatusCode, out)
		}
		if _, ok := b.flows.starts[1].Input["headers"].(map[string]any)["x-api-client-token"]; ok {
			t.Fatal("the client token header reached the flow input")
		}
		// Async by flow setting.
		b.flows.target.Endpoint.Response = dsl.ResponseAsync
		resp, _ = b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": b.token})
		if resp.StatusCode != 202 {
			t.Fatalf("async flow: %d", resp.StatusCode)
		}
		b.flows.target.Endpoint.Response = dsl.ResponseSync
		// Non-JSON content arrives as raw.body only.
		req, _ := http.NewRequest("POST", b.url, strings.NewReader("a=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("x-api-client-token", b.token)
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("form body: %v", err)
		}
		r2.Body.Close()
		if r2.StatusCode != 200 {
			t.Fatalf("form body: %d", r2.StatusCode)
		}
		last := b.flows.starts[len(b.flows.starts)-1].Input
		if last["raw"].(map[string]any)["body"] != "a=b" || len(last["body"].(map[string]any)) != 0 {
			t.Errorf("form input = %v", last)
		}
		// Raw return.
		b.flows.outcome.Output = map[string]any{"raw": true, "statusCode": float64(201), "headers": map[string]any{"X-Out": "1"}, "body": "created"}
		resp2, _ := b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": b.token})
		if resp2.StatusCode != 201 || resp2.Header.Get("X-Out") != "1" {
			t.Fatalf("raw return: %d %v", resp2.StatusCode, resp2.Header)
		}
		// A page in a raw body runs nothing in the console's origin, and a
		// flow sets no cookie there nor loosens the answer's guards.
		b.flows.outcome.Output = map[string]any{"raw": true, "statusCode": float64(200), "body": "<script>alert(1)</script>",
			"headers": map[string]any{"Content-Type": "text/html", "set-cookie": "vigil_session=x", "Content-Security-Policy": "default-src *",
				"X-Content-Type-Options": "sniff", "Access-Control-Allow-Origin": "*"}}
		resp4, _ := b.do(t, "GET", b.url, ``, map[string]string{"x-api-client-token": b.token})
		h := resp4.Header
		if resp4.StatusCode != 200 || h.Get("Content-Type") != "text/html" || h.Get("Set-Cookie") != "" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Access-Control-Allow-Origin") != "" ||
			h.Values("Content-Security-Policy")[0] != "sandbox; default-src 'none'; frame-ancestors 'none'" || len(h.Values("Content-Security-Policy")) != 1 {
			t.Fatalf("raw page: %d %v", resp4.StatusCode, h)
		}
		// A faulted execution.
		b.flows.outcome = Outcome{Done: true, Status: "faulted", Error: map[string]any{"type": "x", "status": 500}}
		resp3, out3 := b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": b.token})
		if resp3.StatusCode != 502 || errCode(out3) != "flow_faulted" {
			t.Fatalf("faulted: %d %v", resp3.StatusCode, out3)
		}
	})
}

func TestSyncCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{SyncCap: 50 * time.Millisecond})
		b.flows.block = true
		resp, out := b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": b.token})
		if resp.StatusCode != 202 || out["executionId"] == nil || resp.Header.Get(HeaderExecutionID) == "" {
			t.Fatalf("cap: %d %v", resp.StatusCode, out)
		}
	})
}

func TestRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{})
		ctx := context.Background()
		call := func(tok string) int {
			resp, _ := b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": tok})
			return resp.StatusCode
		}
		old := b.token
		// Without grace the old token stops at once.
		t1, err := b.h.endpoints.Rotate(ctx, "flw_1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if call(old) != 401 || call(t1) != 200 {
			t.Fatal("rotation without grace")
		}
		// With grace the old one works until the grace ends.
		t2, err := b.h.endpoints.Rotate(ctx, "flw_1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if call(t1) != 200 || call(t2) != 200 {
			t.Fatal("rotation with grace: both tokens must work")
		}
		*b.clock = b.clock.Add(2 * time.Hour)
		if call(t1) != 401 || call(t2) != 200 {
			t.Fatal("rotation with grace: old token must stop after the grace")
		}
	})
}

func TestPublicAndOktaChallenge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, dsl.APIEndpoint{Security: dsl.SecurityPublic, Response: dsl.ResponseSync, OktaVerification: true}, Config{})
		resp, _ := b.do(t, "POST", b.url, `{}`, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("public: %d", resp.StatusCode)
		}
		n := b.flows.startCount()
		resp, out := b.do(t, "GET", b.url, "", map[string]string{"X-Okta-Verification-Challenge": "abc123"})
		if resp.StatusCode != 200 || out["verification"] != "abc123" {
			t.Fatalf("challenge: %d %v", resp.StatusCode, out)
		}
		if b.flows.startCount() != n {
			t.Fatal("the verification challenge ran the flow")
		}
	})
}

func TestIdempotency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{})
		h := map[string]string{"x-api-client-token": b.token, "Idempotency-Key": "k1", "Prefer": "respond-async"}
		r1, _ := b.do(t, "POST", b.url, `{}`, h)
		r2, out2 := b.do(t, "POST", b.url, `{}`, h)
		if r1.Header.Get(HeaderExecutionID) != r2.Header.Get(HeaderExecutionID) || out2["duplicate"] != true {
			t.Fatalf("replay gave another execution: %s vs %s", r1.Header.Get(HeaderExecutionID), r2.Header.Get(HeaderExecutionID))
		}
		if n := b.flows.startCount(); n != 1 {
			t.Fatalf("started %d executions, want 1", n)
		}
		// webhook-id works the same; after 24 h the key is forgotten.
		h2 := map[string]string{"x-api-client-token": b.token, "webhook-id": "msg_1", "Prefer": "respond-async"}
		b.do(t, "POST", b.url, `{}`, h2)
		b.do(t, "POST", b.url, `{}`, h2)
		if n := b.flows.startCount(); n != 2 {
			t.Fatalf("webhook-id: started %d executions, want 2", n)
		}
		*b.clock = b.clock.Add(25 * time.Hour)
		b.do(t, "POST", b.url, `{}`, h2)
		if n := b.flows.startCount(); n != 3 {
			t.Fatalf("after 24 h: started %d executions, want 3", n)
		}
	})
}

func TestRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{Rate: 0.001, Burst: 2})
		h := map[string]string{"x-api-client-token": b.token, "Prefer": "respond-async"}
		for i := 0; i < 2; i++ {
			if r, _ := b.do(t, "POST", b.url, `{}`, h); r.StatusCode != 202 {
				t.Fatalf("request %d: %d", i, r.StatusCode)
			}
		}
		r, out := b.do(t, "POST", b.url, `{}`, h)
		if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" || errCode(out) != "rate_limited" {
			t.Fatalf("third: %d %v %v", r.StatusCode, r.Header, out)
		}
	})
}

func TestSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		api := dsl.APIEndpoint{Security: dsl.SecurityPublic, Response: dsl.ResponseSync,
			Signature: &dsl.SignatureCheck{Scheme: "standard-webhooks", Secret: "ispm"}}
		b := setup(t, st, api, Config{})
		oldSecret, _ := signature.NewSecret()
		newSecret, _ := signature.NewSecret()
		ctx := context.Background()
		if err := b.h.endpoints.SetSigningSecrets(ctx, "flw_1", []string{oldSecret, newSecret}); err != nil {
			t.Fatal(err)
		}
		send := func(secretKey string, ts time.Time, body, sentBody string) int {
			return b.sendSigned(t, secretKey, ts, body, sentBody)
		}
		if c := send(newSecret, b.now, `{"a":1}`, `{"a":1}`); c != 200 {
			t.Errorf("valid: %d", c)
		}
		if c := send(oldSecret, b.now, `{"a":2}`, `{"a":2}`); c != 200 {
			t.Errorf("rotated (old secret still accepted): %d", c)
		}
		if c := send(newSecret, b.now, `{"a":3}`, `{"a":4}`); c != 401 {
			t.Errorf("tampered body: %d", c)
		}
		if c := send(newSecret, b.now.Add(-10*time.Minute), `{"a":5}`, `{"a":5}`); c != 401 {
			t.Errorf("old timestamp: %d", c)
		}
		other, _ := signature.NewSecret()
		if c := send(other, b.now, `{"a":6}`, `{"a":6}`); c != 401 {
			t.Errorf("unknown secret: %d", c)
		}
	})
}

// TestSignatureHMAC: a trigger verifying hmac-sha256 takes a hex HMAC of
// the raw body in its header (GitHub's X-Hub-Signature-256 shape) made
// with the secret set on the endpoint, a secret of the sender's own.
func TestSignatureHMAC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		api := dsl.APIEndpoint{Security: dsl.SecurityPublic, Response: dsl.ResponseSync,
			Signature: &dsl.SignatureCheck{Scheme: signature.SchemeHMAC, Secret: "github", Header: "X-Hub-Signature-256"}}
		b := setup(t, st, api, Config{})
		ctx := context.Background()
		send := func(body, sig string) int {
			r, _ := b.do(t, "POST", b.url, body, map[string]string{"X-Hub-Signature-256": sig, "Content-Type": "text/plain"})
			return r.StatusCode
		}
		// GitHub's documented example: this secret signs "Hello, World!" so.
		const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
		if c := send("Hello, World!", sig); c != 401 {
			t.Errorf("before a secret is set: %d, want 401", c)
		}
		if _, err := b.h.endpoints.SetSigningSecret(ctx, "flw_1", signature.SchemeHMAC, "It's a Secret to Everybody", false); err != nil {
			t.Fatal(err)
		}
		if c := send("Hello, World!", sig); c != 200 {
			t.Errorf("valid: %d", c)
		}
		if c := send("Hello, World?", sig); c != 401 {
			t.Errorf("tampered body: %d", c)
		}
		if c := send("Hello, World!", ""); c != 401 {
			t.Errorf("no signature: %d", c)
		}
	})
}

// TestSetSigningSecret: a generated secret is returned once and works; a
// secret of one's own that does not fit the scheme is refused and changes
// nothing; a replaced secret stops working unless kept.
func TestSetSigningSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		api := dsl.APIEndpoint{Security: dsl.SecurityPublic, Response: dsl.ResponseSync,
			Signature: &dsl.SignatureCheck{Scheme: signature.SchemeStandard, Secret: "ispm"}}
		b := setup(t, st, api, Config{})
		ctx := context.Background()
		send := func(secret, body string) int { return b.sendSigned(t, secret, b.now, body, body) }
		first, err := b.h.endpoints.SetSigningSecret(ctx, "flw_1", signature.SchemeStandard, "", false)
		if err != nil || !strings.HasPrefix(first, signature.SecretPrefix) {
			t.Fatalf("generated secret = %q, %v", first, err)
		}
		if c := send(first, `{"a":1}`); c != 200 {
			t.Errorf("with the generated secret: %d", c)
		}
		var ie *input.InvalidError
		if _, err := b.h.endpoints.SetSigningSecret(ctx, "flw_1", signature.SchemeStandard, "whsec_tooshort", false); !errors.As(err, &ie) || ie.Field != "signingSecret" {
			t.Fatalf("a secret that does not fit: %v, want an InvalidError", err)
		}
		if c := send(first, `{"a":2}`); c != 200 {
			t.Errorf("after a refused change: %d, want the secret kept", c)
		}
		own, _ := signature.NewSecret()
		if got, err := b.h.endpoints.SetSigningSecret(ctx, "flw_1", signature.SchemeStandard, own, true); err != nil || got != "" {
			t.Fatalf("own secret, keeping the old: %q, %v", got, err)
		}
		if c, d := send(own, `{"a":3}`), send(first, `{"a":4}`); c != 200 || d != 200 {
			t.Errorf("own secret %d, kept old one %d; want both 200", c, d)
		}
		if _, err := b.h.endpoints.SetSigningSecret(ctx, "flw_1", signature.SchemeStandard, own, false); err != nil {
			t.Fatal(err)
		}
		if c := send(first, `{"a":5}`); c != 401 {
			t.Errorf("the replaced secret: %d, want 401", c)
		}
		ep, err := b.h.endpoints.Ensure(ctx, "flw_1")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := b.h.endpoints.SigningSecrets(ep); err != nil || n != 1 {
			t.Errorf("SigningSecrets = %d, %v; want 1", n, err)
		}
	})
}

// mintToken signs with key, as key id k1, an access token of the test
// issuer for Vigil's audience with the invoke scope, valid for an hour;
// mod changes its claims first.
func mintToken(t *testing.T, key *rsa.PrivateKey, mod func(c *jwt.Claims, extra map[string]any)) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := jwt.Claims{Issuer: "https://issuer.example.com", Audience: jwt.Audience{"api://vigil"},
		Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now)}
	extra := map[string]any{"scp": []string{"okta.workflows.invoke.manage"}}
	mod(&c, extra)
	s, err := jwt.Signed(signer).Claims(c).Claims(extra).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// callBearer invokes the bundle's flow with tok as its bearer token and
// returns the status.
func (b *bundle) callBearer(t *testing.T, tok string) int {
	r, _ := b.do(t, "POST", b.url, `{}`, map[string]string{"Authorization": "Bearer " + tok})
	return r.StatusCode
}

func TestOAuth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, dsl.APIEndpoint{Security: dsl.SecurityOAuth2, Response: dsl.ResponseSync}, Config{})
		realNow := time.Now()
		mint := func(mod func(c *jwt.Claims, extra map[string]any)) string { return mintToken(t, b.signKey, mod) }
		call := func(tok string) int { return b.callBearer(t, tok) }
		if c := call(mint(func(*jwt.Claims, map[string]any) {})); c != 200 {
			t.Errorf("valid: %d", c)
		}
		if c := call(mint(func(c *jwt.Claims, _ map[string]any) { c.Expiry = jwt.NewNumericDate(realNow.Add(-time.Hour)) })); c != 401 {
			t.Errorf("expired: %d", c)
		}
		if c := call(mint(func(c *jwt.Claims, _ map[string]any) { c.Audience = jwt.Audience{"other"} })); c != 401 {
			t.Errorf("wrong audience: %d", c)
		}
		if c := call(mint(func(_ *jwt.Claims, e map[string]any) { e["scp"] = []string{"okta.users.read"} })); c != 401 {
			t.Errorf("missing scope: %d", c)
		}
		if c := call(mint(func(_ *jwt.Claims, e map[string]any) { delete(e, "scp"); e["scope"] = "a okta.workflows.invoke.manage" })); c != 200 {
			t.Errorf("scope as string: %d", c)
		}
		if c := call("not-a-jwt"); c != 401 {
			t.Errorf("garbage: %d", c)
		}
	})
}

// TestWrongCaseTokenKey sends the right token under query keys that differ
// from clientToken only in case: each is refused, and the message names
// the key; the same request to an alias that does not exist gets the very
// same answer, so the hint tells nothing about which aliases exist.
func TestWrongCaseTokenKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{})
		unknown := b.srv.URL + "/api/flo/" + strings.Repeat("a", len(b.ep.Alias)) + "/invoke"
		for _, key := range []string{"clienttoken", "ClientToken", "CLIENTTOKEN"} {
			resp, out := b.do(t, "POST", b.url+"?"+key+"="+b.token, `{}`, nil)
			e, _ := out["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if resp.StatusCode != 401 || !strings.Contains(msg, "The query key of the client token is clientToken") || !strings.Contains(msg, "not "+key+".") {
				t.Errorf("%s: %d %q", key, resp.StatusCode, msg)
			}
			uresp, uout := b.do(t, "POST", unknown+"?"+key+"="+b.token, `{}`, nil)
			kj, _ := json.Marshal(out)
			uj, _ := json.Marshal(uout)
			if uresp.StatusCode != 401 || string(kj) != string(uj) {
				t.Errorf("%s: the unknown alias answers %d %s, the known one %s", key, uresp.StatusCode, uj, kj)
			}
		}
		// A wrong token under the right key gets no hint.
		_, out := b.do(t, "POST", b.url+"?clientToken=wrong&clienttoken=x", `{}`, nil)
		if e, _ := out["error"].(map[string]any); e["message"] != msgUnauthorized {
			t.Errorf("a wrong token under the right key: %v", out)
		}
		if n := b.flows.startCount(); n != 0 {
			t.Fatalf("refused requests started %d executions", n)
		}
	})
}

// TestOAuthKeysFetchedAtMostOncePerMinute sends tokens no key of the
// issuer signed: the issuer's key set is not fetched again for each (a
// flood of forged tokens must not make Vigil flood the issuer), yet a key
// the issuer rotated to is taken up once a minute has passed.
func TestOAuthKeysFetchedAtMostOncePerMinute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var fetches atomic.Int32
		var mu sync.Mutex
		issuerKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		jwksSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fetches.Add(1)
			mu.Lock()
			defer mu.Unlock()
			json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &issuerKey.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
		}))
		defer jwksSrv.Close()
		b := setup(t, st, dsl.APIEndpoint{Security: dsl.SecurityOAuth2, Response: dsl.ResponseSync},
			Config{OAuth: OAuthConfig{Issuer: "https://issuer.example.com", JWKSURL: jwksSrv.URL, Audience: "api://vigil"}})
		mint := func(key *rsa.PrivateKey) string { return mintToken(t, key, func(*jwt.Claims, map[string]any) {}) }
		call := func(tok string) int { return b.callBearer(t, tok) }
		if c := call(mint(issuerKey)); c != 200 || fetches.Load() != 1 {
			t.Fatalf("a real token: %d after %d fetches, want 200 after 1", c, fetches.Load())
		}
		forger, _ := rsa.GenerateKey(rand.Reader, 2048)
		forged := mint(forger)
		for range 20 {
			if c := call(forged); c != 401 {
				t.Fatalf("a forged token: %d", c)
			}
		}
		if n := fetches.Load(); n != 1 {
			t.Errorf("20 forged tokens within the minute fetched the issuer's keys %d more times, want none", n-1)
		}
		// The issuer rotates its key; a minute on, its new tokens work.
		rotated, _ := rsa.GenerateKey(rand.Reader, 2048)
		mu.Lock()
		issuerKey = rotated
		mu.Unlock()
		*b.clock = b.clock.Add(keyRefreshEvery)
		if c := call(mint(rotated)); c != 200 || fetches.Load() != 2 {
			t.Errorf("a token of the rotated key a minute on: %d after %d fetches, want 200 after 2", c, fetches.Load())
		}
	})
}
