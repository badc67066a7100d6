package console

import (
	"context"
	"encoding/json"

	"github.com/vigil-ispm/vigil/internal/hooks"
)

// startedExecutions finds the executions a delivery started: a Vigil
// invoke URL answers {"executionId": "exe_…"} (Okta Workflows answers the
// same shape), so each attempt's answer names the run it started. Only
// executions this server has are returned, so every one is a working
// link.
func (c *Console) startedExecutions(ctx context.Context, d *hooks.Delivery) []Execution {
	if c.svc.Flows == nil {
		return nil
	}
	var out []Execution
	seen := map[string]bool{}
	for _, a := range d.AttemptLog {
		var body struct {
			ExecutionID string `json:"executionId"`
		}
		if json.Unmarshal([]byte(a.Response), &body) != nil || body.ExecutionID == "" || seen[body.ExecutionID] {
			continue
		}
		seen[body.ExecutionID] = true
		if e, err := c.svc.Flows.Execution(ctx, body.ExecutionID); err == nil {
			out = append(out, *e)
		}
	}
	return out
}
