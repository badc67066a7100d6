package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// served fetches GET /api/openapi.json from a registered API, as an
// anonymous caller, and loads it.
func served(t *testing.T) *openapi3.T {
	t.Helper()
	mux := http.NewServeMux()
	New(Config{}, Services{}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("GET /api/openapi.json: %d %s %.200q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
	}
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("the OpenAPI document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc
}

// patterns stands in for the server's mux: it records the pattern of
// every route registered on it.
type patterns []string

func (p *patterns) Handle(pattern string, _ http.Handler) { *p = append(*p, pattern) }

func (p *patterns) HandleFunc(pattern string, _ func(http.ResponseWriter, *http.Request)) {
	*p = append(*p, pattern)
}

// servedRoutes registers this API, the accounts API and the hooks API as
// the server does and returns the "METHOD /api/v1/…" patterns they
// register. Registering touches no database, so the services need none.
func servedRoutes() []string {
	var p patterns
	New(Config{}, Services{}).Register(&p)
	auth.New(nil, auth.Config{}).Register(&p)
	hooks.New(nil, nil, hooks.Config{}).RegisterAPI(&p, nil)
	var out []string
	for _, pattern := range p {
		if _, path, _ := strings.Cut(pattern, " "); strings.HasPrefix(path, "/api/v1/") {
			out = append(out, pattern)
		}
	}
	return out
}

// TestOpenAPIDocument checks the document against what the server
// serves under /api/v1: every route this package, the auth package and
// the hooks package register is described with its path parameters, this
// package's routes also with their permission and refusals, and the
// document describes no route that is not served.
func TestOpenAPIDocument(t *testing.T) {
	doc := served(t)
	operation := func(key string) (*openapi3.PathItem, *openapi3.Operation) {
		t.Helper()
		method, path, _ := strings.Cut(key, " ")
		item := doc.Paths.Value(path)
		if item == nil {
			t.Errorf("%s: the OpenAPI document has no path %s", key, path)
			return nil, nil
		}
		op := item.GetOperation(method)
		if op == nil {
			t.Errorf("%s: the OpenAPI document has no %s operation for it", key, method)
			return nil, nil
		}
		return item, op
	}
	served := servedRoutes()
	if len(served) < 60 {
		t.Fatalf("only %d routes are registered under /api/v1: %v", len(served), served)
	}
	registered := map[string]bool{}
	for _, key := range served {
		if registered[key] {
			t.Errorf("%s is registered twice", key)
		}
		registered[key] = true
		item, op := operation(key)
		if op == nil {
			continue
		}
		for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(key, -1) {
			if item.Parameters.GetByInAndName("path", m[1]) == nil && op.Parameters.GetByInAndName("path", m[1]) == nil {
				t.Errorf("%s: path parameter %s is not documented", key, m[1])
			}
		}
	}
	for _, rt := range New(Config{}, Services{}).routes() {
		key := rt.method + " " + rt.pattern
		if !registered[key] {
			t.Errorf("%s is in the route table but was not registered", key)
		}
		_, op := operation(key)
		if op == nil {
			continue
		}
		if !strings.Contains(op.Description, "Permission "+string(rt.perm)+".") {
			t.Errorf("%s: the description %q does not name the permission %s", key, op.Description, rt.perm)
		}
		for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
			if op.Responses.Status(code) == nil {
				t.Errorf("%s: answer %d is not documented", key, code)
			}
		}
	}
	// The invoke handler serves its one pattern for these methods itself.
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodOptions} {
		registered[m+" "+invoke.Pattern] = true
		operation(m + " " + invoke.Pattern)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				t.Errorf("the OpenAPI document describes %s %s, which is not served", method, path)
			}
		}
	}
}

// TestResponseCheck makes sure the check every test's answers go through
// can fail: answers of the wrong shape or an undocumented status are
// refused.
func TestResponseCheck(t *testing.T) {
	doc := served(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/api/v1/issues/iss_1", 200, `{"id": 5}`},
		{"/api/v1/issues/iss_1", 418, `{}`},
		{"/api/v1/issues/iss_1", 404, `{"message": "no"}`},
		{"/api/v1/flows/f/endpoint", 200, `{"flowId": "f", "invokeUrl": "u", "security": "basic", "response": "sync"}`},
	} {
		req := httptest.NewRequest("GET", "https://vigil.example.com"+tc.path, nil)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 tc.status, Header: http.Header{"Content-Type": {"application/json"}},
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		in.SetBodyBytes([]byte(tc.body))
		if err := openapi3filter.ValidateResponse(context.Background(), in); err == nil {
			t.Errorf("%s %d %s passed the check", tc.path, tc.status, tc.body)
		}
	}
}

// TestPermissions sends every route of the table as every role and as
// nobody: a role without the route's permission is refused with 403 before
// anything runs, an anonymous caller with 401, and a role with it is let
// through.
func TestPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		fill := strings.NewReplacer("{id}", "x", "{name}", "x", "{version}", "1")
		for _, rt := range b.api.routes() {
			path := fill.Replace(rt.pattern)
			want(t, "anonymous "+rt.method+" "+path, b.do("", rt.method, path, nil), http.StatusUnauthorized, "unauthorized")
			for _, role := range auth.Roles() {
				what := string(role) + " " + rt.method + " " + path
				r := b.do(role, rt.method, path, nil)
				if !role.Can(rt.perm) {
					want(t, what, r, http.StatusForbidden, "forbidden")
					continue
				}
				if r.status == http.StatusForbidden || r.status == http.StatusUnauthorized {
					t.Errorf("%s: refused with %d %s; the role has %s", what, r.status, r.body, rt.perm)
				}
			}
		}
	})
}
