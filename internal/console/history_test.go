package console_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const plainFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: plain
  version: '1.0.0'
  title: Plain
do:
  - done:
      set: {ok: true}
`

// TestFlowHistorySearchTotalsAndBadges starts executions about different
// issues over the real flows service and reads Flow history: times to the
// second with a relative time, a search by issue id, user and title that
// ignores case and takes % literally, the total the search selects, and
// the dry-run, test and waiting-for-approval badges.
func TestFlowHistorySearchTotalsAndBadges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setupTestRun(t, st, false)
		plain := b.flow(t, plainFlow)
		guarded := b.flow(t, guardedFlow)
		event := func(id, title, name, login string) map[string]any {
			return map[string]any{"id": id, "title": title, "affectedEntity": map[string]any{"displayName": name, "identifierInService": login}}
		}
		start := func(flowID string, input any, opts flows.StartOptions) string {
			opts.AllowOff = true
			execID, err := b.w.Flows.Start(ctx, flowID, input, opts)
			if err != nil {
				t.Fatal(err)
			}
			return execID
		}
		alpha := start(plain.ID, map[string]any{"eventData": event("iss_alpha", "Unused Admin Account", "Ali Lesch", "ali@example.com")}, flows.StartOptions{DryRun: true})
		beta := start(plain.ID, map[string]any{"body": map[string]any{"eventData": event("iss_beta", "No MFA - Account", "Bo Chen", "")}}, flows.StartOptions{Test: true})
		waiting := start(guarded.ID, map[string]any{"eventData": event("iss_gamma", "Unused Admin Account", "Cy Diaz", "cy@example.com")}, flows.StartOptions{})
		other := start(plain.ID, map[string]any{"x": 1}, flows.StartOptions{})
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			es, err := b.w.Flows.Executions(ctx, flows.ExecutionFilter{FlowID: guarded.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 1 && es[0].Status == store.FlowWaiting {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the guarded execution did not wait for its approval within 2 minutes")
			}
		}

		history := func(q string) string {
			t.Helper()
			pg := get(t, b.builder, b.w.URL+"/workflows/history?q="+url.QueryEscape(q))
			if pg.Status != 200 {
				t.Fatalf("history?q=%s: status %d", q, pg.Status)
			}
			return pg.Body
		}
		all := history("")
		if !strings.Contains(all, "4 of 4 executions") {
			t.Errorf("the total is missing: %s", totalOf(all))
		}
		for _, id := range []string{alpha, beta, waiting, other} {
			if !strings.Contains(all, `href="/workflows/executions/`+id+`"`) {
				t.Errorf("history does not link execution %s", id)
			}
		}
		if !regexp.MustCompile(`<time datetime="[0-9T:-]+Z">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time></a> <span class="muted small" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC" data-testid="ago">(just now|\d+ s ago|\d+ min ago)</span>`).MatchString(all) {
			t.Error("history shows no time to the second with a relative time")
		}
		for _, want := range []string{`data-testid="badge-dry-run"`, `data-testid="badge-test"`, `Waiting for approval`, `data-testid="badge-approval"`,
			`href="/ispm/issues/iss_alpha">Unused Admin Account</a><br><span class="muted">Ali Lesch ali@example.com</span>`} {
			if !strings.Contains(all, want) {
				t.Errorf("history lacks %s", want)
			}
		}

		cases := []struct {
			q    string
			want []string
		}{
			{"iss_alpha", []string{alpha}},
			{"ALI", []string{alpha}},
			{"no mfa", []string{beta}},
			{"bo chen", []string{beta}},
			{"unused admin", []string{alpha, waiting}},
			{"cy@example", []string{waiting}},
			{"%", nil},
			{"iss_", []string{alpha, beta, waiting}},
		}
		for _, tc := range cases {
			body := history(tc.q)
			for _, id := range []string{alpha, beta, waiting, other} {
				want := false
				for _, w := range tc.want {
					want = want || w == id
				}
				if got := strings.Contains(body, `href="/workflows/executions/`+id+`"`); got != want {
					t.Errorf("search %q: execution %s listed %v, want %v", tc.q, id, got, want)
				}
			}
			total := "No execution."
			if n := len(tc.want); n == 1 {
				total = "1 of 1 execution."
			} else if n > 1 {
				total = strconv.Itoa(n) + " of " + strconv.Itoa(n) + " executions."
			}
			if !strings.Contains(body, total) {
				t.Errorf("search %q: total %s, want %q", tc.q, totalOf(body), total)
			}
		}
	})
}

func totalOf(body string) string {
	return regexp.MustCompile(`data-testid="history-total">[^<]*`).FindString(body)
}
