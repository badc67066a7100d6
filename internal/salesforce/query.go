package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// query runs a SOQL query and reads every batch, following nextRecordsUrl as
// Salesforce gives it. A next URL must be a path on the instance (it is
// relative) or a URL on the same host; anything else is refused, since the
// session token would go with it.
func query[T any](ctx context.Context, c *Client, op, soql string) ([]T, error) {
	var all []T
	next := c.dataPath() + "/query?q=" + url.QueryEscape(soql)
	seen := map[string]bool{}
	for next != "" {
		if seen[next] {
			return nil, fmt.Errorf("salesforce: %s: Salesforce returned the same nextRecordsUrl twice", op)
		}
		seen[next] = true
		var page struct {
			TotalSize      int    `json:"totalSize"`
			Done           bool   `json:"done"`
			NextRecordsURL string `json:"nextRecordsUrl"`
			Records        []T    `json:"records"`
		}
		if err := c.do(ctx, op, http.MethodGet, next, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Records...)
		if page.Done || page.NextRecordsURL == "" {
			break
		}
		path, err := c.sameInstance(page.NextRecordsURL)
		if err != nil {
			return nil, fmt.Errorf("salesforce: %s: %w", op, err)
		}
		next = path
	}
	return all, nil
}

func (c *Client) sameInstance(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("the nextRecordsUrl Salesforce returned cannot be read")
	}
	c.mu.Lock()
	instance := c.instance
	c.mu.Unlock()
	if u.IsAbs() && (instance == nil || u.Scheme != instance.Scheme || u.Host != instance.Host) {
		return "", errors.New("the nextRecordsUrl Salesforce returned is on another host; Vigil does not follow it")
	}
	if !strings.HasPrefix(u.Path, "/services/data/") {
		return "", errors.New("the nextRecordsUrl Salesforce returned is outside the REST API")
	}
	return u.RequestURI(), nil
}

// Time is a Salesforce date-time, which comes as 2024-01-15T10:30:00.000+0000
// (no colon in the offset, so not RFC 3339). Null reads as the zero time.
type Time struct{ time.Time }

// UnmarshalJSON reads Salesforce's layout, and RFC 3339 as a fallback.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("salesforce: %q is not a Salesforce date-time", s)
}

// User is a Salesforce user.
type User struct {
	ID       string
	Username string
	Email    string
	Name     string
	IsActive bool
	// LastLoginDate is zero when the user never logged in.
	LastLoginDate time.Time
	// ProfileName is the user's profile, such as "System Administrator".
	ProfileName string
	// UserType is "Standard" for employees; partner, portal and guest users
	// have other types, and "AutomatedProcess" marks system users.
	UserType               string
	LastPasswordChangeDate time.Time
	CreatedDate            time.Time
}

// UsersSOQL is the query ListUsers runs.
const UsersSOQL = "SELECT Id, Username, Email, Name, IsActive, LastLoginDate, Profile.Name, UserType, " +
	"LastPasswordChangeDate, CreatedDate FROM User"

// ListUsers lists every user of the org, active or not.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	type record struct {
		ID            string `json:"Id"`
		Username      string `json:"Username"`
		Email         string `json:"Email"`
		Name          string `json:"Name"`
		IsActive      bool   `json:"IsActive"`
		LastLoginDate Time   `json:"LastLoginDate"`
		Profile       *struct {
			Name string `json:"Name"`
		} `json:"Profile"`
		UserType               string `json:"UserType"`
		LastPasswordChangeDate Time   `json:"LastPasswordChangeDate"`
		CreatedDate            Time   `json:"CreatedDate"`
	}
	records, err := query[record](ctx, c, "query User", UsersSOQL)
	if err != nil {
		return nil, err
	}
	users := make([]User, len(records))
	for i, r := range records {
		users[i] = User{ID: r.ID, Username: r.Username, Email: r.Email, Name: r.Name, IsActive: r.IsActive,
			LastLoginDate: r.LastLoginDate.Time, UserType: r.UserType,
			LastPasswordChangeDate: r.LastPasswordChangeDate.Time, CreatedDate: r.CreatedDate.Time}
		if r.Profile != nil {
			users[i].ProfileName = r.Profile.Name
		}
	}
	return users, nil
}

// AdminGrant is a permission set, or a profile (Salesforce models a profile's
// permissions as a permission set it owns), that gives a user Modify All
// Data or View All Data.
type AdminGrant struct {
	UserID string
	// PermissionSet is the permission set's API name; Label its display name.
	PermissionSet string
	Label         string
	// ViaProfile says the grant comes from the user's profile.
	ViaProfile bool
	// ModifyAllData lets the user change every record: full admin power.
	ModifyAllData bool
	// ViewAllData lets the user read every record.
	ViewAllData bool
}

// AdminGrantsSOQL is the query ListAdminGrants runs.
const AdminGrantsSOQL = "SELECT AssigneeId, PermissionSet.Name, PermissionSet.Label, PermissionSet.IsOwnedByProfile, " +
	"PermissionSet.PermissionsModifyAllData, PermissionSet.PermissionsViewAllData FROM PermissionSetAssignment " +
	"WHERE PermissionSet.PermissionsModifyAllData = true OR PermissionSet.PermissionsViewAllData = true"

// ListAdminGrants lists every assignment of Modify All Data or View All Data,
// whether through a permission set or a profile.
func (c *Client) ListAdminGrants(ctx context.Context) ([]AdminGrant, error) {
	type record struct {
		AssigneeID    string `json:"AssigneeId"`
		PermissionSet struct {
			Name                     string `json:"Name"`
			Label                    string `json:"Label"`
			IsOwnedByProfile         bool   `json:"IsOwnedByProfile"`
			PermissionsModifyAllData bool   `json:"PermissionsModifyAllData"`
			PermissionsViewAllData   bool   `json:"PermissionsViewAllData"`
		} `json:"PermissionSet"`
	}
	records, err := query[record](ctx, c, "query PermissionSetAssignment", AdminGrantsSOQL)
	if err != nil {
		return nil, err
	}
	grants := make([]AdminGrant, len(records))
	for i, r := range records {
		ps := r.PermissionSet
		grants[i] = AdminGrant{UserID: r.AssigneeID, PermissionSet: ps.Name, Label: ps.Label,
			ViaProfile: ps.IsOwnedByProfile, ModifyAllData: ps.PermissionsModifyAllData, ViewAllData: ps.PermissionsViewAllData}
	}
	return grants, nil
}

// Organization is the org itself.
type Organization struct {
	ID           string `json:"Id"`
	Name         string `json:"Name"`
	InstanceName string `json:"InstanceName"`
	IsSandbox    bool   `json:"IsSandbox"`
}

// OrganizationSOQL is the query Organization runs.
const OrganizationSOQL = "SELECT Id, Name, InstanceName, IsSandbox FROM Organization"

// Organization reads the org's id and name. It is one cheap read, which makes
// it the call behind "Test connection".
func (c *Client) Organization(ctx context.Context) (Organization, error) {
	orgs, err := query[Organization](ctx, c, "query Organization", OrganizationSOQL)
	if err != nil {
		return Organization{}, err
	}
	if len(orgs) == 0 {
		return Organization{}, vendor.Error("query Organization", http.StatusOK, "", "no organization record", 0)
	}
	return orgs[0], nil
}

// Query runs any SOQL query and returns every record as raw JSON, for
// callers that need fields the typed methods do not read.
func (c *Client) Query(ctx context.Context, soql string) ([]json.RawMessage, error) {
	return query[json.RawMessage](ctx, c, "query", soql)
}

// DeactivateUser sets IsActive to false on a user. Deactivating an inactive
// user succeeds.
func (c *Client) DeactivateUser(ctx context.Context, userID string) error {
	if userID == "" || strings.ContainsAny(userID, "/?#") {
		return fmt.Errorf("salesforce: deactivate user: %q is not a user id", userID)
	}
	return c.do(ctx, "deactivate user "+userID, http.MethodPatch,
		c.dataPath()+"/sobjects/User/"+url.PathEscape(userID), map[string]bool{"IsActive": false}, nil)
}
