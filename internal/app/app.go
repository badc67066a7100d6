// Package app wires Vigil together: configuration → store → queue → services
// → HTTP server. It is the only package that knows every other one.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/settings"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Config is everything the command line and environment decide. The zero
// value of each field means its documented default.
type Config struct {
	// DataDir holds the SQLite database and the master key. Default ./vigil-data.
	DataDir string
	// DatabaseURL selects the database. Default sqlite://<DataDir>/vigil.db.
	DatabaseURL string
	// Addr is where serve listens. Default 127.0.0.1:8080.
	Addr string
	// PublicURL is how others reach this server (invoke URLs, links in
	// events). Default http://<Addr>.
	PublicURL string
	// AllowOutbound lists CIDRs the SSRF guard lets through, e.g. "127.0.0.0/8".
	AllowOutbound string
	// LogFormat is "text" (default) or "json".
	LogFormat string
	// LogLevel is "debug", "info" (default), "warn" or "error".
	LogLevel string
	// LogOutput receives the logs. Default standard error.
	LogOutput io.Writer
	// MasterKey is the base64 master key, normally from VIGIL_MASTER_KEY.
	MasterKey string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// HistoryRetention and DeliveryRetention are how long flow execution
	// history and finished hook deliveries are kept. Default: what Admin →
	// Settings saved, else 30 days.
	HistoryRetention  time.Duration
	DeliveryRetention time.Duration
	// OIDC turns on single sign-on when its Issuer is set; the server
	// refuses to start when the provider cannot be discovered. Its
	// HTTPClient is the app's SSRF-guarded client.
	OIDC auth.OIDCConfig
	// ReadTimeout is how long a client may take to send a whole request,
	// headers and body; a client trickling its body is cut off then, so
	// slow connections cannot pile up. Default 30 s.
	ReadTimeout time.Duration
	// SnapshotDir is the only directory snapshot sources and AWS
	// credential reports are read from, so that a source cannot be
	// pointed at any file the server can read (the master key).
	// Default <DataDir>/snapshots.
	SnapshotDir string
	// MetricsToken is the bearer token GET /metrics asks for, normally from
	// VIGIL_METRICS_TOKEN. Without one /metrics answers 404: the metrics
	// tell an outsider what the server does and how busy it is.
	MetricsToken string
	// MaxAnonymous is how many requests that carry no session or API token
	// may be in flight at once; more are answered 503 at once. Health
	// checks are never counted. Default 256.
	MaxAnonymous int
	// Workers bounds the executions this node runs at once in-process,
	// the moment they start, and likewise the webhook deliveries it
	// publishes; more wait for the job queue. Default 64.
	Workers int
	// InvokeRate, InvokeBurst and InvokeMaxBacklog are the limits of API
	// endpoints whose flow document sets none (per flow: invocations a
	// second, burst, unfinished executions). Zero means the default (50,
	// 100, 1000); negative means no limit.
	InvokeRate       float64
	InvokeBurst      int
	InvokeMaxBacklog int
	// ExecutionLease is how long a node holds an execution without
	// renewing it; the executions of a node that died are resumed by
	// another (or by it after a restart) within about twice this.
	// Default 1 min.
	ExecutionLease time.Duration
	// Role is the work this node takes (web, worker or all). Default all;
	// web and worker need PostgreSQL, where other nodes take the rest.
	Role cluster.Role
	// InvokeOAuth says which bearer tokens API endpoints secured with OAuth
	// 2.0 accept (issuer, key set, audience, scope). Unset, they refuse
	// every call.
	InvokeOAuth invoke.OAuthConfig
	// Pprof serves Go's profiles under /debug/pprof/ to administrators
	// (settings:manage). Off by default.
	Pprof bool
}

// WithDefaults returns c with every unset field filled in.
func (c Config) WithDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = "vigil-data"
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "vigil.db")
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.LogOutput == nil {
		c.LogOutput = os.Stderr
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SnapshotDir == "" {
		c.SnapshotDir = filepath.Join(c.DataDir, "snapshots")
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.MaxAnonymous <= 0 {
		c.MaxAnonymous = 256
	}
	if c.Workers <= 0 {
		c.Workers = 64
	}
	if c.Role == "" {
		c.Role = cluster.RoleAll
	}
	return c
}

// applySettings fills in from the settings Admin → Settings saved what
// neither a flag nor the environment gave.
func applySettings(ctx context.Context, st *store.Store, given, cfg Config, allow []netip.Prefix) (Config, []netip.Prefix, error) {
	get := func(key string) (string, error) {
		v, err := st.Setting(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("cannot read the saved setting %s: %w", key, err)
		}
		return strings.TrimSpace(v), nil
	}
	if given.PublicURL == "" {
		v, err := get(settings.PublicURL.Key)
		if err != nil {
			return cfg, allow, err
		}
		if v != "" {
			cfg.PublicURL = strings.TrimRight(v, "/")
		}
	}
	if given.AllowOutbound == "" {
		v, err := get(settings.AllowOutbound.Key)
		if err != nil {
			return cfg, allow, err
		}
		if v != "" {
			parsed, err := netguard.ParseAllowlist(v)
			if err != nil {
				return cfg, allow, fmt.Errorf("the outbound allowlist saved in the settings is not valid (%w); fix it in Admin → Settings or give --%s", err, settings.AllowOutbound.Flag)
			}
			cfg.AllowOutbound, allow = v, parsed
		}
	}
	for _, r := range []struct {
		s   settings.Setting
		dst *time.Duration
	}{{settings.HistoryDays, &cfg.HistoryRetention}, {settings.DeliveryDays, &cfg.DeliveryRetention}} {
		if *r.dst != 0 {
			continue
		}
		*r.dst = settings.Days(r.s.Default)
		v, err := get(r.s.Key)
		if err != nil {
			return cfg, allow, err
		}
		if d := settings.Days(v); d > 0 {
			*r.dst = d
		}
	}
	return cfg, allow, nil
}

// retentionSetting returns what the services ask at each retention run
// for the retention saved under key, so that a change in Admin → Settings
// applies without a restart; or nil when the caller fixed the retention,
// which then wins over the settings as it does at start. An unset or
// unreadable setting keeps the retention read at start.
func (a *App) retentionSetting(key string, given time.Duration) func(context.Context) time.Duration {
	if given != 0 {
		return nil
	}
	return func(ctx context.Context) time.Duration {
		v, err := a.Store.Setting(ctx, key)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				a.Logger.Warn("cannot read the saved retention; keeping the one read at start", "setting", key, "err", err)
			}
			return 0
		}
		return settings.Days(v)
	}
}

// WithLoopback adds the loopback networks to an outbound allowlist, for a
// demo whose integration posts to this same server.
func WithLoopback(allow string) string {
	const loopback = "127.0.0.0/8,::1/128"
	if strings.TrimSpace(allow) == "" {
		return loopback
	}
	return allow + "," + loopback
}

// App is an opened Vigil: database migrated, secrets box ready.
type App struct {
	Config  Config
	Logger  *slog.Logger
	Store   *store.Store
	Box     *secret.Box
	Metrics *prometheus.Registry
	// Outbound is the SSRF-guarded HTTP client every outbound request uses.
	Outbound *http.Client
	// Allow is the parsed outbound allowlist.
	Allow []netip.Prefix
	// given is the configuration as the caller gave it, before the
	// settings and defaults filled it in.
	given Config
	// live reads the saved settings a running process applies without a
	// restart; publicURLSaved says the given public URL became the saved
	// one (serve), so a later change in the settings wins over it.
	live           *liveSettings
	publicURLSaved bool
	// quiet logs only warnings and errors unless the level is debug: the
	// queue's own routine lines (job counts every few seconds) would drown
	// Vigil's.
	quiet *slog.Logger
}

// Open prepares the data directory, the database (migrated) and the master key.
// Management commands use it directly; Serve builds on it.
func Open(ctx context.Context, cfg Config) (*App, error) {
	// Flags and environment win over what Admin → Settings saved, which
	// wins over the defaults; so remember what was given before filling in.
	given := cfg
	cfg = cfg.WithDefaults()
	logger, err := newLogger(cfg, slog.LevelDebug)
	if err != nil {
		return nil, err
	}
	quiet, err := newLogger(cfg, slog.LevelWarn)
	if err != nil {
		return nil, err
	}
	allow, err := netguard.ParseAllowlist(cfg.AllowOutbound)
	if err != nil {
		return nil, err
	}
	if err := cfg.InvokeOAuth.Check(); err != nil {
		return nil, err
	}
	// A start that fails leaves nothing behind: the data directory and
	// master key this attempt created are removed again.
	undo := createdBy(cfg)
	if err := ensureDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	key, err := secret.LoadKey(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		undo()
		return nil, err
	}
	box, err := secret.New(key)
	if err != nil {
		undo()
		return nil, err
	}
	st, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL})
	if err != nil {
		undo()
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		undo()
		return nil, fmt.Errorf("cannot bring the database schema up to date: %w", err)
	}
	if cfg, allow, err = applySettings(ctx, st, given, cfg, allow); err != nil {
		st.Close()
		undo()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(st.DB(), st.Dialect().String()))
	a := &App{Config: cfg, given: given, Logger: logger, quiet: quiet, Store: st, Box: box, Metrics: reg,
		Allow: allow, live: newLiveSettings(st, logger)}
	a.Outbound = netguard.NewClient(netguard.Config{Allow: allow, AllowSetting: a.allowSetting(given.AllowOutbound, allow)})
	return a, nil
}

// Close releases the database.
func (a *App) Close() error { return a.Store.Close() }

// createdBy returns a function that removes what opening with cfg is about
// to create and does not exist yet: the generated master key file and the
// data directory (only while empty, so nothing else is ever deleted).
func createdBy(cfg Config) func() {
	keyPath := filepath.Join(cfg.DataDir, secret.KeyFile)
	_, dirErr := os.Stat(cfg.DataDir)
	_, keyErr := os.Stat(keyPath)
	newDir := errors.Is(dirErr, os.ErrNotExist)
	newKey := cfg.MasterKey == "" && errors.Is(keyErr, os.ErrNotExist)
	return func() {
		if newKey {
			os.Remove(keyPath)
		}
		if newDir {
			os.Remove(cfg.DataDir)
		}
	}
}

func ensureDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the data directory %s: %w; choose another with --data-dir", dir, err)
	}
	probe := filepath.Join(dir, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return fmt.Errorf("the data directory %s is not writable: %w; fix its permissions or choose another with --data-dir", dir, unwrapPath(err))
	}
	return os.Remove(probe)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// newLogger returns the logger the configuration asks for, logging nothing
// below floor unless the configured level is debug.
func newLogger(cfg Config, floor slog.Level) (*slog.Logger, error) {
	var level slog.Level
	switch cfg.LogLevel {
	case "", "info":
		level = slog.LevelInfo
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("unknown log level %q; use debug, info, warn or error", cfg.LogLevel)
	}
	if level > slog.LevelDebug && floor > level {
		level = floor
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.LogFormat {
	case "", "text":
		return slog.New(slog.NewTextHandler(cfg.LogOutput, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(cfg.LogOutput, opts)), nil
	}
	return nil, fmt.Errorf("unknown log format %q; use text or json", cfg.LogFormat)
}
