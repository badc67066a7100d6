package hooks

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/netguard/netguardtest"
)

// TestSaveRefusesLoopbackInEveryScheme checks that a webhook address on
// the machine itself is refused when it is typed, whatever the scheme and
// however the address is written; only the connect-time guard stopped
// https ones before. Test Connection refuses it the same way.
func TestSaveRefusesLoopbackInEveryScheme(t *testing.T) {
	s := New(nil, nil, Config{Resolver: netguardtest.Resolver{"loopback.test": {netip.MustParseAddr("127.0.0.3")}}})
	for _, raw := range []string{
		"https://127.0.0.1/hook", "https://2130706433/hook", "https://0x7f.1/hook", "https://[::1]/hook",
		"https://[::ffff:127.0.0.1]/hook", "https://loopback.test/hook", "http://127.0.0.1:8080/hook",
	} {
		_, err := s.checkInput(context.Background(), Input{Name: "n", URL: raw}, nil)
		var inv *InvalidError
		if !errors.As(err, &inv) || inv.Field != "url" || !strings.Contains(inv.Message, "loopback address") {
			t.Errorf("save %s: %v; want the url refused as a loopback address", raw, err)
		}
		if _, err := s.Test(context.Background(), "", Input{Name: "n", URL: raw}); !errors.As(err, &inv) {
			t.Errorf("Test Connection of %s: %v; want the url refused", raw, err)
		}
	}
}
