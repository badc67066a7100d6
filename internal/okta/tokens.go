package okta

import (
	"context"
	"time"
)

// APIToken is the metadata of an API token; Okta never returns the token
// itself. A token acts with its owner's privileges, so a token owned by a
// super admin is itself a super admin credential.
type APIToken struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	UserID      string     `json:"userId"`
	ClientName  string     `json:"clientName"`
	Created     time.Time  `json:"created"`
	LastUpdated time.Time  `json:"lastUpdated"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	TokenWindow string     `json:"tokenWindow"` // ISO 8601 duration of inactivity after which it expires
	Network     *struct {
		Connection string   `json:"connection"`
		Include    []string `json:"include"`
		Exclude    []string `json:"exclude"`
	} `json:"network"`
}

// ListAPITokens returns the metadata of every API token in the org.
func (c *Client) ListAPITokens(ctx context.Context) ([]APIToken, error) {
	return list[APIToken](ctx, c, "list API tokens", "/api/v1/api-tokens", nil)
}
