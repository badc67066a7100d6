package okta_test

import (
	"context"
	"testing"

	"github.com/vigil-ispm/vigil/internal/fuzztest"
	"github.com/vigil-ispm/vigil/internal/okta"
)

// FuzzResponses feeds the Okta client's list and get calls any answer:
// each must return a value or an error, never panic.
func FuzzResponses(f *testing.F) {
	seeds := []string{
		`[{"id":"00u1","status":"ACTIVE","profile":{"login":"a@example.com"},"lastLogin":"2026-01-01T00:00:00.000Z"}]`,
		`[{"id":"00g1","profile":{"name":"Admins"},"type":"OKTA_GROUP"}]`,
		`[{"id":"p1","type":"OKTA_SIGN_ON","conditions":{"people":{"groups":{"include":["00g1"]}}}}]`,
		`[{"type":"SUPER_ADMIN","status":"ACTIVE"}]`,
		`{"errorCode":"E0000011","errorSummary":"Invalid token provided"}`,
		`[null, 1, "x", {}]`, `{}`, `null`, ``,
	}
	srv := fuzztest.New(f, seeds...)
	c, err := okta.New(okta.Config{BaseURL: srv.URL, Token: "00fuzz", HTTPClient: srv.Client()})
	if err != nil {
		f.Fatal(err)
	}
	srv.Fuzz(f, func(ctx context.Context) {
		c.ListUsers(ctx)
		c.ListGroups(ctx)
		c.ListUserRoles(ctx, "00u1")
		c.ListPoliciesWithRules(ctx, "OKTA_SIGN_ON")
		c.GetUser(ctx, "me")
	})
}
