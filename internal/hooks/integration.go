package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/signature"
	"github.com/vigil-ispm/vigil/internal/store"
)

// States of an integration.
const (
	StateActive = "active"
	StatePaused = "paused"
)

// Key is an API key entry as typed: its name keeps its case, its value is
// plaintext. On Update, an empty Value keeps the saved value of the entry
// with the same name and placement.
type Key struct {
	Name      string    `json:"name"`
	Placement Placement `json:"placement"`
	Value     string    `json:"value,omitempty"`
}

// Input is what a user sets on an integration: the console's Connect form,
// the API's body, the CLI's flags.
type Input struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Keys []Key  `json:"keys"`
	// MaxInFlight limits concurrent requests to this integration, across
	// every node on PostgreSQL; 0 means Config.MaxInFlight.
	MaxInFlight int `json:"maxInFlight,omitempty"`
	// RatePerSecond limits requests per second to this integration,
	// across every node on PostgreSQL; 0 means Config.RatePerSecond.
	RatePerSecond float64 `json:"ratePerSecond,omitempty"`
}

// KeyView is an API key entry as shown: the value masked.
type KeyView struct {
	Name      string    `json:"name"`
	Placement Placement `json:"placement"`
	Masked    string    `json:"value"`
}

// Integration is a saved integration as shown to users. It never carries a
// secret in clear.
type Integration struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	URL           string    `json:"url"`
	Keys          []KeyView `json:"keys"`
	MaxInFlight   int       `json:"maxInFlight,omitempty"`
	RatePerSecond float64   `json:"ratePerSecond,omitempty"`
	// State is "active" or "paused"; PauseReason says why, for the
	// console's banner.
	State        string     `json:"state"`
	PauseReason  string     `json:"pauseReason,omitempty"`
	PausedAt     *time.Time `json:"pausedAt,omitempty"`
	FailingSince *time.Time `json:"failingSince,omitempty"`
	LastSuccess  *time.Time `json:"lastSuccessAt,omitempty"`
	LastFailure  *time.Time `json:"lastFailureAt,omitempty"`
	// PreviousSecretUntil is set while a rotated secret still signs.
	PreviousSecretUntil *time.Time  `json:"previousSecretUntil,omitempty"`
	Automation          *Automation `json:"automation,omitempty"`
	CreatedAt           time.Time   `json:"createdAt"`
	UpdatedAt           time.Time   `json:"updatedAt"`
}

// sealedKey is an API key entry at rest.
type sealedKey struct {
	Name      string    `json:"name"`
	Placement Placement `json:"placement"`
	Sealed    string    `json:"sealed"`
}

func keyPurpose(hookID string, k Key) string {
	return "hook:" + hookID + ":" + string(k.Placement) + ":" + k.Name
}

func secretPurpose(hookID string) string { return "hook:" + hookID + ":secret" }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// sealKeys seals key values for storage.
func (s *Service) sealKeys(hookID string, keys []Key) (string, error) {
	out := make([]sealedKey, 0, len(keys))
	for _, k := range keys {
		sealed, err := s.box.Seal(k.Value, keyPurpose(hookID, k))
		if err != nil {
			return "", err
		}
		out = append(out, sealedKey{Name: k.Name, Placement: k.Placement, Sealed: sealed})
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// openKeys returns the key entries of a stored integration with their values.
func (s *Service) openKeys(h *store.Hook) ([]Key, error) {
	var sealed []sealedKey
	if err := json.Unmarshal([]byte(h.KeysJSON), &sealed); err != nil {
		return nil, fmt.Errorf("read the API keys of integration %s: %w", h.Name, err)
	}
	out := make([]Key, 0, len(sealed))
	for _, sk := range sealed {
		k := Key{Name: sk.Name, Placement: sk.Placement}
		v, err := s.box.Open(sk.Sealed, keyPurpose(h.ID, k))
		if err != nil {
			return nil, fmt.Errorf("open the API key %q of integration %s: %w", sk.Name, h.Name, err)
		}
		k.Value = v
		out = append(out, k)
	}
	return out, nil
}

// secrets returns the secrets that sign a request now: the current one and,
// during a rotation's grace period, the previous one.
func (s *Service) secrets(h *store.Hook, now time.Time) ([]string, error) {
	cur, err := s.box.Open(h.SecretSealed, secretPurpose(h.ID))
	if err != nil {
		return nil, fmt.Errorf("open the signing secret of integration %s: %w", h.Name, err)
	}
	out := []string{cur}
	if h.PrevSecretSealed != "" && now.Before(h.PrevSecretExpiresAt) {
		prev, err := s.box.Open(h.PrevSecretSealed, secretPurpose(h.ID))
		if err != nil {
			return nil, fmt.Errorf("open the previous signing secret of integration %s: %w", h.Name, err)
		}
		out = append(out, prev)
	}
	return out, nil
}

func (s *Service) view(h *store.Hook) (*Integration, error) {
	keys, err := s.openKeys(h)
	if err != nil {
		return nil, err
	}
	in := &Integration{
		ID: h.ID, Name: h.Name, URL: h.URL, Keys: make([]KeyView, 0, len(keys)),
		MaxInFlight: h.MaxInFlight, RatePerSecond: h.RatePerSecond,
		State: h.State, PauseReason: h.PauseReason, PausedAt: timePtr(h.PausedAt),
		FailingSince: timePtr(h.FailingSince), LastSuccess: timePtr(h.LastSuccessAt), LastFailure: timePtr(h.LastFailureAt),
		CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt,
	}
	if h.PrevSecretSealed != "" && s.now().Before(h.PrevSecretExpiresAt) {
		in.PreviousSecretUntil = timePtr(h.PrevSecretExpiresAt)
	}
	for _, k := range keys {
		in.Keys = append(in.Keys, KeyView{Name: k.Name, Placement: k.Placement, Masked: secret.Mask(k.Value)})
	}
	return in, nil
}

// checkInput validates in; existing is the saved integration when editing.
func (s *Service) checkInput(ctx context.Context, in Input, existing *store.Hook) (Input, error) {
	name, err := validateName(in.Name)
	if err != nil {
		return in, err
	}
	u, err := s.validateURL(ctx, in.URL)
	if err != nil {
		return in, err
	}
	var keep func(Key) (string, bool)
	if existing != nil {
		saved, err := s.openKeys(existing)
		if err != nil {
			return in, err
		}
		keep = func(k Key) (string, bool) {
			for _, sk := range saved {
				if sk.Name == k.Name && sk.Placement == k.Placement {
					return sk.Value, true
				}
			}
			return "", false
		}
	}
	keys, err := validateKeys(in.Keys, u, keep)
	if err != nil {
		return in, err
	}
	// A saved key value goes only to the origin it went to before: another
	// host needs the values again, so that whoever may edit an integration
	// cannot send its stored API key to a host of their choosing.
	if existing != nil && !netguard.SameOrigin(u.String(), existing.URL) {
		for _, k := range in.Keys {
			if k.Value == "" {
				return in, invalid("keys", fmt.Sprintf("The webhook address moved to another host, so the value of the key %q must be given again: a saved key is never sent to a new host.", k.Name))
			}
		}
	}
	if err := validateLimits(in.MaxInFlight, in.RatePerSecond); err != nil {
		return in, err
	}
	return Input{Name: name, URL: u.String(), Keys: keys, MaxInFlight: in.MaxInFlight, RatePerSecond: in.RatePerSecond}, nil
}

// Create saves a new integration and returns it with its signing secret,
// which is shown this once and never again (RotateSecret makes a new one).
func (s *Service) Create(ctx context.Context, in Input) (*Integration, string, error) {
	in, err := s.checkInput(ctx, in, nil)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	h := &store.Hook{ID: id.NewAt("hk", now), Name: in.Name, URL: in.URL, MaxInFlight: in.MaxInFlight,
		RatePerSecond: in.RatePerSecond, State: StateActive, CreatedAt: now, UpdatedAt: now}
	if h.KeysJSON, err = s.sealKeys(h.ID, in.Keys); err != nil {
		return nil, "", err
	}
	whsec, err := signature.NewSecret()
	if err != nil {
		return nil, "", err
	}
	if h.SecretSealed, err = s.box.Seal(whsec, secretPurpose(h.ID)); err != nil {
		return nil, "", err
	}
	if err := s.st.CreateHook(ctx, h); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, "", &ConflictError{Message: fmt.Sprintf("An integration named %q already exists; choose another name.", in.Name)}
		}
		return nil, "", fmt.Errorf("save integration %s: %w", in.Name, err)
	}
	s.hooksChanged() // an id looked up before it existed is kept as missing
	s.audit.Record(ctx, audit.Entry{Action: "hook.create", Target: hookTarget(h),
		Details: keyDetails(map[string]any{"secret": "created"}, in.Keys)})
	v, err := s.view(h)
	return v, whsec, err
}

// Update replaces an integration's name, URL, keys and limits. Key entries
// sent without a value keep their saved value.
func (s *Service) Update(ctx context.Context, hookID string, in Input) (*Integration, error) {
	h, err := s.hook(ctx, hookID)
	if err != nil {
		return nil, err
	}
	// The keys as given: checkInput fills in the saved values of keys
	// sent without one, which the audit entry must not count as set.
	given := slices.Clone(in.Keys)
	in, err = s.checkInput(ctx, in, h)
	if err != nil {
		return nil, err
	}
	var changed []string
	if in.Name != h.Name {
		changed = append(changed, "name")
	}
	if in.URL != h.URL {
		changed = append(changed, "url")
	}
	if in.MaxInFlight != h.MaxInFlight || in.RatePerSecond != h.RatePerSecond {
		changed = append(changed, "limits")
	}
	if keysChanged(s.keyNames(h), given) {
		changed = append(changed, "keys")
	}
	h.Name, h.URL, h.MaxInFlight, h.RatePerSecond, h.UpdatedAt = in.Name, in.URL, in.MaxInFlight, in.RatePerSecond, s.now()
	if h.KeysJSON, err = s.sealKeys(h.ID, in.Keys); err != nil {
		return nil, err
	}
	if err := s.st.UpdateHookConfig(ctx, h); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &ConflictError{Message: fmt.Sprintf("An integration named %q already exists; choose another name.", in.Name)}
		}
		return nil, fmt.Errorf("save integration %s: %w", in.Name, err)
	}
	s.hooksChanged()
	s.audit.Record(ctx, audit.Entry{Action: "hook.update", Target: hookTarget(h),
		Details: keyDetails(audit.Changed(changed...), given)})
	return s.Get(ctx, h.ID)
}

// keyNames lists h's keys as "placement:name", for telling whether an
// update changed which keys are sent; nil when they cannot be read.
func (s *Service) keyNames(h *store.Hook) []string {
	keys, err := s.openKeys(h)
	if err != nil {
		return nil
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k.Placement) + ":" + k.Name
	}
	return out
}

// keysChanged reports whether keys differ from before (keyNames) in the
// keys they name, or give any key a new value.
func keysChanged(before []string, keys []Key) bool {
	if len(before) != len(keys) {
		return true
	}
	for i, k := range keys {
		if k.Value != "" || before[i] != string(k.Placement)+":"+k.Name {
			return true
		}
	}
	return false
}

// hook loads an integration by id or, failing that, by name.
func (s *Service) hook(ctx context.Context, idOrName string) (*store.Hook, error) {
	h, err := s.st.Hook(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		h, err = s.st.HookByName(ctx, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no integration named %q: %w", idOrName, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load integration %q: %w", idOrName, err)
	}
	return h, nil
}

// Get returns an integration, by id or name, with its automation.
func (s *Service) Get(ctx context.Context, idOrName string) (*Integration, error) {
	h, err := s.hook(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	v, err := s.view(h)
	if err != nil {
		return nil, err
	}
	a, err := s.st.HookAutomation(ctx, h.ID)
	switch {
	case err == nil:
		v.Automation = automationFromStore(a)
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("load the automation of %s: %w", h.Name, err)
	}
	return v, nil
}

// List returns every integration by name, with its automation.
func (s *Service) List(ctx context.Context) ([]*Integration, error) {
	hs, err := s.st.Hooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	autos, err := s.st.HookAutomations(ctx)
	if err != nil {
		return nil, fmt.Errorf("list automations: %w", err)
	}
	byHook := map[string]*store.HookAutomation{}
	for _, a := range autos {
		byHook[a.HookID] = a
	}
	out := make([]*Integration, 0, len(hs))
	for _, h := range hs {
		v, err := s.view(h)
		if err != nil {
			return nil, err
		}
		if a := byHook[h.ID]; a != nil {
			v.Automation = automationFromStore(a)
		}
		out = append(out, v)
	}
	return out, nil
}

// Delete removes an integration with its automation and delivery history.
// Jobs already queued for it find nothing to do.
func (s *Service) Delete(ctx context.Context, idOrName string) error {
	h, err := s.hook(ctx, idOrName)
	if err != nil {
		return err
	}
	if err := s.st.DeleteHook(ctx, h.ID); err != nil {
		return fmt.Errorf("delete integration %s: %w", h.Name, err)
	}
	s.hooksChanged()
	s.limits.forget(h.ID)
	s.audit.Record(ctx, audit.Entry{Action: "hook.delete", Target: hookTarget(h)})
	return nil
}

// RotateSecret gives an integration a new signing secret and returns it
// (shown once). For grace (zero: Config.SecretGrace, 24 h by default;
// negative: none) requests carry signatures with both the new and the old
// secret, so receivers can switch without losing events.
func (s *Service) RotateSecret(ctx context.Context, idOrName string, grace time.Duration) (string, error) {
	h, err := s.hook(ctx, idOrName)
	if err != nil {
		return "", err
	}
	if grace == 0 {
		grace = s.cfg.SecretGrace
	}
	now := s.now()
	whsec, err := signature.NewSecret()
	if err != nil {
		return "", err
	}
	if grace > 0 {
		h.PrevSecretSealed, h.PrevSecretExpiresAt = h.SecretSealed, now.Add(grace)
	} else {
		h.PrevSecretSealed, h.PrevSecretExpiresAt = "", time.Time{}
	}
	if h.SecretSealed, err = s.box.Seal(whsec, secretPurpose(h.ID)); err != nil {
		return "", err
	}
	h.UpdatedAt = now
	if err := s.st.UpdateHookSecrets(ctx, h); err != nil {
		return "", fmt.Errorf("save the new signing secret of %s: %w", h.Name, err)
	}
	s.hooksChanged()
	s.audit.Record(ctx, audit.Entry{Action: "hook.secret.rotate", Target: hookTarget(h),
		Details: map[string]any{"changed": []string{"secret"}, "graceSeconds": max(int64(grace/time.Second), 0)}})
	return whsec, nil
}
