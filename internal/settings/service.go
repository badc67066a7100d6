package settings

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Values are the settings Admin → Settings edits, typed.
type Values struct {
	// PublicURL is how people and other systems reach this server.
	PublicURL string
	// AllowOutbound lists the CIDRs outbound requests may reach despite
	// the SSRF guard, comma-separated.
	AllowOutbound string
	// HistoryDays is how long flow execution history is kept.
	HistoryDays int
	// DeliveryDays is how long hook deliveries are kept.
	DeliveryDays int
}

// fields pairs each setting with its value in v as text.
func (v *Values) fields() []struct {
	s   Setting
	val string
} {
	return []struct {
		s   Setting
		val string
	}{{PublicURL, v.PublicURL}, {AllowOutbound, v.AllowOutbound},
		{HistoryDays, strconv.Itoa(v.HistoryDays)}, {DeliveryDays, strconv.Itoa(v.DeliveryDays)}}
}

// set stores the text val of s in v; val has passed s's check or is a
// default.
func (v *Values) set(s Setting, val string) {
	switch s.Key {
	case PublicURL.Key:
		v.PublicURL = val
	case AllowOutbound.Key:
		v.AllowOutbound = val
	case HistoryDays.Key:
		v.HistoryDays, _ = strconv.Atoi(val)
	case DeliveryDays.Key:
		v.DeliveryDays, _ = strconv.Atoi(val)
	}
}

// Service reads and saves the settings in the store's settings table, and
// records each change in the audit log. The console and the JSON API both
// use it.
type Service struct {
	queries *store.Queries
	now     func() time.Time
	// defaults are shown until a value is saved: the server's own
	// choices, such as the public URL taken from its listen address.
	defaults Values
}

// NewService returns the settings of q. now is the clock (nil:
// time.Now); defaults fill what was never saved, before each Setting's own
// Default.
func NewService(q *store.Queries, now func() time.Time, defaults Values) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{queries: q, now: now, defaults: defaults}
}

// Settings returns the saved settings, defaults for those never saved or
// saved with a value the check refuses.
func (s *Service) Settings(ctx context.Context) (Values, error) {
	v := s.defaults
	for _, f := range v.fields() {
		if (f.val == "" || f.val == "0") && f.s.Default != "" {
			v.set(f.s, f.s.Default)
		}
		saved, err := s.queries.Setting(ctx, f.s.Key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return v, fmt.Errorf("read setting %s: %w", f.s.Key, err)
		}
		if saved, err := f.s.Check(saved); err == nil && saved != "" {
			v.set(f.s, saved)
		}
	}
	return v, nil
}

// Save checks every value of v and stores them, or changes nothing and
// returns an *InvalidError for the first value refused.
func (s *Service) Save(ctx context.Context, v Values) error {
	values := map[string]string{}
	for _, f := range v.fields() {
		val, err := f.s.Check(f.val)
		if err != nil {
			return err
		}
		values[f.s.Key] = val
	}
	prev, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	for _, st := range All() {
		if err := s.queries.PutSetting(ctx, st.Key, values[st.Key], now); err != nil {
			return fmt.Errorf("save setting %s: %w", st.Key, err)
		}
	}
	// None of these settings is secret, so the record keeps the values.
	changed := map[string]any{}
	for _, f := range prev.fields() {
		if values[f.s.Key] != f.val {
			changed[f.s.Key] = map[string]string{"from": f.val, "to": values[f.s.Key]}
		}
	}
	audit.NewRecorder(s.queries, nil, s.now).Record(ctx, audit.Entry{Action: "settings.update",
		Target: audit.Target{Kind: "settings", Name: "server"}, Details: map[string]any{"changed": changed}})
	return nil
}
