// Package vendorfake holds what every in-process vendor fake shares: the
// loopback server, the log of requests received and the queue of canned
// failures a test asks for. Each vendor's fake (oktatest, entratest, …)
// keeps only what its API documents: paths, auth checks, paging and error
// shapes. Sharing the scaffolding means a fix to how fakes record or fail
// requests is made once, not seven times.
package vendorfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Request is one request a fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Base is the loopback server and request log a fake embeds. Its methods
// are safe for concurrent use; the fake guards its own state itself.
type Base struct {
	// URL is the server's base URL, set by Start.
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	requests []Request
}

// Start serves h on a loopback port and sets URL.
func (b *Base) Start(h http.Handler) {
	b.srv = httptest.NewServer(h)
	b.URL = b.srv.URL
}

// ForTest registers s's Close with t, so a fake a test starts is shut down
// when that test ends, and returns s. Each fake's New is this around its
// NewServer.
func ForTest[S interface{ Close() }](t testing.TB, s S) S {
	t.Helper()
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down.
func (b *Base) Close() { b.srv.Close() }

// Client returns an HTTP client that reaches the server.
func (b *Base) Client() *http.Client { return b.srv.Client() }

// Record reads r's body, adds the request to the log and returns the body,
// so the fake can check it after the log holds what the client sent.
func (b *Base) Record(r *http.Request) []byte {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = append(b.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: body})
	return body
}

// Requests returns a copy of every request received, in order.
func (b *Base) Requests() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Request(nil), b.requests...)
}

// ResetRequests forgets the requests received so far.
func (b *Base) ResetRequests() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = nil
}

// RequestsWhere returns the requests keep accepts, in order.
func (b *Base) RequestsWhere(keep func(Request) bool) []Request {
	var out []Request
	for _, r := range b.Requests() {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// RequestsUnder returns the requests whose path starts with prefix, in
// order: a vendor's API calls without its token requests, say.
func (b *Base) RequestsUnder(prefix string) []Request {
	return b.RequestsWhere(func(r Request) bool { return strings.HasPrefix(r.Path, prefix) })
}

// Lookup returns a copy of what find returns, read under mu so that a test
// never races the fake's handlers; ok is false when find returns nil.
func Lookup[T any](mu *sync.Mutex, find func() *T) (v T, ok bool) {
	mu.Lock()
	defer mu.Unlock()
	if p := find(); p != nil {
		return *p, true
	}
	return v, false
}

// Set assigns v to *field under mu: a fake's setting, changed by a test
// while the fake may be serving.
func Set[T any](mu *sync.Mutex, field *T, v T) {
	mu.Lock()
	defer mu.Unlock()
	*field = v
}

// Append adds v to *list under mu: a fake's seeding of its state.
func Append[T any](mu *sync.Mutex, list *[]T, v ...T) {
	mu.Lock()
	defer mu.Unlock()
	*list = append(*list, v...)
}

// Copy returns a copy of *list, read under mu, so that a test never races
// the fake's handlers.
func Copy[T any](mu *sync.Mutex, list *[]T) []T {
	mu.Lock()
	defer mu.Unlock()
	return append([]T(nil), *list...)
}

// Fault is a failure a test asked the fake to answer with.
type Fault struct {
	Status     int
	RetryAfter string
	// Code and Message, when set, replace the vendor's usual error for
	// Status.
	Code, Message string
}

// Faults is a queue of failures to answer the next requests with. Its zero
// value is empty and ready; it is safe for concurrent use, so a test can
// queue failures without taking the fake's lock.
type Faults struct {
	mu sync.Mutex
	q  []Fault
}

// Add queues f for the next n requests.
func (q *Faults) Add(n int, f Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for range n {
		q.q = append(q.q, f)
	}
}

// Fail queues status, with Retry-After retryAfter when it is not empty, for
// the next n requests: what each fake's FailNext does before its handlers
// dress the status in the vendor's error.
func (q *Faults) Fail(n, status int, retryAfter string) {
	q.Add(n, Fault{Status: status, RetryAfter: retryAfter})
}

// Take removes the next failure from the queue and sets its Retry-After
// header on w; ok is false when the queue is empty.
func (q *Faults) Take(w http.ResponseWriter) (f Fault, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) == 0 {
		return Fault{}, false
	}
	f, q.q = q.q[0], q.q[1:]
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	return f, true
}

// Tokens are the bearer tokens a fake issued, each with what the fake keeps
// about it (an expiry, the grant it came from). Its zero value is empty and
// ready; it is safe for concurrent use.
type Tokens[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

// Issue records tok with v.
func (t *Tokens[T]) Issue(tok string, v T) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]T{}
	}
	t.m[tok] = v
}

// Bearer returns what was issued with the token r sends as
// "Authorization: Bearer <token>"; ok is false when r sends none or one
// never issued or since revoked.
func (t *Tokens[T]) Bearer(r *http.Request) (v T, ok bool) {
	tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found {
		return v, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok = t.m[tok]
	return v, ok
}

// Revoke invalidates every token issued so far, as a secret rotation or a
// token lifetime policy would.
func (t *Tokens[T]) Revoke() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.m)
}

// WriteJSON answers status with v encoded as JSON and contentType (the
// vendor's exact Content-Type, charset spelling included).
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// RandomHex returns n random bytes hex-encoded, for tokens and ids the fake
// issues.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
