package builder

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Apply carries out one of the builder form's buttons on cards read from
// the same form (Cards), and returns the changed list. op is the button's
// value:
//
//	add:LIST        add the card chosen in the form's pick:LIST list (LIST
//	                is "c" or a card's path and .d or .k)
//	del:CARD, up:CARD, down:CARD
//	addf:VALUE      add the field named in the form's key:VALUE input
//	delf:FIELD      remove a field (a VALUE path ending .f.N)
//	addcase:CARD, delcase:CARD.s.N
//	fn:CARD         the function of a call card changed: refill its arguments
//
// Paths are those of the form the cards were read from. Bad operations
// return an error and change nothing.
func Apply(cards []*Card, op string, vals url.Values, fns Functions) ([]*Card, error) {
	verb, path, _ := strings.Cut(op, ":")
	taken := func(name string) bool {
		found := false
		walk(cards, func(c *Card) { found = found || c.Name == name })
		return found
	}
	switch verb {
	case "add":
		nc := NewCard(vals.Get("pick:"+path), fns, taken)
		if nc == nil {
			return cards, errors.New("choose a card to add")
		}
		if path == Root {
			return append(cards, nc), nil
		}
		parent := find(cards, path[:len(path)-2])
		if parent == nil {
			return cards, errNoCard
		}
		if strings.HasSuffix(path, ".k") {
			parent.Catch = append(parent.Catch, nc)
		} else {
			parent.Do = append(parent.Do, nc)
		}
		return cards, nil
	case "del", "up", "down":
		list, i := locate(&cards, path)
		if list == nil {
			return cards, errNoCard
		}
		l := *list
		switch {
		case verb == "del":
			*list = append(l[:i:i], l[i+1:]...)
		case verb == "up" && i > 0:
			l[i-1], l[i] = l[i], l[i-1]
		case verb == "down" && i+1 < len(l):
			l[i], l[i+1] = l[i+1], l[i]
		}
		return cards, nil
	case "addcase", "delcase":
		cardPath := path
		if verb == "delcase" {
			cardPath, _, _ = strings.Cut(path, ".s.")
		}
		c := find(cards, cardPath)
		if c == nil || c.Kind != KindSwitch {
			return cards, errNoCard
		}
		if verb == "addcase" {
			c.Cases = append(c.Cases, Case{Name: "case" + strconv.Itoa(len(c.Cases)+1)})
			return cards, nil
		}
		i, err := strconv.Atoi(path[len(cardPath)+3:])
		if err != nil || i < 0 || i >= len(c.Cases) {
			return cards, errNoCard
		}
		c.Cases = append(c.Cases[:i:i], c.Cases[i+1:]...)
		return cards, nil
	case "fn":
		c := find(cards, path)
		if c == nil || c.Kind != KindCall {
			return cards, errNoCard
		}
		c.Value = Args(c.Function, fns, c.Value)
		return cards, nil
	case "addf", "delf":
		return cards, editField(cards, verb, path, vals, fns)
	}
	return cards, errors.New("the builder does not know that button; reload the page")
}

var errNoCard = errors.New("that card is no longer there; reload the page")

// editField adds or removes a field of an object value.
func editField(cards []*Card, verb, path string, vals url.Values, fns Functions) error {
	target := path
	if verb == "delf" {
		i := strings.LastIndex(path, ".f.")
		if i < 0 {
			return errNoCard
		}
		target = path[:i]
	}
	c, v := findValue(cards, target)
	if v == nil || v.Type != Object {
		return errNoCard
	}
	if verb == "delf" {
		i, err := strconv.Atoi(path[len(target)+3:])
		if err != nil || i < 0 || i >= len(v.Fields) {
			return errNoCard
		}
		v.Fields = append(v.Fields[:i:i], v.Fields[i+1:]...)
		return nil
	}
	key := strings.TrimSpace(vals.Get("key:" + path))
	if key == "" {
		return errors.New("type the name of the field to add")
	}
	if v.Field(key) != nil {
		return errors.New("the field " + key + " is there already")
	}
	nv := TextValue("")
	if c.Kind == KindCall && target == c.Path+".v" && fns != nil {
		if fn, ok := fns.Function(c.Function); ok {
			for _, a := range fn.Args {
				if a.Name == key {
					nv = ArgValue(a)
				}
			}
		}
	}
	if strings.HasSuffix(target, ".m") || strings.HasSuffix(target, ".cm") {
		// output, export, retry and the like are objects.
		nv = ObjectValue()
		if key == "output" || key == "export" {
			nv.Fields = []Field{{Key: "as", Value: TextValue("${ . }")}}
		}
	}
	v.Fields = append(v.Fields, Field{Key: key, Value: nv})
	return nil
}

// locate finds the list holding the card at path and its index there.
func locate(cards *[]*Card, path string) (*[]*Card, int) {
	rest, ok := strings.CutPrefix(path, Root+".")
	if !ok {
		return nil, 0
	}
	list := cards
	parts := strings.Split(rest, ".")
	for {
		i, err := strconv.Atoi(parts[0])
		if err != nil || i < 0 || i >= len(*list) {
			return nil, 0
		}
		if len(parts) == 1 {
			return list, i
		}
		if len(parts) < 3 {
			return nil, 0
		}
		c := (*list)[i]
		switch parts[1] {
		case "d":
			list = &c.Do
		case "k":
			list = &c.Catch
		default:
			return nil, 0
		}
		parts = parts[2:]
	}
}

func find(cards []*Card, path string) *Card {
	list, i := locate(&cards, path)
	if list == nil {
		return nil
	}
	return (*list)[i]
}

// findValue finds a value by its form path: a card's v, m or cm, then
// fields (.f.N).
func findValue(cards []*Card, path string) (*Card, *Value) {
	var c *Card
	var rest string
	for _, part := range []string{".v", ".m", ".cm"} {
		if i := strings.LastIndex(path, part); i > 0 && (len(path) == i+len(part) || strings.HasPrefix(path[i+len(part):], ".f.")) {
			if c = find(cards, path[:i]); c != nil {
				rest = path[i:]
				break
			}
		}
	}
	if c == nil {
		return nil, nil
	}
	head, tail, _ := strings.Cut(rest[1:], ".")
	var v *Value
	switch head {
	case "v":
		v = &c.Value
	case "m":
		v = &c.More
	case "cm":
		v = &c.CatchMore
	}
	for tail != "" {
		var f, idx string
		f, tail, _ = strings.Cut(tail, ".")
		idx, tail, _ = strings.Cut(tail, ".")
		i, err := strconv.Atoi(idx)
		if f != "f" || err != nil || v.Type != Object || i < 0 || i >= len(v.Fields) {
			return nil, nil
		}
		v = &v.Fields[i].Value
	}
	return c, v
}
