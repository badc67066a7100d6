package console_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
)

// TestBrowserWalkRealServices walks the admin's paths through the console
// in chromium (see browsertest.Walk) over the real auth, issue, hooks,
// flows, template, connection and source services, wired through the
// console's adapters: the template's routing flow really runs, on a
// snapshot of a synthetic organization, with every connection in dry-run
// mode.
func TestBrowserWalkRealServices(t *testing.T) {
	browsertest.Walk(t, func(t *testing.T) browsertest.Target {
		w := consoletest.New(t, consoletest.Options{Logger: testLogger(t), Real: true})
		snapshot := filepath.Join(t.TempDir(), "org.json")
		f, err := os.Create(snapshot)
		if err != nil {
			t.Fatal(err)
		}
		if err := synth.WriteSnapshot(f, 80, 5, time.Now()); err != nil {
			t.Fatal(err)
		}
		f.Close()
		key := googleKey(t)
		return browsertest.Target{
			BaseURL: w.URL, User: consoletest.Users["super_admin"], Password: consoletest.Password,
			TemplateVars: map[string]string{"oktaMfaGroupId": "00gMFAGROUP", "entraMfaGroupId": "mfa-group-id",
				"slackChannel": "C0SECURITY", "jiraProject": "SEC"},
			ConnectionValues: func(typ string) map[string]string {
				switch typ {
				case "okta":
					return map[string]string{"url": "https://acme.okta.com", "token": "00dry-run-token"}
				case "google":
					return map[string]string{"serviceAccountKey": key, "subject": "admin@example.com"}
				case "slack":
					return map[string]string{"token": "xoxb-dry-run"}
				case "jira":
					return map[string]string{"siteUrl": "https://acme.atlassian.net", "email": "bot@example.com", "apiToken": "dry-run"}
				case "salesforce":
					return map[string]string{"instanceUrl": "https://acme.my.salesforce.com"}
				}
				return nil
			},
			SourceKind: "snapshot", SourceValues: map[string]string{"file": snapshot},
		}
	})
}

// googleKey is a service account key file with a fresh RSA key.
func googleKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "vigil@acme.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": "https://oauth2.googleapis.com/token"})
	return string(b)
}
