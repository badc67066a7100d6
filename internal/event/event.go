// Package event defines the issue event: the JSON document the posture half
// sends for every issue change and the workflows half receives at an invoke
// URL.
//
// Its shape is Okta ISPM's event hook payload, field for field, so that flows
// written for Okta Workflows' ISPM template read Vigil's events unchanged, and
// Vigil's routing flow reads Okta's. Vigil adds fields after Okta's (status,
// link, affectedEntity.id/type/identifierInService, additionalData); it never
// renames or drops one.
package event

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// Types of issue events.
const (
	TypeCreated  = "issue.created"
	TypeUpdated  = "issue.updated"
	TypeResolved = "issue.resolved"
)

// Source is the value of the top-level "source" field of every event Vigil sends.
const Source = "Vigil ISPM"

// Entity types of affectedEntity.type.
const (
	EntityAccount = "Account"
	EntityUser    = "User"
	EntityTenant  = "Tenant"
)

// Products as they appear in affectedEntity.sourceProductName.
const (
	ProductOkta       = "Okta"
	ProductEntra      = "AAD"
	ProductGoogle     = "Google Workspace"
	ProductSalesforce = "Salesforce.com"
	ProductAWS        = "AWS"
)

// Event is one issue event. ID is also the Standard Webhooks webhook-id, so
// receivers can drop duplicates of an at-least-once delivery.
type Event struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	Source    string    `json:"source"`
	Type      string    `json:"type"`
	EventData Issue     `json:"eventData"`
}

// Issue is the eventData object: the issue as it stands after the change.
type Issue struct {
	ID                   string         `json:"id"`
	Category             string         `json:"category"`
	Severity             string         `json:"severity"`
	Title                string         `json:"title"`
	ShortDescription     string         `json:"shortDescription"`
	FullDescription      string         `json:"fullDescription"`
	DetectedAt           time.Time      `json:"detectedAt"`
	SuggestedRemediation string         `json:"suggestedRemediation"`
	RiskAndImpact        string         `json:"riskAndImpact"`
	Status               string         `json:"status"`
	Link                 string         `json:"link,omitempty"`
	AffectedEntity       AffectedEntity `json:"affectedEntity"`
}

// AffectedEntity is the account, person or tenant an issue is about.
type AffectedEntity struct {
	ID                  string         `json:"id"`
	Type                string         `json:"type"`
	DisplayName         string         `json:"displayName"`
	IDInService         string         `json:"idInService"`
	IdentifierInService string         `json:"identifierInService"`
	SourceProductName   string         `json:"sourceProductName"`
	SourceProductTenant string         `json:"sourceProductTenant"`
	AdditionalData      AdditionalData `json:"additionalData"`
}

// AdditionalData carries the details a remediation flow needs.
type AdditionalData struct {
	Username        string          `json:"username,omitempty"`
	Types           []PrivilegeType `json:"types"`
	LastLogin       *time.Time      `json:"lastLogin"`
	UnrotatedTokens []Token         `json:"unrotatedTokens"`
	ActiveAccounts  []Account       `json:"activeAccounts"`
}

// PrivilegeType says why an account counts as privileged, e.g.
// {"type": "Admin", "reasons": ["Member of Org Admins group"]}.
type PrivilegeType struct {
	Type    string   `json:"type"`
	Reasons []string `json:"reasons"`
}

// Token is an API token, client secret or access key listed on a credential finding.
type Token struct {
	ID          string     `json:"id"`
	Name        string     `json:"name,omitempty"`
	Kind        string     `json:"kind,omitempty"`
	CreatedAt   *time.Time `json:"createdAt,omitempty"`
	LastUsedAt  *time.Time `json:"lastUsedAt,omitempty"`
	LastRotated *time.Time `json:"lastRotatedAt,omitempty"`
}

// Account is one of a person's accounts, listed on person-level findings.
type Account struct {
	IDInService         string `json:"idInService"`
	IdentifierInService string `json:"identifierInService"`
	SourceProductName   string `json:"sourceProductName"`
	SourceProductTenant string `json:"sourceProductTenant"`
	Status              string `json:"status,omitempty"`
}

// Outbox takes events in the same transaction as the issue change that
// caused them, so an event exists if and only if its change committed. The
// hooks package implements it; posture only sees this interface.
type Outbox interface {
	Publish(ctx context.Context, tx *store.Tx, ev Event) error
}

// Sample is the event Test Connection sends: an "Unused Admin Account" issue
// on an Okta account, marked by the caller with the X-Vigil-Test header.
func Sample(id string, now time.Time, publicURL string) Event {
	lastLogin := now.AddDate(0, 0, -91).Truncate(time.Second)
	detected := now.Add(-2 * time.Second).Truncate(time.Second)
	return Event{
		ID:        id,
		Timestamp: now.Truncate(time.Second),
		Source:    Source,
		Type:      TypeCreated,
		EventData: Issue{
			ID:                   "iss_TEST0000000000000000000000",
			Category:             "Least Privilege",
			Severity:             "High",
			Title:                "Unused Admin Account",
			ShortDescription:     "Admin account unused for 91 days",
			FullDescription:      "Admin Accounts not logged in interactively for 91 days.",
			DetectedAt:           detected,
			SuggestedRemediation: "Confirm with the account owner whether the admin role is still needed; remove the role or suspend the account.",
			RiskAndImpact:        "Unused admin accounts are attractive targets: their takeover goes unnoticed and grants broad control.",
			Status:               "open",
			Link:                 publicURL + "/ispm/issues/iss_TEST0000000000000000000000",
			AffectedEntity: AffectedEntity{
				ID:                  "acc_TEST0000000000000000000000",
				Type:                EntityAccount,
				DisplayName:         "Ali Lesch",
				IDInService:         "00u1a2b3c4D5e6F7g8h9",
				IdentifierInService: "ali.lesch@example.com",
				SourceProductName:   ProductOkta,
				SourceProductTenant: "example.okta.com",
				AdditionalData: AdditionalData{
					Username:        "ali.lesch@example.com",
					Types:           []PrivilegeType{{Type: "Admin", Reasons: []string{"Member of Org Admins group"}}},
					LastLogin:       &lastLogin,
					UnrotatedTokens: []Token{},
					ActiveAccounts:  []Account{},
				},
			},
		},
	}
}
