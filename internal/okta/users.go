package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// User statuses as Okta names them.
const (
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusActive          = "ACTIVE"
	StatusRecovery        = "RECOVERY"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
)

// User is an Okta user. Times Okta leaves null (a user who never signed in
// has no LastLogin) are nil.
type User struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"`
	Created         time.Time  `json:"created"`
	Activated       *time.Time `json:"activated"`
	StatusChanged   *time.Time `json:"statusChanged"`
	LastLogin       *time.Time `json:"lastLogin"`
	LastUpdated     time.Time  `json:"lastUpdated"`
	PasswordChanged *time.Time `json:"passwordChanged"`
	Type            struct {
		ID string `json:"id"`
	} `json:"type"`
	Profile Profile `json:"profile"`
}

// Profile holds the standard profile attributes Vigil reads by name, and
// every attribute, custom ones included, in Attributes.
type Profile struct {
	Login       string
	Email       string
	FirstName   string
	LastName    string
	DisplayName string
	UserType    string
	// Attributes maps each profile attribute to its JSON value.
	Attributes map[string]any
}

// UnmarshalJSON reads the named attributes and keeps all of them.
func (p *Profile) UnmarshalJSON(b []byte) error {
	var named struct {
		Login       string `json:"login"`
		Email       string `json:"email"`
		FirstName   string `json:"firstName"`
		LastName    string `json:"lastName"`
		DisplayName string `json:"displayName"`
		UserType    string `json:"userType"`
	}
	if err := json.Unmarshal(b, &named); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*p = Profile{
		Login: named.Login, Email: named.Email, FirstName: named.FirstName, LastName: named.LastName,
		DisplayName: named.DisplayName, UserType: named.UserType, Attributes: all,
	}
	return nil
}

// MarshalJSON writes Attributes, overlaid with the named fields.
func (p Profile) MarshalJSON() ([]byte, error) {
	all := make(map[string]any, len(p.Attributes)+6)
	for k, v := range p.Attributes {
		all[k] = v
	}
	for k, v := range map[string]string{
		"login": p.Login, "email": p.Email, "firstName": p.FirstName, "lastName": p.LastName,
		"displayName": p.DisplayName, "userType": p.UserType,
	} {
		if v != "" {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// Factor is an MFA factor enrolled by a user.
type Factor struct {
	ID         string    `json:"id"`
	FactorType string    `json:"factorType"` // push, sms, call, email, token:software:totp, webauthn, …
	Provider   string    `json:"provider"`   // OKTA, GOOGLE, FIDO, …
	Status     string    `json:"status"`     // ACTIVE, PENDING_ACTIVATION, NOT_SETUP, …
	Created    time.Time `json:"created"`
}

// ListUsers returns every user of the org, whatever their status. Okta's
// plain list leaves out DEPROVISIONED users, so a second list asks for them
// with a status filter: posture needs them to tell a deprovisioned person
// from a stranger.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	users, err := list[User](ctx, c, "list users", "/api/v1/users", url.Values{"limit": {c.limit()}})
	if err != nil {
		return nil, err
	}
	gone, err := list[User](ctx, c, "list deprovisioned users", "/api/v1/users",
		url.Values{"filter": {`status eq "DEPROVISIONED"`}, "limit": {c.limit()}})
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		seen[u.ID] = true
	}
	for _, u := range gone {
		if !seen[u.ID] {
			users = append(users, u)
		}
	}
	return users, nil
}

// GetUser returns the user with the given id. Okta also accepts a login
// in its place; see FindUserByLogin.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	if id == "" {
		return User{}, errors.New("okta: get user: the user id is empty")
	}
	return c.getUser(ctx, "get user "+id, id)
}

// FindUserByLogin returns the user whose login is login, which is how
// remediation flows name users they got from an issue. An unknown login
// gives an error matching ErrNotFound.
func (c *Client) FindUserByLogin(ctx context.Context, login string) (User, error) {
	if login == "" {
		return User{}, errors.New("okta: find user: the login is empty")
	}
	return c.getUser(ctx, "find user "+login, login)
}

func (c *Client) getUser(ctx context.Context, op, key string) (User, error) {
	res, err := c.do(ctx, call{op: op, method: http.MethodGet, url: c.endpoint("/api/v1/users/"+url.PathEscape(key), nil)})
	if err != nil {
		return User{}, err
	}
	var u User
	if err := json.Unmarshal(res.Body, &u); err != nil {
		return User{}, fmt.Errorf("okta: %s: decode answer: %w", op, err)
	}
	return u, nil
}

// ListFactors returns the factors a user has enrolled, active or not.
func (c *Client) ListFactors(ctx context.Context, userID string) ([]Factor, error) {
	if userID == "" {
		return nil, errors.New("okta: list factors: the user id is empty")
	}
	return list[Factor](ctx, c, "list factors of "+userID, "/api/v1/users/"+url.PathEscape(userID)+"/factors", nil)
}

// SuspendUser suspends an ACTIVE user: they can no longer sign in, and
// UnsuspendUser restores them. Okta refuses (400 E0000001) a user in any
// other status.
func (c *Client) SuspendUser(ctx context.Context, userID string) error {
	return c.lifecycle(ctx, "suspend", userID, nil)
}

// UnsuspendUser returns a SUSPENDED user to ACTIVE.
func (c *Client) UnsuspendUser(ctx context.Context, userID string) error {
	return c.lifecycle(ctx, "unsuspend", userID, nil)
}

// ExpirePassword makes the user choose a new password at their next sign-in.
func (c *Client) ExpirePassword(ctx context.Context, userID string) error {
	return c.lifecycle(ctx, "expire_password", userID, nil)
}

func (c *Client) lifecycle(ctx context.Context, action, userID string, q url.Values) error {
	if userID == "" {
		return fmt.Errorf("okta: %s user: the user id is empty", action)
	}
	_, err := c.do(ctx, call{
		op:     fmt.Sprintf("%s user %s", action, userID),
		method: http.MethodPost,
		url:    c.endpoint("/api/v1/users/"+url.PathEscape(userID)+"/lifecycle/"+action, q),
	})
	return err
}

// ClearUserSessions ends all of a user's Okta sessions, so a suspended or
// compromised account is signed out everywhere at once.
func (c *Client) ClearUserSessions(ctx context.Context, userID string) error {
	if userID == "" {
		return errors.New("okta: clear sessions: the user id is empty")
	}
	_, err := c.do(ctx, call{
		op:     "clear sessions of user " + userID,
		method: http.MethodDelete,
		url:    c.endpoint("/api/v1/users/"+url.PathEscape(userID)+"/sessions", nil),
	})
	return err
}

func (c *Client) limit() string { return fmt.Sprint(c.cfg.PageSize) }
