package console_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestTableRowsNewestFirst checks the table page's adapter over the real
// flows service on both databases: pages run from the newest row back,
// say whether more follow, and a search pages through its matches in the
// same order.
func TestTableRowsNewestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := consoletest.New(t, consoletest.Options{Store: st, NoQueue: true, Logger: testLogger(t)})
		ctx := context.Background()
		folder, err := w.Flows.CreateFolder(ctx, "Logs", "")
		if err != nil {
			t.Fatal(err)
		}
		table, err := w.Flows.CreateTable(ctx, folder.ID, flows.TableParams{Name: "Errors",
			Columns: []catalog.Column{{Name: "message", Type: catalog.ColText}}})
		if err != nil {
			t.Fatal(err)
		}
		const n = 25
		seedRows(t, st, table, n) // message i: ..., the newest last
		svc := console.FlowService{Service: w.Flows}

		// want lists the row numbers of a page, newest first.
		check := func(name string, page console.RowPage, more bool, want ...int) {
			t.Helper()
			var got []string
			for _, r := range page.Rows {
				got = append(got, fmt.Sprint(r.Values["message"]))
			}
			var exp []string
			for _, i := range want {
				exp = append(exp, fmt.Sprintf("message %d: Okta answered 503", i))
			}
			if fmt.Sprint(got) != fmt.Sprint(exp) || page.More != more {
				t.Errorf("%s: rows %q more %v, want %q more %v", name, got, page.More, exp, more)
			}
			for _, r := range page.Rows {
				if r.ID == "" || r.Created.IsZero() {
					t.Errorf("%s: a row without its id or creation time: %+v", name, r)
				}
			}
		}
		rows := func(search string, limit, offset int) console.RowPage {
			t.Helper()
			page, err := svc.Rows(ctx, table.ID, search, limit, offset)
			if err != nil {
				t.Fatalf("Rows(%q, %d, %d): %v", search, limit, offset, err)
			}
			return page
		}
		check("first page", rows("", 10, 0), true, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15)
		check("second page", rows("", 10, 10), true, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5)
		check("last page", rows("", 10, 20), false, 4, 3, 2, 1, 0)
		check("past the end", rows("", 10, 30), false)
		// "message 1" matches rows 1 and 10 to 19, newest first.
		check("search", rows("MESSAGE 1", 5, 0), true, 19, 18, 17, 16, 15)
		check("search, next page", rows("message 1", 5, 5), true, 14, 13, 12, 11, 10)
		check("search, last page", rows("message 1", 5, 10), false, 1)
		check("search without a match", rows("no such text", 5, 0), false)
	})
}
