package browsertest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/synth"
)

// DryRun is the Target of a walk over real services, signed in as user: the
// template's variables, connection values that pass each type's checks
// without reaching a vendor (every connection is saved in dry run), and a
// synthetic org written to org.json in snapDir as the snapshot source.
func DryRun(t *testing.T, baseURL, user, password, snapDir string) Target {
	t.Helper()
	snapshot := filepath.Join(snapDir, "org.json")
	if err := synth.WriteSnapshotFile(snapshot, 80, 5, time.Now()); err != nil {
		t.Fatal(err)
	}
	key := serviceAccountKey(t)
	return Target{
		BaseURL: baseURL, User: user, Password: password,
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
}

// serviceAccountKey is a Google service account key file around a fresh
// RSA key, for the dry-run Google Workspace connection.
func serviceAccountKey(t *testing.T) string {
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
