package builder

import (
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
)

// Functions is the part of the function catalog the builder reads, to list
// the functions cards call and fill their arguments. *catalog.Catalog
// satisfies it.
type Functions interface {
	Names() []string
	Function(name string) (catalog.Function, bool)
}

// ApprovalFunction is the function an approval card calls.
const ApprovalFunction = "approval.request"

// Option is one entry of the builder's "Add a card" list.
type Option struct {
	// Value is what the form posts: a kind (set, switch, …), "approval",
	// "http", or "fn:" and a function name.
	Value string
	Label string
	Group string
}

// groupNames title the catalog's function families in the list.
var groupNames = map[string]string{
	"okta": "Okta", "entra": "Microsoft Entra ID", "google": "Google Workspace", "salesforce": "Salesforce",
	"slack": "Slack", "jira": "Jira", "http": "HTTP", "tables": "Tables", "execution": "Execution",
}

// Palette lists the cards a builder can add: the flow-control cards first,
// then each function of the catalog under its family's name. fns may be nil.
func Palette(fns Functions) []Option {
	out := []Option{
		{"set", "Set values", "Flow control"},
		{"switch", "Switch (if / else)", "Flow control"},
		{"run", "Call a helper flow", "Flow control"},
		{"try", "Try / catch / retry", "Flow control"},
		{"do", "Group of cards", "Flow control"},
		{"wait", "Wait", "Flow control"},
		{"return", "Return (end the flow with values)", "Flow control"},
		{"raise", "Stop with an error", "Flow control"},
		{"approval", "Ask for approval", "Flow control"},
		{"http", "HTTP request to any URL", "HTTP"},
	}
	if fns == nil {
		return out
	}
	for _, name := range fns.Names() {
		if name == ApprovalFunction {
			continue
		}
		fam, _, _ := strings.Cut(name, ".")
		g := groupNames[fam]
		if g == "" {
			g = fam
		}
		label := name
		if fn, ok := fns.Function(name); ok && fn.Summary != "" {
			label = name + " — " + strings.TrimSuffix(fn.Summary, ".")
		}
		out = append(out, Option{Value: "fn:" + name, Label: label, Group: g})
	}
	return out
}

// NewCard makes the card of a palette option, named uniquely among taken.
// It returns nil for an option that is not in the palette.
func NewCard(option string, fns Functions, taken func(string) bool) *Card {
	c := &Card{More: ObjectValue(), CatchMore: ObjectValue()}
	switch option {
	case "set":
		c.Kind, c.Name, c.Value = KindSet, "setValues", ObjectValue()
	case "return":
		c.Kind, c.Name, c.Then, c.Value = KindReturn, "return", "end", ObjectValue()
	case "switch":
		c.Kind, c.Name = KindSwitch, "decide"
		c.Cases = []Case{{Name: "match", When: ".value == true"}, {Name: "otherwise"}}
	case "run":
		c.Kind, c.Name, c.Workflow = KindRun, "callHelper", Ref{Version: "1.0.0"}
		c.Value = ObjectValue(Field{Key: "eventData", Value: TextValue("${ .eventData }")})
	case "try":
		c.Kind, c.Name, c.CatchAs = KindTry, "attempt", "error"
	case "do":
		c.Kind, c.Name = KindGroup, "group"
	case "wait":
		c.Kind, c.Name, c.Value = KindWait, "wait", ObjectValue(Field{Key: "seconds", Value: Value{Type: JSON, Text: "30"}})
	case "raise":
		c.Kind, c.Name = KindRaise, "fail"
		c.Value = ObjectValue(
			Field{Key: "type", Value: TextValue("https://serverlessworkflow.io/spec/1.0.0/errors/runtime")},
			Field{Key: "status", Value: Value{Type: JSON, Text: "400"}},
			Field{Key: "title", Value: TextValue("")})
	case "http":
		c.Kind, c.Name, c.Function = KindCall, "httpRequest", "http"
		c.Value = ObjectValue(Field{Key: "method", Value: TextValue("get")}, Field{Key: "endpoint", Value: TextValue("")})
	case "approval":
		c.Kind, c.Name, c.Function = KindCall, "approval", ApprovalFunction
		c.Value = Args(ApprovalFunction, fns, Value{})
	default:
		name, ok := strings.CutPrefix(option, "fn:")
		if !ok || fns == nil {
			return nil
		}
		if _, ok := fns.Function(name); !ok {
			return nil
		}
		_, short, _ := strings.Cut(name, ".")
		c.Kind, c.Name, c.Function, c.Value = KindCall, short, name, Args(name, fns, Value{})
	}
	base := c.Name
	for i := 2; taken != nil && taken(c.Name); i++ {
		c.Name = base + strconv.Itoa(i)
	}
	return c
}

// approvalArgs are the arguments an approval card starts with when the
// catalog does not describe approval.request.
var approvalArgs = []catalog.Arg{
	{Name: "message", Type: catalog.String, Required: true},
	{Name: "approvers", Type: catalog.Array},
	{Name: "expiresAfter", Type: catalog.String},
}

// Args is the `with` of a call to the function name: the values of old
// for the arguments the function declares, and an empty value for each
// required argument old lacks. A connector's connection starts as the name
// the ISPM template uses (Okta, Slack, …). Arguments of old the function
// does not declare are kept, so that a change of function loses nothing a
// user typed.
func Args(name string, fns Functions, old Value) Value {
	var fn catalog.Function
	ok := false
	if fns != nil {
		fn, ok = fns.Function(name)
	}
	args := fn.Args
	if !ok && name == ApprovalFunction {
		args = approvalArgs
	}
	out := ObjectValue()
	for _, a := range args {
		if v := old.Field(a.Name); v != nil {
			out.Fields = append(out.Fields, Field{Key: a.Name, Value: *v})
			continue
		}
		// An approval card shows who decides and when it expires from the
		// start, so the defaults are in view and easy to change.
		approvalDefault := name == ApprovalFunction && (a.Name == "approvers" || a.Name == "expiresAfter")
		if !a.Required && !approvalDefault && (name != "slack.postMessage" || a.Name != "channel") {
			continue
		}
		v := ArgValue(a)
		if a.Name == catalog.ConnectionArg {
			if t, ok := connection.TypeOf(fn.Connector); ok {
				v = TextValue(t.DefaultName)
			}
		}
		if name == ApprovalFunction && a.Name == "approvers" {
			v = Value{Type: JSON, Text: `["super_admin", "workflows_admin"]`}
		}
		if name == ApprovalFunction && a.Name == "expiresAfter" {
			v = TextValue("P1D")
		}
		out.Fields = append(out.Fields, Field{Key: a.Name, Value: v})
	}
	for _, f := range old.Fields {
		if !slices.ContainsFunc(args, func(a catalog.Arg) bool { return a.Name == f.Key }) {
			out.Fields = append(out.Fields, f)
		}
	}
	return out
}

// ArgValue is the empty value of an argument of the catalog's type: text
// for strings, an object for objects, JSON for numbers, booleans and lists.
func ArgValue(a catalog.Arg) Value {
	switch a.Type {
	case catalog.String, catalog.Any, "":
		if len(a.Enum) > 0 {
			return TextValue(a.Enum[0])
		}
		return TextValue("")
	case catalog.Object:
		v := ObjectValue()
		for _, f := range a.Fields {
			if f.Required {
				v.Fields = append(v.Fields, Field{Key: f.Name, Value: ArgValue(f)})
			}
		}
		return v
	case catalog.Boolean:
		return Value{Type: JSON, Text: "false"}
	case catalog.Array:
		return Value{Type: JSON, Text: "[]"}
	}
	return Value{Type: JSON, Text: ""}
}
