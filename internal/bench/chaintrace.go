package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// chainStages name the points of an issue's way through the chain, in
// order, as the database records them.
var chainStages = []string{"issue opened", "delivery stored", "POST started", "routing execution stored",
	"POST answered", "helper execution stored", "routing execution ended", "helper execution ended"}

// traceChain writes to Progress, for each stage of the chain, when the
// issues reached it (from the first issue opened) and how long they
// waited since the stage before, so that a slow chain shows where its
// time goes. opened maps the chain's issues to their creation.
func traceChain(ctx context.Context, cfg Config, t *target, opened map[string]time.Time, routingID, helperID string) error {
	st := t.app.Store
	at := map[string]*[8]time.Time{}
	var first time.Time
	for id, o := range opened {
		at[id] = &[8]time.Time{o}
		if first.IsZero() || o.Before(first) {
			first = o
		}
	}
	ds, err := st.HookDeliveries(ctx, store.HookDeliveryFilter{Limit: len(opened) + 1})
	if err != nil {
		return fmt.Errorf("trace the chain: %w", err)
	}
	issueOf := map[string]string{}
	for _, d := range ds {
		if p := at[d.IssueID]; p != nil {
			p[1] = d.CreatedAt
			issueOf[d.ID] = d.IssueID
		}
	}
	as, err := st.HookAttempts(ctx, slices.Collect(maps.Keys(issueOf))...)
	if err != nil {
		return fmt.Errorf("trace the chain: %w", err)
	}
	seen := map[string]bool{}
	for _, a := range as { // oldest first: each delivery's first attempt
		if seen[a.DeliveryID] {
			continue
		}
		seen[a.DeliveryID] = true
		p := at[issueOf[a.DeliveryID]]
		p[2] = a.StartedAt
		p[4] = a.StartedAt.Add(time.Duration(a.LatencyMS) * time.Millisecond)
	}
	// Where each flow's executions go: stored, ended.
	for flowID, idx := range map[string][2]int{routingID: {3, 6}, helperID: {5, 7}} {
		xs, err := st.FlowExecutions(ctx, store.FlowExecutionFilter{FlowID: flowID, Limit: len(opened) + 1})
		if err != nil {
			return fmt.Errorf("trace the chain: %w", err)
		}
		for _, x := range xs {
			if p := at[x.Subject.IssueID]; p != nil {
				p[idx[0]], p[idx[1]] = x.CreatedAt, x.EndedAt
			}
		}
	}
	for i, name := range chainStages {
		var reached, waited []time.Duration
		for _, p := range at {
			if p[i].IsZero() {
				continue
			}
			reached = append(reached, p[i].Sub(first))
			if i > 0 && !p[i-1].IsZero() {
				waited = append(waited, p[i].Sub(p[i-1]))
			}
		}
		fmt.Fprintf(cfg.Progress, "  %-13s %-24s %5d reached it after %8s (first) %8s (p50) %8s (last); waited %8s (p50) %8s (p99)\n",
			"chain", name, len(reached), ms3(percentile(reached, 0)), ms3(percentile(reached, 0.5)), ms3(percentile(reached, 1)),
			ms3(percentile(waited, 0.5)), ms3(percentile(waited, 0.99)))
	}
	return nil
}

// ms3 rounds d for the trace.
func ms3(d time.Duration) string { return d.Round(time.Millisecond).String() }
