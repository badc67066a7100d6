package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// ErrNotOnDemand is returned by StartOnDemand when the flow is not marked
// callable on demand (metadata.vigil.onDemand).
var ErrNotOnDemand = errors.New("the flow is not callable on demand")

// OnDemandFlows lists the flows that are on and marked callable on demand,
// by folder and title: the flows an issue page offers to run. A flow whose
// current version no longer parses is left out rather than failing the
// list.
func (s *Service) OnDemandFlows(ctx context.Context) ([]*Flow, error) {
	on := true
	all, err := s.Flows(ctx, ListFlowsParams{On: &on})
	if err != nil {
		return nil, err
	}
	var out []*Flow
	for _, f := range all {
		w, err := s.workflow(ctx, f.ID, f.Version)
		if errors.Is(err, errBrokenVersion) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if w.OnDemand() {
			out = append(out, f)
		}
	}
	return out, nil
}

// StartOnDemand starts flowID by hand with body as the request body, in the
// shape an API Endpoint invocation gives a flow ({body, headers, query,
// context}), so that one flow serves both a webhook and a person pressing
// Run. The flow must be on and marked callable on demand; otherwise
// nothing starts and the error wraps ErrFlowOff or ErrNotOnDemand.
func (s *Service) StartOnDemand(ctx context.Context, flowID string, body any) (string, error) {
	f, err := s.Flow(ctx, flowID)
	if err != nil {
		return "", err
	}
	w, err := s.workflow(ctx, f.ID, f.Version)
	if err != nil {
		return "", err
	}
	if !w.OnDemand() {
		return "", kindErrorf(ErrNotOnDemand,
			"flow %q is not callable on demand; set document.metadata.vigil.onDemand to true to offer it on issues", f.Title)
	}
	execID := id.NewAt("exe", s.now())
	input := map[string]any{
		"body":    body,
		"headers": map[string]any{},
		"query":   map[string]any{},
		"context": map[string]any{"execution_id": execID},
	}
	// A run on an issue is recorded first, so the issue page links it
	// from the moment it starts.
	if issueID := issueOf(body); issueID != "" {
		if err := s.st.AddIssueRun(ctx, &store.IssueRun{ExecutionID: execID, IssueID: issueID, FlowID: f.ID, CreatedAt: s.now()}); err != nil {
			return "", fmt.Errorf("record the run of flow %q on issue %s: %w", f.Title, issueID, err)
		}
	}
	execID, err = s.Start(ctx, f.ID, input, StartOptions{ExecutionID: execID})
	if err != nil {
		return "", fmt.Errorf("run flow %q on demand: %w", f.Title, err)
	}
	return execID, nil
}

// issueOf returns the issue a body is an event of, or "".
func issueOf(body any) string {
	switch e := body.(type) {
	case event.Event:
		return e.EventData.ID
	case *event.Event:
		if e != nil {
			return e.EventData.ID
		}
	}
	return ""
}

// IssueRuns returns the executions started by hand on an issue (the issue
// page's Run flow, the API, the CLI) that history still holds, newest
// first.
func (s *Service) IssueRuns(ctx context.Context, issueID string) ([]*Execution, error) {
	rs, err := s.st.IssueRunExecutions(ctx, issueID, 100)
	if err != nil {
		return nil, fmt.Errorf("list the runs on issue %s: %w", issueID, err)
	}
	out := make([]*Execution, len(rs))
	for i, r := range rs {
		if out[i], err = s.executionOf(r, false, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}
