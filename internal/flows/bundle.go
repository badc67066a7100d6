package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/store"
)

// BundleVersion is the version of the bundle format this Vigil writes and
// reads (the vigilBundle key).
const BundleVersion = 1

// Bundle is what `vigil flows export` writes and `vigil flows import`
// reads: a folder's flows, its tables' schemas and the connections the
// flows name (references only, never credentials). docs/flows.md
// defines the format; the templates package embeds bundles.
type Bundle struct {
	// Folder is the folder the bundle was exported from; import puts the
	// flows in the folder the user names.
	Folder      string
	Description string
	Connections []ConnectionRef
	Tables      []BundleTable
	Flows       []BundleFlow
}

// BundleTable is a table's schema in a bundle.
type BundleTable struct {
	Name        string           `yaml:"name"`
	Description string           `yaml:"description,omitempty"`
	Columns     []catalog.Column `yaml:"columns"`
}

// BundleFlow is one flow of a bundle.
type BundleFlow struct {
	// Document is the flow's document text, YAML or JSON.
	Document []byte
	// Source says where the flow came from (a file, a bundle item), for
	// messages.
	Source string
}

// MaxBundleSize bounds a bundle file.
const MaxBundleSize = 32 << 20

// ParseSource reads a file's contents: a bundle (a YAML mapping with a
// vigilBundle key) or a single flow document, returned as a bundle of
// one flow. name is used in messages.
func ParseSource(data []byte, name string) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, invalid(fmt.Errorf("%s is larger than %d bytes", name, MaxBundleSize))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// Not YAML at all: let the flow parser say what is wrong, with
		// its line.
		return &Bundle{Flows: []BundleFlow{{Document: data, Source: name}}}, nil
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode || mapValue(doc.Content[0], "vigilBundle") == nil {
		return &Bundle{Flows: []BundleFlow{{Document: data, Source: name}}}, nil
	}
	return parseBundle(doc.Content[0], name)
}

// IsBundle tells whether data is a bundle rather than a flow document.
func IsBundle(data []byte) bool {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false
	}
	return mapValue(doc.Content[0], "vigilBundle") != nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func parseBundle(m *yaml.Node, name string) (*Bundle, error) {
	b := &Bundle{}
	bad := func(n *yaml.Node, format string, args ...any) error {
		return invalid(fmt.Errorf("%s: line %d: %s", name, n.Line, fmt.Sprintf(format, args...)))
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch k.Value {
		case "vigilBundle":
			var ver int
			if err := v.Decode(&ver); err != nil || ver != BundleVersion {
				return nil, bad(v, "vigilBundle %s is not supported; this Vigil reads version %d", v.Value, BundleVersion)
			}
		case "folder":
			if err := v.Decode(&b.Folder); err != nil {
				return nil, bad(v, "folder: expected a string")
			}
		case "description":
			if err := v.Decode(&b.Description); err != nil {
				return nil, bad(v, "description: expected a string")
			}
		case "connections":
			if err := decodeStrict(v, &b.Connections); err != nil {
				return nil, bad(v, "connections: %v", err)
			}
		case "tables":
			if err := decodeStrict(v, &b.Tables); err != nil {
				return nil, bad(v, "tables: %v", err)
			}
		case "flows":
			if v.Kind != yaml.SequenceNode {
				return nil, bad(v, "flows: expected a list of flow documents")
			}
			for j, fn := range v.Content {
				if fn.Kind != yaml.MappingNode {
					return nil, bad(fn, "flows[%d]: expected a flow document", j)
				}
				text, err := dsl.EncodeYAML(fn)
				if err != nil {
					return nil, bad(fn, "flows[%d]: %v", j, err)
				}
				b.Flows = append(b.Flows, BundleFlow{Document: text, Source: fmt.Sprintf("%s: flows[%d] (line %d)", name, j, fn.Line)})
			}
		default:
			return nil, bad(k, "unknown key %q; a bundle has vigilBundle, folder, description, connections, tables and flows", k.Value)
		}
	}
	return b, nil
}

// decodeStrict decodes n into v, refusing unknown fields.
func decodeStrict(n *yaml.Node, v any) error {
	text, err := dsl.EncodeYAML(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	err = dec.Decode(v)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// LoadPath reads a flow file, a bundle file, or a directory of such files
// (*.yaml, *.yml and *.json, not recursive), as one bundle.
func LoadPath(path string) (*Bundle, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if !st.IsDir() {
		return loadFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read directory %s: %w", path, err)
	}
	var parts []*Bundle
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
		default:
			continue
		}
		if e.IsDir() {
			continue
		}
		b, err := loadFile(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, err
		}
		parts = append(parts, b)
	}
	if len(parts) == 0 {
		return nil, invalid(fmt.Errorf("directory %s holds no .yaml, .yml or .json file", path))
	}
	return Merge(parts...)
}

func loadFile(path string) (*Bundle, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the bundle file
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return ParseSource(data, path)
}

// Merge combines bundles: their flows, tables and connections. Two tables
// of the same name must have the same columns.
func Merge(parts ...*Bundle) (*Bundle, error) {
	out := &Bundle{}
	tables := map[string]BundleTable{}
	conns := map[ConnectionRef]bool{}
	for _, b := range parts {
		if out.Folder == "" {
			out.Folder = b.Folder
		}
		if out.Description == "" {
			out.Description = b.Description
		}
		out.Flows = append(out.Flows, b.Flows...)
		for _, t := range b.Tables {
			if prev, ok := tables[t.Name]; ok {
				if !slices.Equal(prev.Columns, t.Columns) {
					return nil, invalid(fmt.Errorf("table %q is defined twice with different columns", t.Name))
				}
				continue
			}
			tables[t.Name] = t
			out.Tables = append(out.Tables, t)
		}
		for _, c := range b.Connections {
			if !conns[c] {
				conns[c] = true
				out.Connections = append(out.Connections, c)
			}
		}
	}
	return out, nil
}

// Marshal writes the bundle in its YAML format.
func (b *Bundle) Marshal() ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node) {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
	scalar := func(v any) *yaml.Node {
		n := &yaml.Node{}
		_ = n.Encode(v)
		return n
	}
	add("vigilBundle", scalar(BundleVersion))
	if b.Folder != "" {
		add("folder", scalar(b.Folder))
	}
	if b.Description != "" {
		add("description", scalar(b.Description))
	}
	if len(b.Connections) > 0 {
		add("connections", scalar(b.Connections))
	}
	if len(b.Tables) > 0 {
		add("tables", scalar(b.Tables))
	}
	flows := &yaml.Node{Kind: yaml.SequenceNode}
	for _, f := range b.Flows {
		var doc yaml.Node
		if err := yaml.Unmarshal(f.Document, &doc); err != nil || len(doc.Content) == 0 {
			return nil, fmt.Errorf("flow %s is not a YAML or JSON document: %v", f.Source, err) //nolint:errorlint // err is nil for an empty document, which %v prints plainly
		}
		n := doc.Content[0]
		blockStyle(n)
		if doc.HeadComment != "" && n.HeadComment == "" {
			n.HeadComment = doc.HeadComment
		}
		flows.Content = append(flows.Content, n)
	}
	add("flows", flows)
	return dsl.EncodeYAML(root)
}

// blockStyle turns JSON's flow style into YAML's block style, for
// readable bundles.
func blockStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// Export returns a folder's bundle: the current version of every flow,
// the tables' schemas, and the connections the flows name.
func (s *Service) Export(ctx context.Context, folderID string) (*Bundle, error) {
	f, err := s.st.FlowFolder(ctx, folderID)
	if err != nil {
		return nil, fmt.Errorf("read folder %s: %w", folderID, err)
	}
	b := &Bundle{Folder: f.Name, Description: f.Description}
	flows, err := s.Flows(ctx, ListFlowsParams{FolderID: folderID})
	if err != nil {
		return nil, err
	}
	conns := map[ConnectionRef]bool{}
	for _, fl := range flows {
		v, err := s.st.FlowVersion(ctx, fl.ID, fl.Version)
		if err != nil {
			return nil, fmt.Errorf("read flow %q: %w", fl.Title, err)
		}
		b.Flows = append(b.Flows, BundleFlow{Document: []byte(v.Document), Source: fl.Title})
		if w, err := s.workflow(ctx, fl.ID, fl.Version); err == nil {
			for _, c := range Connections(s.cfg.Catalog, w) {
				conns[c] = true
			}
		}
	}
	for c := range conns {
		b.Connections = append(b.Connections, c)
	}
	sort.Slice(b.Connections, func(i, j int) bool { return b.Connections[i].Name < b.Connections[j].Name })
	tables, err := s.Tables(ctx, folderID)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		b.Tables = append(b.Tables, BundleTable{Name: t.Name, Description: t.Description, Columns: t.Columns})
	}
	return b, nil
}

// ImportParams describe an import.
type ImportParams struct {
	// Folder is the name of the folder to import into, created if needed.
	Folder string
	Bundle *Bundle
	// On turns every imported flow on.
	On bool
	// By names who imported, for the version history.
	By string
}

// Import statuses of flows and tables.
const (
	ImportCreated   = "created"
	ImportUpdated   = "updated"
	ImportUnchanged = "unchanged"
)

// ImportResult tells what an import did.
type ImportResult struct {
	Folder      *Folder         `json:"folder"`
	Flows       []ImportedFlow  `json:"flows"`
	Tables      []ImportedTable `json:"tables"`
	Connections []ConnectionRef `json:"connections"`
}

// ImportedFlow is a flow an import saved.
type ImportedFlow struct {
	Flow   *Flow  `json:"flow"`
	Status string `json:"status"`
}

// ImportedTable is a table an import created or extended.
type ImportedTable struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Import saves a bundle's tables and flows into a folder, in one
// transaction: every flow is validated first, and a bundle with any
// problem changes nothing (the error wraps ErrInvalid and lists each
// problem with the flow it is in). A flow that exists in the folder
// (same namespace and name) gets a new version when its document
// changed. Existing tables gain the bundle's new columns; a column whose
// type differs is refused. With On, the flows are turned on afterwards;
// those whose connections are not set stay off, and the error says why
// while the result still tells what was imported.
func (s *Service) Import(ctx context.Context, p ImportParams) (*ImportResult, error) {
	defer s.flowsChanged()
	b := p.Bundle
	if b == nil || (len(b.Flows) == 0 && len(b.Tables) == 0) {
		return nil, invalid(errors.New("there is nothing to import: no flows and no tables"))
	}
	folderName := strings.TrimSpace(p.Folder)
	if folderName == "" {
		folderName = b.Folder
	}
	if err := checkFolderName(folderName); err != nil {
		return nil, err
	}
	var folderID string
	if f, err := s.st.FlowFolderByName(ctx, folderName); err == nil {
		folderID = f.ID
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read folder %q: %w", folderName, err)
	}

	var probs []error
	parsed := make([]*dsl.Workflow, len(b.Flows))
	seen := map[string]string{}
	for i, f := range b.Flows {
		w, err := dsl.Parse(f.Document)
		if err != nil {
			probs = append(probs, fmt.Errorf("%s: %w", f.Source, err))
			continue
		}
		ref := w.Document.Namespace + "/" + w.Document.Name
		if prev, dup := seen[ref]; dup {
			probs = append(probs, fmt.Errorf("%s: flow %s is also in %s", f.Source, ref, prev))
			continue
		}
		seen[ref] = f.Source
		parsed[i] = w
	}
	var all []*dsl.Workflow
	for _, w := range parsed {
		if w != nil {
			all = append(all, w)
		}
	}
	for i, w := range parsed {
		if w == nil {
			continue
		}
		if err := s.check(ctx, w, folderID, all); err != nil {
			probs = append(probs, fmt.Errorf("%s: %w", b.Flows[i].Source, err))
		}
	}
	tnames := map[string]bool{}
	for _, t := range b.Tables {
		tp := TableParams(t)
		if err := tp.check(); err != nil {
			probs = append(probs, err)
		}
		if tnames[t.Name] {
			probs = append(probs, fmt.Errorf("table %q is defined twice", t.Name))
		}
		tnames[t.Name] = true
	}
	if len(probs) > 0 {
		return nil, invalid(errors.Join(probs...))
	}

	res := &ImportResult{Flows: []ImportedFlow{}, Tables: []ImportedTable{}, Connections: []ConnectionRef{}}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		folder, err := s.ensureFolder(ctx, tx, folderName)
		if err != nil {
			return fmt.Errorf("create folder %q: %w", folderName, err)
		}
		res.Folder = folderOf(folder)
		for _, t := range b.Tables {
			status, err := s.importTableTx(ctx, tx, folder.ID, t)
			if err != nil {
				return err
			}
			res.Tables = append(res.Tables, ImportedTable{Name: t.Name, Status: status})
		}
		for i, w := range parsed {
			sr, err := s.saveTx(ctx, tx, folder.ID, "", w, string(b.Flows[i].Document), p.By)
			if err != nil {
				return fmt.Errorf("%s: %w", b.Flows[i].Source, err)
			}
			status := ImportUnchanged
			switch {
			case sr.Created:
				status = ImportCreated
			case sr.Changed:
				status = ImportUpdated
			}
			res.Flows = append(res.Flows, ImportedFlow{Flow: sr.Flow, Status: status})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	conns := map[ConnectionRef]bool{}
	for _, w := range parsed {
		for _, c := range Connections(s.cfg.Catalog, w) {
			if !conns[c] {
				conns[c] = true
				res.Connections = append(res.Connections, c)
			}
		}
	}
	sort.Slice(res.Connections, func(i, j int) bool { return res.Connections[i].Name < res.Connections[j].Name })
	if !p.On {
		return res, nil
	}
	var errs []error
	for i, f := range res.Flows {
		g, err := s.SetOn(ctx, f.Flow.ID, true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res.Flows[i].Flow = g
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("the bundle was imported, but %d flows could not be turned on: %w", len(errs), errors.Join(errs...))
	}
	return res, nil
}

// importTableTx creates a bundle's table or adds its new columns to the
// folder's table of that name.
func (s *Service) importTableTx(ctx context.Context, tx *store.Tx, folderID string, t BundleTable) (string, error) {
	cur, err := tx.FlowTableByName(ctx, folderID, t.Name)
	if errors.Is(err, store.ErrNotFound) {
		_, err := s.createTableTx(ctx, tx, folderID, TableParams(t))
		if err != nil {
			return "", err
		}
		return ImportCreated, nil
	}
	if err != nil {
		return "", fmt.Errorf("read table %q: %w", t.Name, err)
	}
	info, err := tableInfoOf(cur)
	if err != nil {
		return "", err
	}
	cols := info.Columns
	changed := false
	for _, c := range t.Columns {
		have, ok := info.table().Column(c.Name)
		switch {
		case !ok:
			cols = append(cols, c)
			changed = true
		case have.Type != c.Type:
			return "", invalid(fmt.Errorf("table %q already has column %q of type %s; the bundle says %s", t.Name, c.Name, have.Type, c.Type))
		}
	}
	if !changed {
		return ImportUnchanged, nil
	}
	if err := catalog.CheckColumns(cols); err != nil {
		return "", invalid(fmt.Errorf("table %q: %w", t.Name, err))
	}
	b, _ := json.Marshal(cols)
	cur.Columns, cur.UpdatedAt = string(b), s.now()
	if err := tx.UpdateFlowTable(ctx, cur); err != nil {
		return "", fmt.Errorf("update table %q: %w", t.Name, err)
	}
	return ImportUpdated, nil
}
