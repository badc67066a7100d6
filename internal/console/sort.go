package console

import "net/http"

// sortColumn is a column of a sortable list: Key is the name the query's
// sort= uses, which the store maps to its column; a column without a Key
// is shown but not sortable.
type sortColumn struct {
	Key, Label string
	// Class is the header cell's class ("num" for numbers).
	Class string
}

// sortHeader is a column header as a list renders it: a link that sorts by
// its column, ascending first and descending when it is sorted ascending
// already, keeping the filters and going back to the first page.
type sortHeader struct {
	Label, Href, Class string
	// Aria is the header's aria-sort: ascending, descending or none; Href
	// and Aria are empty for a column that cannot be sorted.
	Aria  string
	Arrow string
}

// readSort reads ?sort= and ?dir= for a list of cols: a sort key that is
// not a column's is no sort (""), so only known names reach the store.
func readSort(r *http.Request, cols []sortColumn) (key string, desc bool) {
	q := r.URL.Query()
	for _, c := range cols {
		if c.Key != "" && c.Key == q.Get("sort") {
			return c.Key, q.Get("dir") == "desc"
		}
	}
	return "", false
}

// sortHeaders builds the headers of cols for a list sorted by key (desc
// when descending); def and defDesc are the order of a list with no sort.
func sortHeaders(r *http.Request, cols []sortColumn, key string, desc bool, def string, defDesc bool) []sortHeader {
	if key == "" {
		key, desc = def, defDesc
	}
	out := make([]sortHeader, len(cols))
	for i, c := range cols {
		h := sortHeader{Label: c.Label, Class: c.Class}
		if c.Key == "" {
			out[i] = h
			continue
		}
		h.Aria = "none"
		dir := "asc"
		if c.Key == key {
			h.Aria, h.Arrow = "ascending", " ▲"
			if desc {
				h.Aria, h.Arrow = "descending", " ▼"
			} else {
				dir = "desc"
			}
		}
		h.Href = queryWith(r, "sort", c.Key, "dir", dir, "offset", "", "after", "", "before", "")
		out[i] = h
	}
	return out
}
