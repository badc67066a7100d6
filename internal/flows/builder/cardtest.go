package builder

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Names of the tasks a card test adds around the card.
const (
	testInputTask = "builderTestInput"
	testNoCase    = "builderTestNoCase"
	testCase      = "builderTestCase"
)

// ErrNotTestable is returned by TestDocument for a card that acts outside
// the flow (a call, a helper flow, a wait): such cards are tested with the
// whole flow, in a dry run.
var ErrNotTestable = errors.New("only cards that compute values (set, return, switch, stop with an error, and groups or try blocks of them) can be tested alone; test calls, helper flows and waits with Test flow, in a dry run")

// TestDocument is the flow's document with only the card at path, to run
// that card alone on input, its input (JSON): a first task sets the data to
// input, so that the card reads it as `.` while `$workflow.input` stays the
// flow's input. A switch card's branches are written to end the run with
// {"case": NAME} (or {"case": null} when none matches), so the run's output
// says which branch the input takes. The card's own `then` is dropped.
func (f *Flow) TestDocument(cards []*Card, path string, input json.RawMessage) ([]byte, error) {
	c := find(cards, path)
	if c == nil {
		return nil, errNoCard
	}
	testable := true
	walk([]*Card{c}, func(x *Card) {
		if x.Kind == KindCall || x.Kind == KindRun || x.Kind == KindWait {
			testable = false
		}
	})
	if !testable {
		return nil, ErrNotTestable
	}
	if !json.Valid(input) {
		return nil, errors.New("the card's input is not JSON")
	}
	cp := *c
	cp.orig = nil
	if cp.Kind != KindReturn {
		cp.Then = ""
	}
	list := []*Card{{Kind: KindSet, Name: testInputTask, Value: TextValue("${ " + string(input) + " }"), More: ObjectValue()}, &cp}
	if c.Kind == KindSwitch {
		cp.Cases = make([]Case, len(c.Cases))
		for i, sc := range c.Cases {
			cp.Cases[i] = Case{Name: sc.Name, When: sc.When, Then: testCase + strconv.Itoa(i)}
		}
		list = append(list, &Card{Kind: KindReturn, Name: testNoCase, Then: "end", More: ObjectValue(),
			Value: ObjectValue(Field{Key: "case", Value: Value{Type: JSON, Text: "null"}})})
		for i, sc := range c.Cases {
			list = append(list, &Card{Kind: KindReturn, Name: testCase + strconv.Itoa(i), Then: "end", More: ObjectValue(),
				Value: ObjectValue(Field{Key: "case", Value: TextValue(sc.Name)})})
		}
	}
	t := &Flow{root: f.root, Cards: list}
	doc, err := t.Encode()
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", c.Name, err)
	}
	return doc, nil
}
