package builder

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// baseKeys are the properties every task may have besides its kind's own;
// if and then have fields of their own, the rest are kept in Card.More.
var baseKeys = []string{"input", "output", "export", "timeout", "metadata"}

// catchKeys are the properties of a catch block kept in Card.CatchMore.
var catchKeys = []string{"errors", "when", "exceptWhen", "retry"}

// notCards names the task kinds the builder has no card for.
var notCards = map[string]string{
	"for":    "a for loop",
	"fork":   "a fork (branches run at the same time)",
	"emit":   "an emit task",
	"listen": "a listen task",
}

// Decode reads a flow document (YAML or JSON) into cards. A document that
// is not a mapping, or is not YAML at all, is an error; a document the
// cards cannot hold without loss decodes with Unsupported set.
func Decode(doc []byte) (*Flow, error) {
	var d yaml.Node
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("the flow document is not valid YAML: %w", err)
	}
	if d.Kind != yaml.DocumentNode || len(d.Content) != 1 || d.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the flow document is not a mapping of document, do and the other properties of a workflow")
	}
	d.Content[0].Style &^= yaml.FlowStyle
	f := &Flow{root: &d}
	list := mapGet(d.Content[0], "do")
	if list == nil || list.Kind != yaml.SequenceNode {
		f.Unsupported = append(f.Unsupported, "The document has no list of tasks (do), so there are no cards to edit.")
		return f, nil
	}
	var dec decoder
	f.Cards = dec.cards(list, "do", "c")
	f.Unsupported = dec.problems
	return f, nil
}

type decoder struct {
	problems []string
}

func (d *decoder) unsupported(where, format string, args ...any) {
	d.problems = append(d.problems, where+": "+fmt.Sprintf(format, args...)+".")
}

func (d *decoder) cards(list *yaml.Node, where, path string) []*Card {
	out := make([]*Card, 0, len(list.Content))
	for i, item := range list.Content {
		if c := d.card(item, where+"["+strconv.Itoa(i)+"]", path+"."+strconv.Itoa(i)); c != nil {
			out = append(out, c)
		}
	}
	return out
}

func (d *decoder) card(item *yaml.Node, where, path string) *Card {
	if hasAlias(item) {
		d.unsupported(where, "uses a YAML anchor or alias, which cards cannot show")
		return nil
	}
	if item.Kind != yaml.MappingNode || len(item.Content) != 2 || item.Content[1].Kind != yaml.MappingNode {
		d.unsupported(where, "is not a task written as name: {…}")
		return nil
	}
	name, body := item.Content[0].Value, item.Content[1]
	where += "." + name
	c := &Card{Name: name, Path: path, Ref: path, orig: item, More: ObjectValue(), CatchMore: ObjectValue()}
	var kind string
	for i := 0; i+1 < len(body.Content); i += 2 {
		k, v := body.Content[i].Value, body.Content[i+1]
		switch {
		case k == "if":
			if !isString(v) {
				d.unsupported(where, "has an if condition that is not a string")
				return nil
			}
			c.If = v.Value
		case k == "then":
			if !isString(v) {
				d.unsupported(where, "has a then that is not a string")
				return nil
			}
			c.Then = v.Value
		case slices.Contains(baseKeys, k):
			c.More.Fields = append(c.More.Fields, Field{Key: k, Value: valueOf(v)})
		case notCards[k] != "":
			d.unsupported(where, "is %s", notCards[k])
			return nil
		case k == "with" || k == "catch":
			// Read with their kind's key.
		default:
			if kind != "" {
				d.unsupported(where, "has both %s and %s", kind, k)
				return nil
			}
			kind = k
		}
	}
	ok := true
	switch kind {
	case "set":
		c.Kind, c.Value = KindSet, valueOf(mapGet(body, "set"))
		if c.Then == "end" {
			c.Kind = KindReturn
		}
	case "call":
		ok = d.call(c, body, where)
	case "switch":
		ok = d.switchCases(c, mapGet(body, "switch"), where)
	case "run":
		ok = d.run(c, mapGet(body, "run"), where)
	case "try":
		ok = d.try(c, body, where, path)
	case "do":
		c.Kind = KindGroup
		l := mapGet(body, "do")
		if l.Kind != yaml.SequenceNode {
			d.unsupported(where, "has a do that is not a list of tasks")
			return nil
		}
		c.Do = d.cards(l, where+".do", path+".d")
	case "raise":
		r := mapGet(body, "raise")
		e := mapGet(r, "error")
		if r.Kind != yaml.MappingNode || len(r.Content) != 2 || e == nil {
			d.unsupported(where, "raises something other than one error")
			return nil
		}
		c.Kind, c.Value = KindRaise, valueOf(e)
	case "wait":
		c.Kind, c.Value = KindWait, valueOf(mapGet(body, "wait"))
	case "":
		d.unsupported(where, "does nothing the builder knows (no set, call, switch, run, try, do, raise or wait)")
		return nil
	default:
		d.unsupported(where, "is a %s task, which has no card", kind)
		return nil
	}
	if !ok {
		return nil
	}
	if (mapGet(body, "with") != nil && c.Kind != KindCall) || (mapGet(body, "catch") != nil && c.Kind != KindTry) {
		d.unsupported(where, "has properties its kind does not take")
		return nil
	}
	return c
}

func (d *decoder) call(c *Card, body *yaml.Node, where string) bool {
	fn := mapGet(body, "call")
	if !isString(fn) {
		d.unsupported(where, "calls something other than a function name")
		return false
	}
	c.Kind, c.Function = KindCall, fn.Value
	if w := mapGet(body, "with"); w != nil {
		c.Value = valueOf(w)
	}
	return true
}

func (d *decoder) switchCases(c *Card, l *yaml.Node, where string) bool {
	c.Kind = KindSwitch
	if l.Kind != yaml.SequenceNode {
		d.unsupported(where, "has a switch that is not a list of cases")
		return false
	}
	for _, item := range l.Content {
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 || item.Content[1].Kind != yaml.MappingNode {
			d.unsupported(where, "has a switch case that is not written name: {when, then}")
			return false
		}
		sc := Case{Name: item.Content[0].Value}
		body := item.Content[1]
		for i := 0; i+1 < len(body.Content); i += 2 {
			k, v := body.Content[i].Value, body.Content[i+1]
			if !isString(v) || (k != "when" && k != "then") {
				d.unsupported(where, "has a switch case %s with a property the card does not show (%s)", sc.Name, k)
				return false
			}
			if k == "when" {
				if v.Value == "" {
					d.unsupported(where, "has a switch case %s with an empty when", sc.Name)
					return false
				}
				sc.When = v.Value
			} else {
				sc.Then = v.Value
			}
		}
		c.Cases = append(c.Cases, sc)
	}
	return true
}

func (d *decoder) run(c *Card, r *yaml.Node, where string) bool {
	c.Kind = KindRun
	wf := mapGet(r, "workflow")
	if r.Kind != yaml.MappingNode || wf == nil || wf.Kind != yaml.MappingNode {
		d.unsupported(where, "runs something other than a helper flow (a container, script or shell)")
		return false
	}
	for i := 0; i+1 < len(r.Content); i += 2 {
		k, v := r.Content[i].Value, r.Content[i+1]
		switch {
		case k == "workflow":
		case k == "await" && v.Kind == yaml.ScalarNode && v.Tag == "!!bool":
			c.Await = v.Value
		default:
			d.unsupported(where, "has a run property the card does not show (%s)", k)
			return false
		}
	}
	for i := 0; i+1 < len(wf.Content); i += 2 {
		k, v := wf.Content[i].Value, wf.Content[i+1]
		if k == "input" {
			c.Value = valueOf(v)
			continue
		}
		if !isString(v) {
			d.unsupported(where, "names its helper flow's %s with something other than a string", k)
			return false
		}
		switch k {
		case "namespace":
			c.Workflow.Namespace = v.Value
		case "name":
			c.Workflow.Name = v.Value
		case "version":
			c.Workflow.Version = v.Value
		default:
			d.unsupported(where, "has a workflow property the card does not show (%s)", k)
			return false
		}
	}
	return true
}

func (d *decoder) try(c *Card, body *yaml.Node, where, path string) bool {
	c.Kind = KindTry
	t := mapGet(body, "try")
	if t.Kind != yaml.SequenceNode {
		d.unsupported(where, "has a try that is not a list of tasks")
		return false
	}
	c.Do = d.cards(t, where+".try", path+".d")
	cb := mapGet(body, "catch")
	if cb == nil {
		return true
	}
	if cb.Kind != yaml.MappingNode {
		d.unsupported(where, "has a catch that is not a mapping")
		return false
	}
	for i := 0; i+1 < len(cb.Content); i += 2 {
		k, v := cb.Content[i].Value, cb.Content[i+1]
		switch {
		case k == "as" && isString(v):
			c.CatchAs = v.Value
		case k == "do" && v.Kind == yaml.SequenceNode:
			c.Catch = d.cards(v, where+".catch.do", path+".k")
		case slices.Contains(catchKeys, k):
			c.CatchMore.Fields = append(c.CatchMore.Fields, Field{Key: k, Value: valueOf(v)})
		default:
			d.unsupported(where, "has a catch property the card does not show (%s)", k)
			return false
		}
	}
	return true
}

// valueOf reads a node as a Value: strings as text, mappings with string
// keys as objects, anything else in YAML flow syntax.
func valueOf(n *yaml.Node) Value {
	switch {
	case n == nil:
		return Value{}
	case isString(n):
		return TextValue(n.Value)
	case n.Kind == yaml.ScalarNode:
		return Value{Type: JSON, Text: n.Value}
	case n.Kind == yaml.MappingNode && stringKeys(n):
		v := Value{Type: Object, Fields: []Field{}}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v.Fields = append(v.Fields, Field{Key: n.Content[i].Value, Value: valueOf(n.Content[i+1])})
		}
		return v
	}
	return Value{Type: JSON, Text: flowText(n)}
}

// flowText writes a node on one line in YAML flow syntax, [a, {b: c}].
func flowText(n *yaml.Node) string {
	cp := flowCopy(n)
	b, err := yaml.Marshal(cp)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

func flowCopy(n *yaml.Node) *yaml.Node {
	cp := *n
	cp.HeadComment, cp.LineComment, cp.FootComment = "", "", ""
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		cp.Style |= yaml.FlowStyle
	}
	cp.Content = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		cp.Content[i] = flowCopy(c)
	}
	return &cp
}

func isString(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!str"
}

func stringKeys(n *yaml.Node) bool {
	for i := 0; i < len(n.Content); i += 2 {
		if !isString(n.Content[i]) {
			return false
		}
	}
	return true
}

func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || n.Tag == "!!merge" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// mapGet returns the value of key in a mapping node, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
