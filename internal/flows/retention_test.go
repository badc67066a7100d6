package flows

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestPruneRetentionSetting checks that the history retention an
// administrator saves is read at each run: a positive setting replaces
// Config.Retention, and none keeps it.
func TestPruneRetentionSetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		var setting time.Duration
		b := setup(t, st, Config{Now: func() time.Time { return now }, Retention: 30 * 24 * time.Hour,
			RetentionSetting: func(context.Context) time.Duration { return setting }})
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		old := b.run(t, f.ID, map[string]any{"name": "x"}, StartOptions{})
		if err := st.AddIssueRun(b.ctx, &store.IssueRun{ExecutionID: old.ID, IssueID: "iss_1", FlowID: f.ID, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * 24 * time.Hour)
		for _, tc := range []struct {
			setting time.Duration
			want    int64
		}{{0, 0}, {-time.Hour, 0}, {11 * 24 * time.Hour, 0}, {7 * 24 * time.Hour, 1}} {
			setting = tc.setting
			n, err := b.svc.Prune(b.ctx)
			if err != nil || n != tc.want {
				t.Fatalf("with the setting at %v, Prune() = %d, %v; want %d", tc.setting, n, err, tc.want)
			}
		}
		if _, err := b.svc.Execution(b.ctx, old.ID); err == nil {
			t.Error("the 10-day-old execution is still stored after a 7-day setting")
		}
		var runs int
		if err := st.DB().QueryRowContext(b.ctx, `SELECT COUNT(*) FROM vigil_issue_run`).Scan(&runs); err != nil || runs != 0 {
			t.Errorf("%d rows of runs by hand on issues left after their execution was pruned (%v); want 0", runs, err)
		}
	})
}
