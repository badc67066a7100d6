package console

import (
	"context"
	"encoding/json"

	"github.com/vigil-ispm/vigil/internal/hooks"
)

// startedExecutions finds the executions each delivery of ds started, by
// delivery id: a Vigil invoke URL answers {"executionId": "exe_…"} (Okta
// Workflows answers the same shape), so each attempt's answer names the
// run it started. Only executions this server has are returned, so every
// one is a working link; they are read in one query, without their steps.
func (c *Console) startedExecutions(ctx context.Context, ds ...*hooks.Delivery) map[string][]Execution {
	if c.svc.Flows == nil {
		return nil
	}
	byDelivery := map[string][]string{}
	var ids []string
	for _, d := range ds {
		seen := map[string]bool{}
		for _, a := range d.AttemptLog {
			var body struct {
				ExecutionID string `json:"executionId"`
			}
			if json.Unmarshal([]byte(a.Response), &body) != nil || body.ExecutionID == "" || seen[body.ExecutionID] {
				continue
			}
			seen[body.ExecutionID] = true
			byDelivery[d.ID] = append(byDelivery[d.ID], body.ExecutionID)
			ids = append(ids, body.ExecutionID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	es, err := c.svc.Flows.ExecutionsByID(ctx, ids)
	if err != nil {
		return nil
	}
	byID := make(map[string]Execution, len(es))
	for _, e := range es {
		byID[e.ID] = e
	}
	out := map[string][]Execution{}
	for d, started := range byDelivery {
		for _, id := range started {
			if e, ok := byID[id]; ok {
				out[d] = append(out[d], e)
			}
		}
	}
	return out
}
