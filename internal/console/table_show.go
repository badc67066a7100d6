package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// showTable serves GET /workflows/tables/{id}?q=: the rows, newest first,
// with search and CSV export.
func (c *Console) showTable(w http.ResponseWriter, r *http.Request) {
	if c.svc.Tables == nil {
		c.unavailable(w, r, "Tables")
		return
	}
	ctx := r.Context()
	t, err := c.svc.Tables.Table(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err, "/workflows/tables")
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	offset := offsetParam(r)
	page, err := c.svc.Tables.Rows(ctx, t.ID, q, pageSize, offset)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	rows := make([][]string, 0, len(page.Rows))
	for _, row := range page.Rows {
		cells := make([]string, 0, len(t.Columns))
		for _, col := range t.Columns {
			cells = append(cells, cellText(row.Values[col.Name]))
		}
		rows = append(rows, cells)
	}
	v := c.view(w, r, "table_show", t.Name, "workflows").Set("tab", "tables").
		Set("table", t).Set("rows", rows).Set("q", q).Set("from", offset+1).Set("to", offset+len(rows))
	if offset > 0 {
		v.Set("prev", queryWith(r, "offset", itoa(max(offset-pageSize, 0))))
	}
	if page.More {
		v.Set("next", queryWith(r, "offset", itoa(offset+pageSize)))
	}
	v.Render()
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
