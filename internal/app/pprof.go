package app

import (
	"net/http"
	"net/http/pprof"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// registerPprof serves Go's runtime profiles under /debug/pprof/ to
// administrators only: profiles show what the server is doing and hold
// data from memory, so they need settings:manage (a session or an API
// token), and the server serves them only when started with --pprof.
func registerPprof(mux auth.Mux) {
	guard := func(h http.HandlerFunc) http.Handler { return auth.RequireAPI(auth.PermManageSettings, h) }
	mux.Handle("GET /debug/pprof/", guard(pprof.Index))
	mux.Handle("GET /debug/pprof/cmdline", guard(pprof.Cmdline))
	mux.Handle("GET /debug/pprof/profile", guard(pprof.Profile))
	mux.Handle("GET /debug/pprof/symbol", guard(pprof.Symbol))
	mux.Handle("GET /debug/pprof/trace", guard(pprof.Trace))
}
