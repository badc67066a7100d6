package console

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/hooks"
)

// failures is the dashboard's "Failures" card: what went wrong in flows
// and deliveries lately, each with a link to where it can be fixed.
type failures struct {
	// ShowFlows and ShowHooks tell which halves the user's role may see.
	ShowFlows, ShowHooks bool
	// Faults counts the executions that faulted within healthWindow.
	Faults int
	// Recent are the latest faulted executions.
	Recent []Execution
	// Flows are the flows with faults within healthWindow, most first.
	Flows []flowFaults
	// Dead are the integrations with dead-lettered deliveries.
	Dead []hookFailure
	// Paused are the integrations that are paused, by hand or because
	// their endpoint kept failing.
	Paused []hookFailure
}

type flowFaults struct {
	ID, Title, Folder string
	Faults            int
	Repeated          bool
	LastRunAt         time.Time
	LastExecutionID   string
}

type hookFailure struct {
	ID, Name, Reason string
	Dead             int
}

// None tells whether there is nothing to show.
func (f failures) None() bool {
	return f.Faults == 0 && len(f.Recent) == 0 && len(f.Dead) == 0 && len(f.Paused) == 0
}

// recentFaults is how many faulted executions the dashboard lists.
const recentFaults = 5

// dashboardFailures gathers the Failures card for the user of r.
func (c *Console) dashboardFailures(ctx context.Context, r *http.Request) (*failures, error) {
	if c.svc.Health == nil {
		return nil, nil
	}
	f := &failures{ShowFlows: c.svc.Flows != nil && can(r, auth.PermViewFlows),
		ShowHooks: c.svc.Hooks != nil && can(r, auth.PermViewHooks)}
	if f.ShowFlows {
		health, err := c.flowHealth(ctx)
		if err != nil {
			return nil, err
		}
		list, err := c.svc.Flows.Flows(ctx, "")
		if err != nil {
			return nil, err
		}
		for _, fl := range list {
			h := health[fl.ID]
			if h == nil || h.Faults == 0 {
				continue
			}
			f.Faults += h.Faults
			f.Flows = append(f.Flows, flowFaults{ID: fl.ID, Title: fl.Title, Folder: fl.Folder, Faults: h.Faults,
				Repeated: h.Faults >= repeatedFaults, LastRunAt: h.LastRunAt, LastExecutionID: h.LastExecutionID})
		}
		sort.SliceStable(f.Flows, func(i, j int) bool { return f.Flows[i].Faults > f.Flows[j].Faults })
		page, err := c.svc.Flows.Executions(ctx, ExecutionFilter{Status: "faulted", Limit: 4 * recentFaults})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Executions {
			if !e.Test && len(f.Recent) < recentFaults {
				f.Recent = append(f.Recent, e)
			}
		}
	}
	if f.ShowHooks {
		health, err := c.hookHealth(ctx)
		if err != nil {
			return nil, err
		}
		list, err := c.svc.Hooks.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, h := range list {
			if hh := health[h.ID]; hh != nil && hh.Dead > 0 {
				f.Dead = append(f.Dead, hookFailure{ID: h.ID, Name: h.Name, Dead: hh.Dead})
			}
			if h.State == hooks.StatePaused {
				f.Paused = append(f.Paused, hookFailure{ID: h.ID, Name: h.Name, Reason: h.PauseReason})
			}
		}
	}
	return f, nil
}
