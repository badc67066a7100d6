package console

import (
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// saveFlow serves POST /workflows/flows/{id}: Save of the YAML editor. A
// document that does not validate changes nothing and comes back with its
// problems listed beside their lines.
func (c *Console) saveFlow(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	id := r.PathValue("id")
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, &InputError{Message: "The flow is too large to save (at most 1 MiB)."}, "/workflows/flows/"+id)
		return
	}
	ctx := r.Context()
	text := r.PostFormValue("document")
	f, err := c.svc.Flows.SaveFlow(ctx, id, []byte(text))
	if err != nil {
		var ve *dsl.ValidationError
		if errors.As(err, &ve) {
			cur, gerr := c.svc.Flows.Flow(ctx, id)
			if gerr != nil {
				c.fail(w, r, gerr, "/workflows/flows")
				return
			}
			c.renderFlow(w, r, cur, flowPage{Text: text, Problems: ve.Problems}, http.StatusUnprocessableEntity)
			return
		}
		c.fail(w, r, err, "/workflows/flows/"+id)
		return
	}
	if c.svc.Endpoints != nil && f.Trigger != "" {
		if _, err := c.svc.Endpoints.Ensure(ctx, f.ID); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	c.redirect(w, r, "/workflows/flows/"+f.ID, flashOK, "Version "+itoa(f.Version)+" of "+f.Title+" is saved.")
}
