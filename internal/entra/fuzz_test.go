package entra_test

import (
	"context"
	"testing"

	"github.com/vigil-ispm/vigil/internal/entra"
	"github.com/vigil-ispm/vigil/internal/fuzztest"
)

// FuzzGraphResponses feeds the Microsoft Graph client's calls any answer,
// next links included: each must return a value or an error, never panic
// or page without end.
func FuzzGraphResponses(f *testing.F) {
	seeds := []string{
		`{"value":[{"id":"u1","userPrincipalName":"a@contoso.example","accountEnabled":true,"signInActivity":{"lastSignInDateTime":"2026-01-01T00:00:00Z"}}]}`,
		`{"value":[{"id":"r1","displayName":"Global Administrator","roleTemplateId":"62e90394-69f5-4237-9190-012177145e10"}]}`,
		`{"value":[{"id":"u1","isMfaRegistered":false,"methodsRegistered":[]}]}`,
		`{"value":[{"id":"o1","displayName":"Contoso","verifiedDomains":[{"name":"contoso.example","isDefault":true}]}]}`,
		`{"value":[],"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=x"}`,
		`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}}`,
		`{"value":null}`, `[]`, ``,
	}
	srv := fuzztest.New(f, seeds...)
	c, err := entra.New(entra.Config{TenantID: "t", ClientID: "c", ClientSecret: "s", LoginURL: srv.URL, GraphURL: srv.URL,
		HTTPClient: srv.Client()})
	if err != nil {
		f.Fatal(err)
	}
	srv.Fuzz(f, func(ctx context.Context) {
		c.ListUsers(ctx)
		c.ListDirectoryRoles(ctx)
		c.ListRegistrationDetails(ctx)
		c.ListServicePrincipals(ctx)
		c.Organization(ctx)
	})
}
