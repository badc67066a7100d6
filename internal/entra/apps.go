package entra

import (
	"context"
	"strconv"
	"time"
)

// ServicePrincipal is an application's identity in the tenant, with the
// credentials it can sign in with.
type ServicePrincipal struct {
	ID                   string `json:"id"`
	AppID                string `json:"appId"`
	DisplayName          string `json:"displayName"`
	AccountEnabled       bool   `json:"accountEnabled"`
	ServicePrincipalType string `json:"servicePrincipalType"`
	// PasswordCredentials are client secrets.
	PasswordCredentials []Credential `json:"passwordCredentials"`
	// KeyCredentials are certificates.
	KeyCredentials []Credential `json:"keyCredentials"`
}

// Application is an app registration. Client secrets made in the portal's
// "Certificates & secrets" page live here, not on the service principal.
type Application struct {
	ID                  string       `json:"id"`
	AppID               string       `json:"appId"`
	DisplayName         string       `json:"displayName"`
	CreatedDateTime     time.Time    `json:"createdDateTime"`
	PasswordCredentials []Credential `json:"passwordCredentials"`
	KeyCredentials      []Credential `json:"keyCredentials"`
}

// Credential is a client secret or certificate. Graph never returns the
// secret itself after creation; Hint holds its first three characters.
type Credential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Hint          string    `json:"hint,omitempty"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
}

// Age is how long the credential has existed at now: the time since it
// became valid, which is when it was last rotated.
func (c Credential) Age(now time.Time) time.Duration {
	if c.StartDateTime.IsZero() {
		return 0
	}
	return now.Sub(c.StartDateTime)
}

// Expired says whether the credential's validity ended before now.
func (c Credential) Expired(now time.Time) bool {
	return !c.EndDateTime.IsZero() && !now.Before(c.EndDateTime)
}

// ListServicePrincipals lists every service principal with its credentials.
func (c *Client) ListServicePrincipals(ctx context.Context) ([]ServicePrincipal, error) {
	return list[ServicePrincipal](ctx, c, "list service principals", c.endpoint("servicePrincipals",
		"$select", "id,appId,displayName,accountEnabled,servicePrincipalType,passwordCredentials,keyCredentials",
		"$top", strconv.Itoa(c.cfg.PageSize)))
}

// ListApplications lists every app registration with its credentials.
func (c *Client) ListApplications(ctx context.Context) ([]Application, error) {
	return list[Application](ctx, c, "list applications", c.endpoint("applications",
		"$select", "id,appId,displayName,createdDateTime,passwordCredentials,keyCredentials",
		"$top", strconv.Itoa(c.cfg.PageSize)))
}
