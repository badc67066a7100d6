package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// bulkChangeIssues serves POST /ispm/issues/bulk: snooze, acknowledge, mark
// as false positive or reopen the checked issues, then go back to the list
// with what was done and what was skipped.
func (c *Console) bulkChangeIssues(w http.ResponseWriter, r *http.Request) {
	if c.svc.Issues == nil {
		c.unavailable(w, r, "Issues")
		return
	}
	if !c.readForm(w, r, "/ispm/issues") {
		return
	}
	back := cleanPath(r.PostFormValue("back"), "/ispm/issues")
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		c.redirect(w, r, back, flashError, "Select at least one issue first.")
		return
	}
	if len(ids) > issue.MaxBulk {
		c.redirect(w, r, back, flashError, fmt.Sprintf("Select at most %d issues at once.", issue.MaxBulk))
		return
	}
	note := issue.Note{By: userName(r), Why: strings.TrimSpace(r.PostFormValue("reason"))}
	ctx := r.Context()
	var (
		out  issue.Outcome
		err  error
		verb string
	)
	switch r.PostFormValue("action") {
	case "snooze":
		days, _ := strconv.Atoi(r.PostFormValue("days"))
		if days < 1 || days > 365 {
			c.redirect(w, r, back, flashError, "Choose how many days to snooze for, from 1 to 365.")
			return
		}
		out, err = c.svc.Issues.SnoozeMany(ctx, ids, c.cfg.Now().Add(time.Duration(days)*24*time.Hour), note)
		verb = "snoozed for " + strconv.Itoa(days) + " days"
	case "acknowledge":
		out, err = c.svc.Issues.AcknowledgeMany(ctx, ids, note)
		verb = "acknowledged"
	case "false_positive":
		out, err = c.svc.Issues.MarkFalsePositiveMany(ctx, ids, note)
		verb = "marked as false positives"
	case "reopen":
		out, err = c.svc.Issues.ReopenMany(ctx, ids, note)
		verb = "reopened"
	default:
		c.redirect(w, r, back, flashError, "Choose an action: snooze, acknowledge, false positive or reopen.")
		return
	}
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	msg := fmt.Sprintf("%d %s %s.", len(out.Changed), plural(len(out.Changed), "issue", "issues"), verb)
	kind := flashOK
	if n := len(out.Skipped); n > 0 {
		msg += fmt.Sprintf(" %d skipped: %s", n, out.Skipped[0].Reason)
		if n > 1 {
			msg += fmt.Sprintf(" (and %d more)", n-1)
		}
		if len(out.Changed) == 0 {
			kind = flashError
		}
	}
	c.redirect(w, r, back, kind, msg)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
