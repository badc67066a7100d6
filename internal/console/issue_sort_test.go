package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// listedIssues returns the ids of the issues a list page shows, in order.
func listedIssues(body string) []string {
	var ids []string
	for _, m := range issueLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// TestIssueListSorts sorts the issue list by its column headers on both
// databases: each header toggles between ascending and descending, the
// order is the store's over every issue (then by id), the filters stay,
// and the next page continues the sorted order.
func TestIssueListSorts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, false)
		ctx := context.Background()
		seedIssues(t, b.w, 70)
		all, err := b.w.Issues.List(ctx, issue.Filter{Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		byTitle := slices.Clone(all.Issues)
		slices.SortFunc(byTitle, func(x, y *issue.Issue) int {
			if c := strings.Compare(x.Data.Title, y.Data.Title); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
		var want []string
		for _, is := range byTitle {
			want = append(want, is.ID)
		}

		pg := get(t, b.builder, b.w.URL+"/ispm/issues?status=all")
		if !strings.Contains(pg.Body, `aria-sort="descending"><a href="/ispm/issues?dir=asc&amp;sort=severity&amp;status=all"`) {
			t.Errorf("the default list does not mark Severity as sorted descending: %.3000s", pg.Body)
		}
		href := regexp.MustCompile(`<a href="([^"]+)" data-testid="sort-title">Title</a>`).FindStringSubmatch(pg.Body)
		if href == nil {
			t.Fatal("no Title header link")
		}
		asc := get(t, b.builder, b.w.URL+strings.ReplaceAll(href[1], "&amp;", "&"))
		if got := listedIssues(asc.Body); !slices.Equal(got, want[:50]) {
			t.Errorf("sorted by title ascending:\n got %v\nwant %v", got, want[:50])
		}
		if !strings.Contains(asc.Body, `aria-sort="ascending"><a href="/ispm/issues?dir=desc&amp;sort=title&amp;status=all" data-testid="sort-title">Title ▲</a>`) {
			t.Error("the ascending page's Title header does not toggle to descending")
		}
		next := regexp.MustCompile(`<a class="btn" href="([^"]+)" rel="next">`).FindStringSubmatch(asc.Body)
		if next == nil {
			t.Fatal("the sorted list has no next page")
		}
		page2 := get(t, b.builder, b.w.URL+strings.ReplaceAll(next[1], "&amp;", "&"))
		if got := listedIssues(page2.Body); !slices.Equal(got, want[50:]) {
			t.Errorf("page 2 sorted by title:\n got %v\nwant %v", got, want[50:])
		}

		desc := get(t, b.builder, b.w.URL+"/ispm/issues?status=all&sort=title&dir=desc")
		rev := slices.Clone(want)
		slices.Reverse(rev)
		if got := listedIssues(desc.Body); !slices.Equal(got, rev[:50]) {
			t.Errorf("sorted by title descending:\n got %v\nwant %v", got, rev[:50])
		}

		// A filter stays with the sort, and the filter form keeps the sort.
		filtered := get(t, b.builder, b.w.URL+"/ispm/issues?status=all&product=Okta&sort=title&dir=desc")
		for _, id := range listedIssues(filtered.Body) {
			is, _ := b.w.Issues.Get(ctx, id)
			if is.Data.AffectedEntity.SourceProductName != "Okta" {
				t.Errorf("the Okta filter lists %s of %s", id, is.Data.AffectedEntity.SourceProductName)
			}
		}
		if !strings.Contains(filtered.Body, `<input type="hidden" name="sort" value="title"><input type="hidden" name="dir" value="desc">`) ||
			!strings.Contains(filtered.Body, `href="/ispm/issues?dir=asc&amp;product=Okta&amp;sort=detected&amp;status=all"`) {
			t.Error("the sorted, filtered page does not keep both")
		}
		// A column the list does not know is no sort: the default order.
		if got, def := listedIssues(get(t, b.builder, b.w.URL+"/ispm/issues?status=all&sort=fingerprint").Body), listedIssues(pg.Body); !slices.Equal(got, def) {
			t.Error("an unknown sort changed the order")
		}
	})
}

// TestRunFlowOnSelectedIssues checks the issue list's bulk Run flow over
// the real services on both databases: it is offered to those who manage
// flows with the on-demand flows only, starts one run per selected issue
// with that issue's event, and answers 303 to Flow history of that flow,
// which links each run and its issue; a flow not on demand starts nothing.
func TestRunFlowOnSelectedIssues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, false)
		ctx := context.Background()
		seedIssues(t, b.w, 3)
		page, err := b.w.Issues.List(ctx, issue.Filter{Limit: -1})
		if err != nil || len(page.Issues) != 3 {
			t.Fatalf("issues: %d, %v", len(page.Issues), err)
		}
		remediate, greet := b.flow(t, remediateFlow), b.flow(t, greetFlow)
		for _, f := range []*flows.Flow{remediate, greet} {
			if _, err := b.w.Flows.SetOn(ctx, f.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		list := get(t, b.builder, b.w.URL+"/ispm/issues")
		if !strings.Contains(list.Body, `formaction="/ispm/issues/bulk/run-flow"`) || !strings.Contains(list.Body, `<option value="`+remediate.ID+`">Remediate`) ||
			strings.Contains(list.Body, `<option value="`+greet.ID+`"`) {
			t.Fatalf("the list does not offer the on-demand flows alone: %.4000s", list.Body)
		}
		chosen := []string{page.Issues[0].ID, page.Issues[2].ID}
		pg := post(t, b.builder, b.w.URL+"/ispm/issues/bulk/run-flow", url.Values{"id": chosen, "flow": {remediate.ID}, "back": {"/ispm/issues"}})
		if pg.Status != http.StatusSeeOther || pg.Location != "/workflows/history?flow="+remediate.ID {
			t.Fatalf("bulk Run flow: %d to %q", pg.Status, pg.Location)
		}
		var es []*flows.Execution
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			if es, err = b.w.Flows.Executions(ctx, flows.ExecutionFilter{FlowID: remediate.ID}); err != nil {
				t.Fatal(err)
			}
			done := len(es) == 2
			for _, e := range es {
				done = done && e.Status == flows.StatusSucceeded
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the runs did not succeed within 2 minutes: %d runs", len(es))
			}
		}
		history := get(t, b.builder, b.w.URL+pg.Location).Body
		if msg := flashOf(history); msg != "Started 2 runs on 2 issues; they are listed first below." {
			t.Errorf("summary %q", msg)
		}
		for _, e := range es {
			if !strings.Contains(history, `href="/workflows/executions/`+e.ID+`"`) {
				t.Errorf("history does not link run %s", e.ID)
			}
		}
		for _, id := range chosen {
			if !strings.Contains(history, `href="/ispm/issues/`+id+`"`) {
				t.Errorf("history does not link issue %s", id)
			}
		}
		if strings.Contains(history, `href="/ispm/issues/`+page.Issues[1].ID+`"`) {
			t.Error("an issue that was not selected got a run")
		}

		pg = post(t, b.builder, b.w.URL+"/ispm/issues/bulk/run-flow", url.Values{"id": chosen, "flow": {greet.ID}, "back": {"/ispm/issues?status=all"}})
		if pg.Status != http.StatusSeeOther || pg.Location != "/ispm/issues?status=all" {
			t.Fatalf("not on demand: %d to %q", pg.Status, pg.Location)
		}
		if msg := flashOf(get(t, b.builder, b.w.URL+pg.Location).Body); !strings.Contains(msg, "No run started") || !strings.Contains(msg, "not callable on demand") {
			t.Errorf("not on demand says %q", msg)
		}
		if n := b.executions(t, greet.ID); n != 0 {
			t.Errorf("not on demand: %d runs started", n)
		}
		responder := b.w.Client(t, auth.RoleIssueResponder)
		if strings.Contains(get(t, responder, b.w.URL+"/ispm/issues").Body, "bulk/run-flow") {
			t.Error("a responder is offered Run flow")
		}
		if pg := post(t, responder, b.w.URL+"/ispm/issues/bulk/run-flow", url.Values{"id": chosen, "flow": {remediate.ID}}); pg.Status != http.StatusForbidden {
			t.Errorf("a responder's bulk Run flow: %d", pg.Status)
		}
	})
}
