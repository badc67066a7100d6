package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/api"
	"github.com/vigil-ispm/vigil/internal/settings"
)

// apiSettings gives the JSON API the settings service the console uses,
// so that both read and check them the same way.
type apiSettings struct {
	svc *settings.Service
}

// Settings reads the console's stored settings in the API's shape.
func (s apiSettings) Settings(ctx context.Context) (api.Settings, error) {
	v, err := s.svc.Settings(ctx)
	return api.Settings{PublicURL: v.PublicURL, AllowOutbound: v.AllowOutbound, HistoryDays: v.HistoryDays, DeliveryDays: v.DeliveryDays}, err
}

// SaveSettings checks and stores v as the console does, turning its field
// errors into the API's 400 answers.
func (s apiSettings) SaveSettings(ctx context.Context, v api.Settings) error {
	err := s.svc.Save(ctx, settings.Values{PublicURL: v.PublicURL, AllowOutbound: v.AllowOutbound,
		HistoryDays: v.HistoryDays, DeliveryDays: v.DeliveryDays})
	var ie *settings.InvalidError
	if errors.As(err, &ie) {
		field := ie.Field
		if s, ok := settings.ByField(ie.Field); ok {
			field = s.JSON
		}
		return &api.Error{Status: http.StatusBadRequest, Code: "invalid", Field: field, Message: ie.Message}
	}
	return err
}
