package consoletest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/flows/alert"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Alerts is an in-memory implementation of the console's Alerts over the
// in-memory Workflows: it keeps rules for their folders and flows and
// never sends anything.
type Alerts struct {
	mu    sync.Mutex
	flows *Workflows
	now   func() time.Time
	rules []*store.FlowAlert
}

var _ console.Alerts = (*Alerts)(nil)

// NewAlerts returns an empty Alerts for the folders and flows of w.
func NewAlerts(w *Workflows, now func() time.Time) *Alerts { return &Alerts{flows: w, now: now} }

// Rules lists the rules in the order they were added.
func (a *Alerts) Rules(ctx context.Context) ([]*store.FlowAlert, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*store.FlowAlert, 0, len(a.rules))
	for _, r := range a.rules {
		c := *r
		out = append(out, &c)
	}
	return out, nil
}

// AddRule keeps a rule for a folder or a flow of the Workflows.
func (a *Alerts) AddRule(ctx context.Context, in alert.Input) (*store.FlowAlert, error) {
	if (in.FolderID == "") == (in.FlowID == "") {
		return nil, &console.InputError{Field: "scope", Message: "Choose the folder or the flow whose failures to notify."}
	}
	if in.Channel != "slack" && in.Channel != "webhook" {
		return nil, &console.InputError{Field: "channel", Message: "Choose Slack or webhook as the channel."}
	}
	if in.Connection == "" {
		return nil, &console.InputError{Field: "connection", Message: "Name the connection to send the notification through."}
	}
	r := &store.FlowAlert{ID: id.New("alr"), FolderID: in.FolderID, FlowID: in.FlowID, Channel: in.Channel,
		Connection: in.Connection, Target: in.Target, CreatedBy: in.By, CreatedAt: a.now()}
	if in.FlowID != "" {
		f, err := a.flows.Flow(ctx, in.FlowID)
		if err != nil {
			return nil, &console.InputError{Field: "scope", Message: "The flow does not exist."}
		}
		r.FlowTitle, r.FolderName = f.Title, f.FolderName
	} else {
		folders, _ := a.flows.Folders(ctx)
		for _, f := range folders {
			if f.ID == in.FolderID {
				r.FolderName = f.Name
			}
		}
		if r.FolderName == "" {
			return nil, &console.InputError{Field: "scope", Message: "The folder does not exist."}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rules = append(a.rules, r)
	c := *r
	return &c, nil
}

// RemoveRule forgets a rule.
func (a *Alerts) RemoveRule(ctx context.Context, ruleID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, r := range a.rules {
		if r.ID == ruleID {
			a.rules = append(a.rules[:i], a.rules[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("failure notification %s: %w", ruleID, console.ErrNotFound)
}
