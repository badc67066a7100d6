package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// showTable serves GET /workflows/tables/{id}?q=: the rows, newest first,
// with search and CSV export. Each row names the flow and execution that
// added it. Cells are cut to the page's width, so a table with many long
// columns never scrolls sideways; a row's View link opens it whole below
// it.
func (c *Console) showTable(w http.ResponseWriter, r *http.Request) {
	t, ok := c.pathTable(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	offset := offsetParam(r)
	page, err := c.svc.Tables.Rows(ctx, t.ID, q, pageSize, offset)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	rows := make([]tableRow, 0, len(page.Rows))
	for _, row := range page.Rows {
		tr := tableRow{Row: row}
		for _, col := range t.Columns {
			tr.Cells = append(tr.Cells, cellText(row.Values[col.Name]))
		}
		rows = append(rows, tr)
	}
	v := c.view(w, r, "table_show", t.Name, "workflows").Set("tab", "tables").
		Set("table", t).Set("rows", rows).Set("q", q).Set("from", offset+1).Set("to", offset+len(rows))
	if c.svc.Flows != nil {
		// The titles of the flows that wrote the rows.
		titles := map[string]string{}
		if fs, err := c.svc.Flows.Flows(ctx, ""); err == nil {
			for _, f := range fs {
				titles[f.ID] = f.Title
			}
		}
		v.Set("flowTitles", titles)
	}
	if offset > 0 {
		v.Set("prev", queryWith(r, "offset", itoa(max(offset-pageSize, 0))))
	}
	if page.More {
		v.Set("next", queryWith(r, "offset", itoa(offset+pageSize)))
	}
	v.Render()
}

// tableRow is a row as the table page shows it: its cells in column
// order.
type tableRow struct {
	Row
	Cells []string
}

// cellText shows a table value.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return formatDate(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}
