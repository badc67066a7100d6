package graph

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSnapshotRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	ago := func(d int) *time.Time { t := now.AddDate(0, 0, -d); return &t }
	yes := true
	in := &Snapshot{
		GeneratedAt:   now,
		PrimarySource: "okta",
		Sources: []Source{
			{Name: "okta", Product: ProductOkta, Tenant: "acme.okta.com", Accounts: []*Account{{
				IDInService: "00u1", Login: "ali@example.com", Email: "ali@example.com", DisplayName: "Ali <Lesch>",
				Status: StatusActive, Kind: KindHuman, Privilege: PrivilegeGlobalAdmin,
				PrivilegeReasons: []string{"SUPER_ADMIN role"},
				MFA:              MFA{State: MFAEnrolled, Factors: []string{FactorPush}, Enforced: &yes},
				Created:          now.AddDate(-2, 0, 0), LastLogin: ago(3), PasswordChanged: ago(40),
				Credentials: []Credential{{ID: "tok1", Name: "ci", Kind: CredentialAPIToken, Active: true, Created: now.AddDate(0, -4, 0), LastUsed: ago(1)}},
			}}},
			{Name: "empty", Product: ProductSalesforce, Tenant: "acme.my.salesforce.com", Accounts: nil},
			{Name: "aws", Product: ProductAWS, Tenant: "123456789012", Accounts: []*Account{
				{IDInService: "root", Root: true, Status: StatusActive},
				{IDInService: "svc", Status: StatusSuspended, Kind: KindService, KindReasons: []string{"no console password"}},
			}},
		},
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, in); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != 11 {
		t.Errorf("snapshot has %d lines, want one per account and source:\n%s", lines, buf.String())
	}
	out, err := ReadSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	in.Format = SnapshotFormat
	in.Sources[1].Accounts = nil
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the snapshot:\n got %+v\nwant %+v", out, in)
	}
	g, err := out.Graph(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Primary == nil || g.Primary.Source != "okta" || len(g.People) != 1 {
		t.Errorf("graph from snapshot: primary %v, %d people", g.Primary, len(g.People))
	}
}

func TestReadSnapshotErrors(t *testing.T) {
	const head = `{"format":"vigil.snapshot/v1","sources":[{"name":"okta","product":"Okta","tenant":"t","accounts":[`
	const tail = `]}]}`
	acc := func(s string) string { return head + `{"idInService":"a","status":"active"},` + s + tail }
	tests := []struct {
		name, in, path, msg string
	}{
		{"not json", `hello`, "", "not valid JSON"},
		{"truncated", head + `{"idInService":"a","status":"active"}`, "sources[0].accounts", "ends too early"},
		{"no format", `{"sources":[]}`, "format", "is required"},
		{"wrong format", `{"format":"vigil.snapshot/v9","sources":[]}`, "format", "not supported"},
		{"no sources", `{"format":"vigil.snapshot/v1"}`, "sources", "is required"},
		{"unknown top field", `{"format":"vigil.snapshot/v1","people":[]}`, "people", `unknown field "people"`},
		{"trailing data", `{"format":"vigil.snapshot/v1","sources":[]} {}`, "", "after the snapshot"},
		{"bad product", `{"format":"vigil.snapshot/v1","sources":[{"name":"x","product":"okta","tenant":"t","accounts":[]}]}`, "sources[0]", `product "okta"`},
		{"missing tenant", `{"format":"vigil.snapshot/v1","sources":[{"name":"x","product":"Okta","accounts":[]}]}`, "sources[0].tenant", "is required"},
		{"duplicate source", `{"format":"vigil.snapshot/v1","sources":[{"name":"x","product":"Okta","tenant":"t","accounts":[]},{"name":"x","product":"AWS","tenant":"1","accounts":[]}]}`, "sources[1].name", "already the name of sources[0]"},
		{"unknown primary", `{"format":"vigil.snapshot/v1","primarySource":"y","sources":[]}`, "primarySource", `"y" names no source`},
		{"missing id", acc(`{"status":"active"}`), "sources[0].accounts[1].idInService", "is required"},
		{"bad status", acc(`{"idInService":"b","status":"enabled"}`), "sources[0].accounts[1].status", `"enabled" is not`},
		{"duplicate id", acc(`{"idInService":"a","status":"active"}`), "sources[0].accounts[1].idInService", "already the id of sources[0].accounts[0]"},
		{"bad time", acc(`{"idInService":"b","status":"active","lastLogin":"2026-13-01"}`), "sources[0].accounts[1].lastLogin", "RFC 3339"},
		{"bad credential time", acc(`{"idInService":"b","status":"active","credentials":[{"id":"k","kind":"access_key","active":true,"created":"yesterday"}]}`), "sources[0].accounts[1].credentials[0].created", "RFC 3339"},
		{"wrong type", acc(`{"idInService":"b","status":"active","root":"yes"}`), "sources[0].accounts[1].root", "JSON string is not allowed"},
		{"unknown account field", acc(`{"idInService":"b","status":"active","last_login":null}`), "sources[0].accounts[1]", `unknown field "last_login"`},
		{"bad credential kind", acc(`{"idInService":"b","status":"active","credentials":[{"id":"k","kind":"password"}]}`), "sources[0].accounts[1].credentials[0].kind", `"password"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadSnapshot(strings.NewReader(tt.in))
			var se *SnapshotError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *SnapshotError", err, err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not match ErrInvalid", err)
			}
			if se.Path != tt.path {
				t.Errorf("path = %q, want %q (error %q)", se.Path, tt.path, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

// TestReadSnapshotLongFile checks that the error position stays right after
// the reader has dropped earlier input.
func TestReadSnapshotLongFile(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"format":"vigil.snapshot/v1","sources":[{"name":"okta","product":"Okta","tenant":"t","accounts":[`)
	const n = 30000
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"idInService":"u` + strings.Repeat("x", 10) + strconv.Itoa(i) + `","status":"active","lastLogin":"2026-01-01T00:00:00Z"}`)
	}
	b.WriteString(`,{"idInService":"bad","status":"active","created":"2026-01-01T00:00:00Z","passwordChanged":"soon"}]}]}`)
	_, err := ReadSnapshot(strings.NewReader(b.String()))
	var se *SnapshotError
	if !errors.As(err, &se) || se.Path != "sources[0].accounts[30000].passwordChanged" {
		t.Fatalf("error %v, want one at sources[0].accounts[30000].passwordChanged", err)
	}
}

// TestSnapshotDocExample keeps the example of docs/snapshot.md readable.
func TestSnapshotDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/snapshot.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/snapshot.md has no json example")
	}
	s, err := ReadSnapshot(strings.NewReader(example))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Graph(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Accounts) != 4 || len(g.People) != 2 || g.Primary.Source != "okta" {
		t.Errorf("example graph: %d accounts, %d people, primary %v", len(g.Accounts), len(g.People), g.Primary)
	}
}
