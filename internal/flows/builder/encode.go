package builder

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Encode writes the flow's cards into its document and returns the
// document's YAML. Only the `do` list changes; a card equal to the task it
// was decoded from is written from that task's original node, with its
// comments. A read-only flow (Unsupported) cannot be encoded.
func (f *Flow) Encode() ([]byte, error) {
	if len(f.Unsupported) > 0 {
		return nil, errors.New("the builder cannot write this flow: edit it as YAML")
	}
	list, err := taskList(f.Cards)
	if err != nil {
		return nil, err
	}
	root := f.root.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "do" {
			root.Content[i+1] = list
		}
	}
	return marshal(f.root)
}

// Attach gives cards read from a form the original nodes of the cards of
// f they came from (by Ref), and puts them in f in place of its cards, so
// that Encode keeps what did not change.
func (f *Flow) Attach(cards []*Card) {
	orig := map[string]*yaml.Node{}
	walk(f.Cards, func(c *Card) { orig[c.Ref] = c.orig })
	walk(cards, func(c *Card) { c.orig = orig[c.Ref] })
	f.Cards = cards
}

// walk calls fn on every card, parents before their children.
func walk(cards []*Card, fn func(*Card)) {
	for _, c := range cards {
		fn(c)
		walk(c.Do, fn)
		walk(c.Catch, fn)
	}
}

func taskList(cards []*Card) (*yaml.Node, error) {
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	seen := map[string]bool{}
	for _, c := range cards {
		if seen[c.Name] {
			return nil, fmt.Errorf("two cards are named %q; give each card of a list its own name", c.Name)
		}
		seen[c.Name] = true
		n, err := c.node()
		if err != nil {
			return nil, err
		}
		list.Content = append(list.Content, n)
	}
	return list, nil
}

// node is the card as a task: a mapping of its name to its properties.
func (c *Card) node() (*yaml.Node, error) {
	if strings.TrimSpace(c.Name) == "" {
		return nil, errors.New("a card has no name; name every card")
	}
	body := mapping()
	if c.If != "" {
		put(body, "if", str(c.If))
	}
	if err := c.kindNodes(body); err != nil {
		return nil, fmt.Errorf("card %s: %w", c.Name, err)
	}
	for _, fl := range c.More.Fields {
		n, err := fl.Value.node()
		if err != nil {
			return nil, fmt.Errorf("card %s: %s: %w", c.Name, fl.Key, err)
		}
		if n != nil {
			put(body, fl.Key, n)
		}
	}
	if c.Then != "" {
		put(body, "then", str(c.Then))
	}
	n := mapping()
	put(n, c.Name, body)
	if c.orig != nil {
		if sameNode(c.orig, n) {
			return c.orig, nil
		}
		// A changed card keeps the comment written above it.
		n.HeadComment, n.Content[0].HeadComment = c.orig.HeadComment, c.orig.Content[0].HeadComment
	}
	return n, nil
}

func (c *Card) kindNodes(body *yaml.Node) error {
	switch c.Kind {
	case KindSet, KindReturn:
		v, err := c.Value.node()
		if err != nil {
			return err
		}
		if v == nil {
			v = mapping()
		}
		put(body, "set", v)
	case KindCall:
		if c.Function == "" {
			return errors.New("choose the function it calls")
		}
		put(body, "call", str(c.Function))
		v, err := c.Value.node()
		if err != nil {
			return err
		}
		if v != nil {
			put(body, "with", v)
		}
	case KindSwitch:
		l := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, sc := range c.Cases {
			if sc.Name == "" {
				return errors.New("a case has no name; name every case")
			}
			b := mapping()
			if sc.When != "" {
				put(b, "when", str(sc.When))
			}
			if sc.Then != "" {
				put(b, "then", str(sc.Then))
			}
			item := mapping()
			put(item, sc.Name, b)
			l.Content = append(l.Content, item)
		}
		put(body, "switch", l)
	case KindRun:
		wf := mapping()
		wf.Style = yaml.FlowStyle
		put(wf, "namespace", str(c.Workflow.Namespace))
		put(wf, "name", str(c.Workflow.Name))
		put(wf, "version", str(c.Workflow.Version))
		in, err := c.Value.node()
		if err != nil {
			return err
		}
		if in != nil {
			put(wf, "input", in)
		}
		r := mapping()
		put(r, "workflow", wf)
		if c.Await != "" {
			put(r, "await", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: c.Await})
		}
		put(body, "run", r)
	case KindTry:
		l, err := taskList(c.Do)
		if err != nil {
			return err
		}
		put(body, "try", l)
		cb := mapping()
		for _, fl := range c.CatchMore.Fields {
			n, err := fl.Value.node()
			if err != nil {
				return fmt.Errorf("catch %s: %w", fl.Key, err)
			}
			if n != nil {
				put(cb, fl.Key, n)
			}
		}
		if c.CatchAs != "" {
			put(cb, "as", str(c.CatchAs))
		}
		if len(c.Catch) > 0 {
			l, err := taskList(c.Catch)
			if err != nil {
				return err
			}
			put(cb, "do", l)
		}
		if len(cb.Content) > 0 {
			put(body, "catch", cb)
		}
	case KindGroup:
		l, err := taskList(c.Do)
		if err != nil {
			return err
		}
		put(body, "do", l)
	case KindRaise:
		v, err := c.Value.node()
		if err != nil {
			return err
		}
		if v == nil {
			return errors.New("say which error it raises")
		}
		r := mapping()
		put(r, "error", v)
		put(body, "raise", r)
	case KindWait:
		v, err := c.Value.node()
		if err != nil {
			return err
		}
		if v == nil {
			return errors.New("say how long it waits")
		}
		put(body, "wait", v)
	default:
		return fmt.Errorf("the kind %q is not a card kind", c.Kind)
	}
	return nil
}

// node writes a value; an Absent value is nil.
func (v Value) node() (*yaml.Node, error) {
	switch v.Type {
	case Absent:
		return nil, nil
	case Text:
		return str(v.Text), nil
	case JSON:
		if strings.TrimSpace(v.Text) == "" {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		var d yaml.Node
		if err := yaml.Unmarshal([]byte(v.Text), &d); err != nil || len(d.Content) != 1 {
			return nil, fmt.Errorf("%q is not a JSON value; write a number, true, false, null, a [list] or an {object}", v.Text)
		}
		return d.Content[0], nil
	case Object:
		m := mapping()
		seen := map[string]bool{}
		for _, fl := range v.Fields {
			if seen[fl.Key] {
				return nil, fmt.Errorf("the name %q is used twice", fl.Key)
			}
			seen[fl.Key] = true
			n, err := fl.Value.node()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fl.Key, err)
			}
			if n == nil {
				n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
			}
			put(m, fl.Key, n)
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown value type %q", v.Type)
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func put(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}
