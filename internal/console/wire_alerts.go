package console

import (
	"context"
	"errors"

	"github.com/vigil-ispm/vigil/internal/flows/alert"
	"github.com/vigil-ispm/vigil/internal/store"
)

// AlertService adapts *alert.Service to Alerts: it lists and removes rules
// itself, and Add says the service's refusal as an *InputError.
type AlertService struct{ *alert.Service }

var _ Alerts = AlertService{}

// Add saves a rule, turning the service's refusal into an *InputError.
func (s AlertService) Add(ctx context.Context, in alert.Input) (*store.FlowAlert, error) {
	rule, err := s.Service.Add(ctx, in)
	var ie *alert.InvalidError
	if errors.As(err, &ie) {
		return nil, &InputError{Field: ie.Field, Message: ie.Message}
	}
	return rule, err
}
