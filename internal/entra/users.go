package entra

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// User is a directory user with the fields posture needs. Graph returns
// accountEnabled, createdDateTime, userType, signInActivity and
// lastPasswordChangeDateTime only when $select names them; ListUsers does.
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
	AccountEnabled    bool   `json:"accountEnabled"`
	// UserType is "Member" or "Guest".
	UserType        string    `json:"userType"`
	CreatedDateTime time.Time `json:"createdDateTime"`
	// LastPasswordChangeDateTime is zero when Graph has none (for example a
	// synced user whose password lives on premises).
	LastPasswordChangeDateTime time.Time `json:"lastPasswordChangeDateTime"`
	// SignInActivity is nil when the tenant cannot report it (Graph requires
	// an Entra ID P1 licence); a non-nil value with zero times means the user
	// never signed in.
	SignInActivity *SignInActivity `json:"signInActivity"`
}

// SignInActivity is when a user last signed in. Graph's zero date
// (0001-01-01) and null both read as the zero time.
type SignInActivity struct {
	// LastSignInDateTime is the last interactive sign-in, successful or not.
	LastSignInDateTime time.Time `json:"lastSignInDateTime"`
	// LastNonInteractiveSignInDateTime is the last sign-in a client made on
	// the user's behalf, such as a token refresh.
	LastNonInteractiveSignInDateTime time.Time `json:"lastNonInteractiveSignInDateTime"`
	// LastSuccessfulSignInDateTime is the last successful sign-in of either kind.
	LastSuccessfulSignInDateTime time.Time `json:"lastSuccessfulSignInDateTime"`
}

// userFields is the $select of ListUsers, in Graph's property names.
var userFields = []string{"id", "displayName", "userPrincipalName", "mail", "accountEnabled",
	"createdDateTime", "userType", "lastPasswordChangeDateTime", "signInActivity"}

// codeNoPremium is the error Graph gives when signInActivity is selected in a
// tenant without an Entra ID P1 licence.
const codeNoPremium = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"

// ListUsers lists every user of the tenant. When the tenant has no licence for
// sign-in activity, it lists them again without it and leaves
// User.SignInActivity nil, so the rest of the posture still works.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	users, err := c.users(ctx, userFields)
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusForbidden && e.Code == codeNoPremium {
		return c.users(ctx, userFields[:len(userFields)-1])
	}
	return users, err
}

func (c *Client) users(ctx context.Context, fields []string) ([]User, error) {
	return list[User](ctx, c, "list users", c.endpoint("users",
		"$select", strings.Join(fields, ","), "$top", strconv.Itoa(c.cfg.PageSize)))
}

// RegistrationDetail is one user's authentication-method registration, from
// Graph's userRegistrationDetails report.
type RegistrationDetail struct {
	// ID is the user's object id.
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	UserDisplayName   string `json:"userDisplayName"`
	// IsAdmin says whether the user holds any admin role.
	IsAdmin bool `json:"isAdmin"`
	// IsMfaRegistered says whether the user registered a strong method.
	IsMfaRegistered bool `json:"isMfaRegistered"`
	// IsMfaCapable says whether a registered strong method is also allowed
	// by the tenant's authentication methods policy.
	IsMfaCapable bool `json:"isMfaCapable"`
	// MethodsRegistered lists methods such as "microsoftAuthenticatorPush",
	// "softwareOneTimePasscode", "mobilePhone", "email", "fido2".
	MethodsRegistered   []string  `json:"methodsRegistered"`
	LastUpdatedDateTime time.Time `json:"lastUpdatedDateTime"`
}

// ListRegistrationDetails lists the MFA registration state of every user. Graph
// computes this report for enabled users only.
func (c *Client) ListRegistrationDetails(ctx context.Context) ([]RegistrationDetail, error) {
	return list[RegistrationDetail](ctx, c, "list MFA registration details",
		c.endpoint("reports/authenticationMethods/userRegistrationDetails"))
}

// Organization is the tenant itself.
type Organization struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	VerifiedDomains []struct {
		Name      string `json:"name"`
		IsDefault bool   `json:"isDefault"`
		IsInitial bool   `json:"isInitial"`
	} `json:"verifiedDomains"`
}

// DefaultDomain is the tenant's default verified domain, the name people
// know it by; it falls back to the initial onmicrosoft.com domain.
func (o Organization) DefaultDomain() string {
	initial := ""
	for _, d := range o.VerifiedDomains {
		if d.IsDefault {
			return d.Name
		}
		if d.IsInitial {
			initial = d.Name
		}
	}
	return initial
}

// Organization reads the tenant's name and domains. It is one cheap read,
// which makes it the call behind "Test connection".
func (c *Client) Organization(ctx context.Context) (Organization, error) {
	orgs, err := list[Organization](ctx, c, "read organization",
		c.endpoint("organization", "$select", "id,displayName,verifiedDomains"))
	if err != nil {
		return Organization{}, err
	}
	if len(orgs) == 0 {
		return Organization{}, vendor.Error("read organization", http.StatusOK, "", "the organization list was empty", 0)
	}
	return orgs[0], nil
}
