package console

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// connUse is a connection a flow's connector calls name, with the
// connection type those calls need (the function's vendor: "okta" for
// okta.suspendUser).
type connUse struct {
	Name string
	Kind string
}

// connectionUses lists the connections a flow's calls name, with their
// type, in order of first use. A name used by calls of two vendors is
// listed once per vendor.
func connectionUses(w *dsl.Workflow) []connUse {
	var out []connUse
	w.WalkRefs(func(_ string, t *dsl.Task) {
		c := t.Call
		if c == nil || c.With == nil {
			return
		}
		m, ok := c.With.Value.(map[string]any)
		if !ok {
			return
		}
		name, _ := m["connection"].(string)
		kind, _, found := strings.Cut(c.Function, ".")
		if name == "" || !found {
			return
		}
		u := connUse{Name: name, Kind: kind}
		for _, o := range out {
			if o == u {
				return
			}
		}
		out = append(out, u)
	})
	return out
}

// flowConnections lists the connection names a flow's call tasks use, in
// order of first use.
func flowConnections(w *dsl.Workflow) []string {
	var out []string
	for _, u := range connectionUses(w) {
		if !contains(out, u.Name) {
			out = append(out, u.Name)
		}
	}
	return out
}

// connPickGroup is the flow page's connection picker for one connection
// type: each name the flow's calls use, with the saved connections of that
// type to choose from.
type connPickGroup struct {
	Kind string
	Uses []connPickUse
}

type connPickUse struct {
	// ID is the select's id; From the name the calls use now.
	ID, From string
	// Options are the names of the saved connections of the type; Set
	// tells whether From is one of them.
	Options []string
	Set     bool
}

// connectionPicker groups uses by type, in order of first use, each with
// the saved connections of its type, sorted by name.
func connectionPicker(uses []connUse, saved []Connection) []connPickGroup {
	var out []connPickGroup
	for i, u := range uses {
		g := -1
		for j := range out {
			if out[j].Kind == u.Kind {
				g = j
			}
		}
		if g < 0 {
			out = append(out, connPickGroup{Kind: u.Kind})
			g = len(out) - 1
		}
		pu := connPickUse{ID: fmt.Sprintf("pick-%d", i), From: u.Name}
		for _, cn := range saved {
			if cn.Type == u.Kind {
				pu.Options = append(pu.Options, cn.Name)
				pu.Set = pu.Set || cn.Name == u.Name
			}
		}
		slices.Sort(pu.Options)
		out[g].Uses = append(out[g].Uses, pu)
	}
	return out
}

// repointConnections rewrites a flow document so that the calls of vendor
// kind that name the connection from[i] name to[i] instead, keeping the
// rest of the document. It reports how many calls changed.
func repointConnections(doc []byte, kind string, from, to []string) ([]byte, int, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, 0, fmt.Errorf("read the flow document: %w", err)
	}
	changed := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			var call, with *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				switch n.Content[i].Value {
				case "call":
					call = n.Content[i+1]
				case "with":
					with = n.Content[i+1]
				}
			}
			if call != nil && call.Kind == yaml.ScalarNode && strings.HasPrefix(call.Value, kind+".") && with != nil && with.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(with.Content); i += 2 {
					if with.Content[i].Value != "connection" || with.Content[i+1].Kind != yaml.ScalarNode {
						continue
					}
					for j, old := range from {
						if with.Content[i+1].Value == old && to[j] != old {
							with.Content[i+1].Value, with.Content[i+1].Style = to[j], 0
							changed++
							break
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	if changed == 0 {
		return doc, 0, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, 0, fmt.Errorf("write the flow document: %w", err)
	}
	return buf.Bytes(), changed, nil
}

// pickConnections serves POST /workflows/flows/{id}/connections: the flow
// page's connection picker. For one connection type (kind), each
// connection name the flow's calls use (from) is replaced by the saved
// connection chosen for it (to), and the flow is saved as a new version.
// Calls keep finding their connection by name, so a flow nobody changes
// keeps the names its template gave it.
func (c *Console) pickConnections(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil || c.svc.Connections == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	id := r.PathValue("id")
	back := "/workflows/flows/" + id
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, &InputError{Message: "The form could not be read; try again."}, back)
		return
	}
	ctx := r.Context()
	f, ok := c.flow(w, r, id)
	if !ok {
		return
	}
	kind := r.PostFormValue("kind")
	from, to := r.PostForm["from"], r.PostForm["to"]
	if kind == "" || len(from) == 0 || len(from) != len(to) {
		c.redirect(w, r, back, flashError, "Choose a connection for each call first.")
		return
	}
	list, err := c.svc.Connections.Connections(ctx)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	for _, name := range to {
		ok := false
		for _, cn := range list {
			ok = ok || cn.Name == name && cn.Type == kind
		}
		if !ok {
			c.redirect(w, r, back, flashError, "There is no "+kind+" connection named "+name+"; add it under Connections first.")
			return
		}
	}
	doc, n, err := repointConnections(f.Document, kind, from, to)
	if err != nil {
		c.redirect(w, r, back, flashError, httpjson.Sentence(err.Error()))
		return
	}
	if n == 0 {
		c.redirect(w, r, back, flashOK, "Nothing changed: the calls already use these connections.")
		return
	}
	saved, err := c.svc.Flows.SaveFlow(ctx, id, doc)
	var ve *dsl.ValidationError
	if errors.As(err, &ve) {
		c.redirect(w, r, back, flashError, "The flow was not saved: "+httpjson.Sentence(ve.Error()))
		return
	}
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, back, flashOK, fmt.Sprintf("Version %d of %s is saved: %d %s now %s %s.", saved.Version, saved.Title,
		n, plural(n, "call", "calls"), plural(n, "uses", "use"), strings.Join(uniq(to), ", ")))
}

func uniq(list []string) []string {
	var out []string
	for _, s := range list {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
