package consoletest

import (
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

//go:embed bundle/*.yaml
var bundleFS embed.FS

// TemplateName is the one template Workflows offers: a small version of
// the ISPM template (the routing flow and three helpers).
const TemplateName = "identity-security-posture-management"

// Workflows is an in-memory implementation of the console's Flows, Tables,
// Templates and Connections, and of invoke.Flows so that the real invoke
// handler starts its executions. Its "engine" follows the routing flow's
// switch by hand: a test event calls no helper, an Okta event runs the
// suspend helper, anything else the Slack helper. It exists for the
// console's tests and knows nothing a real engine does.
type Workflows struct {
	mu          sync.Mutex
	st          *store.Store
	now         func() time.Time
	folders     []*console.Folder
	flows       map[string]*flowState
	order       []string
	execs       []*console.Execution
	tables      map[string]*tableState
	connections map[string]*console.Connection
	vars        map[string]map[string]string
	// issueRuns are the executions StartOnDemand started, by issue id.
	issueRuns map[string][]string
}

type flowState struct {
	sum  console.FlowSummary
	doc  []byte
	wf   *dsl.Workflow
	vars map[string]string
}

type tableState struct {
	t    console.Table
	rows []console.Row
}

// NewWorkflows returns an empty Workflows; st is used for the invoke
// idempotency keys the real handler records in the start transaction.
func NewWorkflows(st *store.Store, now func() time.Time) *Workflows {
	return &Workflows{st: st, now: now, flows: map[string]*flowState{}, tables: map[string]*tableState{},
		connections: map[string]*console.Connection{}, vars: map[string]map[string]string{}}
}

var _ console.Flows = (*Workflows)(nil)
var _ console.Tables = (*Workflows)(nil)
var _ console.Templates = (*Workflows)(nil)
var _ console.Connections = (*Workflows)(nil)
var _ invoke.Flows = (*Workflows)(nil)

// Folders lists the folders by name.
func (w *Workflows) Folders(ctx context.Context) ([]console.Folder, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]console.Folder, 0, len(w.folders))
	for _, f := range w.folders {
		c := *f
		for _, fl := range w.flows {
			if fl.sum.FolderID == f.ID {
				c.Flows++
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// CreateFolder adds a folder; names are unique.
func (w *Workflows) CreateFolder(ctx context.Context, name string) (console.Folder, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.createFolder(name, false)
}

func (w *Workflows) createFolder(name string, renumber bool) (console.Folder, error) {
	base, n := name, 1
	for {
		taken := false
		for _, f := range w.folders {
			if strings.EqualFold(f.Name, name) {
				taken = true
			}
		}
		if !taken {
			break
		}
		if !renumber {
			return console.Folder{}, &console.InputError{Field: "name", Message: "A folder named " + name + " exists already."}
		}
		n++
		name = fmt.Sprintf("%s (%d)", base, n)
	}
	f := &console.Folder{ID: id.New("fld"), Name: name}
	w.folders = append(w.folders, f)
	return *f, nil
}

func (w *Workflows) folderName(id string) string {
	for _, f := range w.folders {
		if f.ID == id {
			return f.Name
		}
	}
	return ""
}

// Flows lists the flows of a folder, or all, by title.
func (w *Workflows) Flows(ctx context.Context, folderID string) ([]console.FlowSummary, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []console.FlowSummary
	for _, fid := range w.order {
		f := w.flows[fid]
		if folderID == "" || f.sum.FolderID == folderID {
			s := f.sum
			s.FolderName = w.folderName(s.FolderID)
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	return out, nil
}

// Flow returns one flow.
func (w *Workflows) Flow(ctx context.Context, flowID string) (*console.Flow, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.flows[flowID]
	if !ok {
		return nil, fmt.Errorf("flow %s: %w", flowID, console.ErrNotFound)
	}
	s := f.sum
	s.FolderName = w.folderName(s.FolderID)
	return &console.Flow{FlowSummary: s, Document: f.doc, Workflow: f.wf}, nil
}

// CreateFlow validates and stores a new flow, off.
func (w *Workflows) CreateFlow(ctx context.Context, folderID string, doc []byte) (*console.Flow, error) {
	wf, err := dsl.Parse(doc)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if folderID != "" && w.folderName(folderID) == "" {
		w.mu.Unlock()
		return nil, fmt.Errorf("folder %s: %w", folderID, console.ErrNotFound)
	}
	f := &flowState{sum: console.FlowSummary{ID: id.New("flw"), FolderID: folderID}}
	w.flows[f.sum.ID] = f
	w.order = append(w.order, f.sum.ID)
	w.set(f, doc, wf)
	w.mu.Unlock()
	return w.Flow(ctx, f.sum.ID)
}

func (w *Workflows) set(f *flowState, doc []byte, wf *dsl.Workflow) {
	f.doc, f.wf = doc, wf
	f.sum.Title = wf.Document.Title
	if f.sum.Title == "" {
		f.sum.Title = wf.Document.Name
	}
	f.sum.Description = wf.Document.Summary
	f.sum.Namespace, f.sum.Name = wf.Document.Namespace, wf.Document.Name
	f.sum.Trigger = ""
	if t := wf.Trigger(); t != nil && t.APIEndpoint != nil {
		f.sum.Trigger = "apiEndpoint"
	}
	f.sum.Version++
	f.sum.UpdatedAt = w.now()
}

// SaveFlow validates doc and stores it as the flow's new version.
func (w *Workflows) SaveFlow(ctx context.Context, flowID string, doc []byte) (*console.Flow, error) {
	wf, err := dsl.Parse(doc)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	f, ok := w.flows[flowID]
	if !ok {
		w.mu.Unlock()
		return nil, fmt.Errorf("flow %s: %w", flowID, console.ErrNotFound)
	}
	w.set(f, doc, wf)
	w.mu.Unlock()
	return w.Flow(ctx, flowID)
}

// SetFlowOn turns a flow on or off. A flow whose connections are not all
// set cannot be turned on.
func (w *Workflows) SetFlowOn(ctx context.Context, flowID string, on bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.flows[flowID]
	if !ok {
		return fmt.Errorf("flow %s: %w", flowID, console.ErrNotFound)
	}
	if on {
		for _, name := range connectionsOf(f.wf.Do) {
			if _, ok := w.connections[name]; !ok {
				return &console.InputError{Message: "The flow " + f.sum.Title + " uses the connection " + name + ", which is not set; add it on the Connections page first."}
			}
		}
	}
	f.sum.On = on
	return nil
}

// connectionsOf lists the connection names a flow's top-level calls use.
func connectionsOf(list dsl.TaskList) []string {
	var out []string
	for _, nt := range list {
		if c := nt.Task.Call; c != nil && c.With != nil {
			if m, ok := c.With.Value.(map[string]any); ok {
				if n, ok := m["connection"].(string); ok && !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// Executions lists executions newest first.
func (w *Workflows) Executions(ctx context.Context, f console.ExecutionFilter) (console.ExecutionPage, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var match []console.Execution
	skipping := f.Before != ""
	total := 0
	for i := len(w.execs) - 1; i >= 0; i-- {
		e := w.execs[i]
		wasSkipping := skipping
		if skipping {
			skipping = e.ID != f.Before
		}
		if (f.FlowID != "" && e.FlowID != f.FlowID) || (f.Status != "" && e.Status != f.Status) ||
			(f.MinDuration > 0 && e.Duration < f.MinDuration) || (f.MaxDuration > 0 && e.Duration >= f.MaxDuration) ||
			!searchMatches(f.Search, e.IssueID, e.IssueTitle, e.User) {
			continue
		}
		total++
		if wasSkipping {
			continue
		}
		c := *e
		c.Steps = nil
		match = append(match, c)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	return console.ExecutionPage{Executions: match[:min(limit, len(match))], Total: total}, nil
}

// searchMatches tells whether one of fields contains q, in any case, as
// the store's search does.
func searchMatches(q string, fields ...string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// Execution returns one execution with its steps.
func (w *Workflows) Execution(ctx context.Context, executionID string) (*console.Execution, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.execs {
		if e.ID == executionID {
			c := *e
			return &c, nil
		}
	}
	return nil, fmt.Errorf("execution %s: %w", executionID, console.ErrNotFound)
}

// TestFlow runs a test of a flow at once, on or off, as the real service
// would queue it. Any JSON input is accepted; the fake's engine reads it
// only when it is an object. A dry run is noted in the result, as the
// console's adapter does.
func (w *Workflows) TestFlow(ctx context.Context, flowID string, input json.RawMessage, dryRun bool) (string, error) {
	var v any
	if err := json.Unmarshal(input, &v); err != nil {
		return "", &console.InputError{Message: "The input is not JSON."}
	}
	obj, _ := v.(map[string]any)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.flows[flowID]; !ok {
		return "", fmt.Errorf("flow %s: %w", flowID, console.ErrNotFound)
	}
	execID := id.New("exe")
	w.run(flowID, execID, obj, true)
	if e := w.execs[len(w.execs)-1]; dryRun {
		e.Result = strings.TrimSpace(e.Result + " (dry run)")
	}
	return execID, nil
}

// CancelExecution cancels an unfinished execution, and refuses one that
// has ended as the real service does. The fake's executions end within the
// call that starts them, so in practice it always refuses.
func (w *Workflows) CancelExecution(ctx context.Context, executionID string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.execs {
		if e.ID != executionID {
			continue
		}
		if e.Status != "pending" && e.Status != "running" {
			return &console.InputError{Message: "This execution has ended already; there is nothing to cancel."}
		}
		e.Status, e.EndedAt = "cancelled", w.now()
		return nil
	}
	return fmt.Errorf("execution %s: %w", executionID, console.ErrNotFound)
}

// OnDemandFlows lists the flows that are on and set
// metadata.vigil.onDemand, by title.
func (w *Workflows) OnDemandFlows(ctx context.Context) ([]console.FlowSummary, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []console.FlowSummary
	for _, id := range w.order {
		if f := w.flows[id]; f.sum.On && f.wf.OnDemand() {
			out = append(out, f.sum)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	return out, nil
}

// StartOnDemand runs a flow marked callable on demand at once with body
// as its request body, and refuses one that is off or not marked, as the
// real service does.
func (w *Workflows) StartOnDemand(ctx context.Context, flowID string, body any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.flows[flowID]
	if !ok {
		return "", fmt.Errorf("flow %s: %w", flowID, console.ErrNotFound)
	}
	if !f.wf.OnDemand() {
		return "", &console.InputError{Message: fmt.Sprintf("Flow %q is not callable on demand.", f.sum.Title)}
	}
	if !f.sum.On {
		return "", &console.InputError{Message: fmt.Sprintf("Flow %q is off; turn it on to run it.", f.sum.Title)}
	}
	execID := id.New("exe")
	w.run(flowID, execID, map[string]any{"body": v, "headers": map[string]any{}, "query": map[string]any{}}, false)
	m, _ := v.(map[string]any)
	if ed, ok := m["eventData"].(map[string]any); ok {
		if issueID, _ := ed["id"].(string); issueID != "" {
			if w.issueRuns == nil {
				w.issueRuns = map[string][]string{}
			}
			w.issueRuns[issueID] = append(w.issueRuns[issueID], execID)
		}
	}
	return execID, nil
}

// IssueRuns lists the executions StartOnDemand started on an issue,
// newest first.
func (w *Workflows) IssueRuns(ctx context.Context, issueID string) ([]console.Execution, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []console.Execution
	ids := w.issueRuns[issueID]
	for i := len(ids) - 1; i >= 0; i-- {
		for _, e := range w.execs {
			if e.ID == ids[i] {
				out = append(out, *e)
			}
		}
	}
	return out, nil
}

// InvokeTarget implements invoke.Flows.
func (w *Workflows) InvokeTarget(ctx context.Context, flowID string) (invoke.Target, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.flows[flowID]
	if !ok {
		return invoke.Target{}, store.ErrNotFound
	}
	t := invoke.Target{FlowID: flowID, Title: f.sum.Title, On: f.sum.On}
	if tr := f.wf.Trigger(); tr != nil {
		t.Endpoint = tr.APIEndpoint
	}
	return t, nil
}

// Start implements invoke.Flows: it runs the execution at once.
func (w *Workflows) Start(ctx context.Context, p invoke.StartParams) error {
	if err := w.st.InTx(ctx, func(tx *store.Tx) error {
		if p.InTx != nil {
			return p.InTx(ctx, tx)
		}
		return nil
	}); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.run(p.FlowID, p.ExecutionID, p.Input, p.Test)
	return nil
}

// Wait implements invoke.Flows; executions end within Start.
func (w *Workflows) Wait(ctx context.Context, executionID string) (invoke.Outcome, error) {
	e, err := w.Execution(ctx, executionID)
	if err != nil {
		return invoke.Outcome{}, err
	}
	var out any
	_ = json.Unmarshal(e.Output, &out)
	return invoke.Outcome{Done: true, Status: e.Status, Output: out}, nil
}

// Backlog implements invoke.Flows.
func (w *Workflows) Backlog(ctx context.Context, flowID string) (int, error) { return 0, nil }

// run executes a flow the fake way; w.mu is held.
func (w *Workflows) run(flowID, execID string, input map[string]any, test bool) {
	f := w.flows[flowID]
	start := w.now()
	in, _ := json.Marshal(input)
	e := &console.Execution{ID: execID, FlowID: flowID, FlowTitle: f.sum.Title, Version: f.sum.Version, Status: "succeeded",
		Test: test, StartedAt: start, DataSaved: f.wf.SaveAllData(), Input: in}
	var steps []console.Step
	step := func(name, kind string, output any) {
		b, _ := json.Marshal(output)
		steps = append(steps, console.Step{Path: "do/" + name, Task: name, Kind: kind, Status: "succeeded", StartedAt: start,
			Duration: 3 * time.Millisecond, Input: in, Output: b})
	}
	body, _ := input["body"].(map[string]any)
	data, _ := body["eventData"].(map[string]any)
	entity, _ := data["affectedEntity"].(map[string]any)
	e.IssueID, _ = data["id"].(string)
	e.IssueTitle, _ = data["title"].(string)
	e.User, _ = entity["displayName"].(string)
	switch f.sum.Name {
	case "route-event":
		helper := ""
		switch {
		case test:
			e.Result = "test event: no helper called"
		case entity["sourceProductName"] == "Okta":
			helper = "suspend-okta-user"
		case data["title"] != nil:
			helper = "notify-slack"
		default:
			e.Result = "no matching route"
		}
		step("route", "switch", map[string]any{"case": e.Result})
		if helper != "" {
			for _, hid := range w.order {
				h := w.flows[hid]
				if h.sum.Name == helper && h.sum.FolderID == f.sum.FolderID {
					e.Result = "routed to " + h.sum.Title
					if h.sum.On {
						w.run(hid, id.New("exe"), input, false)
					} else {
						e.Result += " (off, not run)"
					}
				}
			}
		}
	case "suspend-okta-user":
		conn := w.connections["Okta"]
		if conn == nil {
			e.Status = "faulted"
			e.Error = json.RawMessage(`{"type":"https://vigil.dev/errors/connection","status":400,"title":"The connection Okta is not set."}`)
			break
		}
		step("suspend", "call", map[string]any{"dryRun": conn.DryRun, "request": "POST /api/v1/users/" + fmt.Sprint(entity["idInService"]) + "/lifecycle/suspend"})
		for _, t := range w.tables {
			if t.t.Name == "ISPM Events" && t.t.FolderID == f.sum.FolderID {
				t.rows = append(t.rows, console.Row{ID: id.New("row"), Created: start, Values: map[string]any{
					"Username": entity["identifierInService"], "Title": data["title"], "Severity": data["severity"], "Product": entity["sourceProductName"]}})
			}
		}
		step("record", "call", map[string]any{"table": "ISPM Events"})
	default:
		for _, nt := range f.wf.Do {
			step(nt.Name, string(nt.Task.Kind), map[string]any{})
		}
	}
	if e.Status == "succeeded" {
		e.Output, _ = json.Marshal(map[string]any{"result": e.Result})
	}
	if !e.DataSaved {
		e.Input = nil
		for i := range steps {
			steps[i].Input, steps[i].Output = nil, nil
		}
	}
	e.Steps = steps
	e.Duration = time.Duration(len(steps)+1) * 3 * time.Millisecond
	e.EndedAt = start.Add(e.Duration)
	w.execs = append(w.execs, e)
}

// Templates lists the one template.
func (w *Workflows) Templates(ctx context.Context) ([]console.Template, error) {
	titles, err := bundleTitles()
	if err != nil {
		return nil, err
	}
	return []console.Template{{
		Name: TemplateName, Title: "Identity Security Posture Management",
		Description: "Receive ISPM issue events and remediate them: suspend unused Okta accounts, add admins without MFA to an MFA group, and notify Slack about the rest.",
		Keywords:    []string{"ISPM", "posture", "remediation", "Okta"},
		FlowTitles:  titles, Connectors: []string{"Okta", "Slack"},
		Variables: []console.TemplateVar{{Name: "oktaMfaGroupId", Description: "The Okta group that enforces MFA; 3.2 adds users to it."},
			{Name: "slackChannel", Description: "The Slack channel 5.1 posts to."}},
	}}, nil
}

func bundleTitles() ([]string, error) {
	names, err := bundleFS.ReadDir("bundle")
	if err != nil {
		return nil, err
	}
	var titles []string
	for _, n := range names {
		b, err := bundleFS.ReadFile("bundle/" + n.Name())
		if err != nil {
			return nil, err
		}
		wf, err := dsl.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: %w", n.Name(), err)
		}
		titles = append(titles, wf.Document.Title)
	}
	sort.Strings(titles)
	return titles, nil
}

// AddTemplate makes a new folder with the bundle's flows (off) and its
// "ISPM Events" table.
func (w *Workflows) AddTemplate(ctx context.Context, name, folder string, vars map[string]string, again bool) (console.Folder, error) {
	if name != TemplateName {
		return console.Folder{}, fmt.Errorf("template %s: %w", name, console.ErrNotFound)
	}
	if folder == "" {
		folder = "Identity Security Posture Management"
	}
	if !again {
		w.mu.Lock()
		for _, f := range w.folders {
			if strings.EqualFold(f.Name, folder) {
				w.mu.Unlock()
				return console.Folder{}, &console.TemplatePresentError{Folder: *f}
			}
		}
		w.mu.Unlock()
	}
	names, err := bundleFS.ReadDir("bundle")
	if err != nil {
		return console.Folder{}, err
	}
	w.mu.Lock()
	f, err := w.createFolder(folder, true)
	w.mu.Unlock()
	if err != nil {
		return console.Folder{}, err
	}
	for _, n := range names {
		b, _ := bundleFS.ReadFile("bundle/" + n.Name())
		fl, err := w.CreateFlow(ctx, f.ID, b)
		if err != nil {
			return console.Folder{}, err
		}
		w.mu.Lock()
		w.flows[fl.ID].vars = vars
		w.mu.Unlock()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := &tableState{t: console.Table{ID: id.New("tbl"), FolderID: f.ID, Name: "ISPM Events",
		Columns: []console.Column{{Name: "Username", Type: "text"}, {Name: "Title", Type: "text"}, {Name: "Severity", Type: "text"}, {Name: "Product", Type: "text"}}}}
	w.tables[t.t.ID] = t
	return f, nil
}

// Tables lists the tables of a folder, or all.
func (w *Workflows) Tables(ctx context.Context, folderID string) ([]console.Table, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []console.Table
	for _, t := range w.tables {
		if folderID == "" || t.t.FolderID == folderID {
			c := t.t
			c.Rows = len(t.rows)
			c.FolderName = w.folderName(c.FolderID)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FolderName+out[i].Name < out[j].FolderName+out[j].Name })
	return out, nil
}

// Table returns one table.
func (w *Workflows) Table(ctx context.Context, tableID string) (*console.Table, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.tables[tableID]
	if !ok {
		return nil, fmt.Errorf("table %s: %w", tableID, console.ErrNotFound)
	}
	c := t.t
	c.Rows = len(t.rows)
	c.FolderName = w.folderName(c.FolderID)
	return &c, nil
}

// Rows returns the rows containing search, newest first.
func (w *Workflows) Rows(ctx context.Context, tableID, search string, limit, offset int) (console.RowPage, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.tables[tableID]
	if !ok {
		return console.RowPage{}, fmt.Errorf("table %s: %w", tableID, console.ErrNotFound)
	}
	var match []console.Row
	for i := len(t.rows) - 1; i >= 0; i-- {
		row := t.rows[i]
		if search != "" && !rowContains(row, search) {
			continue
		}
		match = append(match, row)
	}
	var page console.RowPage
	if offset < len(match) {
		page.Rows = match[offset:min(offset+limit, len(match))]
	}
	page.More = offset+limit < len(match)
	return page, nil
}

func rowContains(row console.Row, s string) bool {
	s = strings.ToLower(s)
	for _, v := range row.Values {
		if strings.Contains(strings.ToLower(fmt.Sprint(v)), s) {
			return true
		}
	}
	return false
}

// ExportCSV writes the table as CSV, oldest row first.
func (w *Workflows) ExportCSV(ctx context.Context, tableID string, out io.Writer) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.tables[tableID]
	if !ok {
		return fmt.Errorf("table %s: %w", tableID, console.ErrNotFound)
	}
	cw := csv.NewWriter(out)
	head := make([]string, 0, len(t.t.Columns))
	for _, c := range t.t.Columns {
		head = append(head, c.Name)
	}
	_ = cw.Write(head)
	for _, row := range t.rows {
		rec := make([]string, 0, len(head))
		for _, h := range head {
			v := row.Values[h]
			if v == nil {
				rec = append(rec, "")
			} else {
				rec = append(rec, fmt.Sprint(v))
			}
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// connectionTypes are the forms of the fake's connection types.
var connectionTypes = []console.FormType{
	{Type: "okta", Label: "Okta", Fields: []console.Field{
		{Name: "url", Label: "Org URL", Kind: "url", Required: true, Placeholder: "https://example.okta.com"},
		{Name: "token", Label: "API token", Secret: true, Required: true}}},
	{Type: "slack", Label: "Slack", Fields: []console.Field{
		{Name: "token", Label: "Bot token", Secret: true, Required: true, Help: "Starts with xoxb-."}}},
}

// Connections lists the connections by name.
func (w *Workflows) Connections(ctx context.Context) ([]console.Connection, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]console.Connection, 0, len(w.connections))
	for _, c := range w.connections {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ConnectionTypes describes the Okta and Slack forms.
func (w *Workflows) ConnectionTypes() []console.FormType { return connectionTypes }

// AddConnection checks the required fields and stores the connection.
func (w *Workflows) AddConnection(ctx context.Context, in console.ConnectionInput) (*console.Connection, error) {
	var ft *console.FormType
	for i := range connectionTypes {
		if connectionTypes[i].Type == in.Type {
			ft = &connectionTypes[i]
		}
	}
	if ft == nil {
		return nil, &console.InputError{Field: "type", Message: "Unknown connection type " + in.Type + "."}
	}
	if in.Name == "" {
		return nil, &console.InputError{Field: "name", Message: "Give the connection a name."}
	}
	for _, f := range ft.Fields {
		if f.Required && in.Values[f.Name] == "" {
			return nil, &console.InputError{Field: f.Name, Message: "Fill in " + f.Label + "."}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.connections[in.Name]; ok {
		return nil, &console.InputError{Field: "name", Message: "A connection named " + in.Name + " exists already."}
	}
	c := &console.Connection{Name: in.Name, Type: in.Type, DryRun: in.DryRun, Summary: in.Values["url"], Values: plainValues(*ft, in.Values), UpdatedAt: w.now()}
	w.connections[in.Name] = c
	cp := *c
	return &cp, nil
}

// plainValues keeps the non-secret values of a form type's fields.
func plainValues(ft console.FormType, values map[string]string) map[string]string {
	out := map[string]string{}
	for _, f := range ft.Fields {
		if !f.Secret && values[f.Name] != "" {
			out[f.Name] = values[f.Name]
		}
	}
	return out
}

// Connection returns one connection, secrets left out.
func (w *Workflows) Connection(ctx context.Context, name string) (*console.Connection, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.connections[name]
	if !ok {
		return nil, fmt.Errorf("connection %s: %w", name, console.ErrNotFound)
	}
	cp := *c
	return &cp, nil
}

// EditConnection renames a connection and replaces its values and
// dry-run switch; its type cannot change.
func (w *Workflows) EditConnection(ctx context.Context, name string, in console.ConnectionInput) (*console.Connection, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.connections[name]
	if !ok {
		return nil, fmt.Errorf("connection %s: %w", name, console.ErrNotFound)
	}
	if in.Type != c.Type {
		return nil, &console.InputError{Field: "type", Message: "The type of a connection cannot change; add a new connection instead."}
	}
	if in.Name == "" {
		return nil, &console.InputError{Field: "name", Message: "Give the connection a name."}
	}
	if _, taken := w.connections[in.Name]; taken && in.Name != name {
		return nil, &console.InputError{Field: "name", Message: "A connection named " + in.Name + " exists already."}
	}
	for _, ft := range connectionTypes {
		if ft.Type == c.Type {
			c.Values = plainValues(ft, in.Values)
		}
	}
	delete(w.connections, name)
	c.Name, c.DryRun, c.Summary, c.UpdatedAt = in.Name, in.DryRun, in.Values["url"], w.now()
	w.connections[c.Name] = c
	cp := *c
	return &cp, nil
}

// TestConnection succeeds for every saved connection.
func (w *Workflows) TestConnection(ctx context.Context, name string) (console.CheckResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.connections[name]
	if !ok {
		return console.CheckResult{}, fmt.Errorf("connection %s: %w", name, console.ErrNotFound)
	}
	if c.DryRun {
		return console.CheckResult{OK: true, Message: "dry run: the test call was recorded, not sent"}, nil
	}
	return console.CheckResult{OK: true, Message: "connected"}, nil
}

// SetDryRun flips a connection's dry-run switch.
func (w *Workflows) SetDryRun(ctx context.Context, name string, on bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.connections[name]
	if !ok {
		return fmt.Errorf("connection %s: %w", name, console.ErrNotFound)
	}
	c.DryRun = on
	return nil
}

// RemoveConnection deletes a connection.
func (w *Workflows) RemoveConnection(ctx context.Context, name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.connections[name]; !ok {
		return fmt.Errorf("connection %s: %w", name, console.ErrNotFound)
	}
	delete(w.connections, name)
	return nil
}

// ExecutionCount counts executions of the flow titled title.
func (w *Workflows) ExecutionCount(title string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.execs {
		if e.FlowTitle == title {
			n++
		}
	}
	return n
}

// errNoFlow is returned by helpers of tests when a flow is missing.
var errNoFlow = errors.New("no such flow")

// FlowByTitle returns the id of the first flow titled title.
func (w *Workflows) FlowByTitle(title string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, fid := range w.order {
		if w.flows[fid].sum.Title == title {
			return fid, nil
		}
	}
	return "", fmt.Errorf("%q: %w", title, errNoFlow)
}
