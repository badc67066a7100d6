package source

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// compare checks that the issues present are exactly the expected
// findings: recall (every expected one has an issue) and precision (no
// other issue), by title and entity.
func compare(t *testing.T, issues map[string]*issue.Issue, exp synth.Expected) {
	t.Helper()
	want := map[string]detect.Key{}
	for k := range exp {
		want[detect.Fingerprint(k.Title, k.Entity)] = k
	}
	missing, extra := 0, 0
	for fp, k := range want {
		if is := issues[fp]; is == nil || is.Status != issue.StatusOpen {
			missing++
			if missing <= 5 {
				t.Errorf("no open issue %q on %s", k.Title, k.Entity)
			}
		}
	}
	for fp, is := range issues {
		if _, ok := want[fp]; !ok && is.Status == issue.StatusOpen {
			extra++
			if extra <= 5 {
				t.Errorf("unexpected issue %q on %s", is.Data.Title, is.Data.AffectedEntity.IdentifierInService)
			}
		}
	}
	if missing+extra > 0 {
		t.Fatalf("recall %d/%d, %d unexpected issues", len(want)-missing, len(want), extra)
	}
}

func TestScanSyntheticOrgPrecisionAndRecall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		org, exp := synth.Generate(1000, 7, t0)
		path := writeSnapshot(t, t.TempDir(), "org.json", org.Snapshot())
		if _, err := b.svc.Add(ctx, Input{Name: "demo", Kind: KindSnapshot, Settings: Settings{File: path}}); err != nil {
			t.Fatal(err)
		}
		var reports int
		res, err := b.svc.Scan(ctx, ScanOptions{Trigger: TriggerCLI, Progress: func(Progress) { reports++ }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != ScanOK || len(res.Sources) != 1 || !res.Sources[0].OK || reports == 0 {
			t.Fatalf("result %+v", res)
		}
		if res.People < 1000 || res.Findings != len(exp) || res.Issues.Opened != len(exp) {
			t.Fatalf("people %d, findings %d, opened %d, want %d", res.People, res.Findings, res.Issues.Opened, len(exp))
		}
		titles := exp.Titles()
		for title, n := range titles {
			if c := res.Issues.Titles[title]; c == nil || c.Opened != n {
				t.Errorf("%s: %+v, want %d opened", title, c, n)
			}
		}
		if len(titles) != len(detect.Catalog()) {
			t.Errorf("%d titles planted, want every one", len(titles))
		}
		compare(t, b.allIssues(t), exp)
		if n := b.eventCount(t, "issue.created"); n != len(exp) {
			t.Errorf("%d issue.created events, want %d", n, len(exp))
		}

		// A rescan changes nothing and sends nothing.
		b.clock.Add(time.Hour)
		res, err = b.svc.Scan(ctx, ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Issues.Unchanged != len(exp) || res.Issues.Opened+res.Issues.Resolved+res.Issues.Reopened != 0 {
			t.Fatalf("rescan %+v", res.Issues.TitleCounts)
		}
		if n := b.eventCount(t, "issue.created") + b.eventCount(t, "issue.updated") + b.eventCount(t, "issue.resolved"); n != len(exp) {
			t.Errorf("%d events after the rescan, want %d", n, len(exp))
		}
		src, err := b.svc.Get(ctx, "demo")
		if err != nil {
			t.Fatal(err)
		}
		history, err := b.svc.Scans(ctx, 10)
		if err != nil || len(history) != 2 || history[0].Issues.Unchanged != len(exp) || history[1].Issues.Opened != len(exp) ||
			history[1].Trigger != TriggerCLI || history[0].Sources[0].Name != "demo" {
			t.Fatalf("scan history %+v, %v", history, err)
		}
		if !src.LastScanOK || src.LastAccounts == 0 || src.LastError != "" {
			t.Errorf("source after scan %+v", src)
		}
	})
}

// splitOrg writes each product of a synthetic org to its own snapshot
// file and adds one snapshot source per file, named after the product.
func splitOrg(t *testing.T, b *testBundle, n int) (synth.Expected, map[string]string) {
	t.Helper()
	org, exp := synth.Generate(n, 3, t0)
	dir := t.TempDir()
	files := map[string]string{}
	for _, src := range org.Sources {
		path := writeSnapshot(t, dir, src.Name+".json", &graph.Snapshot{Sources: []graph.Source{src}})
		files[src.Name] = path
		_, err := b.svc.Add(t.Context(), Input{Name: src.Name, Kind: KindSnapshot, Settings: Settings{File: path},
			Primary: src.Name == synth.SourceOkta})
		if err != nil {
			t.Fatal(err)
		}
	}
	return exp, files
}

func TestPartiallyFailedScanResolvesNothingOfTheFailedSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		exp, files := splitOrg(t, b, 60)
		if _, err := b.svc.Scan(ctx, ScanOptions{}); err != nil {
			t.Fatal(err)
		}
		before := b.allIssues(t)
		compare(t, before, exp)

		// Entra's file is now malformed, and the AWS one is gone.
		entraFile, err := os.ReadFile(files[synth.SourceEntra])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(files[synth.SourceEntra], []byte(`{"format":"vigil.snapshot/v1","sources":[{"name":"entra"`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(files[synth.SourceAWS]); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(time.Hour)
		res, err := b.svc.Scan(ctx, ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != ScanPartial {
			t.Fatalf("status %s", res.Status)
		}
		failed := map[string]string{}
		for _, sr := range res.Sources {
			if !sr.OK {
				failed[sr.Name] = sr.Error
			}
		}
		if !strings.Contains(failed["entra"], "malformed data") || !strings.Contains(failed["aws"], "could not open its file") || len(failed) != 2 {
			t.Fatalf("failures %v", failed)
		}
		if res.Issues.Resolved != 0 || res.Issues.Opened != 0 {
			t.Fatalf("a partially failed scan changed issues: %+v", res.Issues.TitleCounts)
		}
		after := b.allIssues(t)
		for fp, is := range before {
			if after[fp].Status != is.Status || !after[fp].LastSeenAt.Equal(is.LastSeenAt) && (is.Scope == "entra" || is.Scope == "aws") {
				t.Fatalf("issue %s of %s changed: %s → %s", is.ID, is.Scope, is.Status, after[fp].Status)
			}
		}
		for _, name := range []string{"entra", "aws"} {
			src, err := b.svc.Get(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if src.LastScanOK || src.LastError == "" || src.LastAccounts == 0 || !src.LastSuccessAt.Equal(t0) {
				t.Errorf("%s after a failed read: %+v", name, src)
			}
		}
		if logs := b.logs.String(); !strings.Contains(logs, "Reading snapshot source entra returned malformed data") {
			t.Errorf("log:\n%s", logs)
		}

		// A scan of Entra alone, readable again, still correlates people
		// through Okta's stored accounts: its orphan stays as it was.
		if err := os.WriteFile(files[synth.SourceEntra], entraFile, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err = b.svc.Scan(ctx, ScanOptions{Sources: []string{"entra"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != ScanOK || res.Issues.Resolved+res.Issues.Opened != 0 || res.Issues.Titles[detect.TitleOrphanedAccount].Unchanged == 0 {
			t.Fatalf("single-source scan %+v", res.Issues)
		}
		compare(t, b.allIssues(t), exp)
	})
}

// addSeededOkta adds the source okta-prod, reading a fake Okta org that
// seedOkta filled and that runs on b's clock.
func addSeededOkta(t *testing.T, b *testBundle) *oktatest.Server {
	t.Helper()
	fake := oktatest.New(t)
	fake.SetClock(b.clock.Now)
	seedOkta(fake)
	if _, err := b.svc.Add(t.Context(), Input{Name: "okta-prod", Kind: KindOkta, Settings: Settings{URL: fake.URL},
		Credentials: Credentials{Token: fake.Token()}}); err != nil {
		t.Fatal(err)
	}
	return fake
}

func TestFailedVendorReadResolvesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		fake := addSeededOkta(t, b)
		res, err := b.svc.Scan(ctx, ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != ScanOK || res.Issues.Opened == 0 {
			t.Fatalf("first scan %+v", res)
		}
		opened := res.Issues.Opened

		for _, fail := range []func(){
			func() { fake.SetToken("00revoked") },
			func() { fake.FailNext("GET", "/api/v1/users", 429, 10) },
			func() { fake.FailNext("GET", "/api/v1/api-tokens", 500, 10) }, // late in the read
		} {
			fail()
			res, err = b.svc.Scan(ctx, ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != ScanFailed || res.Sources[0].OK || res.Issues.Resolved != 0 {
				t.Fatalf("failed scan %+v", res)
			}
			page, err := b.issues.List(ctx, issue.Filter{Statuses: []issue.Status{issue.StatusOpen}, Limit: -1})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != opened {
				t.Fatalf("%d open issues after a failed read, want %d", page.Total, opened)
			}
			fake.SetToken(oktatest.DefaultToken)
		}
	})
}

func TestScanDue(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	ctx := t.Context()
	splitOrg(t, b, 10)
	if err := b.svc.SetSchedule(ctx, "aws", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.SetSchedule(ctx, "google", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	res, err := b.svc.ScanDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res == nil || len(res.Sources) != 4 || res.Trigger != TriggerSchedule {
		t.Fatalf("first due scan %+v", res)
	}
	if res, err = b.svc.ScanDue(ctx); err != nil || res != nil {
		t.Fatalf("nothing is due yet, got %+v, %v", res, err)
	}
	b.clock.Add(3 * time.Hour)
	res, err = b.svc.ScanDue(ctx)
	if err != nil || res == nil || len(res.Sources) != 1 || res.Sources[0].Name != "google" {
		t.Fatalf("after 3 hours %+v, %v", res, err)
	}
	b.clock.Add(24 * time.Hour)
	if res, err = b.svc.ScanDue(ctx); err != nil || res == nil || len(res.Sources) != 4 {
		t.Fatalf("after a day %+v, %v", res, err)
	}
}

func TestScanUnknownSourceAndNoSources(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	if _, err := b.svc.Scan(t.Context(), ScanOptions{}); err == nil || !strings.Contains(err.Error(), "vigil sources add") {
		t.Errorf("scan without sources: %v", err)
	}
	splitOrg(t, b, 5)
	if _, err := b.svc.Scan(t.Context(), ScanOptions{Sources: []string{"nope"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("scan of an unknown source: %v", err)
	}
}

func TestRemoveResolvesTheSourceIssues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		splitOrg(t, b, 20)
		if _, err := b.svc.Scan(ctx, ScanOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.Remove(ctx, "aws", "alice"); err != nil {
			t.Fatal(err)
		}
		for _, is := range b.allIssues(t) {
			if is.Scope == "aws" && is.Status != issue.StatusResolved {
				t.Fatalf("issue %s of the removed source is %s", is.ID, is.Status)
			}
		}
		if _, err := b.svc.Get(ctx, "aws"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("removed source: %v", err)
		}
		if err := b.svc.Remove(ctx, "aws", "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second remove: %v", err)
		}
		// The rest still scans.
		res, err := b.svc.Scan(ctx, ScanOptions{})
		if err != nil || res.Status != ScanOK {
			t.Fatalf("scan after remove: %+v, %v", res, err)
		}
	})
}

func TestScanFailsWhenItCannotBeSaved(t *testing.T) {
	st := storetest.SQLite(t)
	b := setup(t, st, nil)
	ctx := t.Context()
	splitOrg(t, b, 5)
	if _, err := st.DB().ExecContext(ctx, `DROP TABLE test_outbox`); err != nil {
		t.Fatal(err)
	}
	res, err := b.svc.Scan(ctx, ScanOptions{})
	if err == nil || res.Status != ScanFailed || res.Error == "" {
		t.Fatalf("scan without an outbox: %+v, %v", res, err)
	}
	if page, _ := b.issues.List(ctx, issue.Filter{}); page.Total != 0 {
		t.Fatalf("%d issues kept from a scan that failed", page.Total)
	}
	scans, err := st.PostureScans(ctx, 5)
	if err != nil || len(scans) != 1 || scans[0].Status != ScanFailed {
		t.Fatalf("recorded scans %+v, %v", scans, err)
	}
	src, _ := b.svc.Get(ctx, "okta")
	if src.LastScanOK || src.LastError == "" {
		t.Fatalf("source %+v", src)
	}
}

func TestSingleSourceScanCorrelatesThroughTheStoredCopy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		fake := addSeededOkta(t, b)
		recent := t0.AddDate(0, 0, -1)
		sf := graph.Source{Name: "sf", Product: graph.ProductSalesforce, Tenant: "acme.my.salesforce.com", Accounts: []*graph.Account{
			{IDInService: "005A", Login: "cy@example.com", Email: "cy@example.com", Status: graph.StatusActive, LastLogin: &recent},
			{IDInService: "005B", Login: "stranger@partner.example", Email: "stranger@partner.example", Status: graph.StatusActive, LastLogin: &recent},
		}}
		path := writeSnapshot(t, t.TempDir(), "sf.json", &graph.Snapshot{Sources: []graph.Source{sf}})
		if _, err := b.svc.Add(ctx, Input{Name: "sf", Kind: KindSnapshot, Settings: Settings{File: path}}); err != nil {
			t.Fatal(err)
		}
		orphans := func() []string {
			page, err := b.issues.List(ctx, issue.Filter{Titles: []string{detect.TitleOrphanedAccount}, Statuses: []issue.Status{issue.StatusOpen}})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, is := range page.Issues {
				out = append(out, is.Data.AffectedEntity.IdentifierInService)
			}
			return out
		}
		if _, err := b.svc.Scan(ctx, ScanOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := orphans(); len(got) != 1 || got[0] != "stranger@partner.example" {
			t.Fatalf("orphans %v", got)
		}
		if _, _, err := st.PostureSourceData(ctx, mustSource(t, b, "okta-prod").ID); err != nil {
			t.Fatalf("no stored copy of the Okta read: %v", err)
		}

		fake.SetToken("00revoked") // Okta cannot be read now; it is not asked
		before := len(b.rec.sent())
		res, err := b.svc.Scan(ctx, ScanOptions{Sources: []string{"sf"}})
		if err != nil || res.Status != ScanOK {
			t.Fatalf("scan %+v, %v", res, err)
		}
		if len(b.rec.sent()) != before {
			t.Fatal("a scan of the snapshot called Okta")
		}
		if got := orphans(); len(got) != 1 || got[0] != "stranger@partner.example" {
			t.Fatalf("orphans after a single-source scan %v", got)
		}
		if res.People == 0 {
			t.Fatal("no people: the stored Okta accounts were not used")
		}
	})
}

func mustSource(t *testing.T, b *testBundle, name string) *Source {
	t.Helper()
	src, err := b.svc.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestScanBadInput(t *testing.T) {
	recent := t0.AddDate(0, 0, -1)
	for _, tc := range []struct {
		name    string
		write   func(dir string) string // returns the snapshot file
		ok      bool
		wantErr string
	}{
		{"duplicate emails and users without email", func(dir string) string {
			okta := graph.Source{Name: "okta", Product: graph.ProductOkta, Tenant: "acme.okta.com", Accounts: []*graph.Account{
				{IDInService: "00u1", Login: "ali@example.com", Email: "ali@example.com", Status: graph.StatusActive, LastLogin: &recent, MFA: graph.MFA{State: graph.MFAEnrolled, Factors: []string{"push"}}},
				{IDInService: "00u2", Login: "ali.second", Email: "ALI@example.com", Status: graph.StatusActive, LastLogin: &recent, MFA: graph.MFA{State: graph.MFANone}},
				{IDInService: "00u3", Login: "nomail", Status: graph.StatusActive, LastLogin: &recent, MFA: graph.MFA{State: graph.MFANone}},
			}}
			gw := graph.Source{Name: "gw", Product: graph.ProductGoogle, Tenant: "example.com", Accounts: []*graph.Account{
				{IDInService: "g1", Login: "ali@example.com", Email: "ali@example.com", Status: graph.StatusActive, LastLogin: &recent},
				{IDInService: "g2", Status: graph.StatusActive, LastLogin: &recent},
			}}
			return writeSnapshot(t, dir, "s.json", &graph.Snapshot{Sources: []graph.Source{okta, gw}})
		}, true, ""},
		{"missing idInService", func(dir string) string {
			path := filepath.Join(dir, "s.json")
			os.WriteFile(path, []byte(`{"format":"vigil.snapshot/v1","sources":[{"name":"o","product":"Okta","tenant":"t","accounts":[{"status":"active"}]}]}`), 0o600)
			return path
		}, false, "malformed data"},
		{"not JSON", func(dir string) string {
			path := filepath.Join(dir, "s.json")
			os.WriteFile(path, []byte("user,arn\n"), 0o600)
			return path
		}, false, "malformed data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, storetest.SQLite(t), nil)
			path := tc.write(t.TempDir())
			if _, err := b.svc.Add(t.Context(), Input{Name: "snap", Kind: KindSnapshot, Settings: Settings{File: path}}); err != nil {
				t.Fatal(err)
			}
			res, err := b.svc.Scan(t.Context(), ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sources[0].OK != tc.ok || !strings.Contains(res.Sources[0].Error, tc.wantErr) {
				t.Fatalf("source result %+v", res.Sources[0])
			}
			if !tc.ok {
				return
			}
			// Two Okta accounts share an address: one person, both checked.
			if res.People != 2 || res.Issues.Titles[detect.TitleNoMFAAccount].Opened != 2 {
				t.Fatalf("people %d, issues %+v", res.People, res.Issues.Titles)
			}
		})
	}
}

func TestScanReadTimeout(t *testing.T) {
	b := setup(t, storetest.SQLite(t), func(c *Config) { c.ReadTimeout = 300 * time.Millisecond })
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a page that never comes
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(hang.CloseClientConnections)
	if _, err := b.svc.Add(t.Context(), Input{Name: "slow", Kind: KindOkta, Settings: Settings{URL: hang.URL},
		Credentials: Credentials{Token: "t"}}); err != nil {
		t.Fatal(err)
	}
	res, err := b.svc.Scan(t.Context(), ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != ScanFailed || !strings.Contains(res.Sources[0].Error, "did not finish within 300ms") {
		t.Fatalf("result %+v", res.Sources[0])
	}
}
