// Package auth knows who is calling and what they may do: local users with
// argon2id passwords, single sign-on through an OpenID Connect provider,
// four fixed roles mapped to named permissions, browser sessions, API tokens,
// sign-in rate limiting, and the HTTP middleware that puts the caller in the
// request context.
//
// Secrets handled here (passwords, session cookies, API tokens) are never
// stored, logged or returned in errors: the database keeps an argon2id hash
// of each password and a SHA-256 of each token, and a token is shown once,
// when it is made.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Config tunes a Service. The zero value of each field means its
// documented default.
type Config struct {
	// Logger receives sign-in and account events. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// PublicURL is how browsers reach the server; when it starts with
	// https:// session cookies are marked Secure even if TLS ends at a proxy.
	PublicURL string
	// SessionIdle ends a session not used for this long. Default 12 hours.
	SessionIdle time.Duration
	// SessionMax ends a session this long after sign-in, however busy.
	// Default 7 days.
	SessionMax time.Duration
	// Limits bound failed sign-ins; see LoginLimits.
	Limits LoginLimits
	// Hash sets the argon2id cost of new password hashes. Default
	// DefaultHashParams().
	Hash HashParams
	// MaxConcurrentHashes bounds how many password checks run at once, since
	// each takes Hash.Memory of RAM. Default 4.
	MaxConcurrentHashes int
	// ClientIP names the client of a request for per-address rate limiting.
	// Default: the host of r.RemoteAddr (forwarding headers are not trusted;
	// set this behind a proxy you control). IPv6 addresses count by /64.
	ClientIP func(r *http.Request) string
}

// LoginLimits say when failed sign-ins lock a user name or a client
// address out. After Failures failures the key is locked for Lockout, and
// each further failure doubles that, up to MaxLockout. Failures are
// forgotten after Forget without one, and a user name's after a successful
// sign-in. While locked, attempts are refused without checking the password.
type LoginLimits struct {
	// UserFailures per user name before a lock-out. Default 5.
	UserFailures int
	// IPFailures per client address before a lock-out; higher than
	// UserFailures because many people may share an address. Default 20.
	IPFailures int
	// Lockout is the first lock-out. Default 30 seconds.
	Lockout time.Duration
	// MaxLockout caps the doubling. Default 30 minutes.
	MaxLockout time.Duration
	// Forget is the quiet period after which failures no longer count.
	// Default 1 hour.
	Forget time.Duration
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = 12 * time.Hour
	}
	if c.SessionMax == 0 {
		c.SessionMax = 7 * 24 * time.Hour
	}
	if c.SessionIdle > c.SessionMax {
		c.SessionIdle = c.SessionMax
	}
	l := &c.Limits
	if l.UserFailures == 0 {
		l.UserFailures = 5
	}
	if l.IPFailures == 0 {
		l.IPFailures = 20
	}
	if l.Lockout == 0 {
		l.Lockout = 30 * time.Second
	}
	if l.MaxLockout == 0 {
		l.MaxLockout = 30 * time.Minute
	}
	if l.Forget == 0 {
		l.Forget = time.Hour
	}
	if c.Hash == (HashParams{}) {
		c.Hash = DefaultHashParams()
	}
	if c.MaxConcurrentHashes == 0 {
		c.MaxConcurrentHashes = 4
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteIP
	}
	return c
}

// Service manages users, sessions and API tokens.
type Service struct {
	st  *store.Store
	cfg Config
	log *slog.Logger
	// hashSlots bounds concurrent argon2id computations.
	hashSlots chan struct{}
	// dummy is a hash checked for unknown user names, so that they take as
	// long to refuse as a wrong password.
	dummyOnce sync.Once
	dummy     string
	// oidc is the single sign-on set up by EnableOIDC; nil when off.
	oidc atomic.Pointer[oidcClient]
	// audit records sign-ins and changes to users and tokens.
	audit *audit.Recorder
	// touches paces the writes of API tokens' last-used times and of
	// sessions' idle expiries.
	touches touches
}

// New returns a Service over st.
func New(st *store.Store, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{st: st, cfg: cfg, log: cfg.Logger.With("component", "auth"),
		hashSlots: make(chan struct{}, cfg.MaxConcurrentHashes), audit: audit.NewRecorder(st, cfg.Logger, cfg.Now)}
}

// User is an account of the console and API, without its password hash.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Can reports whether u may do p; a disabled user may do nothing.
func (u *User) Can(p Permission) bool { return u != nil && !u.Disabled && u.Role.Can(p) }

func userFromRow(r *store.User) *User {
	return &User{ID: r.ID, Name: r.Name, Role: Role(r.Role), Disabled: r.Disabled, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// ErrInvalidCredentials is returned for a wrong password, an unknown user
// name and a disabled account alike, so that a caller cannot tell which.
var ErrInvalidCredentials = errors.New("the user name or password is not correct")

// ErrNotFound is returned (wrapped) when a user or token does not exist.
var ErrNotFound = errors.New("not found")

// ErrTokenRequiresSession is why an API token is refused on a SessionOnly
// route (creating tokens, changing a password): a leaked token must not be
// able to outlive its revocation or lock its owner out.
var ErrTokenRequiresSession = errors.New("an API token cannot create API tokens or change a password; use a signed-in console session or the command line")

// LockedError is returned while a user name or client address is locked
// out after too many failed sign-ins.
type LockedError struct {
	// RetryAfter is how long until the lock-out ends.
	RetryAfter time.Duration
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; try again in %s", e.RetryAfter.Round(time.Second))
}

// InvalidError is a rejected input; Message is one sentence meant for the
// person who typed it and never quotes a password.
type InvalidError = input.InvalidError

func invalid(field, msg string) error { return &InvalidError{Field: field, Message: msg} }

// ConflictError is returned when a name is already taken.
type ConflictError = input.ConflictError

// Housekeep removes expired sessions and sign-in failures nobody needs to
// remember any more. The server runs it periodically.
func (s *Service) Housekeep(ctx context.Context) error {
	now := s.cfg.Now()
	if _, err := s.st.DeleteExpiredSessions(ctx, now); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	if _, err := s.st.DeleteStaleLoginThrottles(ctx, now.Add(-s.cfg.Limits.Forget), now); err != nil {
		return fmt.Errorf("delete stale sign-in failures: %w", err)
	}
	return nil
}

// remoteIP is the default Config.ClientIP: the connection's address, with
// IPv6 addresses reduced to their /64 (one subscriber's usual allocation).
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// userTarget is u as the audit log names it.
func userTarget(id, name string) audit.Target { return audit.Target{Kind: "user", ID: id, Name: name} }

// signInActor is the actor of a sign-in attempt from clientIP; an empty
// address leaves the context's.
func signInActor(u *store.User, clientIP string) *audit.Actor {
	a := &audit.Actor{Kind: audit.ActorAnonymous, Address: clientIP}
	if u != nil {
		a.Kind, a.ID, a.Name = audit.ActorUser, u.ID, u.Name
	}
	return a
}

// normalizeName folds a user name to its stored form: names are compared
// without regard to case or surrounding space.
func normalizeName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }
