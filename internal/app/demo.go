package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/store"
)

// DemoPeople is the size of the demo's synthetic organization: enough for
// every issue title to appear, small enough that the first scan and its
// remediation flows finish within seconds.
const DemoPeople = 300

// Names the demo gives what it creates.
const (
	DemoUser        = "demo"
	DemoSource      = "demo-org"
	DemoIntegration = "Okta Workflows (demo)"
	DemoTemplate    = "identity-security-posture-management"
	demoRoutingFlow = "1.0 ISPM Event Routing Flow"
	demoSetting     = "demo.folder"
)

// Demo is what the demo set up, to tell the person who started it.
type Demo struct {
	ConsoleURL string
	User       string
	Password   string
	Folder     string
	InvokeURL  string
	// Created is false when an earlier run had set everything up and this
	// one only reset the demo user's password and scanned again.
	Created bool
}

// SetUpDemo prepares a demo on a server that has not started yet: the demo
// administrator (before the first start would make a bootstrap one), a
// snapshot source over a generated organization, the ISPM template with
// dry-run connections and its flows on, an outbound integration that posts
// every issue title to the routing flow's invoke URL with the client token
// as the clientToken URL parameter, and a scan queued to run as soon as the
// workers start. Run it again and it keeps what exists, resets the demo
// user's password and queues another scan.
func (s *Server) SetUpDemo(ctx context.Context) (*Demo, error) {
	a, svc := s.app, s.svc
	d := &Demo{ConsoleURL: a.Config.PublicURL + "/", User: DemoUser, Password: auth.GeneratePassword()}
	if err := s.demoUser(ctx, d.Password); err != nil {
		return nil, err
	}
	folder, err := a.Store.Setting(ctx, demoSetting)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read the demo's state: %w", err)
	}
	if folder == "" {
		folder, err = s.demoSetUp(ctx)
		if err != nil {
			return nil, err
		}
		if err := a.Store.PutSetting(ctx, demoSetting, folder, a.Config.Now()); err != nil {
			return nil, fmt.Errorf("record the demo's state: %w", err)
		}
		d.Created = true
	}
	d.Folder = folder
	f, err := svc.Flows.FindFlow(ctx, demoRoutingFlow, folder)
	if err != nil {
		return nil, fmt.Errorf("find the demo's routing flow: %w", err)
	}
	ep, err := svc.Endpoints.Ensure(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	d.InvokeURL = invoke.InvokeURL(a.Config.PublicURL, ep.Alias)
	if _, err := s.queue.Insert(ctx, source.ScanArgs{Sources: []string{DemoSource}, Trigger: "demo"}, nil); err != nil {
		return nil, fmt.Errorf("queue the demo's scan: %w", err)
	}
	return d, nil
}

func (s *Server) demoUser(ctx context.Context, password string) error {
	au := s.svc.Auth
	u, err := au.UserByName(ctx, DemoUser)
	switch {
	case errors.Is(err, auth.ErrNotFound):
		_, err = au.CreateUser(ctx, DemoUser, auth.RoleSuperAdmin, password)
	case err == nil:
		_, err = au.UpdateUser(ctx, u.ID, auth.UserUpdate{Password: &password})
	}
	if err != nil {
		return fmt.Errorf("set up the demo user: %w", err)
	}
	return nil
}

// demoSetUp creates the demo's source, flows, connections and integration
// and returns the folder its flows are in.
func (s *Server) demoSetUp(ctx context.Context) (string, error) {
	a, svc := s.app, s.svc
	now := a.Config.Now()

	// The organization: a snapshot file in the snapshot directory, read again
	// by each scan.
	file := filepath.Join(a.Config.SnapshotDir, "demo-org.json")
	if err := os.MkdirAll(a.Config.SnapshotDir, 0o700); err != nil {
		return "", fmt.Errorf("write the demo organization: %w", err)
	}
	out, err := os.OpenFile(file, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600) //nolint:gosec // G304: a fixed name in the configured snapshot directory
	if err != nil {
		return "", fmt.Errorf("write the demo organization: %w", err)
	}
	werr := synth.WriteSnapshot(out, DemoPeople, 1, now)
	if err := errors.Join(werr, out.Close()); err != nil {
		return "", fmt.Errorf("write the demo organization: %w", err)
	}
	// The remediation side: the ISPM template, its connections in dry run
	// (they record the request they would send), every flow on.
	added, err := svc.Templates.Add(ctx, template.FlowsInstaller{Flows: svc.Flows, By: DemoUser}, DemoTemplate, "", map[string]string{
		"oktaMfaGroupId": "00g1demo0mfa0group0", "entraMfaGroupId": "5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0",
		"slackChannel": "#security", "jiraProject": "SEC"})
	if err != nil {
		return "", fmt.Errorf("add the ISPM template: %w", err)
	}
	for _, c := range added.Connections {
		ok, err := svc.Connections.Exists(ctx, c.Name)
		if err != nil {
			return "", err
		}
		if ok {
			continue
		}
		fields, err := demoConnectionFields(c.Kind)
		if err != nil {
			return "", err
		}
		if _, err := svc.Connections.Create(ctx, connection.Input{Name: c.Name, Kind: c.Kind, Fields: fields, DryRun: true}); err != nil {
			return "", fmt.Errorf("add the demo connection %s: %w", c.Name, err)
		}
	}
	folder, err := svc.Flows.Folder(ctx, added.Folder)
	if err != nil {
		return "", err
	}
	if _, err := svc.Flows.SetFolderOn(ctx, folder.ID, true); err != nil {
		return "", fmt.Errorf("turn the demo flows on: %w", err)
	}

	// The posture side: an outbound integration to the routing flow, the
	// way an admin connects Okta ISPM to Okta Workflows.
	routing, err := svc.Flows.FindFlow(ctx, demoRoutingFlow, added.Folder)
	if err != nil {
		return "", err
	}
	ep, err := svc.Endpoints.Ensure(ctx, routing.ID)
	if err != nil {
		return "", err
	}
	token, err := svc.Endpoints.Token(ep)
	if err != nil {
		return "", err
	}
	in := hooks.Input{Name: DemoIntegration, URL: invoke.InvokeURL(a.Config.PublicURL, ep.Alias),
		Keys: []hooks.Key{{Name: "clientToken", Placement: hooks.PlaceParam, Value: token}}}
	if _, _, err := svc.Hooks.Create(ctx, in); err != nil {
		return "", fmt.Errorf("add the demo integration: %w", err)
	}
	on := true
	if _, err := svc.Hooks.SetAutomation(ctx, DemoIntegration, hooks.AutomationInput{AutoSend: &on, AllTitles: true}); err != nil {
		return "", fmt.Errorf("automate the demo integration: %w", err)
	}

	// The source last: it is due at once, so another node's schedule may
	// scan it before this returns, and the issues that scan opens must find
	// the integration automated already.
	if _, err := svc.Sources.Get(ctx, DemoSource); err != nil {
		if _, err := svc.Sources.Add(ctx, source.Input{Name: DemoSource, Kind: source.KindSnapshot,
			Settings: source.Settings{File: file}}); err != nil {
			return "", fmt.Errorf("add the demo source: %w", err)
		}
	}
	return added.Folder, nil
}

// demoConnectionFields are plausible settings for a dry-run connection of
// kind: nothing is sent through it, but what would be sent is built from
// them. The credentials are made up (gosec's G101 below sees their names).
func demoConnectionFields(kind string) (map[string]string, error) {
	switch kind {
	case connection.KindOkta:
		return map[string]string{"url": "https://acme.okta.com", "token": "00demo-okta-api-token-not-real"}, nil //nolint:gosec // G101: made up
	case connection.KindEntra:
		return map[string]string{"tenantId": "acme.onmicrosoft.com", "clientId": "00000000-0000-0000-0000-000000000001",
			"clientSecret": "demo-secret-not-real"}, nil
	case connection.KindGoogle:
		key, err := demoServiceAccountKey()
		if err != nil {
			return nil, err
		}
		return map[string]string{"serviceAccountKey": key, "subject": "admin@example.com"}, nil
	case connection.KindSalesforce:
		return map[string]string{"instanceUrl": "https://acme.my.salesforce.com", "clientId": "demo-consumer-key",
			"clientSecret": "demo-consumer-secret-not-real"}, nil
	case connection.KindSlack:
		return map[string]string{"token": "xoxb-demo-not-real"}, nil //nolint:gosec // G101: made up
	case connection.KindJira:
		return map[string]string{"siteUrl": "https://acme.atlassian.net", "email": "secops@example.com", "apiToken": "demo-not-real"}, nil
	}
	return map[string]string{"baseUrl": "https://api.example.com"}, nil
}

// demoServiceAccountKey makes a Google service account key file around a
// fresh key that no Google project knows.
func demoServiceAccountKey() (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]string{ //nolint:gosec // G101: a fresh key no Google project knows
		"type": "service_account", "project_id": "vigil-demo", "private_key_id": "demo",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "vigil-demo@vigil-demo.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": "https://oauth2.googleapis.com/token"})
	return string(b), err
}
