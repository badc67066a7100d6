package api

import (
	"bytes"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// unsafeFileChars are replaced in the file name of a CSV export, so that
// a table's name cannot break the Content-Disposition header.
var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// RowPage is one page of GET /api/v1/tables/{id}/rows.
type RowPage struct {
	Rows []map[string]any `json:"rows"`
	// NextOffset is the offset of the next page, absent on the last.
	NextOffset *int `json:"nextOffset,omitempty"`
}

// tableNamed returns the table whose id is in the path.
func (a *API) tableNamed(r *http.Request) (*flows.TableInfo, error) {
	ref := r.PathValue("id")
	t, err := a.svc.Flows.Table(r.Context(), "", ref)
	if errors.Is(err, flows.ErrNotFound) {
		return nil, notFound("No table has the id %q; GET /api/v1/folders/{id}/tables lists them.", ref)
	}
	return t, err
}

// listTables serves GET /api/v1/folders/{id}/tables: the folder's tables
// by name, with their columns and row counts.
func (a *API) listTables(w http.ResponseWriter, r *http.Request) error {
	f, err := a.folderNamed(r)
	if err != nil {
		return err
	}
	list, err := a.svc.Flows.Tables(r.Context(), f.ID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*flows.TableInfo{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"tables": list})
	return nil
}

// listRows serves GET /api/v1/tables/{id}/rows (?limit=, ?offset=): rows
// in the order they were added, as flows see them. The limit is that of
// the tables.searchRows function, so a page is never larger than what a
// flow may read at once.
func (a *API) listRows(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r, catalog.DefaultLimit, catalog.MaxLimit)
	if err != nil {
		return err
	}
	offset := 0
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return invalid("offset", "The offset must be a number from 0 up.")
		}
	}
	t, err := a.tableNamed(r)
	if err != nil {
		return err
	}
	rows, err := a.svc.Flows.TableRows(r.Context(), t.ID, catalog.Query{Limit: n, Offset: offset})
	if err != nil {
		return err
	}
	page := RowPage{Rows: rows}
	if page.Rows == nil {
		page.Rows = []map[string]any{}
	}
	if len(rows) == n {
		next := offset + n
		page.NextOffset = &next
	}
	httpjson.Write(w, http.StatusOK, page)
	return nil
}

// exportTable serves GET /api/v1/tables/{id}/export.csv: every row as
// CSV. The file is built before the first byte is sent, so that a failure
// is answered as an error rather than as a cut-off file.
func (a *API) exportTable(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tableNamed(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := a.svc.Flows.WriteTableCSV(r.Context(), &buf, t.ID); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+unsafeFileChars.ReplaceAllString(t.Name, "-")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
	return nil
}
