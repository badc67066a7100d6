package source

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/netguard/netguardtest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestAddRefusesUnsafeURLs checks that a source holding credentials is
// refused when its URL would send them in the clear (plain http to a host
// not on the outbound allowlist: an Okta source at http://acme.okta.com
// was saved) or to the machine itself in any scheme, and that an
// allowlisted host may use plain http.
func TestAddRefusesUnsafeURLs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		res := netguardtest.Resolver{"acme.okta.com": {netip.MustParseAddr("127.0.0.7")}, "loopback.test": {netip.MustParseAddr("::1")}}
		closed := setup(t, st, func(c *Config) { c.Allow, c.Resolver = nil, res })
		okta := func(url string) Input {
			return Input{Name: "okta", Kind: KindOkta, Settings: Settings{URL: url}, Credentials: Credentials{Token: "00token"}}
		}
		for _, tc := range []struct {
			in   Input
			want string
		}{
			{okta("http://acme.okta.com"), "loopback address"},
			{okta("http://unknown.okta.test"), "must use https"},
			{okta("https://127.0.0.1"), "loopback address"},
			{okta("https://2130706433"), "loopback address"},
			{okta("https://[::ffff:127.0.0.1]"), "loopback address"},
			{Input{Name: "sf", Kind: KindSalesforce, Settings: Settings{URL: "https://loopback.test", ClientID: "c"},
				Credentials: Credentials{ClientSecret: "s"}}, "loopback address"},
			{Input{Name: "entra", Kind: KindEntra, Settings: Settings{Tenant: "t", ClientID: "c", GraphURL: "https://0x7f.1"},
				Credentials: Credentials{ClientSecret: "s"}}, "loopback address"},
		} {
			_, err := closed.svc.Add(ctx, tc.in)
			var inv *InvalidError
			if !errors.As(err, &inv) || !strings.Contains(inv.Message, tc.want) {
				t.Errorf("Add %s %+v: %v; want refused with %q", tc.in.Kind, tc.in.Settings, err, tc.want)
			}
		}
		if list := mustList(t, closed); len(list) != 0 {
			t.Errorf("%d sources saved; want none", len(list))
		}
		open := New(st, closed.svc.box, closed.issues, Config{HTTPClient: closed.svc.cfg.HTTPClient, Now: closed.clock.Now,
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Resolver: res})
		if _, err := open.Add(ctx, okta("http://acme.okta.com")); err != nil {
			t.Errorf("an allowlisted host over plain http: %v; want saved", err)
		}
	})
}
