package connector_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

type seen struct {
	method, uri, auth, ctype, custom, body string
}

func httpFixture(t *testing.T) (*bundle, *[]seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	fail429 := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("X-Trace"), string(body)})
		n := fail429
		fail429--
		mu.Unlock()
		switch {
		case r.URL.Path == "/api/v2/limited" && n > 0:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case r.URL.Path == "/api/v2/missing":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"no such ticket"}`)
		case r.URL.Path == "/api/v2/text":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "pong")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Request-Id", "req-1")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id": 12345678901234567, "ok": true}`)
		}
	}))
	t.Cleanup(srv.Close)
	b := setup(t)
	b.add(t, "Tickets", "http", false, map[string]string{"baseUrl": srv.URL + "/api/v2", "auth": "bearer", "token": "tk-secret-123456"})
	return b, &got
}

func TestHTTPRequest(t *testing.T) {
	b, got := httpFixture(t)
	r := b.run(t, "http.request", map[string]any{"connection": "Tickets", "method": "POST", "path": "/tickets",
		"query":   map[string]any{"notify": true, "tag": []any{"a", "b"}},
		"headers": map[string]any{"X-Trace": "t-1"},
		"body":    map[string]any{"title": "Unused Admin Account"}}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	want := seen{"POST", "/api/v2/tickets?notify=true&tag=a&tag=b", "Bearer tk-secret-123456", "application/json", "t-1", `{"title":"Unused Admin Account"}`}
	if len(*got) != 1 || (*got)[0] != want {
		t.Errorf("requests %+v, want %+v", *got, want)
	}
	if r.out["status"] != 201 || jsonString(r.out["body"]) != `{"id":12345678901234567,"ok":true}` ||
		r.out["headers"].(map[string]any)["x-request-id"] != "req-1" || r.out["dryRun"] != false {
		t.Errorf("output %v", r.out)
	}
	r = b.run(t, "http.request", map[string]any{"connection": "Tickets", "path": "text"}, false)
	if r.fault != nil || r.out["body"] != "pong" || (*got)[1].method != "GET" || (*got)[1].uri != "/api/v2/text" {
		t.Errorf("text: output %v, fault %v, request %+v", r.out, r.fault, (*got)[1])
	}
}

func TestHTTPRequestRetriesAndErrors(t *testing.T) {
	b, got := httpFixture(t)
	r := b.run(t, "http.request", map[string]any{"connection": "Tickets", "method": "POST", "path": "/limited", "body": "x"}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	if len(*got) != 2 || len(b.sleeps.d) != 1 || b.sleeps.d[0].Seconds() != 7 {
		t.Errorf("%d requests, waits %v; want a retry after the 7 s Retry-After", len(*got), b.sleeps.d)
	}
	if (*got)[1].body != "x" || (*got)[1].ctype != "text/plain; charset=utf-8" {
		t.Errorf("retried request %+v, want the same body", (*got)[1])
	}
	r = b.run(t, "http.request", map[string]any{"connection": "Tickets", "path": "/missing"}, false)
	if r.fault == nil || r.fault.Status != 404 || r.fault.Type != engine.ErrCommunication ||
		!strings.Contains(r.fault.Detail, `answered 404 Not Found: {"error":"no such ticket"}`) {
		t.Errorf("fault %v", r.fault)
	}
	bad := []struct {
		args map[string]any
		msg  string
	}{
		{map[string]any{"path": "https://evil.example/x"}, "argument path: expected a path under the connection's base URL"},
		{map[string]any{"path": "//evil.example/x"}, "argument path: expected a path under the connection's base URL"},
		{map[string]any{"path": "/tickets/../../admin"}, "argument path: the path may not contain . or .. segments"},
		{map[string]any{"path": "/tickets?admin=1"}, "argument path: put query parameters in query"},
		{map[string]any{"headers": map[string]any{"Authorization": "Bearer other"}}, "argument headers.Authorization: this header is set by the client or the connection"},
		{map[string]any{"headers": map[string]any{"X-A": "a\r\nX-B: b"}}, "argument headers.X-A: a header value may not contain a line break"},
		{map[string]any{"method": "TRACE"}, "argument method: expected one of GET, HEAD, POST"},
		{map[string]any{"colour": "red"}, "argument colour: unknown argument; http.request takes connection, method, path, query, headers, body"},
	}
	for _, tt := range bad {
		tt.args["connection"] = "Tickets"
		r := b.runUnchecked(t, "http.request", tt.args)
		if r.fault == nil || r.fault.Type != engine.ErrValidation || !strings.Contains(r.fault.Detail, tt.msg) {
			t.Errorf("%v: fault %v, want %q", tt.args, r.fault, tt.msg)
		}
	}
	if len(*got) != 3 {
		t.Errorf("%d requests, want none for the refused arguments", len(*got)-3)
	}
}
