package app

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// writeTimeout bounds how long a response may take to write. It is longer
// than the longest wait a request may ask for (a synchronous invoke or a
// test run with ?wait=, both at most 60 s).
const writeTimeout = 2 * time.Minute

// anonymousLimit caps the requests in flight that neither a session nor
// an API token vouches for. Without it, thousands of clients that send
// headers and then trickle their bodies each hold a connection and a
// handler until the read timeout, and the server runs out of file
// descriptors; with it, the excess is answered 503 at once and its
// connection closed. Health checks are never counted, so probes keep
// answering during such a flood.
type anonymousLimit struct {
	slots chan struct{}
}

func newAnonymousLimit(n int) *anonymousLimit {
	return &anonymousLimit{slots: make(chan struct{}, n)}
}

// wrap serves r through next when the request is signed in, is a health
// check, or a slot is free; it must run after auth.Authenticate.
func (l *anonymousLimit) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.UserFrom(r.Context()); ok || isHealthCheck(r) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case l.slots <- struct{}{}:
			defer func() { <-l.slots }()
			next.ServeHTTP(w, r)
		default:
			// Closing the connection spares the server reading the
			// body the client may still be trickling.
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			http.Error(w, "The server is busy with other requests; try again in a moment.", http.StatusServiceUnavailable)
		}
	})
}

func isHealthCheck(r *http.Request) bool {
	return r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz")
}

// metricsGuard serves next only to a request carrying "Authorization:
// Bearer <token>", compared in constant time. Without a token configured
// the metrics are not served at all (404), so that they are never open to
// whoever can reach the server.
func metricsGuard(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			http.Error(w, "Metrics are off; set VIGIL_METRICS_TOKEN and scrape with that bearer token.", http.StatusNotFound)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "The metrics need the metrics bearer token (VIGIL_METRICS_TOKEN).", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
