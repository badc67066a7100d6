package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/settings"
	"github.com/vigil-ispm/vigil/internal/store"
)

// liveTTL is how long a running process trusts a setting it read: a change
// made in Admin → Settings, through the API or by another node's start
// applies everywhere within this time, without a restart.
const liveTTL = time.Second

// liveSettings reads the settings Admin → Settings saves for a running
// process, each at most once per liveTTL, so that hot paths (an event link
// per issue, the outbound check per connection) do not query the database
// each time. It ages in real time even when the app's clock is fixed.
type liveSettings struct {
	store  *store.Store
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]liveEntry
}

type liveEntry struct {
	value string
	read  time.Time
}

func newLiveSettings(st *store.Store, logger *slog.Logger) *liveSettings {
	return &liveSettings{store: st, logger: logger, now: time.Now, entries: map[string]liveEntry{}}
}

// get returns the saved value of key, "" when none is saved. A failed read
// keeps the last value read, so a database hiccup does not change a URL.
func (l *liveSettings) get(ctx context.Context, key string) string {
	now := l.now()
	l.mu.Lock()
	e, ok := l.entries[key]
	l.mu.Unlock()
	if ok && now.Sub(e.read) < liveTTL {
		return e.value
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	v, err := l.store.Setting(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		v = ""
	case err != nil:
		l.logger.Warn("cannot read a saved setting; keeping the last value read", "setting", key, "err", err)
		return e.value
	}
	v = strings.TrimSpace(v)
	l.mu.Lock()
	l.entries[key] = liveEntry{value: v, read: now}
	l.mu.Unlock()
	return v
}

// PublicURLNow is the public URL as saved now (by Admin → Settings, the API
// or 'vigil serve --public-url'), else the one the app started with. Every
// URL a running server prints or sends starts with it.
func (a *App) PublicURLNow(ctx context.Context) string {
	if a.given.PublicURL != "" && !a.publicURLSaved {
		return a.Config.PublicURL
	}
	if v := a.live.get(ctx, settings.PublicURL.Key); v != "" {
		return strings.TrimRight(v, "/")
	}
	return a.Config.PublicURL
}

// allowSetting returns what the SSRF guard asks at each connection for the
// outbound allowlist saved now; or nil when --allow-outbound (or its
// environment variable) gave the list, which then wins as it does at start.
// A saved list that does not parse keeps the list read at start.
func (a *App) allowSetting(given string, atStart []netip.Prefix) func() []netip.Prefix {
	if strings.TrimSpace(given) != "" {
		return nil
	}
	return func() []netip.Prefix {
		v := a.live.get(context.Background(), settings.AllowOutbound.Key)
		allow, err := netguard.ParseAllowlist(v)
		if err != nil {
			return atStart
		}
		return allow
	}
}

// savePublicURL stores the public URL 'vigil serve --public-url' gave, so
// that every other process on this database (management commands, other
// nodes) uses it with no flag.
func (a *App) savePublicURL(ctx context.Context) error {
	if a.given.PublicURL == "" {
		return nil
	}
	if err := a.Store.PutSetting(ctx, settings.PublicURL.Key, a.Config.PublicURL, a.Config.Now()); err != nil {
		return fmt.Errorf("cannot save the public URL: %w", err)
	}
	a.publicURLSaved = true
	return nil
}
