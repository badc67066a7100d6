package google_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/vigil-ispm/vigil/internal/fuzztest"
	"github.com/vigil-ispm/vigil/internal/google"
	"github.com/vigil-ispm/vigil/internal/google/googletest"
)

// FuzzDirectoryResponses feeds the Directory API client's calls any answer,
// page tokens and error bodies included: each must return a value or an
// error, never panic or page without end. The client signs in first with
// the fake's service account key, whose token_uri points at the fuzz
// server.
func FuzzDirectoryResponses(f *testing.F) {
	seeds := []string{
		`{"users":[{"id":"1001","primaryEmail":"a@example.com","name":{"fullName":"A"},"isAdmin":true,"isEnrolledIn2Sv":false,"isEnforcedIn2Sv":true,"lastLoginTime":"2026-01-01T00:00:00.000Z","creationTime":"2020-01-01T00:00:00.000Z"}]}`,
		`{"users":[{"id":"1002","lastLoginTime":"1970-01-01T00:00:00.000Z","suspended":true,"suspensionReason":"ADMIN"}],"nextPageToken":"p2"}`,
		`{"id":"1001","primaryEmail":"a@example.com","suspended":true}`,
		`{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[{"reason":"forbidden"}]}}`,
		`{"error":{"code":429,"errors":[{"reason":"rateLimitExceeded"}]}}`,
		`{"users":null}`, `{"users":[null,1,"x"]}`, `{"lastLoginTime":"not a time"}`, `[]`, `null`, ``,
	}
	srv := fuzztest.New(f, seeds...)
	fake := googletest.NewServer()
	f.Cleanup(fake.Close)
	var key map[string]string
	if err := json.Unmarshal(fake.ServiceAccountJSON(), &key); err != nil {
		f.Fatal(err)
	}
	key["token_uri"] = srv.URL + "/token"
	keyJSON, err := json.Marshal(key)
	if err != nil {
		f.Fatal(err)
	}
	c, err := google.New(google.Config{CredentialsJSON: keyJSON, Subject: googletest.Admin, BaseURL: srv.URL,
		HTTPClient: srv.Client()})
	if err != nil {
		f.Fatal(err)
	}
	srv.Fuzz(f, func(ctx context.Context) {
		c.ListUsers(ctx)
		c.Ping(ctx)
		c.SuspendUser(ctx, "a@example.com")
	})
}
