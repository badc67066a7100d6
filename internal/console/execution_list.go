package console

import (
	"net/http"
	"strings"
	"time"
)

// executionStatuses are the statuses Flow history filters on.
var executionStatuses = []string{"pending", "running", "waiting", "succeeded", "faulted", "cancelled"}

// durationFilters are the duration choices of Flow history.
var durationFilters = []struct{ Value, Label string }{
	{"", "Any"}, {"lt1s", "Under 1 s"}, {"1s-10s", "1 s to 10 s"}, {"10s-1m", "10 s to 1 min"}, {"gt1m", "Over 1 min"},
}

// showExecutionList serves GET /workflows/history: executions, newest
// first, filtered by flow, status, duration and a search of the trigger
// event's issue id, title and user, with the total the filter selects.
func (c *Console) showExecutionList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	f := ExecutionFilter{FlowID: q.Get("flow"), Limit: pageSize, Before: q.Get("before"), Search: strings.TrimSpace(q.Get("q"))}
	if s := q.Get("status"); contains(executionStatuses, s) {
		f.Status = s
	}
	dur := q.Get("duration")
	switch dur {
	case "lt1s":
		f.MaxDuration = time.Second
	case "1s-10s":
		f.MinDuration, f.MaxDuration = time.Second, 10*time.Second
	case "10s-1m":
		f.MinDuration, f.MaxDuration = 10*time.Second, time.Minute
	case "gt1m":
		f.MinDuration = time.Minute
	default:
		dur = ""
	}
	page, err := c.svc.Flows.Executions(ctx, f)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	flows, err := c.svc.Flows.Flows(ctx, "")
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	v := c.view(w, r, "execution_list", "Flow history", "workflows").Set("tab", "history").
		Set("page", page).Set("flows", flows).Set("flow", f.FlowID).Set("status", f.Status).Set("statuses", executionStatuses).
		Set("duration", dur).Set("durations", durationFilters).Set("q", f.Search).Set("now", c.cfg.Now())
	if n := len(page.Executions); n == f.Limit {
		v.Set("older", queryWith(r, "before", page.Executions[n-1].ID))
	}
	if f.Before != "" {
		v.Set("newest", queryWith(r, "before", ""))
	}
	v.Render()
}
