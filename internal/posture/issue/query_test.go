package issue

import (
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestListFiltersSearchesAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		fs := []detect.Finding{
			finding(detect.TitleNoMFAGlobalAdmin, "root.ops"), // Critical, MFA
			finding(detect.TitleUnusedAdmin, "ali_lesch"),     // High, Least Privilege
			finding(detect.TitleNoMFAAccount, "bo"),           // Medium, MFA
			finding(detect.TitleOldPasswordAccount, "cy"),     // Low, Credential Hygiene
		}
		b.reconcile(t, Scan{Findings: fs})
		if err := b.svc.Acknowledge(ctx, b.issueOf(t, fs[3]).ID, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB().ExecContext(ctx, `INSERT INTO vigil_posture_source (id, name, kind, created_at, updated_at)
			VALUES ('src_okta', 'okta-prod', 'okta', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name string
			f    Filter
			want []string // logins, in order
			all  int
		}{
			{"default is every status, most severe first", Filter{}, []string{"root.ops", "ali_lesch", "bo", "cy"}, 4},
			{"open", Filter{Statuses: []Status{StatusOpen}}, []string{"root.ops", "ali_lesch", "bo"}, 3},
			{"acknowledged", Filter{Statuses: []Status{StatusAcknowledged}}, []string{"cy"}, 1},
			{"severity", Filter{Severities: []string{"High", "Low"}}, []string{"ali_lesch", "cy"}, 2},
			{"category", Filter{Categories: []string{"MFA"}}, []string{"root.ops", "bo"}, 2},
			{"title", Filter{Titles: []string{detect.TitleUnusedAdmin}}, []string{"ali_lesch"}, 1},
			{"product", Filter{Products: []string{"AAD"}}, nil, 0},
			{"source by name", Filter{Sources: []string{"okta-prod"}}, []string{"root.ops", "ali_lesch", "bo", "cy"}, 4},
			{"unknown source", Filter{Sources: []string{"nope"}}, nil, 0},
			{"search login", Filter{Search: "ALI_"}, []string{"ali_lesch"}, 1},
			{"search wildcard is literal", Filter{Search: "_"}, []string{"ali_lesch"}, 1},
			{"search title", Filter{Search: "no mfa"}, []string{"root.ops", "bo"}, 2},
			{"page", Filter{Limit: 2, Offset: 1}, []string{"ali_lesch", "bo"}, 4},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := b.svc.List(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, is := range page.Issues {
					got = append(got, is.Data.AffectedEntity.IdentifierInService[:len(is.Data.AffectedEntity.IdentifierInService)-len("@example.com")])
				}
				if len(got) != len(tc.want) || page.Total != tc.all {
					t.Fatalf("got %v (total %d), want %v (total %d)", got, page.Total, tc.want, tc.all)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("got %v, want %v", got, tc.want)
					}
				}
			})
		}

		c, err := b.svc.Counts(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Open != 3 || c.ByStatus[StatusAcknowledged] != 1 || c.BySeverity["Critical"] != 1 || c.BySeverity["Low"] != 0 ||
			c.ByCategory["MFA"] != 2 || c.ByTitle[detect.TitleUnusedAdmin] != 1 {
			t.Fatalf("counts %+v", c)
		}
	})
}

func TestTrendCarriesDaysWithoutChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		a, c := finding(detect.TitleNoMFAGlobalAdmin, "a"), finding(detect.TitleNoMFAAccount, "c")
		b.reconcile(t, Scan{Findings: []detect.Finding{a, c}}) // day 0: 2 open
		b.clock.Add(48 * time.Hour)
		b.reconcile(t, Scan{Findings: []detect.Finding{c}}) // day 2: 1 open
		b.clock.Add(24 * time.Hour)
		b.reconcile(t, Scan{}) // day 3: none open

		pts, err := b.svc.Trend(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		want := []int{0, 2, 2, 1, 0} // day -1 had no data yet
		if len(pts) != len(want) {
			t.Fatalf("%d points", len(pts))
		}
		for i, p := range pts {
			if p.Open != want[i] {
				t.Fatalf("day %d: %d open, want %d (%+v)", i, p.Open, want[i], pts)
			}
		}
		if pts[1].BySeverity["Critical"] != 1 || pts[3].BySeverity["Critical"] != 0 || pts[3].BySeverity["Medium"] != 1 {
			t.Fatalf("severities %+v", pts)
		}
		if !pts[4].Day.Equal(t0.Add(72 * time.Hour).Truncate(24 * time.Hour)) {
			t.Fatalf("last day %v", pts[4].Day)
		}
		// A window starting after the last change carries its values.
		b.clock.Add(10 * 24 * time.Hour)
		pts, err = b.svc.Trend(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if pts[0].Open != 0 || pts[1].Open != 0 {
			t.Fatalf("carried %+v", pts)
		}
	})
}

func TestSuccessor(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ish_0000", "ish_0001"},
		{"ish_000Z", "ish_0010"},
		{"ish_ZZZZ", "ish_ZZZZ0"},
		{"", "0"},
	} {
		got := successor(tc.in)
		if got != tc.want || got <= tc.in {
			t.Errorf("successor(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
