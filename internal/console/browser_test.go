package console_test

import (
	"testing"

	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// TestBrowserWalkRealServices walks the admin's paths through the console
// in chromium (see browsertest.Walk) over the real auth, issue, hooks,
// flows, template, connection and source services, wired through the
// console's adapters: the template's routing flow really runs, on a
// snapshot of a synthetic organization, with every connection in dry-run
// mode.
func TestBrowserWalkRealServices(t *testing.T) {
	browsertest.Walk(t, func(t *testing.T) browsertest.Target {
		w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
		return browsertest.DryRun(t, w.URL, consoletest.Users["super_admin"], consoletest.Password, t.TempDir())
	})
}
