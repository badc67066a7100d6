package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a user may do, as one of four fixed bundles of permissions.
// Fixed roles keep the model small enough to review at a glance; the table
// below is the whole of it.
type Role string

// The roles, from most to least powerful.
const (
	// RoleSuperAdmin may do everything, including managing users and
	// revealing stored secrets.
	RoleSuperAdmin Role = "super_admin"
	// RoleWorkflowsAdmin builds and runs automation: flows, connections,
	// tables, templates and endpoint tokens. It can read issues to test
	// flows against them, but not change posture sources or hooks.
	RoleWorkflowsAdmin Role = "workflows_admin"
	// RoleIssueResponder triages issues (snooze, acknowledge, mark false
	// positive) and can see what hooks delivered about them.
	RoleIssueResponder Role = "issue_responder"
	// RoleIssueViewer sees issues and the dashboard, nothing else.
	RoleIssueViewer Role = "issue_viewer"
)

// Roles lists every role, most powerful first.
func Roles() []Role {
	return []Role{RoleSuperAdmin, RoleWorkflowsAdmin, RoleIssueResponder, RoleIssueViewer}
}

// ParseRole returns the role named s, or an error listing the valid names.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(s))
	if slices.Contains(Roles(), r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q; use super_admin, workflows_admin, issue_responder or issue_viewer", s)
}

// Permission names one thing a handler may require. Handlers require
// permissions, never roles, so that changing what a role may do is a change
// to the table below and nowhere else.
type Permission string

// The permissions. Their string values appear in GET /api/v1/me so that the
// console can hide what the user cannot use.
const (
	// PermSelf lets a user see their own account, sign out and manage their
	// own API tokens. Every role has it.
	PermSelf Permission = "self"
	// PermViewDashboard shows the overview page.
	PermViewDashboard Permission = "dashboard:view"
	// PermViewIssues lists and reads posture issues.
	PermViewIssues Permission = "issues:view"
	// PermRespondIssues snoozes, acknowledges, reopens and marks issues as
	// false positives.
	PermRespondIssues Permission = "issues:respond"
	// PermManageSources adds, edits and removes posture sources and starts scans.
	PermManageSources Permission = "sources:manage"
	// PermViewHooks lists outbound integrations and their deliveries.
	PermViewHooks Permission = "hooks:view"
	// PermManageHooks creates, edits, tests, pauses and resends hooks.
	PermManageHooks Permission = "hooks:manage"
	// PermViewFlows lists flows, their executions and history.
	PermViewFlows Permission = "flows:view"
	// PermManageFlows imports, edits, turns on and off, and runs flows.
	PermManageFlows Permission = "flows:manage"
	// PermDecideApprovals lists flows' approval requests and decides those
	// that name the user or the user's role; issue viewers only look.
	PermDecideApprovals Permission = "approvals:decide"
	// PermManageConnections adds, edits, tests and removes connections.
	PermManageConnections Permission = "connections:manage"
	// PermManageTables creates tables and edits their rows.
	PermManageTables Permission = "tables:manage"
	// PermManageTemplates adds template bundles.
	PermManageTemplates Permission = "templates:manage"
	// PermManageEndpointTokens shows and rotates flow API endpoint client tokens.
	PermManageEndpointTokens Permission = "endpoint_tokens:manage"
	// PermManageUsers creates users, changes roles and passwords, and manages
	// any user's API tokens.
	PermManageUsers Permission = "users:manage"
	// PermManageSettings changes server settings (public URL, allowlists,
	// retention).
	PermManageSettings Permission = "settings:manage"
	// PermRevealSecrets shows stored secrets (connection credentials, hook
	// key values) unmasked.
	PermRevealSecrets Permission = "secrets:reveal"
	// PermViewAudit reads and exports the audit log. Only super admins
	// have it: the log shows every other user's actions and addresses.
	PermViewAudit Permission = "audit:view"
)

// AllPermissions lists every permission in a stable order.
func AllPermissions() []Permission {
	return []Permission{PermSelf, PermViewDashboard, PermViewIssues, PermRespondIssues, PermManageSources,
		PermViewHooks, PermManageHooks, PermViewFlows, PermManageFlows, PermDecideApprovals, PermManageConnections, PermManageTables,
		PermManageTemplates, PermManageEndpointTokens, PermManageUsers, PermManageSettings, PermRevealSecrets, PermViewAudit}
}

// permissionsOf is the whole permission model; docs/auth.md shows it as a
// matrix and a test keeps the two in step.
func permissionsOf(r Role) []Permission {
	switch r {
	case RoleSuperAdmin:
		return AllPermissions()
	case RoleWorkflowsAdmin:
		return []Permission{PermSelf, PermViewDashboard, PermViewIssues, PermViewFlows, PermManageFlows, PermDecideApprovals,
			PermManageConnections, PermManageTables, PermManageTemplates, PermManageEndpointTokens}
	case RoleIssueResponder:
		return []Permission{PermSelf, PermViewDashboard, PermViewIssues, PermRespondIssues, PermViewHooks, PermDecideApprovals}
	case RoleIssueViewer:
		return []Permission{PermSelf, PermViewDashboard, PermViewIssues}
	}
	return nil
}

// Permissions returns what r may do, in AllPermissions order; an unknown
// role may do nothing.
func (r Role) Permissions() []Permission { return permissionsOf(r) }

// Can reports whether r has permission p.
func (r Role) Can(p Permission) bool { return slices.Contains(permissionsOf(r), p) }
