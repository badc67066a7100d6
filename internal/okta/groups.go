package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Group is an Okta group.
type Group struct {
	ID                    string    `json:"id"`
	Type                  string    `json:"type"` // OKTA_GROUP, APP_GROUP, BUILT_IN
	Created               time.Time `json:"created"`
	LastUpdated           time.Time `json:"lastUpdated"`
	LastMembershipUpdated time.Time `json:"lastMembershipUpdated"`
	Profile               struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"profile"`
}

// ListGroups returns every group of the org.
func (c *Client) ListGroups(ctx context.Context) ([]Group, error) {
	return list[Group](ctx, c, "list groups", "/api/v1/groups", url.Values{"limit": {c.limit()}})
}

// ListGroupUsers returns the members of a group.
func (c *Client) ListGroupUsers(ctx context.Context, groupID string) ([]User, error) {
	if groupID == "" {
		return nil, errors.New("okta: list group users: the group id is empty")
	}
	return list[User](ctx, c, "list users of group "+groupID,
		"/api/v1/groups/"+url.PathEscape(groupID)+"/users", url.Values{"limit": {c.limit()}})
}

// AddUserToGroup adds a user to a group; Okta answers 204 whether or not
// the user was already a member. It needs the user's id, not their login
// (use FindUserByLogin first).
func (c *Client) AddUserToGroup(ctx context.Context, groupID, userID string) error {
	if groupID == "" || userID == "" {
		return errors.New("okta: add user to group: the group id and the user id are both required")
	}
	_, err := c.do(ctx, call{
		op:     fmt.Sprintf("add user %s to group %s", userID, groupID),
		method: http.MethodPut,
		url:    c.endpoint("/api/v1/groups/"+url.PathEscape(groupID)+"/users/"+url.PathEscape(userID), nil),
	})
	return err
}
