package console

import (
	"net/http"
	"strings"
)

// saveSource serves POST /ispm/sources (add) and POST /ispm/sources/{name}
// (edit). The form's Test button (action=test) reads a little from the
// source as configured and shows the result without saving.
func (c *Console) saveSource(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		c.unavailable(w, r, "Sources")
		return
	}
	if !c.readForm(w, r, "/ispm/sources") {
		return
	}
	ctx := r.Context()
	saved := r.PathValue("name")
	in := SourceInput{Name: strings.TrimSpace(r.PostFormValue("name")), Kind: r.PostFormValue("kind"), Primary: checked(r, "primary")}
	if saved != "" {
		s, err := c.svc.Sources.Source(ctx, saved)
		if err != nil {
			c.fail(w, r, err, "/ispm/sources")
			return
		}
		in.Name, in.Kind = s.Name, string(s.Kind)
	}
	ft, ok := formType(c.svc.Sources.SourceKinds(), in.Kind)
	if !ok {
		c.redirect(w, r, "/ispm/sources/new", flashError, "Choose the kind of source first.")
		return
	}
	in.Values = formValues(r, ft)
	form := sourceForm{Editing: saved != "", Name: in.Name, Kind: in.Kind, Primary: in.Primary, Fields: fieldViews(ft, in.Values, saved != "")}

	if r.PostFormValue("action") == "test" {
		res, err := c.svc.Sources.TestSource(ctx, saved, in)
		if err != nil {
			if msg, ok := userMessage(err); ok {
				res = CheckResult{Message: msg}
			} else {
				c.serverError(w, r, err)
				return
			}
		}
		form.Result = &res
		c.renderSourceForm(w, r, form, http.StatusOK)
		return
	}

	var err error
	if saved == "" {
		err = c.svc.Sources.AddSource(ctx, in)
	} else {
		err = c.svc.Sources.UpdateSource(ctx, saved, in)
	}
	if err != nil {
		if msg, ok := userMessage(err); ok {
			form.Error = msg
			c.renderSourceForm(w, r, form, http.StatusUnprocessableEntity)
			return
		}
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/ispm/sources", flashOK, "The source "+in.Name+" is saved. Scan it to see its issues.")
}
