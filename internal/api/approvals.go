package api

import (
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// ApprovalItem is an approval request as the API shows it: with whether
// the caller may decide it.
type ApprovalItem struct {
	*flows.Approval
	// MayDecide is true when the request is pending and names the caller
	// or the caller's role.
	MayDecide bool `json:"mayDecide"`
}

func approvalItem(r *http.Request, a *flows.Approval) ApprovalItem {
	u, ok := auth.UserFrom(r.Context())
	may := ok && a.Status == flows.ApprovalPending && a.MayDecide(u.Name, string(u.Role))
	return ApprovalItem{Approval: a, MayDecide: may}
}

// listApprovals serves GET /api/v1/approvals?status=: the pending
// requests by default, the oldest first; another status (or all) newest
// first.
func (a *API) listApprovals(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	switch status {
	case "":
		status = flows.ApprovalPending
	case "all":
		status = ""
	case flows.ApprovalPending, flows.ApprovalApproved, flows.ApprovalDenied, flows.ApprovalExpired, flows.ApprovalCancelled:
	default:
		return invalid("status", "The status must be pending, approved, denied, expired, cancelled or all.")
	}
	n, err := limit(r, 100, 500)
	if err != nil {
		return err
	}
	list, err := a.svc.Flows.Approvals(r.Context(), flows.ApprovalFilter{Status: status, Limit: n})
	if err != nil {
		return err
	}
	out := make([]ApprovalItem, len(list))
	for i, ap := range list {
		out[i] = approvalItem(r, ap)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"approvals": out})
	return nil
}

func (a *API) approve(w http.ResponseWriter, r *http.Request) error { return a.decide(w, r, true) }

func (a *API) deny(w http.ResponseWriter, r *http.Request) error { return a.decide(w, r, false) }

// decide serves POST /api/v1/approvals/{id}/approve|deny {"comment"}: the
// caller's decision, which only an approver the request names may take,
// once.
func (a *API) decide(w http.ResponseWriter, r *http.Request, approve bool) error {
	var in struct {
		Comment string `json:"comment"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, ok := auth.UserFrom(r.Context())
	if !ok {
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "Sign in to decide an approval request."}
	}
	ap, err := a.svc.Flows.Decide(r.Context(), r.PathValue("id"),
		flows.Decision{Approve: approve, User: u.Name, Role: string(u.Role), Comment: in.Comment})
	switch {
	case errors.Is(err, flows.ErrNotApprover):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: httpjson.Sentence(err.Error())}
	case errors.Is(err, flows.ErrDecided):
		return conflict("%s", httpjson.Sentence(err.Error()))
	case errors.Is(err, flows.ErrInvalid):
		return invalid("comment", "%s", httpjson.Sentence(err.Error()))
	case err != nil:
		return err
	}
	httpjson.Write(w, http.StatusOK, approvalItem(r, ap))
	return nil
}
