package issue

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// pagingWorld stores 23 issues of every severity, detected in three scans an
// hour apart so that detection times tie within a scan, and acknowledges
// three of them. It returns the findings, in the order they were added.
func pagingWorld(t *testing.T, b *testBundle) []detect.Finding {
	t.Helper()
	titles := []string{detect.TitleNoMFAGlobalAdmin, detect.TitleUnusedAdmin, detect.TitleNoMFAAccount, detect.TitleOldPasswordAccount}
	var fs []detect.Finding
	for scan, n := range []int{9, 8, 6} {
		for range n {
			fs = append(fs, finding(titles[len(fs)%len(titles)], fmt.Sprintf("user%02d", len(fs))))
		}
		b.reconcile(t, Scan{Findings: fs})
		if scan < 2 {
			b.clock.Add(time.Hour)
		}
	}
	for _, f := range []detect.Finding{fs[1], fs[10], fs[20]} {
		if err := b.svc.Acknowledge(t.Context(), b.issueOf(t, f).ID, admin); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}

func ids(is []*Issue) []string {
	out := make([]string, len(is))
	for i, x := range is {
		out[i] = x.ID
	}
	return out
}

func TestListPagesByCursorAndOffsetAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		pagingWorld(t, b)
		for _, tc := range []struct {
			name string
			f    Filter
			want int
		}{
			{"any status", Filter{}, 23},
			{"open", Filter{Statuses: []Status{StatusOpen}}, 20},
			{"two severities", Filter{Severities: []string{"High", "Medium"}}, 12},
			{"search", Filter{Search: "user1"}, 10},
			{"nothing", Filter{Products: []string{"AWS"}}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				all := tc.f
				all.Limit = -1
				whole, err := b.svc.List(ctx, all)
				if err != nil {
					t.Fatal(err)
				}
				if len(whole.Issues) != tc.want || whole.Total != tc.want || whole.Next != "" || whole.Prev != "" {
					t.Fatalf("whole list: %d issues, total %d, next %q, prev %q; want %d", len(whole.Issues), whole.Total,
						whole.Next, whole.Prev, tc.want)
				}
				for i := 1; i < len(whole.Issues); i++ {
					a, z := whole.Issues[i-1], whole.Issues[i]
					ra, rz := severityRank(a.Data.Severity), severityRank(z.Data.Severity)
					if ra < rz || ra == rz && (a.DetectedAt.Before(z.DetectedAt) || a.DetectedAt.Equal(z.DetectedAt) && a.ID < z.ID) {
						t.Fatalf("issue %d (%s %s %s) listed before %d (%s %s %s)", i-1, a.Data.Severity, a.DetectedAt, a.ID,
							i, z.Data.Severity, z.DetectedAt, z.ID)
					}
				}
				want := ids(whole.Issues)

				// Forward by Next, checking each page against the offset page.
				f := tc.f
				f.Limit = 5
				var fwd []string
				var pages []Page
				for {
					p, err := b.svc.List(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if p.Offset != len(fwd) || p.Total != tc.want {
						t.Fatalf("page at %d says offset %d, total %d", len(fwd), p.Offset, p.Total)
					}
					if (p.Prev == "") != (len(fwd) == 0) {
						t.Fatalf("page at %d: prev %q", len(fwd), p.Prev)
					}
					byOffset := tc.f
					byOffset.Limit, byOffset.Offset = 5, len(fwd)
					op, err := b.svc.List(ctx, byOffset)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(ids(op.Issues), ids(p.Issues)) || op.Next != p.Next || op.Prev != p.Prev || op.Offset != p.Offset {
						t.Fatalf("offset %d gives %v (next %q, prev %q), cursor gives %v (next %q, prev %q)", len(fwd),
							ids(op.Issues), op.Next, op.Prev, ids(p.Issues), p.Next, p.Prev)
					}
					fwd = append(fwd, ids(p.Issues)...)
					pages = append(pages, p)
					if p.Next == "" {
						break
					}
					f.After = p.Next
				}
				if !slices.Equal(fwd, want) {
					t.Fatalf("forward by cursor %v, want %v", fwd, want)
				}

				// Back by Prev from the last page.
				f = tc.f
				f.Limit = 5
				last := pages[len(pages)-1]
				back := ids(last.Issues)
				for p := last; p.Prev != ""; {
					f.Before = p.Prev
					var err error
					if p, err = b.svc.List(ctx, f); err != nil {
						t.Fatal(err)
					}
					if p.Offset != len(want)-len(back)-len(p.Issues) || p.Next == "" {
						t.Fatalf("page before %d says offset %d, next %q", len(want)-len(back), p.Offset, p.Next)
					}
					back = append(ids(p.Issues), back...)
				}
				if !slices.Equal(back, want) {
					t.Fatalf("backward by cursor %v, want %v", back, want)
				}
			})
		}
	})
}

func TestListCursorKeepsItsPlaceWhenIssuesOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		fs := pagingWorld(t, b)
		open := Filter{Statuses: []Status{StatusOpen}, Limit: 5}
		first, err := b.svc.List(ctx, open)
		if err != nil {
			t.Fatal(err)
		}
		next := open
		next.After = first.Next
		second, err := b.svc.List(ctx, next)
		if err != nil {
			t.Fatal(err)
		}

		// A critical issue opens at the top of the list.
		b.clock.Add(time.Hour)
		b.reconcile(t, Scan{Findings: append(fs, finding(detect.TitleNoMFAGlobalAdmin, "newcomer"))})
		again, err := b.svc.List(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(again.Issues), ids(second.Issues)) || again.Offset != 6 || again.Total != 21 {
			t.Fatalf("after the new issue the second page is %v at %d of %d, was %v at %d of %d", ids(again.Issues),
				again.Offset, again.Total, ids(second.Issues), second.Offset, second.Total)
		}
		// Its Prev now leads to the five issues just before it.
		prev := open
		prev.Before = again.Prev
		p, err := b.svc.List(ctx, prev)
		if err != nil {
			t.Fatal(err)
		}
		if p.Offset != 1 || p.Prev == "" || !slices.Equal(ids(p.Issues), ids(first.Issues)) {
			t.Fatalf("page before: %v at %d (prev %q), want %v at 1", ids(p.Issues), p.Offset, p.Prev, ids(first.Issues))
		}
	})
}

func TestListRefusesCursorsItDidNotGive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		pagingWorld(t, b)
		page, err := b.svc.List(t.Context(), Filter{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		enc := base64.RawURLEncoding.EncodeToString
		for _, f := range []Filter{
			{After: "not a cursor!"},
			{Before: enc([]byte("3.notanumber.iss_1"))},
			{After: enc([]byte("x.1.iss_1"))},
			{After: enc([]byte("3.1"))},
			{After: page.Next, Before: page.Next},
		} {
			if _, err := b.svc.List(t.Context(), f); !errors.Is(err, ErrBadCursor) {
				t.Errorf("List(%+v): %v, want ErrBadCursor", f, err)
			}
		}
		// Counts ignores cursors.
		if c, err := b.svc.Counts(t.Context(), Filter{After: "not a cursor!"}); err != nil || c.Open != 20 {
			t.Errorf("Counts with a cursor: %+v, %v", c, err)
		}
	})
}
