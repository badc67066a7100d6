package source

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/google/googletest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestAddChecksTheConfiguration(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	ctx := t.Context()
	file := filepath.Join(t.TempDir(), "snap.json")
	if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Add(ctx, Input{Name: "taken", Kind: KindSnapshot, Settings: Settings{File: file}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		in    Input
		field string
	}{
		{"empty name", Input{Kind: KindSnapshot, Settings: Settings{File: file}}, "name"},
		{"slash in name", Input{Name: "a/b", Kind: KindSnapshot, Settings: Settings{File: file}}, "name"},
		{"name taken", Input{Name: "taken", Kind: KindSnapshot, Settings: Settings{File: file}}, "name"},
		{"unknown kind", Input{Name: "x", Kind: "ldap"}, "kind"},
		{"okta without URL", Input{Name: "x", Kind: KindOkta, Credentials: Credentials{Token: "t"}}, "url"},
		{"okta without token", Input{Name: "x", Kind: KindOkta, Settings: Settings{URL: "https://a.okta.com"}}, "token"},
		{"okta with a bad URL", Input{Name: "x", Kind: KindOkta, Settings: Settings{URL: "ftp://a.okta.com"}, Credentials: Credentials{Token: "t"}}, "settings"},
		{"okta with a bad key", Input{Name: "x", Kind: KindOkta, Settings: Settings{URL: "https://a.okta.com", ClientID: "c"},
			Credentials: Credentials{PrivateKey: "not a key"}}, "settings"},
		{"entra without secret", Input{Name: "x", Kind: KindEntra, Settings: Settings{Tenant: "t", ClientID: "c"}}, "clientSecret"},
		{"google without subject", Input{Name: "x", Kind: KindGoogle, Credentials: Credentials{ServiceAccountKey: "{}"}}, "subject"},
		{"google with a bad key", Input{Name: "x", Kind: KindGoogle, Settings: Settings{Subject: "a@b.c"}, Credentials: Credentials{ServiceAccountKey: "{}"}}, "settings"},
		{"salesforce without client id", Input{Name: "x", Kind: KindSalesforce, Settings: Settings{URL: "https://a.my.salesforce.com"},
			Credentials: Credentials{ClientSecret: "s"}}, "clientId"},
		{"aws with nothing", Input{Name: "x", Kind: KindAWS}, "file"},
		{"aws with half the credentials", Input{Name: "x", Kind: KindAWS, Settings: Settings{AccessKeyID: "AKIA"}}, "accessKeyId"},
		{"snapshot without file", Input{Name: "x", Kind: KindSnapshot}, "file"},
		{"snapshot with a missing file", Input{Name: "x", Kind: KindSnapshot, Settings: Settings{File: file + ".nope"}}, "file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.svc.Add(ctx, tc.in)
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("got %v, want an invalid %s", err, tc.field)
			}
			if !strings.HasSuffix(ie.Message, ".") || strings.Contains(ie.Message, "\n") {
				t.Errorf("message %q is not one sentence", ie.Message)
			}
		})
	}
}

func TestCredentialsAreSealedAndNeverListed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		fake := googletest.New(t)
		key := string(fake.ServiceAccountJSON())
		src, err := b.svc.Add(ctx, Input{Name: "gw", Kind: KindGoogle, Settings: Settings{Subject: googletest.Admin, URL: fake.URL},
			Credentials: Credentials{ServiceAccountKey: key}, Schedule: -1})
		if err != nil {
			t.Fatal(err)
		}
		if !src.HasCredentials || src.Schedule != 0 || src.Primary {
			t.Fatalf("source %+v", src)
		}
		var sealed, settings string
		if err := st.DB().QueryRowContext(ctx, `SELECT credentials_sealed, settings FROM vigil_posture_source WHERE name = 'gw'`).Scan(&sealed, &settings); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sealed, "PRIVATE KEY") || strings.Contains(settings, "PRIVATE KEY") || sealed == "" {
			t.Fatal("the key is stored in the clear")
		}
		// The sealed value opens for this source only.
		if _, err := st.DB().ExecContext(ctx, `UPDATE vigil_posture_source SET id = 'src_other' WHERE name = 'gw'`); err != nil {
			t.Fatal(err)
		}
		r, err := st.PostureSourceByName(ctx, "gw")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.credentials(r); err == nil || strings.Contains(err.Error(), "PRIVATE") {
			t.Fatalf("credentials moved to another source opened: %v", err)
		}
	})
}

func TestPrimaryDefaultsToTheFirstOktaSource(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	ctx := t.Context()
	add := func(name string, kind Kind, primary bool) {
		t.Helper()
		set, cred := Settings{URL: "https://" + name + ".okta.com"}, Credentials{Token: "t"}
		if kind == KindSalesforce {
			set.ClientID, cred = "c", Credentials{ClientSecret: "s"}
		}
		if _, err := b.svc.Add(ctx, Input{Name: name, Kind: kind, Settings: set, Credentials: cred, Primary: primary, Schedule: 90 * time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	add("sf", KindSalesforce, false)
	add("okta-a", KindOkta, false)
	add("okta-b", KindOkta, false)
	primaries := func() (out []string) {
		list, err := b.svc.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			if s.Primary {
				out = append(out, s.Name)
			}
			if s.Schedule != 90*time.Minute {
				t.Errorf("%s scheduled every %s", s.Name, s.Schedule)
			}
		}
		return out
	}
	if p := primaries(); len(p) != 1 || p[0] != "okta-a" {
		t.Fatalf("primary %v", p)
	}
	if err := b.svc.SetPrimary(ctx, "okta-b"); err != nil {
		t.Fatal(err)
	}
	if p := primaries(); len(p) != 1 || p[0] != "okta-b" {
		t.Fatalf("primary %v", p)
	}
	add("okta-c", KindOkta, true)
	if p := primaries(); len(p) != 1 || p[0] != "okta-c" {
		t.Fatalf("primary %v", p)
	}
	if err := b.svc.SetPrimary(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown source: %v", err)
	}
}
