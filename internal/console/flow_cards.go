package console

import (
	"sort"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// card is one task of a flow as the flow page shows it: what it does in
// words, its inputs as rows, and the tasks inside it.
type card struct {
	Name     string
	Kind     string
	Summary  string
	Line     int
	Rows     []cardRow
	Children []card
	// Catch holds what a try task does when its tasks fail.
	Catch []card
}

// cardRow is one input of a card. Expr marks a value computed at run time.
type cardRow struct {
	Label string
	Value string
	Expr  bool
}

// flowCards turns a workflow's tasks into cards.
func flowCards(list dsl.TaskList) []card {
	out := make([]card, 0, len(list))
	for _, nt := range list {
		out = append(out, taskCard(nt))
	}
	return out
}

func taskCard(nt *dsl.NamedTask) card {
	t := nt.Task
	c := card{Name: nt.Name, Kind: string(t.Kind), Line: t.Line}
	switch t.Kind {
	case dsl.KindCall:
		c.Summary, c.Rows = callCard(t.Call)
	case dsl.KindSet:
		c.Summary = "Set values"
		c.Rows = templateRows(t.Set)
	case dsl.KindSwitch:
		c.Summary = "Choose what to do next"
		for _, sc := range t.Switch {
			then := sc.Then
			if then == "" {
				then = "continue"
			}
			when := "otherwise"
			if sc.When != nil {
				when = "when " + exprText(sc.When)
			}
			c.Rows = append(c.Rows, cardRow{Label: sc.Name, Value: when + " → " + then, Expr: sc.When != nil})
		}
	case dsl.KindRun:
		if t.Run != nil && t.Run.Workflow != nil {
			wf := t.Run.Workflow
			c.Summary = "Run the helper flow " + wf.Namespace + "/" + wf.Name
			wait := "waits for it to finish"
			if !t.Run.Await {
				wait = "does not wait"
			}
			c.Rows = append(c.Rows, cardRow{Label: "version", Value: wf.Version}, cardRow{Label: "waiting", Value: wait})
			if wf.Input != nil {
				c.Rows = append(c.Rows, templateRows(wf.Input)...)
			}
		}
	case dsl.KindFor:
		if t.For != nil {
			c.Summary = "For each " + t.For.Each + " in " + exprText(t.For.In)
			if t.For.While != nil {
				c.Rows = append(c.Rows, cardRow{Label: "while", Value: exprText(t.For.While), Expr: true})
			}
		}
		c.Children = flowCards(t.Do)
	case dsl.KindDo:
		c.Summary = "Do these tasks in order"
		c.Children = flowCards(t.Do)
	case dsl.KindTry:
		c.Summary = "Try these tasks"
		if t.Try != nil {
			c.Children = flowCards(t.Try.Do)
			if t.Try.Catch != nil {
				c.Catch = flowCards(t.Try.Catch.Do)
				if t.Try.Catch.Retry != nil {
					c.Rows = append(c.Rows, cardRow{Label: "on error", Value: "retry"})
				}
			}
		}
	case dsl.KindRaise:
		c.Summary = "Stop with an error"
		if t.Raise != nil && t.Raise.Error != nil {
			c.Rows = templateRows(t.Raise.Error.Fields)
		} else if t.Raise != nil {
			c.Rows = append(c.Rows, cardRow{Label: "error", Value: t.Raise.Ref})
		}
	case dsl.KindWait:
		c.Summary = "Wait"
		if t.Wait != nil && t.Wait.Expr != nil {
			c.Rows = append(c.Rows, cardRow{Label: "for", Value: exprText(t.Wait.Expr), Expr: true})
		} else if t.Wait != nil {
			c.Rows = append(c.Rows, cardRow{Label: "for", Value: formatDuration(t.Wait.Value)})
		}
	case dsl.KindEmit:
		c.Summary = "Record an event"
		if t.Emit != nil {
			c.Rows = templateRows(t.Emit.Event)
		}
	case dsl.KindFork:
		c.Summary = "Run branches at the same time"
		if t.Fork != nil {
			if t.Fork.Compete {
				c.Summary += "; the first to finish wins"
			}
			c.Children = flowCards(t.Fork.Branches)
		}
	default:
		c.Summary = string(t.Kind)
	}
	if t.If != nil {
		c.Rows = append([]cardRow{{Label: "only if", Value: exprText(t.If), Expr: true}}, c.Rows...)
	}
	if t.Then != "" {
		c.Rows = append(c.Rows, cardRow{Label: "then", Value: t.Then})
	}
	return c
}

func callCard(call *dsl.Call) (string, []cardRow) {
	if call == nil {
		return "Call", nil
	}
	switch {
	case call.HTTP != nil:
		h := call.HTTP
		rows := []cardRow{}
		if h.Endpoint != nil && h.Endpoint.URI != nil {
			rows = append(rows, cardRow{Label: "URL", Value: valueText(h.Endpoint.URI.Value), Expr: !h.Endpoint.URI.Static})
		}
		if h.Headers != nil {
			rows = append(rows, cardRow{Label: "headers", Value: valueText(h.Headers.Value), Expr: !h.Headers.Static})
		}
		if h.Body != nil {
			rows = append(rows, cardRow{Label: "body", Value: valueText(h.Body.Value), Expr: !h.Body.Static})
		}
		return "Send an HTTP " + strings.ToUpper(h.Method) + " request", rows
	case call.OpenAPI != nil:
		return "Call an OpenAPI operation", nil
	}
	return "Call " + call.Function, templateRows(call.With)
}

// templateRows lists the properties of an object template, one row each;
// any other template is one row.
func templateRows(t *dsl.Template) []cardRow {
	if t == nil {
		return nil
	}
	m, ok := t.Value.(map[string]any)
	if !ok {
		_, isExpr := t.Value.(*dsl.Expr)
		return []cardRow{{Label: "value", Value: valueText(t.Value), Expr: isExpr}}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return t.Line(keys[i]) < t.Line(keys[j]) || (t.Line(keys[i]) == t.Line(keys[j]) && keys[i] < keys[j])
	})
	rows := make([]cardRow, 0, len(keys))
	for _, k := range keys {
		// One level of nested object, such as a table row's cells, is
		// shown as rows of its own: "row › Username".
		if sub, ok := m[k].(map[string]any); ok && len(sub) > 0 && len(sub) <= 20 {
			names := make([]string, 0, len(sub))
			for n := range sub {
				names = append(names, n)
			}
			sort.Slice(names, func(i, j int) bool {
				li, lj := t.Line(k+"."+names[i]), t.Line(k+"."+names[j])
				return li < lj || (li == lj && names[i] < names[j])
			})
			for _, n := range names {
				_, isExpr := sub[n].(*dsl.Expr)
				rows = append(rows, cardRow{Label: k + " › " + n, Value: valueText(sub[n]), Expr: isExpr})
			}
			continue
		}
		_, isExpr := m[k].(*dsl.Expr)
		rows = append(rows, cardRow{Label: k, Value: valueText(m[k]), Expr: isExpr})
	}
	return rows
}
