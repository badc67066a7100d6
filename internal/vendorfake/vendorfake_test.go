package vendorfake

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestFaults(t *testing.T) {
	var q Faults
	q.Fail(2, http.StatusTooManyRequests, "3")
	q.Add(1, Fault{Status: http.StatusForbidden, Code: "REQUEST_LIMIT_EXCEEDED"})
	for i, want := range []Fault{{Status: 429, RetryAfter: "3"}, {Status: 429, RetryAfter: "3"}, {Status: 403, Code: "REQUEST_LIMIT_EXCEEDED"}} {
		w := httptest.NewRecorder()
		f, ok := q.Take(w)
		if !ok || f != want || w.Header().Get("Retry-After") != want.RetryAfter {
			t.Fatalf("take %d = %+v, %v, Retry-After %q; want %+v", i, f, ok, w.Header().Get("Retry-After"), want)
		}
	}
	if f, ok := q.Take(httptest.NewRecorder()); ok {
		t.Errorf("take from an empty queue = %+v", f)
	}
}

func TestTokens(t *testing.T) {
	var tokens Tokens[string]
	tokens.Issue("tok1", "grant1")
	send := func(auth string) (string, bool) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return tokens.Bearer(r)
	}
	if v, ok := send("Bearer tok1"); !ok || v != "grant1" {
		t.Errorf("issued token = %q, %v", v, ok)
	}
	for _, auth := range []string{"", "tok1", "Basic tok1", "Bearer tok2"} {
		if v, ok := send(auth); ok {
			t.Errorf("Authorization %q accepted as %q", auth, v)
		}
	}
	tokens.Revoke()
	if _, ok := send("Bearer tok1"); ok {
		t.Error("a revoked token is still accepted")
	}
}

func TestStateHelpers(t *testing.T) {
	var mu sync.Mutex
	var size int
	var list []string
	Set(&mu, &size, 3)
	Append(&mu, &list, "a", "b")
	got := Copy(&mu, &list)
	got[0] = "changed"
	if size != 3 || len(list) != 2 || list[0] != "a" || len(got) != 2 {
		t.Errorf("size %d, list %q, copy %q", size, list, got)
	}
}
