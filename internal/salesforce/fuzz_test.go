package salesforce_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/fuzztest"
	"github.com/vigil-ispm/vigil/internal/salesforce"
	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// FuzzResponses feeds the Salesforce client's queries any answer, next
// records links included: each must return records or an error, never
// panic or page without end.
func FuzzResponses(f *testing.F) {
	seeds := []string{
		`{"totalSize":1,"done":true,"records":[{"Id":"005x","Username":"a@acme.example","IsActive":true,"LastLoginDate":"2026-01-01T00:00:00.000+0000","Profile":{"Name":"System Administrator"}}]}`,
		`{"totalSize":1,"done":true,"records":[{"Id":"00Dx","Name":"Acme"}]}`,
		`{"done":false,"nextRecordsUrl":"/services/data/v61.0/query/01gx-2000","records":[]}`,
		`[{"errorCode":"INVALID_SESSION_ID","message":"Session expired or invalid"}]`,
		`{"records":null}`, `{}`, ``,
	}
	srv := fuzztest.New(f, seeds...)
	c, err := salesforce.New(salesforce.Config{InstanceURL: srv.URL, ClientID: "c", ClientSecret: "s", HTTPClient: srv.Client(),
		Retry: vendorhttp.Retry{Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}})
	if err != nil {
		f.Fatal(err)
	}
	srv.Fuzz(f, func(ctx context.Context) {
		c.ListUsers(ctx)
		c.ListAdminGrants(ctx)
		c.Organization(ctx)
	})
}
