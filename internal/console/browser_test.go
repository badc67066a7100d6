package console_test

import (
	"testing"

	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// TestBrowserWalk walks the admin's paths through the console in chromium,
// against the test world: template, new flow, webhook, scan, flow history.
func TestBrowserWalk(t *testing.T) {
	browsertest.Walk(t, func(t *testing.T) browsertest.Target {
		w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
		return browsertest.Target{
			BaseURL: w.URL, User: consoletest.Users["super_admin"], Password: consoletest.Password,
			TemplateVars: map[string]string{"oktaMfaGroupId": "00gMFAGROUP", "slackChannel": "#security"},
			SourceKind:   "synthetic", SourceValues: map[string]string{"people": "60", "seed": "3"},
		}
	})
}
