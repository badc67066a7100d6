package console

import (
	"context"
	"errors"

	"github.com/vigil-ispm/vigil/internal/flows/alert"
	"github.com/vigil-ispm/vigil/internal/store"
)

// AlertService adapts *alert.Service to Alerts.
type AlertService struct{ Service *alert.Service }

var _ Alerts = AlertService{}

// Rules lists every rule.
func (s AlertService) Rules(ctx context.Context) ([]*store.FlowAlert, error) {
	return s.Service.Rules(ctx)
}

// AddRule saves a rule, turning the service's refusal into an *InputError.
func (s AlertService) AddRule(ctx context.Context, in alert.Input) (*store.FlowAlert, error) {
	rule, err := s.Service.Add(ctx, in)
	var ie *alert.InvalidError
	if errors.As(err, &ie) {
		return nil, &InputError{Field: ie.Field, Message: ie.Msg}
	}
	return rule, err
}

// RemoveRule deletes a rule.
func (s AlertService) RemoveRule(ctx context.Context, ruleID string) error {
	return s.Service.Remove(ctx, ruleID)
}
