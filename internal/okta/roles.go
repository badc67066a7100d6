package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Role types of Okta's standard admin roles. SuperAdmin is the global admin.
const (
	RoleSuperAdmin    = "SUPER_ADMIN"
	RoleOrgAdmin      = "ORG_ADMIN"
	RoleAppAdmin      = "APP_ADMIN"
	RoleUserAdmin     = "USER_ADMIN"
	RoleHelpDeskAdmin = "HELP_DESK_ADMIN"
	RoleReadOnlyAdmin = "READ_ONLY_ADMIN"
)

// Role is an admin role assignment of a user or a group.
type Role struct {
	ID             string    `json:"id"`
	Label          string    `json:"label"`
	Type           string    `json:"type"`
	Status         string    `json:"status"`
	AssignmentType string    `json:"assignmentType"` // USER or GROUP
	Created        time.Time `json:"created"`
	LastUpdated    time.Time `json:"lastUpdated"`
}

// RoleAssignee is a user who holds at least one admin role, directly or
// through a group.
type RoleAssignee struct {
	ID  string `json:"id"`
	ORN string `json:"orn"`
}

// ListUserRoles returns the admin roles a user holds, directly
// (assignmentType USER) or through a group (GROUP).
func (c *Client) ListUserRoles(ctx context.Context, userID string) ([]Role, error) {
	if userID == "" {
		return nil, errors.New("okta: list user roles: the user id is empty")
	}
	return list[Role](ctx, c, "list roles of user "+userID, "/api/v1/users/"+url.PathEscape(userID)+"/roles", nil)
}

// ListGroupRoles returns the admin roles assigned to a group.
func (c *Client) ListGroupRoles(ctx context.Context, groupID string) ([]Role, error) {
	if groupID == "" {
		return nil, errors.New("okta: list group roles: the group id is empty")
	}
	return list[Role](ctx, c, "list roles of group "+groupID, "/api/v1/groups/"+url.PathEscape(groupID)+"/roles", nil)
}

// assigneesPageSize is the page size asked of /api/v1/iam/assignees/users,
// whose documented default page is 100; the client stays within it.
const assigneesPageSize = 100

// ListRoleAssignees returns every user holding an admin role, so a scan
// asks for roles only of those users instead of every user. The endpoint
// answers an object ({value, _links}) rather than an array; the next page is
// taken from the Link header or, failing that, from _links.next.href.
func (c *Client) ListRoleAssignees(ctx context.Context) ([]RoleAssignee, error) {
	const op = "list role assignees"
	var out []RoleAssignee
	limit := fmt.Sprint(min(c.cfg.PageSize, assigneesPageSize))
	err := c.pages(ctx, op, c.endpoint("/api/v1/iam/assignees/users", url.Values{"limit": {limit}}), func(res *vendorhttp.Response) (string, error) {
		var page struct {
			Value []RoleAssignee `json:"value"`
			Links struct {
				Next struct {
					Href string `json:"href"`
				} `json:"next"`
			} `json:"_links"`
		}
		if err := json.Unmarshal(res.Body, &page); err != nil {
			return "", fmt.Errorf("okta: %s: decode answer: %w", op, err)
		}
		out = append(out, page.Value...)
		if next := vendorhttp.NextLink(res.Header); next != "" {
			return next, nil
		}
		return page.Links.Next.Href, nil
	})
	return out, err
}
