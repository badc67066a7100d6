package console

import (
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// decideApproval serves POST /workflows/approvals/{id}/approve and
// /deny: the signed-in user's decision, with the comment typed next to
// the buttons. Only an approver the request names may decide, once; the
// page says why otherwise.
func (c *Console) decideApproval(w http.ResponseWriter, r *http.Request) {
	if c.svc.Approvals == nil {
		c.unavailable(w, r, "Approvals")
		return
	}
	decision := r.PathValue("decision")
	if decision != "approve" && decision != "deny" {
		c.notFound(w, r)
		return
	}
	back := "/workflows/approvals"
	if err := r.ParseForm(); err != nil {
		c.redirect(w, r, back, flashError, "The form could not be read; try again.")
		return
	}
	u, _ := auth.UserFrom(r.Context())
	a, err := c.svc.Approvals.Decide(r.Context(), r.PathValue("id"),
		flows.Decision{Approve: decision == "approve", User: u.Name, Role: string(u.Role), Comment: r.PostForm.Get("comment")})
	switch {
	case errors.Is(err, flows.ErrDecided), errors.Is(err, flows.ErrNotApprover), errors.Is(err, flows.ErrInvalid):
		c.redirect(w, r, back, flashError, httpjson.Sentence(err.Error()))
		return
	case err != nil:
		c.fail(w, r, err, back)
		return
	}
	msg := "Approved: " + a.FlowTitle + " goes on with the action."
	if a.Status == flows.ApprovalDenied {
		msg = "Denied: " + a.FlowTitle + " goes on without the action."
	}
	c.redirect(w, r, back, flashOK, msg)
}
