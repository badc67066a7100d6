package console

import (
	"context"

	"github.com/vigil-ispm/vigil/internal/flows"
)

// HelperChecker is what a Flows may also do: tell which helper flows a
// flow runs that are off or missing, for the warning on the flow page.
// FlowService satisfies it.
type HelperChecker interface {
	HelperWarnings(ctx context.Context, flowID string) ([]flows.HelperWarning, error)
}

// HelperWarnings lists the helper flows a flow runs that cannot run now.
func (s FlowService) HelperWarnings(ctx context.Context, flowID string) ([]flows.HelperWarning, error) {
	return s.Service.HelperWarnings(ctx, flowID)
}

// helperWarnings returns the warnings of the flow page, none when the
// Flows cannot tell. A flow whose saved document no longer parses has no
// cards and no warnings either.
func (c *Console) helperWarnings(ctx context.Context, f *Flow) []flows.HelperWarning {
	hc, ok := c.svc.Flows.(HelperChecker)
	if !ok || f.Workflow == nil {
		return nil
	}
	ws, err := hc.HelperWarnings(ctx, f.ID)
	if err != nil {
		c.log.Warn("cannot check the helper flows of a flow", "flow", f.ID, "error", err)
		return nil
	}
	return ws
}
