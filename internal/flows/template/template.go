// Package template is the catalog of flow templates: ready-made folders of
// flows and tables, such as "Identity Security Posture Management", that an
// admin adds in one step and then connects.
//
// Templates are embedded in the binary, one directory each under bundles/:
// a template.yaml (title, description, search keywords, variables) and a
// flows/ directory holding the template's bundle in the format of `vigil
// flows export`: a bundle.yaml with the tables and connections, and one
// Serverless Workflow document per flow. A flow may hold template
// variables written {{name}}; Add replaces them with the values given (an
// unset variable becomes empty, and the flows that need it stop with a
// clear error when they run). Values are restricted to characters that
// cannot change the YAML or jq they land in.
//
// Adding a template always creates a new folder: "Identity Security
// Posture Management", then "Identity Security Posture Management (2)",
// and so on. Its flows are added off, to be connected and turned on.
// CheckNew tells first whether the folder exists, so that the console, the
// API and the CLI add a second copy only when asked to.
package template

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

//go:embed bundles
var embedded embed.FS

// Template is a template as the catalog shows it.
type Template struct {
	// Name identifies the template: identity-security-posture-management.
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Keywords    []string `json:"keywords"`
	// FlowCount is how many flows adding the template creates.
	FlowCount int `json:"flowCount"`
	// Flows lists the titles of the flows, in order.
	Flows []string `json:"flows"`
	// Connections are the connections the flows use, which the admin sets
	// before turning the flows on.
	Connections []Connection `json:"connections"`
	Variables   []Variable   `json:"variables"`
	Tables      []Table      `json:"tables"`

	files []bundleFile
}

// Connection is a connection a template's flows use.
type Connection struct {
	// Name is the name the flows look the connection up by, such as Okta.
	Name string `json:"name"`
	// Kind is the connection's kind, such as okta.
	Kind string `json:"kind"`
	// Flows are the titles of the flows that use it.
	Flows []string `json:"flows"`
}

// Variable is a setting given when the template is added.
type Variable struct {
	Name string `json:"name" yaml:"name"`
	// Label is the name a form shows, such as "Okta MFA group id".
	Label       string `json:"label" yaml:"label"`
	Description string `json:"description" yaml:"description"`
	Example     string `json:"example,omitempty" yaml:"example"`
	// Flows are the titles of the flows that use it.
	Flows []string `json:"flows" yaml:"-"`
}

// Table is a table the template creates in its folder.
type Table struct {
	Name    string           `json:"name"`
	Columns []catalog.Column `json:"columns"`
}

// bundleFile is a file of a template's flows/ directory, as embedded.
type bundleFile struct {
	name string
	src  []byte
}

// manifest is template.yaml.
type manifest struct {
	Name        string     `yaml:"name"`
	Title       string     `yaml:"title"`
	Description string     `yaml:"description"`
	Keywords    []string   `yaml:"keywords"`
	Variables   []Variable `yaml:"variables"`
}

// placeholder is a template variable in a flow.
var placeholder = regexp.MustCompile(`\{\{([A-Za-z][A-Za-z0-9]*)\}\}`)

// Catalog holds the templates. It is read-only and safe for concurrent use.
type Catalog struct {
	templates []*Template
}

// Load reads the embedded templates. It fails only if a template shipped
// with Vigil is malformed, which the package's tests rule out.
func Load() (*Catalog, error) {
	sub, err := fs.Sub(embedded, "bundles")
	if err != nil {
		return nil, err
	}
	return LoadFS(sub)
}

// LoadFS reads templates from fsys, one directory each.
func LoadFS(fsys fs.FS) (*Catalog, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read templates: %w", err)
	}
	c := &Catalog{}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t, err := loadTemplate(fsys, d.Name())
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", d.Name(), err)
		}
		c.templates = append(c.templates, t)
	}
	sort.Slice(c.templates, func(i, j int) bool { return c.templates[i].Title < c.templates[j].Title })
	return c, nil
}

func loadTemplate(fsys fs.FS, dir string) (*Template, error) {
	raw, err := fs.ReadFile(fsys, path.Join(dir, "template.yaml"))
	if err != nil {
		return nil, err
	}
	var m manifest
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	if m.Name != dir || m.Title == "" {
		return nil, fmt.Errorf("template.yaml: name must be %q and title set", dir)
	}
	for _, v := range m.Variables {
		if v.Label == "" {
			return nil, fmt.Errorf("template.yaml: the variable %s has no label", v.Name)
		}
	}
	t := &Template{Name: m.Name, Title: m.Title, Description: strings.TrimSpace(m.Description), Keywords: m.Keywords,
		Variables: m.Variables}
	entries, err := fs.ReadDir(fsys, path.Join(dir, "flows"))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		src, err := fs.ReadFile(fsys, path.Join(dir, "flows", e.Name()))
		if err != nil {
			return nil, err
		}
		t.files = append(t.files, bundleFile{name: e.Name(), src: src})
		for _, m := range placeholder.FindAllSubmatch(src, -1) {
			if !slices.ContainsFunc(t.Variables, func(v Variable) bool { return v.Name == string(m[1]) }) {
				return nil, fmt.Errorf("%s uses the variable %s, which template.yaml does not declare", e.Name(), m[1])
			}
		}
	}
	// Read the bundle as added with every variable empty.
	b, err := t.bundle(nil)
	if err != nil {
		return nil, err
	}
	for _, tb := range b.Tables {
		t.Tables = append(t.Tables, Table{Name: tb.Name, Columns: tb.Columns})
	}
	conns := map[string]*Connection{}
	for _, f := range t.files {
		part, err := flows.ParseSource(substitute(f.src, nil), f.name)
		if err != nil {
			return nil, err
		}
		for _, bf := range part.Flows {
			w, err := dsl.Parse(bf.Document)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", bf.Source, err)
			}
			title := w.Document.Title
			t.Flows = append(t.Flows, title)
			for _, m := range placeholder.FindAllSubmatch(f.src, -1) {
				v := &t.Variables[slices.IndexFunc(t.Variables, func(v Variable) bool { return v.Name == string(m[1]) })]
				if !slices.Contains(v.Flows, title) {
					v.Flows = append(v.Flows, title)
				}
			}
			for _, u := range connectionUses(w) {
				c := conns[u.Name]
				if c == nil {
					c = &Connection{Name: u.Name, Kind: u.Kind}
					conns[u.Name] = c
				}
				if !slices.Contains(c.Flows, title) {
					c.Flows = append(c.Flows, title)
				}
			}
		}
	}
	t.FlowCount = len(b.Flows)
	for _, c := range conns {
		t.Connections = append(t.Connections, *c)
	}
	sort.Slice(t.Connections, func(i, j int) bool { return t.Connections[i].Flows[0] < t.Connections[j].Flows[0] })
	return t, nil
}

// bundle returns the template's bundle with vars replaced.
func (t *Template) bundle(vars map[string]string) (*flows.Bundle, error) {
	var parts []*flows.Bundle
	for _, f := range t.files {
		b, err := flows.ParseSource(substitute(f.src, vars), f.name)
		if err != nil {
			return nil, err
		}
		parts = append(parts, b)
	}
	b, err := flows.Merge(parts...)
	if err != nil {
		return nil, err
	}
	b.Folder = t.Title
	return b, nil
}

// connectionUses lists the connections a flow names literally in catalog
// calls (`call: okta.suspendUser` with `connection: Okta`), with the kind
// the function's prefix names.
func connectionUses(w *dsl.Workflow) []Connection {
	var out []Connection
	w.WalkRefs(func(_ string, t *dsl.Task) {
		if c := t.Call; c != nil && c.HTTP == nil && c.OpenAPI == nil && c.With != nil {
			args, _ := c.With.Value.(map[string]any)
			if name, ok := args["connection"].(string); ok && name != "" {
				kind, _, _ := strings.Cut(c.Function, ".")
				out = append(out, Connection{Name: name, Kind: kind})
			}
		}
	})
	return out
}

// List returns every template, by title.
func (c *Catalog) List() []*Template { return slices.Clone(c.templates) }

// Search returns the templates whose name, title, keywords or description
// contain every word of q, compared without case. An empty q lists all.
func (c *Catalog) Search(q string) []*Template {
	words := strings.Fields(strings.ToLower(q))
	var out []*Template
	for _, t := range c.templates {
		hay := strings.ToLower(t.Name + " " + t.Title + " " + strings.Join(t.Keywords, " ") + " " + t.Description)
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(hay, w) }) {
			out = append(out, t)
		}
	}
	return out
}

// ErrNotFound is matched by the error of a template name that is not in
// the catalog.
var ErrNotFound = errors.New("template not found")

// Get returns the template with that name (or title, compared without
// case).
func (c *Catalog) Get(name string) (*Template, error) {
	for _, t := range c.templates {
		if t.Name == name || strings.EqualFold(t.Title, name) {
			return t, nil
		}
	}
	var names []string
	for _, t := range c.Search(name) {
		names = append(names, t.Name)
	}
	hint := "; list them with vigil templates list"
	if len(names) > 0 {
		hint = "; did you mean " + strings.Join(names, " or ") + "?"
	}
	return nil, &notFoundError{msg: fmt.Sprintf("there is no template %q%s", name, hint)}
}

// notFoundError is the error of Get; it matches ErrNotFound.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrNotFound) true for every template not found.
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// Rendered is a template with its variables replaced: what Add installs.
type Rendered struct {
	Template *Template
	// Bundle holds the flows, with the variables replaced, and the
	// tables, ready for the flows service's Import.
	Bundle *flows.Bundle
}

// validValue is what a variable's value may hold: enough for ids, keys,
// channel names and emails, and nothing that could end the YAML string or
// the jq string literal it is written into.
var validValue = regexp.MustCompile(`^[A-Za-z0-9 _.:@#/+=,-]*$`)

// maxValueLen bounds a variable's value.
const maxValueLen = 200

// Render replaces the template's variables with vars. A variable left out
// or empty becomes empty; a name the template does not declare, or a value
// with characters outside letters, digits, spaces and _ . : @ # / + = , -,
// is an error naming it.
func (t *Template) Render(vars map[string]string) (*Rendered, error) {
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if !slices.ContainsFunc(t.Variables, func(v Variable) bool { return v.Name == k }) {
			names := make([]string, len(t.Variables))
			for i, v := range t.Variables {
				names[i] = v.Name
			}
			return nil, fmt.Errorf("the template %s has no variable %q; its variables are %s", t.Name, k, strings.Join(names, ", "))
		}
		v := vars[k]
		if len(v) > maxValueLen {
			return nil, fmt.Errorf("the value of %s is longer than %d characters", k, maxValueLen)
		}
		if !validValue.MatchString(v) {
			return nil, fmt.Errorf("the value of %s may contain only letters, digits, spaces and _ . : @ # / + = , -", k)
		}
	}
	b, err := t.bundle(vars)
	if err != nil {
		return nil, err
	}
	return &Rendered{Template: t, Bundle: b}, nil
}

// substitute replaces every {{name}} with vars[name] (empty when unset).
func substitute(src []byte, vars map[string]string) []byte {
	return placeholder.ReplaceAllFunc(src, func(m []byte) []byte {
		return []byte(vars[string(placeholder.FindSubmatch(m)[1])])
	})
}

// Installer creates a folder with the flows and tables of a rendered
// template. The flows service provides it.
type Installer interface {
	// FolderExists tells whether a folder has that name.
	FolderExists(ctx context.Context, name string) (bool, error)
	// Install creates the folder, its tables and its flows, all off, in
	// one transaction: all or nothing. When the folder exists already it
	// returns an error matching ErrFolderTaken and changes nothing.
	Install(ctx context.Context, folder string, r *Rendered) error
}

// ErrFolderTaken is matched by an Installer's error when the folder it
// was asked to create exists.
var ErrFolderTaken = errors.New("folder name taken")

// maxFolderTries bounds the search for a free folder name.
const maxFolderTries = 100

// Added says what Add created.
type Added struct {
	Template string `json:"template"`
	// Folder is the folder created, such as "Identity Security Posture
	// Management (2)".
	Folder string   `json:"folder"`
	Flows  []string `json:"flows"`
	Tables []string `json:"tables"`
	// Connections are the connections to set before turning flows on.
	Connections []Connection `json:"connections"`
	// Unset lists the variables left empty, whose flows will stop with an
	// error until they are set.
	Unset []string `json:"unset,omitempty"`
}

// ErrPresent is matched by CheckNew's error when the template's folder
// exists already.
var ErrPresent = errors.New("template already added")

// PresentError is CheckNew's error: the folder that holds the template.
type PresentError struct {
	Template string
	Folder   string
}

func (e *PresentError) Error() string {
	return fmt.Sprintf("the folder %q exists already: adding the template %s again makes a second folder with its own flows and invoke URLs", e.Folder, e.Template)
}

// Is makes a PresentError match ErrPresent.
func (e *PresentError) Is(target error) bool { return target == ErrPresent }

// CheckNew returns a *PresentError when the folder Add would make first
// (folder, or the template's title when empty) exists already. Add itself
// then makes "… (2)", a second copy of every flow with its own invoke URL,
// which is rarely what a second click means: callers ask before they add
// again.
func (c *Catalog) CheckNew(ctx context.Context, inst Installer, name, folder string) error {
	t, err := c.Get(name)
	if err != nil {
		return err
	}
	base := strings.TrimSpace(folder)
	if base == "" {
		base = t.Title
	}
	taken, err := inst.FolderExists(ctx, base)
	if err != nil {
		return err
	}
	if taken {
		return &PresentError{Template: t.Name, Folder: base}
	}
	return nil
}

// Add renders the template named name with vars and installs it in a new
// folder: folder, or the template's title when empty, followed by " (2)",
// " (3)"… when that name is taken. The flows are added off.
func (c *Catalog) Add(ctx context.Context, inst Installer, name, folder string, vars map[string]string) (*Added, error) {
	t, err := c.Get(name)
	if err != nil {
		return nil, err
	}
	r, err := t.Render(vars)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSpace(folder)
	if base == "" {
		base = t.Title
	}
	for n := 1; n <= maxFolderTries; n++ {
		candidate := base
		if n > 1 {
			candidate = fmt.Sprintf("%s (%d)", base, n)
		}
		taken, err := inst.FolderExists(ctx, candidate)
		if err != nil {
			return nil, err
		}
		if taken {
			continue
		}
		err = inst.Install(ctx, candidate, r)
		if errors.Is(err, ErrFolderTaken) {
			continue // added by someone else meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("add template %s to folder %q: %w", t.Name, candidate, err)
		}
		added := &Added{Template: t.Name, Folder: candidate, Flows: t.Flows, Connections: t.Connections}
		for _, tb := range t.Tables {
			added.Tables = append(added.Tables, tb.Name)
		}
		for _, v := range t.Variables {
			if vars[v.Name] == "" {
				added.Unset = append(added.Unset, v.Name)
			}
		}
		return added, nil
	}
	return nil, fmt.Errorf("add template %s: the folders %q to %q all exist; choose another with --folder", t.Name, base, fmt.Sprintf("%s (%d)", base, maxFolderTries))
}
