package builder

import (
	"net/url"
	"strconv"
	"strings"
)

// The builder's form names every input by the card's Path and a suffix,
// so that a whole flow posts as one flat form and reads back into cards:
//
//	c.0.kind, c.0.name, c.0.if, c.0.then      a card
//	c.0.v.t, c.0.v.x                           its value's type and text
//	c.0.v.f.2.k, c.0.v.f.2.t, c.0.v.f.2.x      field 2 of an object value
//	c.0.m…, c.0.cm…                            other properties (objects)
//	c.0.s.1.name, c.0.s.1.when, c.0.s.1.then   case 1 of a switch
//	c.0.d.1…, c.0.k.1…                         child cards (try or group; catch)
//
// Values and Cards are each other's inverse; the console's template writes
// the same names.

// Root is the path of the top-level list of cards.
const Root = "c"

// Number gives every card its form path, in order.
func Number(cards []*Card) { number(cards, Root) }

func number(cards []*Card, list string) {
	for i, c := range cards {
		c.Path = list + "." + strconv.Itoa(i)
		number(c.Do, c.Path+".d")
		number(c.Catch, c.Path+".k")
	}
}

// FieldPath is the path of field i of the object value at path.
func FieldPath(path string, i int) string { return path + ".f." + strconv.Itoa(i) }

// Values writes cards as the builder's form would post them.
func Values(cards []*Card) url.Values {
	vals := url.Values{}
	Number(cards)
	walk(cards, func(c *Card) {
		p := c.Path
		set := func(k, v string) { vals.Set(p+"."+k, v) }
		set("kind", string(c.Kind))
		set("name", c.Name)
		set("ref", c.Ref)
		set("if", c.If)
		set("then", c.Then)
		set("fn", c.Function)
		set("ns", c.Workflow.Namespace)
		set("wf", c.Workflow.Name)
		set("ver", c.Workflow.Version)
		set("await", c.Await)
		set("as", c.CatchAs)
		putValue(vals, p+".v", c.Value)
		putValue(vals, p+".m", c.More)
		putValue(vals, p+".cm", c.CatchMore)
		for i, sc := range c.Cases {
			sp := p + ".s." + strconv.Itoa(i)
			vals.Set(sp+".name", sc.Name)
			vals.Set(sp+".when", sc.When)
			vals.Set(sp+".then", sc.Then)
		}
	})
	return vals
}

func putValue(vals url.Values, path string, v Value) {
	vals.Set(path+".t", string(v.Type))
	switch v.Type {
	case Text, JSON:
		vals.Set(path+".x", v.Text)
	case Object:
		for i, f := range v.Fields {
			fp := FieldPath(path, i)
			vals.Set(fp+".k", f.Key)
			putValue(vals, fp, f.Value)
		}
	}
}

// Cards reads the cards of a posted form. Text typed in a text area comes
// with CRLF line ends, which are read as LF. A field whose name was cleared
// is dropped, which is how a form removes it without script.
func Cards(vals url.Values) []*Card {
	return readCards(vals, Root)
}

func readCards(vals url.Values, list string) []*Card {
	var out []*Card
	for i := 0; vals.Has(list + "." + strconv.Itoa(i) + ".kind"); i++ {
		p := list + "." + strconv.Itoa(i)
		get := func(k string) string { return text(vals.Get(p + "." + k)) }
		c := &Card{
			Kind: Kind(get("kind")), Name: strings.TrimSpace(get("name")), Ref: get("ref"), Path: p,
			If: get("if"), Then: get("then"), Function: strings.TrimSpace(get("fn")),
			Workflow: Ref{Namespace: strings.TrimSpace(get("ns")), Name: strings.TrimSpace(get("wf")), Version: strings.TrimSpace(get("ver"))},
			Await:    get("await"), CatchAs: strings.TrimSpace(get("as")),
			Value: readValue(vals, p+".v"),
			More:  readValue(vals, p+".m"), CatchMore: readValue(vals, p+".cm"),
			Do: readCards(vals, p+".d"), Catch: readCards(vals, p+".k"),
		}
		for j := 0; vals.Has(p + ".s." + strconv.Itoa(j) + ".name"); j++ {
			sp := p + ".s." + strconv.Itoa(j)
			c.Cases = append(c.Cases, Case{Name: strings.TrimSpace(vals.Get(sp + ".name")),
				When: text(vals.Get(sp + ".when")), Then: vals.Get(sp + ".then")})
		}
		out = append(out, c)
	}
	return out
}

func readValue(vals url.Values, path string) Value {
	v := Value{Type: ValueType(vals.Get(path + ".t"))}
	switch v.Type {
	case Text, JSON:
		v.Text = text(vals.Get(path + ".x"))
	case Object:
		v.Fields = []Field{}
		for i := 0; vals.Has(FieldPath(path, i) + ".k"); i++ {
			fp := FieldPath(path, i)
			key := text(vals.Get(fp + ".k"))
			if strings.TrimSpace(key) == "" {
				continue
			}
			v.Fields = append(v.Fields, Field{Key: key, Value: readValue(vals, fp)})
		}
	default:
		v.Type = Absent
	}
	return v
}

// text undoes what a browser does to typed text: CRLF line ends.
func text(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
