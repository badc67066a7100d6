package console

import (
	"net/http"
	"strconv"
	"strings"
)

// pager is the data of the "pager" template: where a page starts and the
// links to the pages around it.
type pager struct {
	Total, Limit, Offset, End int
	Prev, Next                string
}

// pageSize is how many rows a list shows at once.
const pageSize = 50

// offsetParam reads ?offset=, bounded to 0…1,000,000.
func offsetParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("offset"))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, 1_000_000)
}

func newPager(r *http.Request, total, limit, offset int) pager {
	p := pager{Total: total, Limit: limit, Offset: offset, End: min(offset+limit, total)}
	p.Prev = queryWith(r, "offset", strconv.Itoa(max(offset-limit, 0)))
	if offset-limit <= 0 {
		p.Prev = queryWith(r, "offset", "")
	}
	p.Next = queryWith(r, "offset", strconv.Itoa(offset+limit))
	return p
}

// fieldView is the data of the "field" template.
type fieldView struct {
	Field Field
	Value string
	// Saved tells a secret field that a value is stored, so it may be
	// left empty.
	Saved bool
}

// fieldViews pairs a form type's fields with their current values.
func fieldViews(ft FormType, values map[string]string, saved bool) []fieldView {
	out := make([]fieldView, 0, len(ft.Fields))
	for _, f := range ft.Fields {
		out = append(out, fieldView{Field: f, Value: values[f.Name], Saved: saved})
	}
	return out
}

// formValues reads the v_<name> inputs of a form type's fields.
func formValues(r *http.Request, ft FormType) map[string]string {
	out := make(map[string]string, len(ft.Fields))
	for _, f := range ft.Fields {
		v := r.PostFormValue("v_" + f.Name)
		if f.Kind != "textarea" {
			v = strings.TrimSpace(v)
		}
		if v != "" {
			out[f.Name] = v
		}
	}
	return out
}

// formType finds the form type named t.
func formType(types []FormType, t string) (FormType, bool) {
	for _, ft := range types {
		if ft.Type == t {
			return ft, true
		}
	}
	return FormType{}, false
}

// checked reads a checkbox.
func checked(r *http.Request, name string) bool {
	switch r.PostFormValue(name) {
	case "on", "true", "1", "yes":
		return true
	}
	return false
}

// readForm parses the posted form; when it cannot, it answers that the form
// could not be read, sends the user back, and returns false.
func (c *Console) readForm(w http.ResponseWriter, r *http.Request, back string) bool {
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, &InputError{Message: "The form could not be read."}, back)
		return false
	}
	return true
}

// parseForm reads a POST body of at most 1 MiB.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	return r.ParseForm()
}
