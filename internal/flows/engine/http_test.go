package engine_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// api is a test server that records requests and answers by path.
type api struct {
	*httptest.Server
	mu     sync.Mutex
	seen   []*http.Request
	bodies []string
}

func newAPI(t *testing.T) *api {
	a := &api{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": "` + r.PathValue("id") + `", "big": 12345678901234, "q": "` + r.URL.Query().Get("q") + `"}`))
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		_, _ = io.Copy(w, r.Body)
	})
	mux.HandleFunc("GET /text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("hello"))
	})
	mux.HandleFunc("GET /moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/text", http.StatusFound)
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /huge", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
	})
	mux.HandleFunc("GET /secure", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123456" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok": true}`))
	})
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_id") != "cid" || r.Form.Get("client_secret") != "csecret-value" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error": "invalid_client"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token": "tok-123456", "token_type": "Bearer", "expires_in": 3600, "scope": "` + r.Form.Get("scope") + `"}`))
	})
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(openAPI3))
	})
	mux.HandleFunc("POST /api/items/{kind}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": r.PathValue("kind"), "dry": r.URL.Query().Get("dryRun"),
			"trace": r.Header.Get("X-Trace"), "body": json.RawMessage(body)})
	})
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		a.mu.Lock()
		a.seen = append(a.seen, r)
		a.bodies = append(a.bodies, string(body))
		a.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *api) last() (*http.Request, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[len(a.seen)-1], a.bodies[len(a.bodies)-1]
}

const openAPI3 = `{
  "openapi": "3.0.3",
  "info": {"title": "items", "version": "1"},
  "servers": [{"url": "/api"}],
  "paths": {
    "/items/{kind}": {
      "post": {
        "operationId": "createItem",
        "parameters": [
          {"name": "kind", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "dryRun", "in": "query", "schema": {"type": "boolean"}},
          {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}
        ],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "ok"}}
      }
    }
  }
}`

// getSecureAuth is a flow that gets BASE/secure; a case adds the
// authentication.
const getSecureAuth = `
do:
  - get:
      call: http
      with:
        method: get
        endpoint:
          uri: BASE/secure
          authentication:
`

// openAPICreate is a flow that calls an operation of BASE's OpenAPI
// document; a case adds the operation and its parameters.
const openAPICreate = `
do:
  - create:
      call: openapi
      with:
        document: {endpoint: BASE/openapi.json}
`

func TestCallHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	base := a.URL
	tests := []struct {
		name  string
		doc   string
		input string
		want  string
		fault string
		check func(t *testing.T, r *http.Request, body string)
	}{
		{name: "uri template, query and headers", doc: `
do:
  - get:
      call: http
      with:
        method: get
        endpoint: BASE/users/{id}
        query: {q: '${ .term }'}
        headers: {X-Trace: abc}
`, input: "{id: u 1, term: x&y}", want: `{id: "u 1", big: 12345678901234, q: "x&y"}`,
			check: func(t *testing.T, r *http.Request, _ string) {
				if r.Header.Get("X-Trace") != "abc" || r.URL.Path != "/users/u 1" {
					t.Errorf("request %s %v", r.URL, r.Header)
				}
			}},
		{name: "endpoint expression", doc: `
do:
  - get:
      call: http
      with:
        method: get
        endpoint: '${ "BASE/users/" + (.id | tostring) }'
`, input: "id: 9", want: `{id: "9", big: 12345678901234, q: ""}`},
		{name: "json body", doc: `
do:
  - post:
      call: http
      with:
        method: post
        endpoint: {uri: BASE/echo}
        body: {name: '${ .n }', tags: [a, b]}
`, input: "n: ali", want: "{name: ali, tags: [a, b]}"},
		{name: "text content", doc: `
do:
  - get: {call: http, with: {method: get, endpoint: BASE/text}}
`, want: "hello"},
		{name: "raw output", doc: `
do:
  - get: {call: http, with: {method: get, endpoint: BASE/text, output: raw}}
`, want: base64.StdEncoding.EncodeToString([]byte("hello"))},
		{name: "response output", doc: `
do:
  - get: {call: http, with: {method: get, endpoint: BASE/text, output: response}}
  - pick: {set: {status: '${ .statusCode }', method: '${ .request.method }', content: '${ .content }'}}
`, want: "{status: 200, method: GET, content: hello}"},
		{name: "redirect is an error by default", doc: `
do:
  - get: {call: http, with: {method: get, endpoint: BASE/moved}}
`, fault: "communication 302"},
		{name: "redirect true follows", doc: `
do:
  - get: {call: http, with: {method: get, endpoint: BASE/moved, redirect: true}}
`, want: "hello"},
		{name: "server error", doc: `
do:
  - get: {call: http, with: {method: get, endpoint: BASE/fail}}
`, fault: "communication 500"},
		{name: "response too large", doc: `
do:
  - get: {call: http, with: {method: get, endpoint: BASE/huge}}
`, fault: "runtime 500"},
		{name: "bearer from reusable policy", doc: `
use:
  authentications:
    api:
      bearer: {token: '${ .token }'}
do:
  - get:
      call: http
      with:
        method: get
        endpoint: {uri: BASE/secure, authentication: {use: api}}
`, input: "token: tok-123456", want: "ok: true"},
		{name: "bearer from secret", doc: `
use:
  secrets: [apiToken]
do:
  - get:
      call: http
      with:
        method: get
        endpoint: {uri: BASE/secure, authentication: {bearer: {use: apiToken}}}
`, want: "ok: true"},
		{name: "oauth2 client credentials", doc: getSecureAuth + `            oauth2:
              authority: BASE
              grant: client_credentials
              client: {id: cid, secret: csecret-value}
              scopes: [read]
`, want: "ok: true"},
		{name: "oauth2 refused", doc: getSecureAuth + `            oauth2: {authority: BASE, grant: client_credentials, client: {id: cid, secret: wrong}}
`, fault: "authentication 401"},
		{name: "openapi 3 operation", doc: openAPICreate + `        operationId: createItem
        parameters: {kind: widget, dryRun: true, X-Trace: t1, body: {n: 1}}
`, want: `{kind: widget, dry: "true", trace: t1, body: {n: 1}}`},
		{name: "openapi missing required parameter", doc: openAPICreate + `        operationId: createItem
`, fault: "validation 400"},
		{name: "openapi unknown operation", doc: openAPICreate + `        operationId: nope
`, fault: "configuration 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := engine.New(engine.Config{HTTPClient: a.Client(), Secrets: staticSecrets{"apiToken": map[string]any{"token": "tok-123456"}},
				Limits: engine.Limits{MaxOutputBytes: 4096}})
			var input any
			if tt.input != "" {
				input, _ = yamlValue(tt.input)
			}
			r := runFlow(t, eng, parse(t, strings.ReplaceAll(tt.doc, "BASE", base)), input)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if tt.fault != "" {
				parts := strings.Fields(tt.fault)
				if r.fault == nil || !strings.HasSuffix(r.fault.Type, parts[0]) || jsonString(r.fault.Status) != parts[1] {
					t.Fatalf("fault = %+v, want %s", r.fault, tt.fault)
				}
				return
			}
			if r.fault != nil {
				t.Fatalf("fault: %+v", r.fault)
			}
			want, err := yamlValue(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameJSON(want, r.out); err != nil {
				t.Error(err)
			}
			if tt.check != nil {
				req, body := a.last()
				tt.check(t, req, body)
			}
		})
	}
}

func TestNoHTTPClient(t *testing.T) {
	t.Parallel()
	r := runFlow(t, engine.New(engine.Config{}), parse(t, `
do:
  - get: {call: http, with: {method: get, endpoint: 'https://example.com/x'}}
`), nil)
	if r.fault == nil || r.fault.Type != engine.ErrConfiguration {
		t.Fatalf("fault = %v, want a configuration fault", r.fault)
	}
}

// TestHistoryRedactsSecrets checks that secret values never reach the
// history, while the resume state keeps exact values.
func TestHistoryRedactsSecrets(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	eng := engine.New(engine.Config{HTTPClient: a.Client(), Secrets: staticSecrets{"apiToken": "tok-123456"}})
	w := parse(t, strings.ReplaceAll(`document:
  dsl: '1.0.0'
  namespace: test
  name: flow
  version: '1.0.0'
  metadata:
    vigil:
      saveAllData: true
use:
  secrets: [apiToken]
do:
  - keep:
      set: {token: '${ $secret.apiToken }', note: '${ "uses " + $secret.apiToken }'}
  - get:
      call: http
      with:
        method: get
        output: response
        endpoint: {uri: BASE/secure, authentication: {bearer: {token: '${ .token }'}}}
`, "BASE", a.URL))
	r := runFlow(t, eng, w, nil)
	if r.fault != nil || r.err != nil {
		t.Fatalf("Run: %v %v", r.fault, r.err)
	}
	steps := r.journal.Steps()
	if len(steps) != 2 {
		t.Fatalf("steps = %d", len(steps))
	}
	for _, s := range steps {
		if s.History == nil {
			t.Fatalf("step %s has no history although saveAllData is on", s.Key)
		}
		h := jsonString(s.History)
		if strings.Contains(h, "tok-123456") {
			t.Errorf("history of %s shows the secret: %s", s.Key, h)
		}
		if !strings.Contains(h, "[redacted]") {
			t.Errorf("history of %s does not mark redactions: %s", s.Key, h)
		}
	}
	if got := steps[0].Output.(map[string]any)["token"]; got != "tok-123456" {
		t.Errorf("resume state lost the exact value: %v", got)
	}
}

func TestHistoryOffKeepsNoData(t *testing.T) {
	t.Parallel()
	eng := engine.New(engine.Config{})
	r := runFlow(t, eng, parse(t, "do:\n  - a: {set: {v: 1}}\n"), nil)
	for _, s := range r.journal.Steps() {
		if s.History != nil {
			t.Errorf("step %s keeps history data although saveAllData is off", s.Key)
		}
		if s.Output == nil {
			t.Errorf("step %s lost its resume state", s.Key)
		}
	}
}
