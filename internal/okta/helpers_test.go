package okta_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// oktaLike starts a bare server for the few tests that need answers the fake
// never gives.
func oktaLike(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
