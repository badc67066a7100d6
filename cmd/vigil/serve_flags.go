package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
)

// runFlags are serve's flags for how executions run: the in-process
// pool, the API endpoints' default limits and the profiler.
type runFlags struct {
	workers    string
	rate       string
	burst      string
	maxBacklog string
	pprof      bool
	cpuProfile string
	lease      time.Duration
	role       string
	oauth      invoke.OAuthConfig
}

func (r *runFlags) register(f *pflag.FlagSet) {
	f.StringVar(&r.workers, "workers", envOr("VIGIL_WORKERS", "64"), "executions this node runs at once in-process; more wait for the job queue")
	f.StringVar(&r.rate, "invoke-rate", envOr("VIGIL_INVOKE_RATE", "50"), "invocations a second per flow for API endpoints whose flow sets no limits (0: no limit)")
	f.StringVar(&r.burst, "invoke-burst", envOr("VIGIL_INVOKE_BURST", "100"), "invocations at once above the rate (0: one second's worth)")
	f.StringVar(&r.maxBacklog, "invoke-max-backlog", envOr("VIGIL_INVOKE_MAX_BACKLOG", "1000"), "unfinished executions per flow above which invocations get 503 (0: no limit)")
	f.DurationVar(&r.lease, "execution-lease", envDuration("VIGIL_EXECUTION_LEASE", time.Minute), "how long a node holds an execution without renewing it; a dead node's executions resume elsewhere within about twice this")
	f.StringVar(&r.role, "role", envOr("VIGIL_ROLE", "all"), "work this node takes: web (console, API, invoke URLs), worker (queued jobs; serves only health and metrics) or all; web and worker need PostgreSQL")
	f.StringVar(&r.oauth.Issuer, "invoke-oauth-issuer", envOr("VIGIL_INVOKE_OAUTH_ISSUER", ""), "issuer of the bearer tokens API endpoints secured with OAuth 2.0 accept, e.g. https://example.okta.com/oauth2/default")
	f.StringVar(&r.oauth.JWKSURL, "invoke-oauth-jwks-url", envOr("VIGIL_INVOKE_OAUTH_JWKS_URL", ""), "the issuer's key set (JWKS) URL, e.g. https://example.okta.com/oauth2/default/v1/keys")
	f.StringVar(&r.oauth.Audience, "invoke-oauth-audience", envOr("VIGIL_INVOKE_OAUTH_AUDIENCE", ""), "the audience those tokens must carry, e.g. api://vigil")
	f.StringVar(&r.oauth.Scope, "invoke-oauth-scope", envOr("VIGIL_INVOKE_OAUTH_SCOPE", ""), "the scope those tokens must carry (default "+invoke.DefaultScope+")")
	f.BoolVar(&r.pprof, "pprof", envOr("VIGIL_PPROF", "") == "true", "serve Go's profiles under /debug/pprof/ to administrators")
	f.StringVar(&r.cpuProfile, "cpuprofile", "", "write a CPU profile of the server, from its start to its shutdown, to this file")
}

// apply sets cfg from the flags, whose 0 means no limit.
func (r *runFlags) apply(cfg *app.Config) error {
	workers, err := strconv.Atoi(r.workers)
	if err != nil || workers < 1 {
		return fmt.Errorf("--workers must be a whole number, 1 or more, not %q", r.workers)
	}
	rate, err := strconv.ParseFloat(r.rate, 64)
	if err != nil || rate < 0 {
		return fmt.Errorf("--invoke-rate must be a number, 0 or more (0: no limit), not %q", r.rate)
	}
	burst, err := strconv.Atoi(r.burst)
	if err != nil || burst < 0 {
		return fmt.Errorf("--invoke-burst must be a whole number, 0 or more, not %q", r.burst)
	}
	backlog, err := strconv.Atoi(r.maxBacklog)
	if err != nil || backlog < 0 {
		return fmt.Errorf("--invoke-max-backlog must be a whole number, 0 or more (0: no limit), not %q", r.maxBacklog)
	}
	if r.lease < time.Second {
		return fmt.Errorf("--execution-lease must be at least 1s, not %s", r.lease)
	}
	role, err := cluster.ParseRole(r.role)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	if err := r.oauth.Check(); err != nil {
		return fmt.Errorf("--invoke-oauth-*: %w", err)
	}
	cfg.Workers, cfg.Pprof, cfg.ExecutionLease, cfg.Role, cfg.InvokeOAuth = workers, r.pprof, r.lease, role, r.oauth
	cfg.InvokeRate, cfg.InvokeBurst, cfg.InvokeMaxBacklog = noLimit(rate), burst, int(noLimit(float64(backlog)))
	return nil
}

// envDuration reads a duration from the environment, or def when unset
// or not a duration (the flag then shows def).
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// noLimit turns a flag's 0 (no limit) into the configuration's negative.
func noLimit(v float64) float64 {
	if v == 0 {
		return -1
	}
	return v
}
