package flows

import (
	"context"

	"github.com/vigil-ispm/vigil/internal/flows/invoke"
)

// Invoke returns the service as the invoke endpoint sees it
// (invoke.Flows): the flow behind an endpoint, durable starts, waits and
// backlogs.
func (s *Service) Invoke() invoke.Flows { return invokeFlows{s} }

type invokeFlows struct{ s *Service }

// InvokeTarget returns the flow, whether it is on, and its API Endpoint
// settings (nil when its current version has no such trigger).
func (a invokeFlows) InvokeTarget(ctx context.Context, flowID string) (invoke.Target, error) {
	f, err := a.s.cachedFlow(ctx, flowID)
	if err != nil {
		return invoke.Target{}, err
	}
	t := invoke.Target{FlowID: f.ID, Title: f.Title, On: f.On}
	if f.TriggerKind == "" {
		return t, nil
	}
	w, err := a.s.workflow(ctx, f.ID, f.Version)
	if err != nil {
		return invoke.Target{}, err
	}
	if tr := w.Trigger(); tr != nil {
		t.Endpoint = tr.APIEndpoint
	}
	return t, nil
}

// Start starts the execution the endpoint chose the id of. The endpoint
// has checked that the flow is on; a flow turned off since is refused
// (as InvokeTarget, from a row read at most flowCacheAge ago, or after the
// change on this node). With p.Wait the caller's waiter is subscribed
// before the execution can end, so that Wait gets the end handed over
// without reading the row.
func (a invokeFlows) Start(ctx context.Context, p invoke.StartParams) error {
	if a.s.queue == nil {
		return ErrNoQueue
	}
	f, err := a.s.cachedFlow(ctx, p.FlowID)
	if err = flowErr(p.FlowID, err); err != nil {
		return err
	}
	if p.Wait {
		a.s.subscribeEarly(p.ExecutionID)
	}
	_, err = a.s.start(ctx, f, p.Input, StartOptions{ExecutionID: p.ExecutionID, Test: p.Test, InTx: p.InTx,
		Background: !p.Wait})
	if err != nil && p.Wait {
		a.s.unsubscribeEarly(p.ExecutionID)
	}
	return err
}

// Wait waits for the execution; when ctx ends first it returns the
// outcome so far with Done false.
func (a invokeFlows) Wait(ctx context.Context, execID string) (invoke.Outcome, error) {
	e, err := a.s.wait(ctx, execID, true)
	if e == nil {
		return invoke.Outcome{}, err
	}
	out := invoke.Outcome{Done: e.Done(), Status: e.Status, Output: e.Output}
	if e.Error != nil {
		out.Error = e.Error.Object()
	}
	return out, err
}

// Backlog counts the flow's unfinished executions.
func (a invokeFlows) Backlog(ctx context.Context, flowID string) (int, error) {
	return a.s.Backlog(ctx, flowID)
}
