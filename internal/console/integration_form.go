package console

import (
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/hooks"
)

// keyRow is one API key entry of the Connect form. Value is what the user
// typed in this form (kept so that Test Connection then Save works); it is
// empty for a saved entry, which keeps its stored value.
type keyRow struct {
	Name      string
	Placement hooks.Placement
	Value     string
	Masked    string
}

// integrationForm is the data of the Connect form.
type integrationForm struct {
	ID    string
	Name  string
	URL   string
	Keys  []keyRow
	Place hooks.Placement
	// Result is the outcome of Test Connection.
	Result *hooks.TestResult
	Error  string
	Field  string
}

func (c *Console) renderIntegrationForm(w http.ResponseWriter, r *http.Request, f integrationForm, status int) {
	title := "Connect a webhook"
	if f.ID != "" {
		title = "Edit " + f.Name
	}
	if f.Place == "" {
		f.Place = hooks.PlaceParam
	}
	c.view(w, r, "integration_form", title, "ispm").Set("tab", "integrations").Set("form", f).Status(status).Render()
}

// showConnectWebhookForm serves GET /ispm/settings/integrations/webhook:
// the Webhook tile's Connect form.
func (c *Console) showConnectWebhookForm(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	c.renderIntegrationForm(w, r, integrationForm{Name: "Webhook"}, http.StatusOK)
}

// showEditIntegrationForm serves GET /ispm/settings/integrations/{id}/edit.
func (c *Console) showEditIntegrationForm(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	h, err := c.svc.Hooks.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err, "/ispm/settings/integrations")
		return
	}
	f := integrationForm{ID: h.ID, Name: h.Name, URL: h.URL}
	for _, k := range h.Keys {
		f.Keys = append(f.Keys, keyRow{Name: k.Name, Placement: k.Placement, Masked: k.Masked})
	}
	c.renderIntegrationForm(w, r, f, http.StatusOK)
}

// readIntegrationForm reads the Connect form: name, URL, the listed key
// entries and the entry being typed (as if "+" had been pressed).
func readIntegrationForm(r *http.Request) (integrationForm, hooks.Input) {
	f := integrationForm{Name: strings.TrimSpace(r.PostFormValue("name")), URL: strings.TrimSpace(r.PostFormValue("url")),
		Place: hooks.Placement(r.PostFormValue("key_place_new"))}
	if f.Place != hooks.PlaceHeader {
		f.Place = hooks.PlaceParam
	}
	names, places, values := r.PostForm["key_name"], r.PostForm["key_place"], r.PostForm["key_value"]
	masked := r.PostForm["key_masked"]
	for i, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		row := keyRow{Name: n, Placement: hooks.PlaceParam}
		if i < len(places) && places[i] == string(hooks.PlaceHeader) {
			row.Placement = hooks.PlaceHeader
		}
		if i < len(values) {
			row.Value = values[i]
		}
		if i < len(masked) {
			row.Masked = masked[i]
		}
		f.Keys = append(f.Keys, row)
	}
	if n := strings.TrimSpace(r.PostFormValue("key_name_new")); n != "" {
		f.Keys = append(f.Keys, keyRow{Name: n, Placement: f.Place, Value: r.PostFormValue("key_value_new")})
	}
	in := hooks.Input{Name: f.Name, URL: f.URL}
	for _, k := range f.Keys {
		in.Keys = append(in.Keys, hooks.Key{Name: k.Name, Placement: k.Placement, Value: k.Value})
	}
	return f, in
}
