// Package builder converts a flow's Serverless Workflow document to the
// cards of the console's card builder and back.
//
// The YAML document stays the source of truth: Decode reads the tasks of its
// top-level `do` list into cards, keeping the rest of the document (its
// header, metadata, input and output settings, comments) as it is, and Encode
// writes the cards back into that same document. A card left unchanged is
// written back from its original YAML node, so its comments and quoting
// survive an edit of another card. A document whose tasks the cards cannot
// hold without loss (a for loop, a fork, an event listener, a YAML alias)
// decodes with Unsupported set, and the builder shows it read-only.
//
// Everything here is a pure function of its arguments, so the round trip
// document → cards → form → cards → document is tested without a browser.
package builder

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// Kind is what a card does.
type Kind string

// Card kinds. A call card calls a function of the catalog (a connector
// action, a table function, an approval) or the DSL's own http call; a return
// card is a set task that ends the flow.
const (
	KindSet    Kind = "set"
	KindReturn Kind = "return"
	KindSwitch Kind = "switch"
	KindCall   Kind = "call"
	KindRun    Kind = "run"
	KindTry    Kind = "try"
	KindGroup  Kind = "do"
	KindRaise  Kind = "raise"
	KindWait   Kind = "wait"
)

// Flow is a document as the builder holds it: the document node with its
// `do` list, and that list as cards.
type Flow struct {
	// root is the document's top mapping; its `do` is replaced on Encode.
	root *yaml.Node
	// Cards are the tasks of the top-level `do`, in order.
	Cards []*Card
	// Unsupported lists, one sentence each, what the cards cannot hold; a
	// flow with any opens read-only.
	Unsupported []string
}

// Card is one task.
type Card struct {
	Kind Kind
	Name string
	// If is the task's `if` condition; empty when it has none.
	If string
	// Then is the flow directive after the task: empty (the next card),
	// continue, exit, end or a card's name.
	Then string
	// Value is the kind's main value: what a set or return card sets, a
	// call's `with`, a helper flow's input, a raise card's error, a wait
	// card's duration.
	Value Value
	// Function is the called function (call cards): okta.suspendUser, http.
	Function string
	// Cases are a switch card's branches, in order.
	Cases []Case
	// Workflow names the helper flow of a run card.
	Workflow Ref
	// Await is a run card's `await`: "" (absent: wait), "true" or "false".
	Await string
	// Do holds the cards of a group or of a try card's try block; Catch the
	// cards its catch block runs.
	Do    []*Card
	Catch []*Card
	// CatchAs names the variable a catch block reads the error from.
	CatchAs string
	// CatchMore holds the other properties of a catch block (errors, when,
	// exceptWhen, retry), as an object.
	CatchMore Value
	// More holds the task's other properties (input, output, export,
	// timeout, metadata), as an object.
	More Value
	// Ref is where the card was in the document it was decoded from
	// (Path), or empty for a new card; Encode keeps the original node of a
	// card that did not change.
	Ref  string
	orig *yaml.Node
	// Path names the card in forms: "c.0", "c.0.d.1", "c.2.k.0".
	Path string
}

// Case is a branch of a switch card.
type Case struct {
	Name string
	// When is the jq condition; empty for the branch taken otherwise.
	When string
	Then string
}

// Ref names a helper flow.
type Ref struct {
	Namespace, Name, Version string
}

// ValueType is how a Value is written.
type ValueType string

// Value types. Text is a string, which is a runtime expression when it is
// written ${ … }; JSON is any other value written in JSON or YAML flow
// syntax (a number, true, a list); Object is a mapping of named values.
const (
	Absent ValueType = ""
	Text   ValueType = "text"
	JSON   ValueType = "json"
	Object ValueType = "object"
)

// Value is a value a card's form edits.
type Value struct {
	Type   ValueType
	Text   string
	Fields []Field
}

// Field is a named value of an object.
type Field struct {
	Key   string
	Value Value
}

// TextValue is a string value.
func TextValue(s string) Value { return Value{Type: Text, Text: s} }

// ObjectValue is an object of fields.
func ObjectValue(fs ...Field) Value { return Value{Type: Object, Fields: fs} }

// Field returns the value of the field key of an object, or nil.
func (v *Value) Field(key string) *Value {
	for i := range v.Fields {
		if v.Fields[i].Key == key {
			return &v.Fields[i].Value
		}
	}
	return nil
}

// Equal tells whether two YAML documents hold the same data, ignoring
// comments, formatting and key order: the builder's promise of no loss.
func Equal(a, b []byte) (bool, error) {
	var va, vb any
	if err := yaml.Unmarshal(a, &va); err != nil {
		return false, fmt.Errorf("read the first document: %w", err)
	}
	if err := yaml.Unmarshal(b, &vb); err != nil {
		return false, fmt.Errorf("read the second document: %w", err)
	}
	return reflect.DeepEqual(va, vb), nil
}

// sameNode tells whether two nodes hold the same data.
func sameNode(a, b *yaml.Node) bool {
	var va, vb any
	if a.Decode(&va) != nil || b.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// marshal writes a node as YAML with the two-space indent of Vigil's
// documents.
func marshal(n *yaml.Node) ([]byte, error) {
	unfold(n)
	return dsl.EncodeYAML(n)
}

// unfold writes folded scalars (>-) that hold line breaks as literal ones
// (|-): the YAML encoder writes such folded text back with extra blank
// lines, which changes the value.
func unfold(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style&yaml.FoldedStyle != 0 && strings.Contains(n.Value, "\n") {
		n.Style = n.Style&^yaml.FoldedStyle | yaml.LiteralStyle
	}
	for _, c := range n.Content {
		unfold(c)
	}
}
