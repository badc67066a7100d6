package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// DisableUser blocks a user's sign-in by setting accountEnabled to false.
// Disabling a user who is already disabled succeeds.
func (c *Client) DisableUser(ctx context.Context, userID string) error {
	if userID == "" {
		return errors.New("entra: disable user: the user id is empty")
	}
	return c.do(ctx, call{
		op:     "disable user " + userID,
		method: http.MethodPatch,
		url:    c.endpoint("users/" + url.PathEscape(userID)),
		body:   map[string]bool{"accountEnabled": false},
	})
}

// AddGroupMember adds a user (or any directory object) to a group.
//
// Adding a member who is already in the group is not an error: Graph answers
// 400 "One or more added object references already exist", and the group
// already has the state the caller asked for, so AddGroupMember returns
// alreadyMember true and a nil error. Remediation flows can then run twice
// without failing.
func (c *Client) AddGroupMember(ctx context.Context, groupID, memberID string) (alreadyMember bool, err error) {
	if groupID == "" || memberID == "" {
		return false, errors.New("entra: add group member: the group id and the member id are both required")
	}
	err = c.do(ctx, call{
		op:     fmt.Sprintf("add %s to group %s", memberID, groupID),
		method: http.MethodPost,
		url:    c.endpoint("groups/" + url.PathEscape(groupID) + "/members/$ref"),
		body:   map[string]string{"@odata.id": c.cfg.GraphURL + "/v1.0/directoryObjects/" + url.PathEscape(memberID)},
	})
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusBadRequest &&
		strings.Contains(e.Message, "added object references already exist") {
		return true, nil
	}
	return false, err
}
