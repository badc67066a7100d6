package netguard_test

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"testing"

	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/netguard/netguardtest"
)

// TestCheckTarget checks the save-time check on loopback targets in every
// form a user could type them, with names from a stub resolver: refused in
// any scheme without the allowlist, accepted with it; plain http accepted
// only for an allowlisted host.
func TestCheckTarget(t *testing.T) {
	t.Parallel()
	res := netguardtest.Resolver{
		"loopback.test":  {netip.MustParseAddr("127.0.0.9")},
		"loopback6.test": {netip.MustParseAddr("::1")},
	}
	loopbacks := []string{
		"https://127.0.0.1/", "https://127.1.2.3:8443/x", "https://2130706433/", "https://0x7f.1/", "https://0177.0.0.1/",
		"https://127.1/", "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://loopback.test/", "https://loopback6.test/",
		"http://127.0.0.1/", "http://loopback.test/", "https://0x7f.0x0.0x0.0x1/",
	}
	closed := netguard.New(netguard.Config{Resolver: res})
	open := netguard.New(netguard.Config{Resolver: res, Allow: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	for _, raw := range loopbacks {
		u, _ := url.Parse(raw)
		var blocked *netguard.BlockedError
		if err := closed.CheckTarget(context.Background(), u); !errors.As(err, &blocked) {
			t.Errorf("CheckTarget(%s) without an allowlist: %v; want a *BlockedError", raw, err)
		}
		if err := open.CheckTarget(context.Background(), u); err != nil {
			t.Errorf("CheckTarget(%s) with loopback allowlisted: %v; want nil", raw, err)
		}
	}
	for _, tc := range []struct {
		raw  string
		want error
	}{
		// A name that does not resolve: https passes (the dial-time check
		// still applies), plain http cannot be shown to be allowlisted.
		{"https://unknown.test/", nil},
		{"http://unknown.test/", netguard.ErrPlainHTTP},
	} {
		u, _ := url.Parse(tc.raw)
		if err := open.CheckTarget(context.Background(), u); !errors.Is(err, tc.want) {
			t.Errorf("CheckTarget(%s): %v; want %v", tc.raw, err, tc.want)
		}
	}
	u, _ := url.Parse("https://0x7f.1.2.3.4/")
	var blocked *netguard.BlockedError
	if err := open.CheckTarget(context.Background(), u); !errors.As(err, &blocked) {
		t.Errorf("a malformed numeric host: %v; want refused", err)
	}
}
