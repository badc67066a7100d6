package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestBrowserWalk walks the console of the fully wired server in chromium:
// the template path and the New Flow path of the walkthrough, then the
// ISPM webhook connected to the routing flow through the forms, Test
// Connection, Save, Automate, a scan of a snapshot source, and the
// routing flow's execution with its helper's dry-run request in Flow
// history (see browsertest.Walk). Screenshots of each major page are saved
// in the directory it prints.
func TestBrowserWalk(t *testing.T) {
	browsertest.Walk(t, func(t *testing.T) browsertest.Target {
		const user, password = "walker", "a walk in the browser"
		snapDir := t.TempDir() // snapshot files are read only from the snapshot directory
		r := startNode(t, storetest.DatabaseURL(t, "sqlite"), "", func(ctx context.Context, srv *app.Server) {
			if _, err := srv.Services().Auth.CreateUser(ctx, user, auth.RoleSuperAdmin, password); err != nil {
				t.Fatal(err)
			}
		}, func(c *app.Config) { c.SnapshotDir = snapDir })
		snapshot := filepath.Join(snapDir, "org.json")
		f, err := os.Create(snapshot)
		if err != nil {
			t.Fatal(err)
		}
		if err := synth.WriteSnapshot(f, 80, 5, time.Now()); err != nil {
			t.Fatal(err)
		}
		f.Close()
		key := serviceAccountKey(t)
		return browsertest.Target{
			BaseURL: r.url, User: user, Password: password,
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
