package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// Defaults and bounds of approval.request.
const (
	// DefaultApprovalExpiry is how long a request waits for a decision
	// when the flow does not say: a day, after which it is denied.
	DefaultApprovalExpiry = 24 * time.Hour
	// MaxApprovalExpiry bounds expiresAfter: a request older than a month
	// would outlive the execution history it belongs to.
	MaxApprovalExpiry = 30 * 24 * time.Hour
	// MaxApprovalMessage bounds the message, in characters.
	MaxApprovalMessage = 2000
)

// Approval decisions (ApprovalDecision.Status).
const (
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
	ApprovalExpired  = "expired"
)

// ApproverRoles are the roles approval.request may name: the roles that
// may decide. issue_viewer only looks.
var ApproverRoles = []string{"super_admin", "workflows_admin", "issue_responder"}

// DefaultApprovers decide a request that names no approvers.
var DefaultApprovers = []string{"role:super_admin", "role:workflows_admin"}

// ApprovalRequest is what approval.request asks a person.
type ApprovalRequest struct {
	Message string
	// Approvers are "role:NAME" and "user:NAME" entries.
	Approvers    []string
	ExpiresAfter time.Duration
	// Details is what the approver is shown besides the message: the
	// issue, the affected identity and the action that will run.
	Details map[string]any
}

// ApprovalDecision is how a request was decided.
type ApprovalDecision struct {
	// Status is approved, denied or expired.
	Status string
	// DecidedBy is the deciding user's name; empty on expiry.
	DecidedBy string
	DecidedAt time.Time
	Comment   string
}

// Approvals keeps the requests of approval.request. Vigil's flows service
// keeps them in the database and parks the execution while one is
// pending; MemoryApprovals keeps them in memory for standalone runs.
type Approvals interface {
	// Request returns the decision on the request the calling task made,
	// making the request the first time it is asked. While nobody has
	// decided and it has not expired, it returns an *engine.Park.
	Request(ctx context.Context, req *ApprovalRequest, env *engine.CallEnv) (*ApprovalDecision, error)
}

// RegisterApproval adds approval.request to c, keeping requests in a.
func RegisterApproval(c *Catalog, a Approvals) error {
	return c.Register("approval.request", Function{
		Summary: "Pauses the execution until a person approves or denies, or the request expires (which denies).",
		Args: []Arg{
			{Name: "message", Type: String, Required: true, Summary: "What the approver is asked, such as \"Suspend ali@example.com in Okta?\".",
				Check: func(v any) string {
					if s := v.(string); strings.TrimSpace(s) == "" || len([]rune(s)) > MaxApprovalMessage {
						return fmt.Sprintf("expected 1 to %d characters", MaxApprovalMessage)
					}
					return ""
				}},
			{Name: "approvers", Type: Any, Summary: "Who may decide: a role (super_admin, workflows_admin, issue_responder) or a user's name, " +
				"or a list of them; user:NAME names a user whose name is also a role's. Default: super_admin and workflows_admin.",
				Check: func(v any) string {
					if _, err := ParseApprovers(v); err != nil {
						return err.Error()
					}
					return ""
				}},
			{Name: "expiresAfter", Type: String, Summary: "How long to wait, as an ISO 8601 duration (PT4H, P2D); default P1D, at most P30D. " +
				"An expired request is denied.",
				Check: func(v any) string {
					if _, err := parseExpiry(v.(string)); err != nil {
						return err.Error()
					}
					return ""
				}},
			{Name: "action", Type: String, Summary: "The action the approval guards, as the approver should read it; " +
				"default: the next connector call of the flow, as written."},
		},
		Output: "{approved, status, decidedBy, decidedAt, comment}: approved is true only when a listed approver approved; " +
			"status is approved, denied or expired; decidedBy is empty on expiry. A denial or an expiry sets the execution's result to \"denied\".",
		Run: func(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
			req, err := approvalRequest(args, env)
			if err != nil {
				return nil, err
			}
			d, err := a.Request(ctx, req, env)
			if err != nil {
				return nil, err
			}
			out := map[string]any{"approved": d.Status == ApprovalApproved, "status": d.Status, "decidedBy": d.DecidedBy,
				"decidedAt": nil, "comment": d.Comment}
			if !d.DecidedAt.IsZero() {
				out["decidedAt"] = d.DecidedAt.UTC().Format(time.RFC3339)
			}
			if d.Status != ApprovalApproved {
				if err := env.Record(ctx, NoteResult, ApprovalDenied, nil); err != nil {
					return nil, fmt.Errorf("record the result: %w", err)
				}
			}
			return out, nil
		},
	})
}

func approvalRequest(args map[string]any, env *engine.CallEnv) (*ApprovalRequest, error) {
	req := &ApprovalRequest{ExpiresAfter: DefaultApprovalExpiry}
	req.Message, _ = args["message"].(string)
	approvers, err := ParseApprovers(args["approvers"])
	if err != nil {
		return nil, &engine.Fault{Type: engine.ErrValidation, Status: 400, Title: "Invalid approvers", Detail: err.Error()}
	}
	req.Approvers = approvers
	if s, ok := args["expiresAfter"].(string); ok {
		if req.ExpiresAfter, err = parseExpiry(s); err != nil {
			return nil, &engine.Fault{Type: engine.ErrValidation, Status: 400, Title: "Invalid expiry", Detail: err.Error()}
		}
	}
	req.Details = approvalDetails(env)
	if s, ok := args["action"].(string); ok && s != "" {
		req.Details["action"] = map[string]any{"description": s}
	}
	return req, nil
}

func parseExpiry(s string) (time.Duration, error) {
	d, err := dsl.ParseISODuration(s)
	if err != nil {
		return 0, err
	}
	if d < time.Minute || d > MaxApprovalExpiry {
		return 0, errors.New("expected a duration from PT1M to P30D")
	}
	return d, nil
}

// ParseApprovers reads approval.request's approvers: nil (the default),
// a string or a list of strings, each a role that may decide, a user's
// name, or user:NAME. It returns "role:NAME" and "user:NAME" entries.
func ParseApprovers(v any) ([]string, error) {
	var list []any
	switch v := v.(type) {
	case nil:
		return append([]string(nil), DefaultApprovers...), nil
	case string:
		list = []any{v}
	case []any:
		list = v
	default:
		return nil, errors.New("expected a role, a user's name or a list of them")
	}
	var out []string
	for _, item := range list {
		s, ok := item.(string)
		s = strings.TrimSpace(s)
		if !ok || s == "" {
			return nil, errors.New("expected each approver to be a role or a user's name")
		}
		switch {
		case strings.HasPrefix(s, "user:") && strings.TrimSpace(s[5:]) != "":
			s = "user:" + strings.TrimSpace(s[5:])
		case strings.HasPrefix(s, "role:"):
			if !isApproverRole(s[5:]) {
				return nil, fmt.Errorf("role %s may not decide approvals; use %s", s[5:], strings.Join(ApproverRoles, ", "))
			}
		case s == "issue_viewer":
			return nil, fmt.Errorf("role issue_viewer may not decide approvals; use %s", strings.Join(ApproverRoles, ", "))
		case isApproverRole(s):
			s = "role:" + s
		default:
			s = "user:" + s
		}
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("expected at least one approver")
	}
	return out, nil
}

func isApproverRole(s string) bool { return contains(ApproverRoles, s) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// MayDecide tells whether a user of that name and role is one of approvers.
func MayDecide(approvers []string, user, role string) bool {
	if !isApproverRole(role) {
		return false
	}
	return contains(approvers, "user:"+user) || contains(approvers, "role:"+role)
}

// approvalDetails is what the approver is shown besides the message: the
// issue event the execution handles (from its input, as the invoke
// endpoint or the routing flow passes it) and the next connector call.
func approvalDetails(env *engine.CallEnv) map[string]any {
	d := map[string]any{}
	if ev := issueEvent(env.Input()); ev != nil {
		is := map[string]any{}
		for _, k := range []string{"id", "title", "severity", "category", "shortDescription", "link"} {
			if v, ok := ev[k]; ok && v != nil {
				is[k] = v
			}
		}
		if len(is) > 0 {
			d["issue"] = is
		}
		if ae, ok := ev["affectedEntity"].(map[string]any); ok {
			ent := map[string]any{}
			for _, k := range []string{"type", "displayName", "identifierInService", "idInService", "sourceProductName", "sourceProductTenant"} {
				if v, ok := ae[k]; ok && v != nil {
					ent[k] = v
				}
			}
			d["affectedEntity"] = ent
		}
	}
	for _, c := range env.CallsAfter() {
		if strings.HasPrefix(c.Function, "tables.") || strings.HasPrefix(c.Function, "execution.") || strings.HasPrefix(c.Function, "approval.") {
			continue
		}
		a := map[string]any{"function": c.Function, "task": c.Reference}
		if c.With != nil {
			a["with"] = c.With
		}
		d["action"] = a
		break
	}
	return d
}

// issueEvent finds an issue event's eventData in an execution's input:
// the invoke endpoint's {body: {eventData}}, a helper's {eventData}, or
// the eventData itself.
func issueEvent(in any) map[string]any {
	m, _ := in.(map[string]any)
	if m == nil {
		return nil
	}
	if body, ok := m["body"].(map[string]any); ok {
		if ev, ok := body["eventData"].(map[string]any); ok {
			return ev
		}
	}
	if ev, ok := m["eventData"].(map[string]any); ok {
		return ev
	}
	if _, ok := m["title"]; ok {
		return m
	}
	return nil
}

// MemoryApprovals keeps approval requests in memory, for standalone runs
// (vigil flows run) and tests. Decide answers each request as it is made;
// when Decide is nil a request faults, since no one could answer it.
type MemoryApprovals struct {
	Decide func(req *ApprovalRequest) *ApprovalDecision

	mu       sync.Mutex
	requests []*ApprovalRequest
}

// Request decides req with Decide.
func (m *MemoryApprovals) Request(_ context.Context, req *ApprovalRequest, _ *engine.CallEnv) (*ApprovalDecision, error) {
	m.mu.Lock()
	m.requests = append(m.requests, req)
	m.mu.Unlock()
	if m.Decide == nil {
		return nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 400, Title: "Approval not available", Detail: "approval.request waits for a person's decision, which needs the Vigil server: import the flow and run it there"}
	}
	return m.Decide(req), nil
}

// Requests returns the requests made so far, in order.
func (m *MemoryApprovals) Requests() []*ApprovalRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*ApprovalRequest(nil), m.requests...)
}
