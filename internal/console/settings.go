package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Keys of the settings the Admin → Settings page stores in the settings
// table.
const (
	SettingPublicURL     = "public_url"
	SettingAllowOutbound = "allow_outbound"
	SettingHistoryDays   = "flow_history_days"
	SettingDeliveryDays  = "hook_delivery_days"
)

// Defaults of the retention settings.
const (
	DefaultHistoryDays  = 30
	DefaultDeliveryDays = 30
)

// StoreSettings keeps the settings in the store's settings table. Defaults
// fill what was never saved.
type StoreSettings struct {
	Queries *store.Queries
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Defaults are shown until a value is saved (the server's flags).
	Defaults SettingsValues
}

// Settings returns the saved settings, defaults for those never saved.
func (s *StoreSettings) Settings(ctx context.Context) (SettingsValues, error) {
	v := s.Defaults
	if v.HistoryDays == 0 {
		v.HistoryDays = DefaultHistoryDays
	}
	if v.DeliveryDays == 0 {
		v.DeliveryDays = DefaultDeliveryDays
	}
	get := func(key string, dst *string) error {
		val, err := s.Queries.Setting(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read setting %s: %w", key, err)
		}
		*dst = val
		return nil
	}
	var hist, deliv string
	for _, kv := range []struct {
		key string
		dst *string
	}{{SettingPublicURL, &v.PublicURL}, {SettingAllowOutbound, &v.AllowOutbound}, {SettingHistoryDays, &hist}, {SettingDeliveryDays, &deliv}} {
		if err := get(kv.key, kv.dst); err != nil {
			return v, err
		}
	}
	if n, err := strconv.Atoi(hist); err == nil && n > 0 {
		v.HistoryDays = n
	}
	if n, err := strconv.Atoi(deliv); err == nil && n > 0 {
		v.DeliveryDays = n
	}
	return v, nil
}

// SaveSettings checks and stores v. Invalid values give an *InputError.
func (s *StoreSettings) SaveSettings(ctx context.Context, v SettingsValues) error {
	if err := CheckSettings(&v); err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	prev, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	values := map[string]string{
		SettingPublicURL: v.PublicURL, SettingAllowOutbound: v.AllowOutbound,
		SettingHistoryDays: strconv.Itoa(v.HistoryDays), SettingDeliveryDays: strconv.Itoa(v.DeliveryDays),
	}
	for key, val := range values {
		if err := s.Queries.PutSetting(ctx, key, val, now()); err != nil {
			return fmt.Errorf("save setting %s: %w", key, err)
		}
	}
	// None of these settings is secret, so the record keeps the values.
	changed := map[string]any{}
	for key, was := range map[string]string{
		SettingPublicURL: prev.PublicURL, SettingAllowOutbound: prev.AllowOutbound,
		SettingHistoryDays: strconv.Itoa(prev.HistoryDays), SettingDeliveryDays: strconv.Itoa(prev.DeliveryDays),
	} {
		if values[key] != was {
			changed[key] = map[string]string{"from": was, "to": values[key]}
		}
	}
	audit.NewRecorder(s.Queries, nil, now).Record(ctx, audit.Entry{Action: "settings.update",
		Target: audit.Target{Kind: "settings", Name: "server"}, Details: map[string]any{"changed": changed}})
	return nil
}

// CheckSettings validates v and puts it in canonical form.
func CheckSettings(v *SettingsValues) error {
	v.PublicURL = strings.TrimRight(strings.TrimSpace(v.PublicURL), "/")
	if v.PublicURL != "" {
		u, err := url.Parse(v.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return &InputError{Field: "public_url", Message: "The public URL must be an http or https address such as https://vigil.example.com."}
		}
	}
	v.AllowOutbound = strings.TrimSpace(v.AllowOutbound)
	if _, err := netguard.ParseAllowlist(v.AllowOutbound); err != nil {
		return &InputError{Field: "allow_outbound", Message: sentence(err.Error())}
	}
	if v.HistoryDays < 1 || v.HistoryDays > 3650 {
		return &InputError{Field: "history_days", Message: "Keep flow history for 1 to 3650 days."}
	}
	if v.DeliveryDays < 1 || v.DeliveryDays > 3650 {
		return &InputError{Field: "delivery_days", Message: "Keep deliveries for 1 to 3650 days."}
	}
	return nil
}
