package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/api"
	"github.com/vigil-ispm/vigil/internal/console"
)

// apiSettings gives the JSON API the settings the console keeps, so that
// both read and check them the same way.
type apiSettings struct {
	store *console.StoreSettings
}

// Settings reads the console's stored settings in the API's shape.
func (s apiSettings) Settings(ctx context.Context) (api.Settings, error) {
	v, err := s.store.Settings(ctx)
	return api.Settings{PublicURL: v.PublicURL, AllowOutbound: v.AllowOutbound, HistoryDays: v.HistoryDays, DeliveryDays: v.DeliveryDays}, err
}

// SaveSettings checks and stores v as the console does, turning its field
// errors into the API's 400 answers.
func (s apiSettings) SaveSettings(ctx context.Context, v api.Settings) error {
	err := s.store.SaveSettings(ctx, console.SettingsValues{PublicURL: v.PublicURL, AllowOutbound: v.AllowOutbound,
		HistoryDays: v.HistoryDays, DeliveryDays: v.DeliveryDays})
	var ie *console.InputError
	if errors.As(err, &ie) {
		return &api.Error{Status: http.StatusBadRequest, Code: "invalid", Field: jsonField[ie.Field], Message: ie.Message}
	}
	return err
}

// jsonField names the console's form fields as the API's JSON does.
var jsonField = map[string]string{"public_url": "publicUrl", "allow_outbound": "allowOutbound",
	"history_days": "historyDays", "delivery_days": "deliveryDays"}
