package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/api"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
	"github.com/vigil-ispm/vigil/internal/store"
)

// identityPeople is the size of the organization the identity pages are
// measured at.
const identityPeople = 100_000

// BenchmarkIdentityList100k measures the server time of one page of the
// Identities list and of GET /api/v1/identities with the synthetic
// organization of 100,000 people (seed 1, about 285,000 accounts and 5,237
// open issues) scanned in, on SQLite and PostgreSQL. Each is served in
// process (httptest recorder, no network) and reported beside a bare
// net/http handler measured the same way in the same run, as x-bare: the
// page's time over the bare handler's, so that runs on a busier machine
// compare.
func BenchmarkIdentityList100k(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	for _, db := range dialects {
		b.Run(db, func(b *testing.B) {
			ctx := context.Background()
			w := consoletest.New(b, consoletest.Options{Dialect: db, NoQueue: true})
			start := time.Now()
			w.ScanSynthetic(b, "org", identityPeople, 1)
			b.Logf("scanned %d people in %s", identityPeople, time.Since(start).Round(time.Millisecond))
			if w.Store.Dialect() == store.Postgres {
				for _, table := range []string{"vigil_identity_person", "vigil_identity_account", "vigil_posture_issue"} {
					if _, err := w.Store.DB().ExecContext(ctx, `VACUUM ANALYZE `+table); err != nil {
						b.Fatal(err)
					}
				}
			}
			cookie := adminCookie(b, w)
			u, err := w.Auth.UserByName(ctx, consoletest.Users[auth.RoleSuperAdmin])
			if err != nil {
				b.Fatal(err)
			}
			_, token, err := w.Auth.CreateToken(ctx, u.ID, "bench", 0)
			if err != nil {
				b.Fatal(err)
			}
			mux := http.NewServeMux()
			api.New(api.Config{}, api.Services{Identities: identity.New(w.Store, time.Now)}).Register(mux)
			apiHandler := w.Auth.Authenticate(mux)
			people, _, err := identity.New(w.Store, time.Now).People(ctx, identity.Filter{Limit: 1, Offset: identityPeople / 2})
			if err != nil || len(people) == 0 {
				b.Fatalf("a person to search for: %v", err)
			}
			search := url.QueryEscape(people[0].DisplayName)

			var bareNs float64
			measure := func(name string, h http.Handler, path string, prepare func(*http.Request)) {
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						req := httptest.NewRequest(http.MethodGet, path, nil)
						if prepare != nil {
							prepare(req)
						}
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK {
							b.Fatalf("GET %s: status %d", path, rec.Code)
						}
					}
					ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					if name == "bare" {
						bareNs = ns
					} else if bareNs > 0 {
						b.ReportMetric(ns/bareNs, "x-bare")
					}
				})
			}
			page := func(req *http.Request) { req.AddCookie(cookie) }
			bearer := func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) }
			measure("bare", bare, "/", nil)
			for _, p := range []string{
				"/ispm/identities",
				"/ispm/identities?offset=99950",
				"/ispm/identities?q=" + search,
				"/ispm/identities?privileged=true&mfa=none",
				"/ispm/identities?sort=lastLogin&dir=desc",
				"/ispm/identities?view=accounts",
			} {
				name := p
				if p == "/ispm/identities?q="+search {
					name = "/ispm/identities?q=NAME"
				}
				measure("console"+name, w.Console, p, page)
			}
			for _, p := range []string{
				"/api/v1/identities",
				"/api/v1/identities?offset=99950",
				"/api/v1/identities?privileged=true&mfa=none",
			} {
				measure("api"+p, apiHandler, p, bearer)
			}
		})
	}
}
