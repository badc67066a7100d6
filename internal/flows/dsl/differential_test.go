package dsl_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/dsl/dsltest"
)

// corpusDoc is one flow document of the differential test.
type corpusDoc struct {
	name string
	data []byte
}

// repoRoot is the module root, from this package's directory.
const repoRoot = "../../.."

// shippedFlows returns every flow document the project ships: the
// template flows (placeholders filled) and the flow documents of docs/.
func shippedFlows(t *testing.T) []corpusDoc {
	t.Helper()
	var out []corpusDoc
	placeholder := regexp.MustCompile(`\{\{\s*\w+\s*\}\}`)
	err := filepath.WalkDir(filepath.Join(repoRoot, "internal", "flows", "template", "bundles"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(filepath.Dir(p)) != "flows" || !strings.HasSuffix(p, ".yaml") || d.Name() == "bundle.yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, corpusDoc{name: strings.TrimPrefix(p, repoRoot+"/"), data: placeholder.ReplaceAll(data, []byte("value-1"))})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	block := regexp.MustCompile("(?ms)^```ya?ml\n(.*?)^```\n")
	for _, p := range docs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range block.FindAllSubmatch(data, -1) {
			if strings.HasPrefix(string(m[1]), "document:") && regexp.MustCompile(`(?m)^do:`).Match(m[1]) {
				out = append(out, corpusDoc{name: fmt.Sprintf("%s block %d", strings.TrimPrefix(p, repoRoot+"/"), i+1), data: m[1]})
			}
		}
	}
	return out
}

// specDocs returns the specification's examples and the workflow
// definitions of its conformance kit's scenarios.
func specDocs(t *testing.T) []corpusDoc {
	t.Helper()
	dir := dsltest.Dir(t)
	var out []corpusDoc
	files, _ := filepath.Glob(filepath.Join(dir, "examples", "*.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, corpusDoc{name: "examples/" + filepath.Base(f), data: data})
	}
	features, _ := filepath.Glob(filepath.Join(dir, "ctk", "features", "*.feature"))
	docstring := regexp.MustCompile(`(?s)a workflow with definition:\s*\n(\s*)"""yaml\n(.*?)\n\s*"""`)
	for _, f := range features {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range docstring.FindAllStringSubmatch(string(data), -1) {
			indent := m[1]
			var b strings.Builder
			for _, line := range strings.Split(m[2], "\n") {
				b.WriteString(strings.TrimPrefix(line, indent))
				b.WriteByte('\n')
			}
			out = append(out, corpusDoc{name: fmt.Sprintf("ctk/%s #%d", filepath.Base(f), i+1), data: []byte(b.String())})
		}
	}
	if len(out) < 50 {
		t.Fatalf("found %d specification documents; the examples and the CTK have many more", len(out))
	}
	return out
}

// verdict runs both validators over a document.
type verdict struct {
	schemaErr error
	vigilErr  error
}

func judge(t *testing.T, schema *jsonschema.Schema, data []byte) (verdict, bool) {
	var inst any
	if err := yaml.Unmarshal(data, &inst); err != nil {
		return verdict{}, false
	}
	inst = jsonValue(inst)
	_, err := dsl.Parse(data)
	return verdict{schemaErr: schema.Validate(inst), vigilErr: err}, true
}

// jsonValue turns YAML-decoded values into what a JSON decoder gives, as
// the schema validator expects (map keys as strings).
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonValue(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonValue(e)
		}
		return x
	}
	return v
}

// documentedRefusal tells whether every problem Vigil found is a feature
// it documents as not run or a check it makes beyond the schema
// (docs/flows.md).
func documentedRefusal(err error) bool {
	var ve *dsl.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) == 0 {
		return false
	}
	for _, p := range ve.Problems {
		if !strings.Contains(p.Msg, "not supported") && !stricter.MatchString(p.String()) {
			return false
		}
	}
	return true
}

// stricter matches what Vigil refuses beyond the schema, by design, as
// docs/flows.md lists it: unknown properties anywhere, its own settings
// under document.metadata.vigil, runtime expressions that are not valid
// jq, JSON Schemas that are not valid, references that do not resolve, and
// what it needs to run an emit or an OAuth2 call.
var stricter = regexp.MustCompile(`unknown property|^document\.metadata\.vigil\.|invalid jq expression|invalid JSON Schema|` +
	`is not defined under use\.|no task named|unknown flow directive|emit\.event\.with: required|` +
	`\.(oauth2|oidc)\.(authority|client): required|expected exactly one of basic, bearer, oauth2, oidc`)

// disagreement describes how the two validators differ on a document, or
// "" when they agree (or differ only as documented).
func disagreement(v verdict) string {
	switch {
	case v.schemaErr == nil && v.vigilErr != nil:
		if documentedRefusal(v.vigilErr) {
			return ""
		}
		return "the official schema accepts it; Vigil refuses it: " + strings.ReplaceAll(v.vigilErr.Error(), "\n", "; ")
	case v.schemaErr != nil && v.vigilErr == nil:
		return "Vigil accepts it; the official schema refuses it: " + firstLine(v.schemaErr.Error())
	}
	return ""
}

func firstLine(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 4 {
		lines = lines[:4]
	}
	return strings.Join(lines, " | ")
}

// TestShippedFlowsPassOfficialSchema checks every flow document the
// project ships — template flows, the examples of docs/ — against the
// specification's JSON Schema and Vigil's validator.
func TestShippedFlowsPassOfficialSchema(t *testing.T) {
	t.Parallel()
	schema := dsltest.Schema(t)
	docs := shippedFlows(t)
	if len(docs) < 12 {
		t.Fatalf("found %d shipped flow documents; the template alone has 10", len(docs))
	}
	for _, d := range docs {
		v, ok := judge(t, schema, d.data)
		if !ok {
			t.Errorf("%s: not YAML", d.name)
			continue
		}
		if v.schemaErr != nil {
			t.Errorf("%s: the official schema refuses it: %s", d.name, firstLine(v.schemaErr.Error()))
		}
		if v.vigilErr != nil {
			t.Errorf("%s: Vigil refuses it: %v", d.name, v.vigilErr)
		}
	}
}

// TestDifferential runs the official schema and Vigil's validator side by
// side over the shipped flows, the specification's examples and CTK
// documents, and mutants of each valid one (wrong types, missing
// properties, expressions where literals are required, unknown
// properties). They must agree, except that Vigil refuses the features it
// documents as not run, and what it checks beyond the schema (jq syntax,
// references).
func TestDifferential(t *testing.T) {
	t.Parallel()
	schema := dsltest.Schema(t)
	base := append(shippedFlows(t), specDocs(t)...)
	var problems []string
	mutants, agreedInvalid := 0, 0
	for _, d := range base {
		v, ok := judge(t, schema, d.data)
		if !ok {
			continue
		}
		if msg := disagreement(v); msg != "" {
			problems = append(problems, d.name+": "+msg)
		}
		if v.schemaErr != nil || v.vigilErr != nil {
			continue
		}
		for _, m := range mutate(t, d.data) {
			mutants++
			mv, ok := judge(t, schema, m.data)
			if !ok {
				continue
			}
			if mv.schemaErr != nil && mv.vigilErr != nil {
				agreedInvalid++
			}
			if msg := disagreement(mv); msg != "" {
				problems = append(problems, d.name+" with "+m.name+": "+msg)
			}
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d documents, %d mutants (%d refused by both)", len(base), mutants, agreedInvalid)
	if mutants < 1000 || agreedInvalid < 100 {
		t.Errorf("only %d mutants, %d of them invalid: the corpus is too small to mean anything", mutants, agreedInvalid)
	}
}

// mutate returns variants of a valid document, each with one change at
// one node: a property removed, a scalar of the wrong type, an
// expression instead of a literal, an unknown property added.
func mutate(t *testing.T, data []byte) []corpusDoc {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	var nodes []*yaml.Node
	var paths []string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		nodes, paths = append(nodes, n), append(paths, path)
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], path+"."+n.Content[i].Value)
			}
		}
	}
	walk(&root, "")
	var out []corpusDoc
	emit := func(name string, change func(), undo func()) {
		change()
		b, err := yaml.Marshal(&root)
		undo()
		if err == nil {
			out = append(out, corpusDoc{name: name, data: b})
		}
	}
	for i, n := range nodes {
		path := paths[i]
		switch n.Kind {
		case yaml.MappingNode:
			for k := 0; k+1 < len(n.Content); k += 2 {
				saved := n.Content
				key := n.Content[k].Value
				emit("without "+path+"."+key, func() {
					n.Content = append(append([]*yaml.Node{}, saved[:k]...), saved[k+2:]...)
				}, func() { n.Content = saved })
			}
			saved := n.Content
			emit("an unknown property in "+path, func() {
				n.Content = append(append([]*yaml.Node{}, saved...),
					&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "unknownProperty"},
					&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"})
			}, func() { n.Content = saved })
		case yaml.ScalarNode:
			tag, val, style := n.Tag, n.Value, n.Style
			set := func(t, v string) func() { return func() { n.Tag, n.Value, n.Style = t, v, 0 } }
			restore := func() { n.Tag, n.Value, n.Style = tag, val, style }
			switch tag {
			case "!!str":
				emit(path+" as an integer", set("!!int", "7"), restore)
				emit(path+" as an object", func() {
					n.Kind, n.Tag, n.Value = yaml.MappingNode, "!!map", ""
					n.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: "v"}}
				}, func() { n.Kind, n.Content = yaml.ScalarNode, nil; restore() })
			case "!!int", "!!bool", "!!float":
				emit(path+" as an expression", set("!!str", "${ .x }"), restore)
				emit(path+" as text", set("!!str", "text"), restore)
			}
		}
	}
	return out
}
