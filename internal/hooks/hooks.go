// Package hooks sends issue events to outbound integrations: webhook
// receivers such as Okta Workflows' API Endpoint flows, Vigil's own invoke
// URLs or any HTTPS endpoint.
//
// An integration is a URL, API key entries (sent as URL parameters or
// headers, values sealed at rest) and a Standard Webhooks signing secret. Its
// automation says which events it gets. The outbox (Publish) stores each event
// in the transaction of the issue change that caused it, together with one
// delivery per matching integration, either leased by this node for its local
// pool or with its River job, so an event exists if and only if its change
// committed, and every delivery it needs is on its way.
//
// Delivery is at least once: attempts are recorded, failed ones retried on a
// schedule of about three days, then dead-lettered for a manual resend. The
// event id is the webhook-id, so receivers drop duplicates. Every request goes
// through the SSRF-safe client the caller passes in (internal/netguard).
package hooks

import (
	"context"
	"errors"
	"github.com/vigil-ispm/vigil/internal/event"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Defaults of Config.
const (
	DefaultRequestTimeout   = 15 * time.Second
	DefaultMaxResponse      = 4 << 10
	DefaultTestResponse     = 2 << 10
	DefaultAutoPauseAfter   = 5 * 24 * time.Hour
	DefaultSecretGrace      = 24 * time.Hour
	DefaultMaxInFlight      = 4
	DefaultRatePerSecond    = 20.0
	DefaultMaintenanceEvery = time.Minute
	DefaultRecoverAfter     = 5 * time.Minute
	DefaultRetentionEvery   = time.Hour
	DefaultPruneBatch       = 1000
	// DefaultMaxRetryAfter caps how long a receiver's Retry-After can
	// postpone the next attempt.
	DefaultMaxRetryAfter = 24 * time.Hour
)

// DefaultSchedule returns the wait before each retry: 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h, 10 h, then 14 h three times, so that eleven attempts span about
// three days (69.6 h) before a delivery is dead-lettered, as the best webhook
// senders do. Each wait is jittered by up to ±20 %. (The first eight waits
// alone would end after 41.6 h; two more 14 h waits reach three days.)
func DefaultSchedule() []time.Duration {
	return []time.Duration{
		5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
		5 * time.Hour, 10 * time.Hour, 10 * time.Hour, 14 * time.Hour, 14 * time.Hour, 14 * time.Hour,
	}
}

// JobInserter inserts River jobs in a store transaction: the
// application's *queue.Queue, or a test's wrapper of one.
type JobInserter = queue.TxInserter

// Config tunes a Service. Its zero value means the defaults, except Client,
// which should be the netguard client of the application.
type Config struct {
	// Client sends every request. It must be the SSRF-guarded client
	// (netguard); its redirect policy is replaced by "never follow".
	// Default: netguard.NewClient with Allow.
	Client *http.Client
	// Allow is the outbound allowlist (--allow-outbound). A URL may use
	// plain http only when its host's addresses are all on it.
	Allow []netip.Prefix
	// Resolver resolves host names for that check. Default net.DefaultResolver.
	Resolver netguard.Resolver
	// Queue inserts delivery jobs. It may be set later with SetQueue
	// (workers are registered before the queue exists).
	Queue JobInserter
	// QueueName is the River queue delivery jobs go to. Default "default".
	QueueName string
	// PublicURL is used for links in the sample event.
	PublicURL string
	// PublicURLSetting, when set, is asked at each test instead of
	// PublicURL, so that a change of the saved public URL applies to a
	// running server.
	PublicURLSetting func(ctx context.Context) string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Jitter spreads a retry wait; default ±20 % at random.
	Jitter func(time.Duration) time.Duration
	// Schedule is the wait before each retry. Default DefaultSchedule; its
	// length plus one is the number of attempts before a delivery is
	// dead-lettered.
	Schedule []time.Duration
	// RequestTimeout bounds one attempt, body included. Default 15 s.
	RequestTimeout time.Duration
	// MaxResponse is how much of a response body is kept, after every
	// secret the request carried is masked in it. Default 4 KB: enough to
	// see why a receiver refused, little to leak if it echoes the request.
	MaxResponse int
	// AutoPauseAfter pauses an integration that has failed without a
	// success for this long. Default 5 days.
	AutoPauseAfter time.Duration
	// MaxRetryAfter caps a receiver's Retry-After. Default 24 h.
	MaxRetryAfter time.Duration
	// SecretGrace is how long a rotated secret keeps signing. Default 24 h.
	SecretGrace time.Duration
	// MaxInFlight and RatePerSecond are the per-integration limits on this
	// node when an integration sets none. Defaults 4 and 20.
	MaxInFlight   int
	RatePerSecond float64
	// MaintenanceEvery is how often the maintenance job runs (auto-pause,
	// recovery of attempts whose worker died). Default 1 min.
	MaintenanceEvery time.Duration
	// RecoverAfter is how long a pending delivery may stay overdue and
	// untouched, with no worker holding it and its River job no longer
	// waiting to run, before maintenance decides the job was lost and
	// queues it again. Default 5 min. (A delivery whose worker died
	// mid-attempt is recovered as soon as its lease, twice the request
	// timeout, runs out, or on PostgreSQL its node's lock goes; a server
	// alone on its database recovers both kinds at once when it starts.)
	RecoverAfter time.Duration
	// Retention is how long a finished delivery (delivered or dead) is
	// kept, with its attempts, after its last change; an event goes once
	// no delivery refers to it and it is older than that. Zero keeps
	// everything forever (the default): the application sets it from the
	// hook_delivery_days setting.
	Retention time.Duration
	// RetentionSetting, when set with Retention, is asked at each
	// retention run for the retention to use, so that a change an
	// administrator saves applies without a restart; a value of zero or
	// less keeps Retention.
	RetentionSetting func(ctx context.Context) time.Duration
	// RetentionEvery is how often the retention job runs when Retention
	// is set. Default 1 h.
	RetentionEvery time.Duration
	// PruneBatch is how many rows one retention transaction deletes, so
	// that a large backlog never holds a lock for long. Default 1,000.
	PruneBatch int
	// KnownTitle reports whether an issue title exists, for automations.
	// Default: the detection catalog.
	KnownTitle func(string) bool
	// OpenIssues lists the issues open now, for the API's "sendOpen" when
	// an automation is saved. The issues service publishes through this
	// one, so it is read at call time. Nil: the API refuses sendOpen.
	OpenIssues func(ctx context.Context) ([]event.Issue, error)
	// Logger receives delivery logs. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Jitter == nil {
		c.Jitter = func(d time.Duration) time.Duration {
			return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d)) //nolint:gosec // G404: jitter spreads retries; nothing depends on it being unguessable
		}
	}
	if c.Schedule == nil {
		c.Schedule = DefaultSchedule()
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxResponse <= 0 {
		c.MaxResponse = DefaultMaxResponse
	}
	if c.AutoPauseAfter <= 0 {
		c.AutoPauseAfter = DefaultAutoPauseAfter
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.SecretGrace == 0 {
		c.SecretGrace = DefaultSecretGrace
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = DefaultRatePerSecond
	}
	if c.MaintenanceEvery <= 0 {
		c.MaintenanceEvery = DefaultMaintenanceEvery
	}
	if c.RecoverAfter <= 0 {
		c.RecoverAfter = DefaultRecoverAfter
	}
	if c.Retention < 0 {
		c.Retention = 0
	}
	if c.RetentionEvery <= 0 {
		c.RetentionEvery = DefaultRetentionEvery
	}
	if c.PruneBatch <= 0 {
		c.PruneBatch = DefaultPruneBatch
	}
	if c.QueueName == "" {
		c.QueueName = river.QueueDefault
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.KnownTitle == nil {
		c.KnownTitle = func(t string) bool { _, ok := detect.Lookup(t); return ok }
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Client == nil {
		c.Client = netguard.NewClient(netguard.Config{Allow: c.Allow})
	}
	return c
}

// Service manages integrations and delivers events. It is safe for
// concurrent use.
type Service struct {
	st     *store.Store
	box    *secret.Box
	cfg    Config
	client *http.Client
	queue  JobInserter
	limits limiter
	// guard checks addresses when they are saved; the client checks
	// them again at each connection.
	guard *netguard.Guard
	// audit records the changes people make to integrations.
	audit *audit.Recorder

	// local sends deliveries in-process; nil until RunLocally.
	local atomic.Pointer[localPool]
	// hookRows keeps the integrations the local pool's deliveries go to
	// (see cachedHook).
	hookRows store.RowCache[store.Hook]
}

// New returns a Service over st, sealing secrets with box.
func New(st *store.Store, box *secret.Box, cfg Config) *Service {
	cfg = cfg.withDefaults()
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client.Timeout = 0 // each request carries its own deadline
	// On PostgreSQL several nodes may deliver to one receiver: the limits
	// are kept in the database so that they hold cluster-wide.
	var lim limiter = newLimits()
	if st != nil && st.Dialect() == store.Postgres {
		lim = newSharedLimits(st, cfg.RequestTimeout)
	}
	return &Service{st: st, box: box, cfg: cfg, client: &client, queue: cfg.Queue, limits: lim,
		guard:    netguard.New(netguard.Config{Allow: cfg.Allow, Resolver: cfg.Resolver}),
		audit:    audit.NewRecorder(st, cfg.Logger, cfg.Now),
		hookRows: store.RowCache[store.Hook]{Age: hookCacheAge, Size: hookCacheSize}}
}

// SetQueue sets the job inserter when it could not be passed to New: the
// application registers the workers (Register) before it builds the queue.
func (s *Service) SetQueue(q JobInserter) { s.queue = q }

// hookTarget is h as the audit log names it.
func hookTarget(h *store.Hook) audit.Target {
	return audit.Target{Kind: "hook", ID: h.ID, Name: h.Name}
}

// keyDetails lists the names of the keys given a value, which the audit
// log records as changed secrets without their values.
func keyDetails(details map[string]any, keys []Key) map[string]any {
	var given []string
	for _, k := range keys {
		if k.Value != "" {
			given = append(given, k.Name)
		}
	}
	if len(given) > 0 {
		details["keyValuesSet"] = given
	}
	return details
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// ErrNotFound is returned (wrapped) when an integration or delivery does
// not exist.
var ErrNotFound = errors.New("not found")

// ErrNoQueue is returned when an operation must queue deliveries but the
// Service has no queue.
var ErrNoQueue = errors.New("hooks: no job queue configured")

// InvalidError is a validation failure: its message is one sentence meant
// for the user who typed the value; its Field names the input at fault
// ("url", "keys", "name", "titles", …).
type InvalidError = input.InvalidError

func invalid(field, msg string) error { return &InvalidError{Field: field, Message: msg} }

// ConflictError says a name is already taken.
type ConflictError = input.ConflictError
