package console_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// TestScanNowQueuesTheJob checks that Scan now, with the real services,
// queues the durable scan job (as the API does) rather than scanning in
// the web process, that the scan list then shows the scan the job ran, and
// that a source nobody configured queues nothing.
func TestScanNowQueuesTheJob(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			w := consoletest.New(t, consoletest.Options{Dialect: dialect, Logger: testLogger(t)})
			ctx := context.Background()
			file := filepath.Join(t.TempDir(), "snap.json")
			if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Sources.Add(ctx, source.Input{Name: "snap", Kind: source.KindSnapshot,
				Settings: source.Settings{File: file}}); err != nil {
				t.Fatal(err)
			}
			admin := w.Client(t, auth.RoleSuperAdmin)
			jobs := func() (n int) {
				t.Helper()
				if err := w.Store.DB().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = $1`,
					source.ScanArgs{}.Kind()).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			if pg := post(t, admin, w.URL+"/ispm/scans", url.Values{"source": {"nope"}}); pg.Status != 404 || jobs() != 0 {
				t.Fatalf("Scan now of an unknown source: %d to %s, %d jobs; want a refusal that queues nothing", pg.Status, pg.Location, jobs())
			}
			pg := post(t, admin, w.URL+"/ispm/scans", url.Values{"source": {"snap"}})
			if pg.Status != 303 || pg.Location != "/ispm/sources" {
				t.Fatalf("Scan now answered %d to %q, want 303 to the sources page", pg.Status, pg.Location)
			}
			if n := jobs(); n != 1 {
				t.Fatalf("Scan now queued %d scan jobs, want 1", n)
			}
			// The worker runs the job; the scan list shows the scan it ran.
			row := regexp.MustCompile(`data-testid="scan-row" data-trigger="console">\s*<td><a href="/ispm/scans/(scn_[^"]+)"`)
			deadline := time.Now().Add(time.Minute)
			for {
				body := get(t, admin, w.URL+"/ispm/sources").Body
				if m := row.FindStringSubmatch(body); m != nil {
					if sc := get(t, admin, w.URL+"/ispm/scans/"+m[1]+"/progress").Body; strings.Contains(sc, `"finished":true`) {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("the scan list shows no finished console scan after a minute:\n%.3000s", body)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
