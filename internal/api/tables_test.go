package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		table, err := b.svc.Flows.CreateTable(b.ctx, b.folder.ID, flows.TableParams{Name: "Watch List",
			Columns: []catalog.Column{{Name: "Login", Type: catalog.ColText}, {Name: "Score", Type: catalog.ColNumber}}})
		if err != nil {
			t.Fatal(err)
		}
		const rows = 5
		for i := range rows {
			_, err := b.svc.Flows.Catalog().Call(b.ctx, "tables.createRow", map[string]any{"table": table.Name,
				"row": map[string]any{"Login": fmt.Sprintf("user%d@example.com", i), "Score": i}}, &engine.CallEnv{Folder: b.folder.ID})
			if err != nil {
				t.Fatal(err)
			}
		}

		var list struct{ Tables []flows.TableInfo }
		r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/folders/Test/tables", nil)
		want(t, "tables", r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Tables) != 1 || list.Tables[0].ID != table.ID || list.Tables[0].Rows != rows || len(list.Tables[0].Columns) != 2 {
			t.Fatalf("tables %+v; want Watch List with %d rows", list.Tables, rows)
		}
		want(t, "tables of nothing", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/folders/Nope/tables", nil), 404, "not_found")
		empty, err := b.svc.Flows.CreateFolder(b.ctx, "Empty", "")
		if err != nil {
			t.Fatal(err)
		}
		r = b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/folders/"+empty.ID+"/tables", nil)
		if r.decode(t, &list); len(list.Tables) != 0 || !strings.Contains(string(r.body), `"tables":[]`) {
			t.Errorf("tables of an empty folder: %s", r.body)
		}

		// Rows page by offset in the order they were added.
		var page RowPage
		var logins []string
		next := "0"
		for pages := 0; next != ""; pages++ {
			if pages > rows {
				t.Fatal("the pages do not end")
			}
			r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/tables/"+table.ID+"/rows?limit=2&offset="+next, nil)
			want(t, "rows", r, http.StatusOK, "")
			page = RowPage{}
			r.decode(t, &page)
			for _, row := range page.Rows {
				logins = append(logins, row["Login"].(string))
				if row[catalog.RowID] == nil {
					t.Errorf("row %v has no id", row)
				}
			}
			next = ""
			if page.NextOffset != nil {
				next = fmt.Sprint(*page.NextOffset)
			}
		}
		if len(logins) != rows || logins[0] != "user0@example.com" || logins[rows-1] != "user4@example.com" {
			t.Errorf("rows by page: %v", logins)
		}
		b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/tables/"+table.ID+"/rows", nil).decode(t, &page)
		if len(page.Rows) != rows || page.NextOffset != nil {
			t.Errorf("rows at the default limit: %d, next %v; want %d on one page", len(page.Rows), page.NextOffset, rows)
		}
		for _, q := range []string{"?limit=0", "?limit=1001", "?offset=-1", "?offset=x"} {
			want(t, "rows"+q, b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/tables/"+table.ID+"/rows"+q, nil), 400, "invalid")
		}
		want(t, "rows of nothing", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/tables/tbl_nope/rows", nil), 404, "not_found")

		r = b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/tables/"+table.ID+"/export.csv", nil)
		want(t, "export", r, http.StatusOK, "")
		lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || len(lines) != rows+1 ||
			!strings.Contains(lines[0], "Login") || !strings.Contains(lines[1], "user0@example.com") {
			t.Errorf("export: %s %q", r.header.Get("Content-Type"), r.body)
		}
		if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="Watch-List.csv"` {
			t.Errorf("export: Content-Disposition %q", cd)
		}
		want(t, "export of nothing", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/tables/tbl_nope/export.csv", nil), 404, "not_found")

		for _, path := range []string{"/api/v1/folders/Test/tables", "/api/v1/tables/" + table.ID + "/rows", "/api/v1/tables/" + table.ID + "/export.csv"} {
			for _, role := range []auth.Role{auth.RoleIssueViewer, auth.RoleIssueResponder} {
				r := b.do(role, "GET", path, nil)
				want(t, string(role)+" "+path, r, http.StatusForbidden, "forbidden")
				if strings.Contains(string(r.body), "example.com") {
					t.Errorf("%s %s: a refusal shows rows", role, path)
				}
			}
		}
	})
}
