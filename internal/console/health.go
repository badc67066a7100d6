package console

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// Health tells how flows and integrations fared lately, so that failures
// show where people look: the dashboard and the Flows and Integrations
// lists. *store.Queries satisfies it.
type Health interface {
	// FlowHealth returns, by flow id, the latest run and the faults since
	// since of every flow that ran (test runs left out).
	FlowHealth(ctx context.Context, since time.Time) (map[string]*store.FlowHealth, error)
	// HookHealth returns, by integration id, the dead letters, the last
	// attempt and the failed attempts since since.
	HookHealth(ctx context.Context, since time.Time) (map[string]*store.HookHealth, error)
}

// healthWindow is how far back the failure counts go.
const healthWindow = 24 * time.Hour

// repeatedFaults is how many faults within healthWindow make a flow one
// that faults repeatedly.
const repeatedFaults = 3

// flowHealth returns the health of every flow, or nil when the console has
// no Health.
func (c *Console) flowHealth(ctx context.Context) (map[string]*store.FlowHealth, error) {
	if c.svc.Health == nil {
		return nil, nil
	}
	return c.svc.Health.FlowHealth(ctx, c.cfg.Now().Add(-healthWindow))
}

// hookHealth returns the health of every integration, or nil when the
// console has no Health.
func (c *Console) hookHealth(ctx context.Context) (map[string]*store.HookHealth, error) {
	if c.svc.Health == nil {
		return nil, nil
	}
	return c.svc.Health.HookHealth(ctx, c.cfg.Now().Add(-healthWindow))
}
