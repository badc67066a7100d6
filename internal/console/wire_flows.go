package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/builder"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// DefaultFolder is the folder a flow made with + New Flow goes to when no
// folder is chosen.
const DefaultFolder = "Default"

// FlowService gives the console the flows service: it satisfies Flows and
// Tables. The service's methods the console calls as they are (Folders,
// OnDemandFlows) are its own; the others fit its answers and errors to the console's.
type FlowService struct {
	*flows.Service
}

var _ Flows = FlowService{}
var _ Tables = FlowService{}

// Functions describes the catalog's functions to the card builder.
func (s FlowService) Functions() builder.Functions {
	if s.Catalog() == nil {
		return nil
	}
	return s.Catalog()
}

// TestCard runs a card's test document (builder.Flow.TestDocument) once, in
// memory: such a document only computes values, so it needs no database,
// connection or network. Its output, or its error as one sentence, is
// returned.
func (s FlowService) TestCard(ctx context.Context, doc []byte, input json.RawMessage) (json.RawMessage, error) {
	var in any
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, &InputError{Message: "The card's input is not JSON."}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := flows.RunStandalone(ctx, doc, in, flows.StandaloneConfig{})
	if err != nil {
		return nil, err
	}
	return json.Marshal(res.Output)
}

// flowsError turns the flows service's errors into the console's: missing
// things into ErrNotFound, bad input and missing connections into an
// *InputError with the service's sentence. A *dsl.ValidationError is kept
// as it is, so the editor can show each problem beside its line.
func flowsError(err error) error {
	if err == nil {
		return nil
	}
	var ve *dsl.ValidationError
	var me *connection.MissingError
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.Is(err, flows.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &me):
		return &InputError{Message: missingMessage(me)}
	case errors.Is(err, flows.ErrInvalid), errors.Is(err, flows.ErrExists):
		return &InputError{Message: httpjson.Sentence(err.Error())}
	}
	return err
}

// missingMessage says which connections a flow lacks, pointing at the
// Connections page rather than the command line.
func missingMessage(me *connection.MissingError) string {
	var parts []string
	for _, r := range me.Missing {
		parts = append(parts, fmt.Sprintf("%s (%s) is not set", r.Name, r.Kind))
	}
	for _, r := range me.WrongKind {
		parts = append(parts, fmt.Sprintf("%s is a %s connection, not %s", r.Name, me.Have[r.Name], r.Kind))
	}
	if len(parts) == 0 {
		return httpjson.Sentence(me.Error())
	}
	return "The flow cannot be turned on: the connection " + strings.Join(parts, "; the connection ") +
		". Add it on the Connections page, then turn the flow on."
}

func by(ctx context.Context) string {
	if u, ok := auth.UserFrom(ctx); ok {
		return u.Name
	}
	return ""
}

// CreateFolder makes a folder.
func (s FlowService) CreateFolder(ctx context.Context, name string) (*Folder, error) {
	f, err := s.Service.CreateFolder(ctx, name, "")
	if errors.Is(err, flows.ErrExists) {
		return nil, &InputError{Field: "name", Message: "A folder named " + name + " exists already."}
	}
	return f, flowsError(err)
}

// Flows lists the flows of a folder, or of all folders.
func (s FlowService) Flows(ctx context.Context, folderID string) ([]*FlowSummary, error) {
	fs, err := s.Service.Flows(ctx, flows.ListFlowsParams{FolderID: folderID})
	return fs, flowsError(err)
}

// Flow returns a flow with the document of its current version.
func (s FlowService) Flow(ctx context.Context, flowID string) (*Flow, error) {
	f, err := s.Service.Flow(ctx, flowID)
	if err != nil {
		return nil, flowsError(err)
	}
	v, err := s.Version(ctx, flowID, f.Version)
	if err != nil {
		return nil, flowsError(err)
	}
	out := &Flow{FlowSummary: *f, Document: []byte(v.Document)}
	if wf, err := dsl.Parse(out.Document); err == nil {
		out.Workflow = wf
	}
	return out, nil
}

// CreateFlow stores a new flow. A flow with the same namespace and name in
// the folder is refused rather than given a new version.
func (s FlowService) CreateFlow(ctx context.Context, folderID string, doc []byte) (*Flow, error) {
	wf, err := dsl.Parse(doc)
	if err != nil {
		return nil, err
	}
	if folderID == "" {
		f, err := s.Folder(ctx, DefaultFolder)
		if errors.Is(err, flows.ErrNotFound) {
			f, err = s.Service.CreateFolder(ctx, DefaultFolder, "Flows made without choosing a folder.")
		}
		if err != nil {
			return nil, flowsError(err)
		}
		folderID = f.ID
	}
	existing, err := s.Service.Flows(ctx, flows.ListFlowsParams{FolderID: folderID})
	if err != nil {
		return nil, flowsError(err)
	}
	for _, f := range existing {
		if f.Namespace == wf.Document.Namespace && f.Name == wf.Document.Name {
			return nil, &InputError{Field: "name", Message: "This folder has a flow named " + f.Title + " already; choose another name."}
		}
	}
	res, err := s.Service.SaveFlow(ctx, flows.SaveParams{FolderID: folderID, Document: doc, By: by(ctx)})
	if err != nil {
		return nil, flowsError(err)
	}
	return s.Flow(ctx, res.Flow.ID)
}

// SaveFlow stores a new version of a flow.
func (s FlowService) SaveFlow(ctx context.Context, flowID string, doc []byte) (*Flow, error) {
	f, err := s.Service.Flow(ctx, flowID)
	if err != nil {
		return nil, flowsError(err)
	}
	if _, err := s.Service.SaveFlow(ctx, flows.SaveParams{FolderID: f.FolderID, FlowID: flowID, Document: doc, By: by(ctx)}); err != nil {
		return nil, flowsError(err)
	}
	return s.Flow(ctx, flowID)
}

// SetFlowOn turns a flow on or off.
func (s FlowService) SetFlowOn(ctx context.Context, flowID string, on bool) error {
	_, err := s.SetOn(ctx, flowID, on)
	return flowsError(err)
}

// Executions lists executions, newest first.
func (s FlowService) Executions(ctx context.Context, f ExecutionFilter) (ExecutionPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	filter := flows.ExecutionFilter{FlowID: f.FlowID, Status: f.Status, MinDuration: f.MinDuration, MaxDuration: f.MaxDuration,
		Search: f.Search, Before: f.Before, Limit: limit}
	es, err := s.Service.Executions(ctx, filter)
	if err != nil {
		return ExecutionPage{}, flowsError(err)
	}
	total, err := s.CountExecutions(ctx, filter)
	if err != nil {
		return ExecutionPage{}, flowsError(err)
	}
	out := ExecutionPage{Executions: make([]Execution, 0, len(es)), Total: total}
	for _, e := range es {
		out.Executions = append(out.Executions, executionOf(e))
	}
	return out, nil
}

func executionOf(e *flows.Execution) Execution {
	x := Execution{ID: e.ID, FlowID: e.FlowID, FlowTitle: e.FlowTitle, Version: e.Version, Status: e.Status, Test: e.Test, DryRun: e.DryRun,
		IssueID: e.Subject.IssueID, IssueTitle: e.Subject.Title, User: e.Subject.User,
		Result: e.Result, ParentID: e.ParentID, Duration: time.Duration(e.DurationMS) * time.Millisecond, DataSaved: e.SaveAllData,
		Input: rawJSON(e.Input), Output: rawJSON(e.Output)}
	if e.StartedAt != nil {
		x.StartedAt = *e.StartedAt
	} else {
		x.StartedAt = e.CreatedAt
	}
	if e.EndedAt != nil {
		x.EndedAt = *e.EndedAt
	}
	if e.Error != nil {
		x.Error = rawJSON(e.Error.Object())
	}
	if e.DryRun {
		x.Result = strings.TrimSpace(x.Result + " (dry run)")
	}
	return x
}

func rawJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// ExecutionsByID returns the executions of ids that exist, without their
// steps.
func (s FlowService) ExecutionsByID(ctx context.Context, ids []string) ([]Execution, error) {
	es, err := s.Service.ExecutionsByID(ctx, ids)
	if err != nil {
		return nil, flowsError(err)
	}
	out := make([]Execution, len(es))
	for i, e := range es {
		out[i] = executionOf(e)
	}
	return out, nil
}

// Execution returns an execution with its steps, notes and children.
func (s FlowService) Execution(ctx context.Context, executionID string) (*Execution, error) {
	h, err := s.Service.Execution(ctx, executionID)
	if err != nil {
		return nil, flowsError(err)
	}
	x := executionOf(h.Execution)
	for _, st := range h.Steps {
		status := "succeeded"
		switch {
		case st.Error != nil:
			status = "faulted"
		case st.Skipped:
			status = "skipped"
		}
		step := Step{Path: st.Reference, Task: st.Name, Kind: st.Kind, Status: status, StartedAt: st.StartedAt,
			Duration: time.Duration(st.DurationMS) * time.Millisecond, Input: rawJSON(st.Input), Output: rawJSON(st.Output)}
		if st.Error != nil {
			step.Error = rawJSON(st.Error.Object())
		}
		x.Steps = append(x.Steps, step)
	}
	for _, n := range h.Notes {
		x.Notes = append(x.Notes, Note{Reference: n.Reference, Kind: n.Kind, Message: n.Message, Data: rawJSON(n.Data), Time: n.Time})
	}
	for _, n := range h.ConnectorCalls {
		x.ConnectorCalls = append(x.ConnectorCalls, connectorCallOf(n))
	}
	for _, c := range h.Children {
		x.Children = append(x.Children, executionOf(c))
	}
	return &x, nil
}

// TestFlow starts a test run: marked as a test in Flow history and allowed
// while the flow is off, as Okta Workflows' Test Flow is. The raw input is
// handed to the service as it is; the service decodes it with its own
// number handling and bounds its size.
func (s FlowService) TestFlow(ctx context.Context, flowID string, input json.RawMessage, dryRun bool) (string, error) {
	execID, err := s.Start(ctx, flowID, input, flows.StartOptions{Test: true, AllowOff: true, DryRun: dryRun})
	if errors.Is(err, flows.ErrNoQueue) {
		return "", &InputError{Message: httpjson.Sentence(err.Error())}
	}
	return execID, flowsError(err)
}

// StartOnDemand starts a flow marked callable on demand with body as its
// request body. A flow that is off, not marked, or cannot be queued is
// refused in words.
func (s FlowService) StartOnDemand(ctx context.Context, flowID string, body any) (string, error) {
	execID, err := s.Service.StartOnDemand(ctx, flowID, body)
	if errors.Is(err, flows.ErrNotOnDemand) || errors.Is(err, flows.ErrFlowOff) || errors.Is(err, flows.ErrNoQueue) {
		return "", &InputError{Message: httpjson.Sentence(err.Error())}
	}
	return execID, flowsError(err)
}

// IssueRuns lists the executions started by hand on an issue.
func (s FlowService) IssueRuns(ctx context.Context, issueID string) ([]Execution, error) {
	es, err := s.Service.IssueRuns(ctx, issueID)
	if err != nil {
		return nil, flowsError(err)
	}
	out := make([]Execution, 0, len(es))
	for _, e := range es {
		out = append(out, executionOf(e))
	}
	return out, nil
}

// CancelExecution cancels an unfinished execution. The service refuses one
// that has ended (with ErrInvalid), which the console says in words.
func (s FlowService) CancelExecution(ctx context.Context, executionID string) error {
	err := s.Cancel(ctx, executionID)
	if errors.Is(err, flows.ErrInvalid) {
		return &InputError{Message: executionEnded}
	}
	return flowsError(err)
}

// executionEnded is what Cancel of an execution that has ended says.
const executionEnded = "This execution has ended already; there is nothing to cancel."

// Tables lists the tables of a folder, or of all folders.
func (s FlowService) Tables(ctx context.Context, folderID string) ([]Table, error) {
	var folders []*flows.Folder
	if folderID == "" {
		fs, err := s.Folders(ctx)
		if err != nil {
			return nil, err
		}
		folders = fs
	} else {
		f, err := s.Folder(ctx, folderID)
		if err != nil {
			return nil, flowsError(err)
		}
		folders = []*flows.Folder{f}
	}
	var out []Table
	for _, f := range folders {
		ts, err := s.Service.Tables(ctx, f.ID)
		if err != nil {
			return nil, flowsError(err)
		}
		for _, t := range ts {
			out = append(out, tableOf(t, f.Name))
		}
	}
	return out, nil
}

func tableOf(t *flows.TableInfo, folder string) Table {
	out := Table{ID: t.ID, FolderID: t.FolderID, FolderName: folder, Name: t.Name, Rows: t.Rows}
	for _, c := range t.Columns {
		out.Columns = append(out.Columns, Column{Name: c.Name, Type: string(c.Type)})
	}
	return out
}

// Table returns one table.
func (s FlowService) Table(ctx context.Context, tableID string) (*Table, error) {
	t, err := s.Service.Table(ctx, "", tableID)
	if err != nil {
		return nil, flowsError(err)
	}
	name := ""
	if f, err := s.Folder(ctx, t.FolderID); err == nil {
		name = f.Name
	}
	out := tableOf(t, name)
	return &out, nil
}

// maxSearchRows bounds how many rows a search of a table reads.
const maxSearchRows = 50_000

// Rows returns a page of rows, newest first. The tables keep their rows
// in creation order and sort the other way only by a column of their own,
// so a page is read as the window of that order counted from its end, and
// turned round. A search reads the table in batches from its newest rows
// back and keeps the rows with a cell containing the text.
func (s FlowService) Rows(ctx context.Context, tableID, search string, limit, offset int) (RowPage, error) {
	t, err := s.Service.Table(ctx, "", tableID)
	if err != nil {
		return RowPage{}, flowsError(err)
	}
	search = strings.ToLower(strings.TrimSpace(search))
	var page RowPage
	// window reads the rows from start (counted from the oldest) up to
	// end, newest first.
	window := func(start, end int) ([]map[string]any, error) {
		rows, err := s.TableRows(ctx, t.ID, catalog.Query{Limit: end - start, Offset: start})
		if err != nil {
			return nil, flowsError(err)
		}
		slices.Reverse(rows)
		return rows, nil
	}
	if search == "" {
		end := t.Rows - offset
		if end <= 0 {
			return page, nil
		}
		start := max(0, end-limit)
		rows, err := window(start, end)
		if err != nil {
			return RowPage{}, err
		}
		for _, r := range rows {
			page.Rows = append(page.Rows, rowOf(r))
		}
		page.More = start > 0
		return page, nil
	}
	matched := 0
	for end := t.Rows; end > 0 && t.Rows-end < maxSearchRows; {
		start := max(0, end-catalog.MaxLimit)
		rows, err := window(start, end)
		if err != nil {
			return RowPage{}, err
		}
		for _, r := range rows {
			if !rowMatches(r, search) {
				continue
			}
			matched++
			switch {
			case matched <= offset:
			case len(page.Rows) < limit:
				page.Rows = append(page.Rows, rowOf(r))
			default:
				page.More = true
				return page, nil
			}
		}
		end = start
	}
	return page, nil
}

func rowOf(r map[string]any) Row {
	out := Row{Values: r}
	if id, ok := r[catalog.RowID].(string); ok {
		out.ID = id
	}
	if c, ok := r[catalog.RowCreated].(string); ok {
		out.Created, _ = time.Parse(catalog.DatetimeFormat, c)
	}
	out.FlowID, _ = r[catalog.RowFlow].(string)
	out.ExecutionID, _ = r[catalog.RowExecution].(string)
	return out
}

func rowMatches(r map[string]any, search string) bool {
	for k, v := range r {
		if strings.HasPrefix(k, "_") || v == nil {
			continue
		}
		if strings.Contains(strings.ToLower(fmt.Sprint(v)), search) {
			return true
		}
	}
	return false
}

// ExportCSV writes the table as CSV.
func (s FlowService) ExportCSV(ctx context.Context, tableID string, w io.Writer) error {
	return flowsError(s.WriteTableCSV(ctx, w, tableID))
}

// connectorCallOf reads a connector call from the history note that
// records it (see internal/connector).
func connectorCallOf(n *flows.Note) ConnectorCall {
	c := ConnectorCall{Reference: n.Reference, Time: n.Time}
	d, _ := n.Data.(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	num := func(m map[string]any, k string) int64 {
		switch v := m[k].(type) {
		case json.Number:
			i, _ := v.Int64()
			return i
		case float64:
			return int64(v)
		case int64:
			return v
		case int:
			return int64(v)
		}
		return 0
	}
	c.Connection, c.Method, c.URL, c.Error = str(d, "connection"), str(d, "method"), str(d, "url"), str(d, "error")
	c.DryRun, _ = d["dryRun"].(bool)
	c.Duration = time.Duration(num(d, "durationMs")) * time.Millisecond
	c.RequestHeaders, c.RequestBody = rawJSON(d["headers"]), rawJSON(d["body"])
	if res, ok := d["response"].(map[string]any); ok {
		c.Status = int(num(res, "status"))
		c.ResponseHeaders, c.ResponseBody = rawJSON(res["headers"]), rawJSON(res["body"])
		c.Truncated, _ = res["truncated"].(bool)
	}
	return c
}
