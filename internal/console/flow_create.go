package console

import (
	"net/http"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// createFlow serves POST /workflows/flows: Save of the New Flow builder. It
// writes a flow document with the chosen API Endpoint security and the
// "Save all data" choice, stores it in the folder and opens it.
func (c *Console) createFlow(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	if !c.readForm(w, r, "/workflows/flows/new") {
		return
	}
	ctx := r.Context()
	folderID := r.PostFormValue("folder")
	back := "/workflows/flows/new?folder=" + folderID
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		c.redirect(w, r, back, flashError, "Give the flow a name.")
		return
	}
	security := r.PostFormValue("security")
	switch security {
	case dsl.SecurityClientToken, dsl.SecurityOAuth2, dsl.SecurityPublic:
	default:
		c.redirect(w, r, back, flashError, "Add the API Endpoint event and choose how it is secured first.")
		return
	}
	namespace := "default"
	if folderID != "" {
		folders, err := c.svc.Flows.Folders(ctx)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		found := false
		for _, f := range folders {
			if f.ID == folderID {
				namespace, found = slug(f.Name, "default"), true
			}
		}
		if !found {
			c.redirect(w, r, "/workflows/flows/new", flashError, "The folder no longer exists; choose another.")
			return
		}
	}
	doc, err := newFlowDocument(namespace, name, strings.TrimSpace(r.PostFormValue("description")), security, checked(r, "save_all_data"))
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	f, err := c.svc.Flows.CreateFlow(ctx, folderID, doc)
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	if c.svc.Endpoints != nil {
		if _, err := c.svc.Endpoints.Ensure(ctx, f.ID); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	c.redirect(w, r, "/workflows/flows/"+f.ID, flashOK, "The flow "+f.Title+" is saved. It is off until you turn it on.")
}

// newFlowDocument is the document of a new API Endpoint flow: its trigger
// and data settings in document.metadata.vigil, and one task that returns
// what the caller sent, to be replaced in the editor.
func newFlowDocument(namespace, title, summary, security string, saveAll bool) ([]byte, error) {
	type document struct {
		DSL       string         `yaml:"dsl"`
		Namespace string         `yaml:"namespace"`
		Name      string         `yaml:"name"`
		Version   string         `yaml:"version"`
		Title     string         `yaml:"title"`
		Summary   string         `yaml:"summary,omitempty"`
		Metadata  map[string]any `yaml:"metadata"`
	}
	type flow struct {
		Document document         `yaml:"document"`
		Do       []map[string]any `yaml:"do"`
	}
	doc := flow{
		Document: document{DSL: "1.0.0", Namespace: namespace, Name: slug(title, "flow"), Version: "1.0.0", Title: title, Summary: summary,
			Metadata: map[string]any{"vigil": map[string]any{
				"trigger":     map[string]any{"apiEndpoint": map[string]any{"security": security}},
				"saveAllData": saveAll,
			}}},
		Do: []map[string]any{{"respond": map[string]any{"set": map[string]any{"received": "${ .body }"}}}},
	}
	return yaml.Marshal(doc)
}

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes a document name or namespace from a title: lower-case letters,
// digits and single dashes, at most 63 characters.
func slug(s, fallback string) string {
	s = strings.Trim(notSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		return fallback
	}
	return s
}
