package api

import (
	"context"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// Settings are the server settings of Admin → Settings, as the API shows
// and takes them.
type Settings struct {
	// PublicURL is how people and other systems reach the server; empty
	// means http://<listen address>.
	PublicURL string `json:"publicUrl"`
	// AllowOutbound lists the private or loopback networks outbound
	// requests may reach, comma-separated CIDRs.
	AllowOutbound string `json:"allowOutbound"`
	// HistoryDays and DeliveryDays are how long flow history and hook
	// deliveries are kept.
	HistoryDays  int `json:"historyDays"`
	DeliveryDays int `json:"deliveryDays"`
}

// SettingsStore reads and saves the settings. SaveSettings checks them
// first and answers bad input with an *Error naming the field.
type SettingsStore interface {
	Settings(ctx context.Context) (Settings, error)
	SaveSettings(ctx context.Context, s Settings) error
}

// getSettings serves GET /api/v1/settings.
func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Settings == nil {
		return unavailable("Settings are not available on this server.")
	}
	s, err := a.svc.Settings.Settings(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, s)
	return nil
}

// putSettings serves PUT /api/v1/settings: the fields given replace the
// saved ones, the others are kept. A running server applies the public
// URL and the allowlist within a second, without a restart.
func (a *API) putSettings(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Settings == nil {
		return unavailable("Settings are not available on this server.")
	}
	s, err := a.svc.Settings.Settings(r.Context())
	if err != nil {
		return err
	}
	if err := decode(w, r, &s); err != nil {
		return err
	}
	if err := a.svc.Settings.SaveSettings(r.Context(), s); err != nil {
		return err
	}
	s, err = a.svc.Settings.Settings(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, s)
	return nil
}
