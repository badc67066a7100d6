package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows/builder"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// functionLister is implemented by a Flows service that can describe the
// catalog's functions, so that the card builder lists connector actions and
// fills their arguments. Without it the builder still edits every card, and
// a call card's function is typed by name.
type functionLister interface {
	Functions() builder.Functions
}

// cardTester is implemented by a Flows service that can run a card's test
// document (builder.Flow.TestDocument) on its own.
type cardTester interface {
	TestCard(ctx context.Context, doc []byte, input json.RawMessage) (json.RawMessage, error)
}

func (c *Console) functions() builder.Functions {
	if fl, ok := c.svc.Flows.(functionLister); ok {
		return fl.Functions()
	}
	return nil
}

// builderState is what the builder page shows: the document the cards came
// from and the cards as edited so far.
type builderState struct {
	// Base is the saved document the edit started from; the form posts it
	// back so that what the cards do not hold is kept as it was.
	Base  string
	Cards []*builder.Card
	// Unsupported lists why the flow opens read-only.
	Unsupported []string
	// Dirty marks cards changed since the last save.
	Dirty bool
	// CardTest is the result of Test this card.
	CardTest *cardTestResult
	Error    string
	Problems []dsl.Problem
}

// showFlowBuilder serves GET /workflows/flows/{id}/builder: the flow's
// cards as forms, with a field picker, the last run's data per card and the
// Test flow form.
func (c *Console) showFlowBuilder(w http.ResponseWriter, r *http.Request) {
	f, ok := c.pathFlow(w, r)
	if !ok {
		return
	}
	st := builderState{Base: string(f.Document)}
	bf, err := builder.Decode(f.Document)
	if err != nil {
		st.Unsupported = []string{httpjson.Sentence(err.Error())}
	} else {
		st.Cards, st.Unsupported = bf.Cards, bf.Unsupported
	}
	c.renderBuilder(w, r, f, st, http.StatusOK)
}

// editFlowBuilder serves POST /workflows/flows/{id}/builder: every button of
// the builder posts the whole form here. Save writes the cards into the
// document and saves it as a new version; any other button (add, remove,
// move a card, add a field, change a function) shows the changed cards
// without saving them.
func (c *Console) editFlowBuilder(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	id := r.PathValue("id")
	back := "/workflows/flows/" + id + "/builder"
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, &InputError{Message: "The flow is too large to save (at most 1 MiB)."}, back)
		return
	}
	ctx := r.Context()
	f, ok := c.flow(w, r, id)
	if !ok {
		return
	}
	// Browsers post line ends as CRLF.
	base := strings.ReplaceAll(r.PostFormValue("base"), "\r\n", "\n")
	bf, err := builder.Decode([]byte(base))
	if err != nil || len(bf.Unsupported) > 0 {
		c.redirect(w, r, back, flashError, "The builder cannot edit this flow; edit it as YAML on the flow page.")
		return
	}
	cards := builder.Cards(r.PostForm)
	st := builderState{Base: base, Dirty: true}
	op := r.PostFormValue("op")
	if op != "save" {
		if path, ok := strings.CutPrefix(op, "testcard:"); ok {
			st.CardTest = c.testCard(r, f, bf, cards, path)
		} else if cards, err = builder.Apply(cards, op, r.PostForm, c.functions()); err != nil {
			st.Error = httpjson.Sentence(err.Error())
		}
		builder.Number(cards)
		st.Cards, st.Dirty = cards, changed(base, cards)
		c.renderBuilder(w, r, f, st, http.StatusOK)
		return
	}
	st.Cards = cards
	if strings.ReplaceAll(string(f.Document), "\r\n", "\n") != base {
		st.Error = "The flow was saved elsewhere (now version " + itoa(f.Version) + ") since you opened it; open the builder again to edit the latest version."
		c.renderBuilder(w, r, f, st, http.StatusConflict)
		return
	}
	bf.Attach(cards)
	doc, err := bf.Encode()
	if err != nil {
		st.Error = "The flow was not saved: " + httpjson.Sentence(err.Error())
		c.renderBuilder(w, r, f, st, http.StatusUnprocessableEntity)
		return
	}
	saved, err := c.svc.Flows.SaveFlow(ctx, id, doc)
	if err != nil {
		var ve *dsl.ValidationError
		if errors.As(err, &ve) {
			st.Problems = ve.Problems
			c.renderBuilder(w, r, f, st, http.StatusUnprocessableEntity)
			return
		}
		c.fail(w, r, err, back)
		return
	}
	if c.svc.Endpoints != nil && saved.Trigger != "" {
		if _, err := c.svc.Endpoints.Ensure(ctx, saved.ID); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	c.redirect(w, r, back, flashOK, "Version "+itoa(saved.Version)+" of "+saved.Title+" is saved.")
}

// changed tells whether cards write another document than base.
func changed(base string, cards []*builder.Card) bool {
	bf, err := builder.Decode([]byte(base))
	if err != nil {
		return true
	}
	bf.Attach(cards)
	doc, err := bf.Encode()
	if err != nil {
		return true
	}
	same, err := builder.Equal([]byte(base), doc)
	return err != nil || !same
}

func (c *Console) renderBuilder(w http.ResponseWriter, r *http.Request, f *Flow, st builderState, status int) {
	ctx := r.Context()
	fns := c.functions()
	v := c.view(w, r, "flow_builder", f.Title+" · builder", "workflows").Set("tab", "flows")
	v.Set("flow", f).Set("state", st)
	api := apiFlow(f)
	v.Set("api", api)
	if f.Workflow != nil {
		if t := f.Workflow.Trigger(); t != nil && t.APIEndpoint != nil {
			v.Set("endpoint", t.APIEndpoint)
		}
		v.Set("saveAll", f.Workflow.SaveAllData())
	}

	var last *Execution
	page, err := c.svc.Flows.Executions(ctx, ExecutionFilter{FlowID: f.ID, Limit: 1})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	if len(page.Executions) > 0 {
		if last, err = c.svc.Flows.Execution(ctx, page.Executions[0].ID); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	sample := sampleInput(api, c.cfg.PublicURL, c.cfg.Now())
	v.Set("picker", pickerGroups(sample, last))
	v.Set("last", last)
	steps := map[string]*Step{}
	if last != nil {
		for i := range last.Steps {
			steps[last.Steps[i].Path] = &last.Steps[i]
		}
	}
	refs := builder.References(st.Cards)
	names := []string{}
	var views func(cards []*builder.Card) []cardView
	views = func(cards []*builder.Card) []cardView {
		out := make([]cardView, 0, len(cards))
		for _, cd := range cards {
			names = append(names, cd.Name)
			cv := cardView{Card: cd, Value: valueViewOf(cd.Path+".v", cd.Value, cd.Function),
				More: valueViewOf(cd.Path+".m", cd.More, ""), CatchMore: valueViewOf(cd.Path+".cm", cd.CatchMore, ""),
				Do: views(cd.Do), Catch: views(cd.Catch)}
			cv.Title, cv.Tone = cardTitle(cd, fns)
			if cd.Kind == builder.KindCall && fns != nil {
				if fn, ok := fns.Function(cd.Function); ok {
					cv.Summary = fn.Summary
					for _, a := range fn.Args {
						cv.Args = append(cv.Args, a.Name)
					}
				}
			}
			for i, sc := range cd.Cases {
				cv.Cases = append(cv.Cases, caseView{Path: cd.Path + ".s." + itoa(i), Case: sc})
			}
			if !st.Dirty {
				cv.Run = steps[refs[cd]]
			}
			if st.CardTest != nil && st.CardTest.Path == cd.Path {
				cv.Test = st.CardTest
			}
			out = append(out, cv)
		}
		return out
	}
	v.Set("cards", views(st.Cards))
	v.Set("names", names)
	shared := &builderShared{Manage: can(r, auth.PermManageFlows) && len(st.Unsupported) == 0,
		Palette: paletteGroups(builder.Palette(fns))}
	v.Set("shared", shared)
	if fns != nil {
		v.Set("functions", fns.Names())
	}
	input, _ := json.MarshalIndent(sample, "", "  ")
	v.Set("test", testRunForm{Input: string(input), DryRun: true})
	v.Set("canManage", can(r, auth.PermManageFlows) && len(st.Unsupported) == 0)
	var tables, columns []string
	if c.svc.Tables != nil {
		ts, err := c.svc.Tables.Tables(ctx, f.FolderID)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		for _, t := range ts {
			tables = append(tables, t.Name)
			for _, col := range t.Columns {
				if !slices.Contains(columns, col.Name) {
					columns = append(columns, col.Name)
				}
			}
		}
	}
	v.Set("tables", tables).Set("columns", columns)
	if c.svc.Connections != nil {
		cs, err := c.svc.Connections.Connections(ctx)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		v.Set("connectionNames", cs)
	}
	if helpers, err := c.svc.Flows.Flows(ctx, ""); err == nil {
		var hs []*FlowSummary
		for _, h := range helpers {
			if h.Trigger == "" {
				hs = append(hs, h)
			}
		}
		v.Set("helpers", hs)
		shared.Helpers = hs
	}
	v.Status(status).Render()
}

// cardTestResult is what Test this card shows in the card.
type cardTestResult struct {
	Path   string
	Input  json.RawMessage
	Output json.RawMessage
	// Error says why the card failed or could not be tested.
	Error string
	// Note says where the input came from.
	Note string
}

// testCard runs the card at path alone on its input: its input in the
// flow's last run when that saved data, else the flow's input (the last
// run's or the sample event).
func (c *Console) testCard(r *http.Request, f *Flow, bf *builder.Flow, cards []*builder.Card, path string) *cardTestResult {
	ctx := r.Context()
	res := &cardTestResult{Path: path}
	tester, ok := c.svc.Flows.(cardTester)
	if !ok {
		res.Error = "This server cannot test a card alone; use Test flow."
		return res
	}
	flowInput, _ := json.Marshal(sampleInput(apiFlow(f), c.cfg.PublicURL, c.cfg.Now()))
	res.Input, res.Note = flowInput, "the sample event (the flow's input)"
	page, err := c.svc.Flows.Executions(ctx, ExecutionFilter{FlowID: f.ID, Limit: 1})
	if err == nil && len(page.Executions) > 0 {
		if last, err := c.svc.Flows.Execution(ctx, page.Executions[0].ID); err == nil && last.DataSaved {
			flowInput, res.Input, res.Note = last.Input, last.Input, "the flow's input in its last run"
			for cd, ref := range builder.References(cards) {
				if cd.Path != path {
					continue
				}
				for _, s := range last.Steps {
					if s.Path == ref && len(s.Input) > 0 {
						res.Input, res.Note = s.Input, "its input in the flow's last run"
					}
				}
			}
		}
	}
	doc, err := bf.TestDocument(cards, path, res.Input)
	if err != nil {
		res.Error = httpjson.Sentence(err.Error())
		return res
	}
	out, err := tester.TestCard(ctx, doc, flowInput)
	if err != nil {
		res.Error = httpjson.Sentence(err.Error())
		return res
	}
	res.Output = out
	return res
}

// cardView is a card as the builder's template shows it.
type cardView struct {
	*builder.Card
	Title string
	// Tone picks the card's colour: flow, call, vendor names, approval.
	Tone      string
	Summary   string
	Args      []string
	Value     valueView
	More      valueView
	CatchMore valueView
	Cases     []caseView
	Do, Catch []cardView
	// Run is the card's step in the flow's last execution.
	Run *Step
	// Test is the result of Test this card, on the card tested.
	Test *cardTestResult
}

type caseView struct {
	Path string
	builder.Case
}

// valueView is a value with the form path of its inputs.
type valueView struct {
	Path   string
	Type   builder.ValueType
	Text   string
	Multi  bool
	Fields []valueFieldView
	// Keys names the datalist of field names to suggest for an object;
	// Suggest the datalist of values to suggest for a text.
	Keys, Suggest string
}

type valueFieldView struct {
	Path  string
	Key   string
	Value valueView
}

// valueViewOf gives a value its form path. fn is the function whose
// arguments v holds, if any: a connection argument suggests the
// connections, a table function's table the folder's tables and its objects
// (row, set, where) the tables' columns.
func valueViewOf(path string, v builder.Value, fn string) valueView {
	vv := valueView{Path: path, Type: v.Type, Text: v.Text, Multi: strings.Contains(v.Text, "\n") || len(v.Text) > 90}
	table := strings.HasPrefix(fn, "tables.")
	for i, f := range v.Fields {
		fp := builder.FieldPath(path, i)
		fv := valueFieldView{Path: fp, Key: f.Key, Value: valueViewOf(fp, f.Value, "")}
		switch {
		case fn != "" && f.Key == "connection":
			fv.Value.Suggest = "connections"
		case table && f.Key == "table":
			fv.Value.Suggest = "tables"
		case table && f.Value.Type == builder.Object:
			fv.Value.Keys = "columns"
		}
		vv.Fields = append(vv.Fields, fv)
	}
	return vv
}

// cardTitle says what a card does in a few words, and its colour.
func cardTitle(cd *builder.Card, fns builder.Functions) (string, string) {
	switch cd.Kind {
	case builder.KindSet:
		return "Set values", "flow"
	case builder.KindReturn:
		return "Return", "flow"
	case builder.KindSwitch:
		return "Switch", "flow"
	case builder.KindRun:
		return "Call a helper flow", "flow"
	case builder.KindTry:
		return "Try / catch", "flow"
	case builder.KindGroup:
		return "Group", "flow"
	case builder.KindRaise:
		return "Stop with an error", "error"
	case builder.KindWait:
		return "Wait", "flow"
	}
	if cd.Function == builder.ApprovalFunction {
		return "Approval", "approval"
	}
	if cd.Function == "http" {
		return "HTTP request", "call"
	}
	fam, _, _ := strings.Cut(cd.Function, ".")
	return cd.Function, "call " + fam
}

// paletteGroup is one optgroup of the Add card list.
type paletteGroup struct {
	Name    string
	Options []builder.Option
}

func paletteGroups(opts []builder.Option) []paletteGroup {
	var out []paletteGroup
	for _, o := range opts {
		if len(out) == 0 || out[len(out)-1].Name != o.Group {
			out = append(out, paletteGroup{Name: o.Group})
		}
		out[len(out)-1].Options = append(out[len(out)-1].Options, o)
	}
	return out
}

// apiFlow tells whether f is started by its API Endpoint.
func apiFlow(f *Flow) bool {
	return f.Workflow != nil && f.Workflow.Trigger() != nil && f.Workflow.Trigger().APIEndpoint != nil
}

// sampleInput is a flow's input for the picker and the Test form when it has
// not run: the ISPM sample event, as an API Endpoint call ({body, headers,
// query}) or as a helper flow's input ({eventData}).
func sampleInput(api bool, publicURL string, now time.Time) map[string]any {
	ev := event.Sample("00000000-0000-4000-8000-000000000000", now, strings.TrimRight(publicURL, "/"))
	var m map[string]any
	b, _ := json.Marshal(ev)
	_ = json.Unmarshal(b, &m)
	if !api {
		return map[string]any{"eventData": m["eventData"]}
	}
	return map[string]any{"body": m, "headers": map[string]any{"content-type": "application/json"}, "query": map[string]any{}}
}

// pickerGroup is a titled list of fields the picker offers.
type pickerGroup struct {
	Title string
	Note  string
	Picks []builder.Pick
}

// pickerGroups lists the flow's input (from its last run when that saved
// data, else the sample) and the output of each card of the last run.
func pickerGroups(sample map[string]any, last *Execution) []pickerGroup {
	var in any = sample
	title := "Flow input (sample ISPM event)"
	if last != nil && last.DataSaved && len(last.Input) > 0 {
		var v any
		if json.Unmarshal(last.Input, &v) == nil {
			in, title = v, "Flow input (last run, "+formatDate(last.StartedAt)+")"
		}
	}
	out := []pickerGroup{{Title: title, Note: "Any card reads these, as $workflow.input followed by the path.", Picks: builder.Picks("$workflow.input", in, 150)}}
	if last == nil || !last.DataSaved {
		return out
	}
	for _, s := range last.Steps {
		var v any
		if len(s.Output) == 0 || json.Unmarshal(s.Output, &v) != nil {
			continue
		}
		if _, ok := v.(map[string]any); !ok {
			continue
		}
		out = append(out, pickerGroup{Title: "Output of " + s.Task + " (last run)",
			Note: "The card right after it reads these as its input.", Picks: builder.Picks(".", v, 40)})
	}
	return out
}

// builderShared is what every card of the builder's template needs: whether
// the user may edit, and the Add card list.
type builderShared struct {
	Manage  bool
	Palette []paletteGroup
	// Helpers are the helper flows a run card may call.
	Helpers []*FlowSummary
}

// builderList, builderCard and builderValue are the arguments of the
// builder's recursive templates (blist, bcard, bval).
type builderList struct {
	Path   string
	Cards  []cardView
	Shared *builderShared
}

type builderCard struct {
	Card   cardView
	Shared *builderShared
}

type builderValue struct {
	Value valueView
	// List is the id of a datalist of field names to suggest.
	List   string
	Shared *builderShared
}

// builderFuncs are the template functions that build those arguments.
func builderFuncs() map[string]any {
	return map[string]any{
		"blist": func(path string, cards []cardView, sh *builderShared) builderList {
			return builderList{Path: path, Cards: cards, Shared: sh}
		},
		"bcard": func(c cardView, sh *builderShared) builderCard { return builderCard{Card: c, Shared: sh} },
		"bval": func(v valueView, list string, sh *builderShared) builderValue {
			return builderValue{Value: v, List: list, Shared: sh}
		},
	}
}
