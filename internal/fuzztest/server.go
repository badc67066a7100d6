// Package fuzztest serves fuzzed answers to the vendor clients, so that
// their response parsers can be fuzzed through the same calls a scan makes.
package fuzztest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Token is the OAuth token answer the server gives to token requests, so
// that clients that sign in first reach the calls being fuzzed.
const Token = `{"access_token":"fuzz-token","token_type":"Bearer","expires_in":3600,"instance_url":""}`

// Server answers every request 200 with the body last given to Set,
// except OAuth token requests (a path holding "/oauth2/" or ending in
// "/token"), which get Token.
type Server struct {
	*httptest.Server
	mu   sync.Mutex
	body []byte
}

// New adds seeds to f's corpus and starts a Server, closed when the fuzz
// test ends.
func New(f *testing.F, seeds ...string) *Server {
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	f.Cleanup(s.Close)
	return s
}

// Set makes body the answer to the next requests.
func (s *Server) Set(body []byte) {
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

// Fuzz runs calls once for every input the fuzzer makes, with that input
// as the answer to every request. calls ignores what the client returns:
// the test fails only if a call panics or never returns.
func (s *Server) Fuzz(f *testing.F, calls func(ctx context.Context)) {
	f.Fuzz(func(t *testing.T, body []byte) {
		s.Set(body)
		calls(t.Context())
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(r.URL.Path, "/oauth2/") || strings.HasSuffix(r.URL.Path, "/token") {
		_, _ = w.Write([]byte(Token)) // a client that went away is the fuzz target's to report
		return
	}
	s.mu.Lock()
	b := s.body
	s.mu.Unlock()
	_, _ = w.Write(b) // a client that went away is the fuzz target's to report
}
