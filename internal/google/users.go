package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// User is a Workspace user with the fields posture needs.
type User struct {
	ID           string
	PrimaryEmail string
	FullName     string
	// IsAdmin marks a super admin, Workspace's global admin.
	IsAdmin bool
	// IsDelegatedAdmin marks a user with an admin role short of super admin.
	IsDelegatedAdmin bool
	// IsEnrolledIn2Sv says whether the user turned on 2-Step Verification.
	IsEnrolledIn2Sv bool
	// IsEnforcedIn2Sv says whether 2-Step Verification is enforced for the user.
	IsEnforcedIn2Sv bool
	// LastLoginTime is zero when the user never logged in; Google sends
	// 1970-01-01T00:00:00.000Z for that.
	LastLoginTime    time.Time
	CreationTime     time.Time
	Suspended        bool
	SuspensionReason string
	Archived         bool
	OrgUnitPath      string
}

// apiUser is a user as the Directory API sends it.
type apiUser struct {
	ID           string `json:"id"`
	PrimaryEmail string `json:"primaryEmail"`
	Name         struct {
		FullName string `json:"fullName"`
	} `json:"name"`
	IsAdmin          bool      `json:"isAdmin"`
	IsDelegatedAdmin bool      `json:"isDelegatedAdmin"`
	IsEnrolledIn2Sv  bool      `json:"isEnrolledIn2Sv"`
	IsEnforcedIn2Sv  bool      `json:"isEnforcedIn2Sv"`
	LastLoginTime    time.Time `json:"lastLoginTime"`
	CreationTime     time.Time `json:"creationTime"`
	Suspended        bool      `json:"suspended"`
	SuspensionReason string    `json:"suspensionReason"`
	Archived         bool      `json:"archived"`
	OrgUnitPath      string    `json:"orgUnitPath"`
}

func (a apiUser) user() User {
	u := User{ID: a.ID, PrimaryEmail: a.PrimaryEmail, FullName: a.Name.FullName, IsAdmin: a.IsAdmin,
		IsDelegatedAdmin: a.IsDelegatedAdmin, IsEnrolledIn2Sv: a.IsEnrolledIn2Sv, IsEnforcedIn2Sv: a.IsEnforcedIn2Sv,
		LastLoginTime: a.LastLoginTime, CreationTime: a.CreationTime, Suspended: a.Suspended,
		SuspensionReason: a.SuspensionReason, Archived: a.Archived, OrgUnitPath: a.OrgUnitPath}
	if u.LastLoginTime.Unix() <= 0 {
		u.LastLoginTime = time.Time{}
	}
	return u
}

// PageSize is the maxResults ListUsers asks for: the most the API allows.
const PageSize = 500

// ListUsers lists every user of the customer, following nextPageToken.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	var users []User
	seen := map[string]bool{}
	token := ""
	for {
		q := url.Values{"customer": {c.cfg.Customer}, "maxResults": {strconv.Itoa(PageSize)}, "projection": {"basic"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		var page struct {
			Users         []apiUser `json:"users"`
			NextPageToken string    `json:"nextPageToken"`
		}
		if err := c.do(ctx, "list users", http.MethodGet, c.endpoint("users")+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		for _, a := range page.Users {
			users = append(users, a.user())
		}
		if page.NextPageToken == "" {
			return users, nil
		}
		if seen[page.NextPageToken] {
			return nil, errors.New("google: list users: Google returned the same page token twice")
		}
		seen[page.NextPageToken] = true
		token = page.NextPageToken
	}
}

// Ping lists one user: the cheapest call that proves the key, the
// delegation, the subject and the scopes all work. It is the call behind
// "Test connection".
func (c *Client) Ping(ctx context.Context) error {
	q := url.Values{"customer": {c.cfg.Customer}, "maxResults": {"1"}, "projection": {"basic"}}
	return c.do(ctx, "list users", http.MethodGet, c.endpoint("users")+"?"+q.Encode(), nil, nil)
}

// SuspendUser suspends a user, given their id or primary email, and returns
// the updated user. Suspending a suspended user succeeds.
func (c *Client) SuspendUser(ctx context.Context, userKey string) (User, error) {
	if userKey == "" {
		return User{}, errors.New("google: suspend user: the user key is empty")
	}
	var a apiUser
	err := c.do(ctx, fmt.Sprintf("suspend user %s", userKey), http.MethodPut,
		c.endpoint("users/"+url.PathEscape(userKey)), map[string]bool{"suspended": true}, &a)
	if err != nil {
		return User{}, err
	}
	return a.user(), nil
}

func (c *Client) endpoint(path string) string {
	return c.cfg.BaseURL + "/admin/directory/v1/" + path
}
