package dsl

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
	"gopkg.in/yaml.v3"
)

// maxValues bounds how many values Parse builds from one document.
const maxValues = 1000000

// maxDepth bounds how deeply the values of a document nest.
const maxDepth = 100

// MaxDocumentSize bounds the documents Parse accepts: a flow is a few
// kilobytes; megabytes are a mistake or an attack on the parser.
const MaxDocumentSize = 4 << 20

// Parse reads a workflow document written in YAML or JSON, validates it
// and compiles its runtime expressions. On failure the error is a
// *ValidationError naming each problem's path and line.
func Parse(data []byte) (*Workflow, error) {
	if len(data) > MaxDocumentSize {
		return nil, &ValidationError{Problems: []Problem{{Msg: fmt.Sprintf("document is larger than %d bytes", MaxDocumentSize)}}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ValidationError{Problems: []Problem{yamlProblem(err)}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &ValidationError{Problems: []Problem{{Msg: "document is empty"}}}
	}
	p := &parser{}
	w := p.workflow(doc.Content[0])
	if len(p.problems) > 0 {
		return nil, &ValidationError{Problems: p.problems}
	}
	return w, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlProblem(err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Msg: "invalid YAML or JSON: " + m[2]}
	}
	return Problem{Msg: "invalid YAML or JSON: " + strings.TrimPrefix(msg, "yaml: ")}
}

type parser struct {
	problems []Problem
	// depth guards against absurdly nested documents.
	depth int
	// metaLine is the line of document.metadata, for its problems.
	metaLine int
	// values counts the values built, so YAML aliases cannot expand a small
	// document into a huge one ("billion laughs").
	values  int
	tooMany bool
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.problems = append(p.problems, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

type field struct {
	key string
	k   *yaml.Node
	v   *yaml.Node
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (p *parser) fields(n *yaml.Node, path string) ([]field, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected object")
		return nil, false
	}
	out := make([]field, 0, len(n.Content)/2)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind == yaml.MappingNode && k.Tag == "!!merge" || k.Value == "<<" && k.Tag == "!!merge" {
			p.errorf(k, path, "YAML merge keys are not supported")
			continue
		}
		if seen[k.Value] {
			p.errorf(k, join(path, k.Value), "duplicate property")
			continue
		}
		seen[k.Value] = true
		out = append(out, field{key: k.Value, k: k, v: v})
	}
	return out, true
}

func (p *parser) allowed(fs []field, path string, keys ...string) {
	for _, f := range fs {
		ok := false
		for _, k := range keys {
			if f.key == k {
				ok = true
				break
			}
		}
		if !ok {
			p.errorf(f.k, join(path, f.key), "unknown property")
		}
	}
}

func get(fs []field, key string) *yaml.Node {
	for _, f := range fs {
		if f.key == key {
			return f.v
		}
	}
	return nil
}

func (p *parser) str(n *yaml.Node, path string) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.errorf(n, path, "expected string")
		return ""
	}
	return n.Value
}

// strOK is str that also tells whether n was a string at all.
func (p *parser) strOK(n *yaml.Node, path string) (string, bool) {
	before := len(p.problems)
	s := p.str(n, path)
	return s, len(p.problems) == before
}

// isExpr tells whether s is written as a runtime expression, `${ … }`.
func isExpr(s string) bool {
	_, ok := IsExpr(s)
	return ok
}

func (p *parser) integer(n *yaml.Node, path string) int {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n, path, "expected integer")
		return 0
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		p.errorf(n, path, "integer out of range")
		return 0
	}
	return int(v)
}

func (p *parser) boolean(n *yaml.Node, path string) bool {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, path, "expected boolean")
		return false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
}

func (p *parser) stringList(n *yaml.Node, path string) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected array of strings")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, p.str(c, index(path, i)))
	}
	return out
}

// raw converts a node to a JSON-like Go value.
func (p *parser) raw(n *yaml.Node, path string) any {
	return p.value(n, path, nil, nil, "")
}

func (p *parser) scalar(n *yaml.Node, path string) any {
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		return p.boolean(n, path)
	case "!!int":
		if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return int(v)
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return f
		}
		p.errorf(n, path, "invalid number")
		return nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			p.errorf(n, path, "invalid number")
			return nil
		}
		return f
	case "!!str":
		return n.Value
	case "!!timestamp":
		return n.Value
	case "!!binary":
		return n.Value
	}
	return n.Value
}

// descend starts converting the value n: it resolves an alias, counts
// the value and goes one level deeper. It returns the node to convert, or
// nil when there is none, the document expands to too many values, or the
// value is nested too deeply; unless it returns nil, the caller goes back
// up (p.depth--) when done.
func (p *parser) descend(n *yaml.Node, path string) *yaml.Node {
	n = resolve(n)
	if n == nil || !p.count(n, path) {
		return nil
	}
	if p.depth >= maxDepth {
		p.errorf(n, path, "value is nested too deeply")
		return nil
	}
	p.depth++
	return n
}

// count counts one more value and reports false once the document has
// expanded to too many.
func (p *parser) count(n *yaml.Node, path string) bool {
	p.values++
	if p.values <= maxValues {
		return true
	}
	if !p.tooMany {
		p.tooMany = true
		p.errorf(n, path, "document expands to more than %d values; are YAML aliases repeating large parts?", maxValues)
	}
	return false
}

// template converts a node to a Template, compiling `${ }` strings.
func (p *parser) template(n *yaml.Node, path string, scope []string) *Template {
	t := &Template{Static: true}
	t.Value = p.value(n, path, scope, t, "")
	return t
}

// value converts a node to a JSON-like Go value. With a template t, it
// compiles the `${ }` strings in scope instead and records in t the line
// of each key, by its path rel from the template's root.
func (p *parser) value(n *yaml.Node, path string, scope []string, t *Template, rel string) any {
	if n = p.descend(n, path); n == nil {
		return nil
	}
	defer func() { p.depth-- }()
	switch n.Kind {
	case yaml.MappingNode:
		fs, _ := p.fields(n, path)
		m := make(map[string]any, len(fs))
		for _, f := range fs {
			r := join(rel, f.key)
			if t != nil {
				if t.Lines == nil {
					t.Lines = map[string]int{}
				}
				t.Lines[r] = f.k.Line
			}
			m[f.key] = p.value(f.v, join(path, f.key), scope, t, r)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = p.value(c, index(path, i), scope, t, index(rel, i))
		}
		return s
	case yaml.ScalarNode:
		if t != nil && n.Tag == "!!str" {
			if src, ok := IsExpr(n.Value); ok {
				t.Static = false
				return p.compile(n, path, src, scope)
			}
		}
		return p.scalar(n, path)
	}
	p.errorf(n, path, "unexpected YAML node")
	return nil
}

// strictExpr reads a field that is always a runtime expression, written
// with or without `${ }`.
func (p *parser) strictExpr(n *yaml.Node, path string, scope []string) *Expr {
	s := p.str(n, path)
	if s == "" {
		if len(p.problems) == 0 || p.problems[len(p.problems)-1].Path != path {
			p.errorf(n, path, "expected a runtime expression")
		}
		return nil
	}
	if src, ok := IsExpr(s); ok {
		s = src
	}
	return p.compile(n, path, s, scope)
}

// exprTemplate reads input.from, output.as and export.as: a string is an
// expression (with or without `${ }`), an object a template.
func (p *parser) exprTemplate(n *yaml.Node, path string, scope []string) *Template {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		e := p.strictExpr(n, path, scope)
		if e == nil {
			return nil
		}
		return &Template{Value: e}
	}
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a runtime expression or an object")
		return nil
	}
	return p.template(n, path, scope)
}

func (p *parser) compile(n *yaml.Node, path, src string, scope []string) *Expr {
	if strings.TrimSpace(src) == "" {
		p.errorf(n, path, "empty runtime expression")
		return nil
	}
	code, vars, err := compileExpr(src, scope)
	if err != nil {
		p.errorf(n, path, "invalid jq expression %q: %v", src, jqMessage(err))
		return nil
	}
	return &Expr{Source: src, Line: n.Line, Vars: vars, Uses: usesOf(src), code: code, path: fieldPath(src)}
}

func jqMessage(err error) string {
	var pe *gojq.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%v at offset %d", pe, pe.Offset)
	}
	return err.Error()
}
