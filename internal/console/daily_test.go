package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// TestTestConnectionSaysTheStatus runs Test Connection against a receiver
// that refuses the client token: the result is a sentence with the
// receiver's status, not a failure code, and it points at the key names.
func TestTestConnectionSaysTheStatus(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			w := consoletest.New(t, consoletest.Options{Dialect: dialect, Logger: testLogger(t)})
			admin := w.Client(t, auth.RoleSuperAdmin)
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("clientToken") == "" {
					http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer recv.Close()
			form := url.Values{"name": {"Receiver"}, "url": {recv.URL + "/hook"}, "action": {"test"},
				"key_name": {"clienttoken"}, "key_place": {"param"}, "key_value": {"s3cret"}, "key_masked": {""}}
			pg := post(t, admin, w.URL+"/ispm/settings/integrations/webhook", form)
			if !strings.Contains(pg.Body, `data-ok="false"><strong>Test failed.</strong> The receiver answered 401 Unauthorized.`) ||
				!strings.Contains(pg.Body, "<code>clientToken</code> (exactly in that case)") {
				t.Fatalf("the failed test does not say the status in a sentence: %d %.3000s", pg.Status, pg.Body)
			}
			if strings.Contains(pg.Body, "non_2xx") || strings.Contains(pg.Body, "error status") {
				t.Error("the failed test shows the failure code")
			}
			form.Set("key_name", "clientToken")
			if pg := post(t, admin, w.URL+"/ispm/settings/integrations/webhook", form); !strings.Contains(pg.Body, `data-ok="true"`) {
				t.Errorf("the test with the key spelled right failed: %.3000s", pg.Body)
			}
		})
	}
}

// TestConnectionFormNamesTheKeys checks that the HTTP connection form says
// which header each credential is sent in, and which one an API Endpoint
// reads, so that a key is not typed under the wrong name.
func TestConnectionFormNamesTheKeys(t *testing.T) {
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	admin := w.Client(t, auth.RoleWorkflowsAdmin)
	form := get(t, admin, w.URL+"/workflows/connections/new?type=http").Body
	for _, want := range []string{"Sent as Authorization: Bearer.", "X-Api-Client-Token", "Sent with the password as Authorization: Basic."} {
		if !strings.Contains(form, want) {
			t.Errorf("the HTTP connection form lacks %q", want)
		}
	}
}
