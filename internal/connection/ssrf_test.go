package connection_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/netguard/netguardtest"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestSaveRefusesLoopbackInEveryScheme checks that a URL field naming the
// machine itself is refused when the connection is saved, in https as in
// http and however the address is written; https ones were saved before
// and only the connect-time guard stopped them.
func TestSaveRefusesLoopbackInEveryScheme(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := connection.New(st, secrettest.Box(t), connection.Config{Client: netguard.NewClient(netguard.Config{}),
			Resolver: netguardtest.Resolver{"loopback.test": {netip.MustParseAddr("127.0.0.3")}},
			Now:      func() time.Time { return testNow }})
		for _, raw := range []string{"https://127.0.0.1", "https://2130706433", "https://0x7f.1", "https://[::1]",
			"https://[::ffff:127.0.0.1]", "https://loopback.test", "http://127.0.0.1:8080"} {
			_, err := s.Create(context.Background(), connection.Input{Name: "api", Kind: connection.KindHTTP,
				Fields: map[string]string{"baseUrl": raw}})
			var inv *connection.InvalidError
			if !errors.As(err, &inv) || !strings.Contains(inv.Error(), "loopback address") {
				t.Errorf("save baseUrl %s: %v; want refused as a loopback address", raw, err)
			}
		}
		if list, err := s.List(context.Background()); err != nil || len(list) != 0 {
			t.Errorf("connections after the refusals: %v, %v; want none", list, err)
		}
	})
}

// TestHTTPTestFollowsNoRedirect checks that testing an HTTP connection
// whose base URL answers 302 fails and names the redirect, instead of
// following it and reporting ok.
func TestHTTPTestFollowsNoRedirect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(final.Close)
		moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, final.URL+"/login?token=x", http.StatusFound)
		}))
		t.Cleanup(moved.Close)
		// A client that would follow redirects, as a shared one may.
		s := connection.New(st, secrettest.Box(t), connection.Config{
			Client: netguard.NewClient(netguard.Config{Allow: loopback, MaxRedirects: 5}), Allow: loopback,
			Now: func() time.Time { return testNow }})
		ctx := context.Background()
		if _, err := s.Create(ctx, connection.Input{Name: "api", Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": moved.URL}}); err != nil {
			t.Fatal(err)
		}
		res, err := s.Test(ctx, "api")
		if err != nil {
			t.Fatal(err)
		}
		if res.OK || !strings.Contains(res.Message, "302") || !strings.Contains(res.Message, "redirect") || strings.Contains(res.Message, "token=x") {
			t.Errorf("Test = %+v; want a failure naming the 302 redirect, without its query", res)
		}
	})
}
