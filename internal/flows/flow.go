package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Flow is a flow as lists, the console and `vigil flows list --json`
// show it. Its JSON form is stable.
type Flow struct {
	ID       string `json:"id"`
	FolderID string `json:"folderId"`
	Folder   string `json:"folder"`
	// Namespace, Name and DocVersion come from the current version's
	// document block.
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	DocVersion string `json:"documentVersion"`
	// Title is document.title, or the name when there is none.
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	On          bool   `json:"on"`
	// Version is the current version number: 1 for the first save.
	Version int `json:"version"`
	// Trigger is the kind of trigger (apiEndpoint), or "" for a helper flow.
	Trigger string `json:"trigger"`
	// TriggerSettings is document.metadata.vigil.trigger as written.
	TriggerSettings map[string]any `json:"triggerSettings,omitempty"`
	SaveAllData     bool           `json:"saveAllData"`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
}

// Ref is the flow's namespace/name.
func (f *Flow) Ref() string { return f.Namespace + "/" + f.Name }

// Helper tells whether the flow has no trigger and runs only when
// another flow calls it.
func (f *Flow) Helper() bool { return f.Trigger == "" }

func flowOf(r *store.Flow) *Flow {
	f := &Flow{ID: r.ID, FolderID: r.FolderID, Folder: r.FolderName, Namespace: r.Namespace, Name: r.Name,
		DocVersion: r.DocVersion, Title: r.Title, Description: r.Description, On: r.On, Version: r.Version,
		Trigger: r.TriggerKind, SaveAllData: r.SaveAllData, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.TriggerJSON != "" {
		_ = json.Unmarshal([]byte(r.TriggerJSON), &f.TriggerSettings)
	}
	return f
}

func flowsOf(rs []*store.Flow) []*Flow {
	out := make([]*Flow, len(rs))
	for i, r := range rs {
		out[i] = flowOf(r)
	}
	return out
}

// ListFlowsParams selects flows to list; zero fields select all.
type ListFlowsParams struct {
	FolderID string
	On       *bool
}

// Flows lists flows by folder and title.
func (s *Service) Flows(ctx context.Context, p ListFlowsParams) ([]*Flow, error) {
	rs, err := s.st.Flows(ctx, store.FlowFilter{FolderID: p.FolderID, On: p.On})
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	return flowsOf(rs), nil
}

// Flow returns a flow by id.
func (s *Service) Flow(ctx context.Context, flowID string) (*Flow, error) {
	r, err := s.st.Flow(ctx, flowID)
	if err = flowErr(flowID, err); err != nil {
		return nil, err
	}
	return flowOf(r), nil
}

// flowErr is the error of reading flow flowID's row as Flow reports it.
func flowErr(flowID string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return kindErrorf(ErrNotFound, "no flow has id %s", flowID)
	}
	if err != nil {
		return fmt.Errorf("read flow %s: %w", flowID, err)
	}
	return nil
}

// FindFlow finds a flow by reference: its id, its namespace/name or its
// title, in the folder called folder when folder is not empty. It returns
// an error wrapping ErrAmbiguous, naming the folders, when several
// folders hold a match, and ErrNotFound when none does.
func (s *Service) FindFlow(ctx context.Context, ref, folder string) (*Flow, error) {
	var folderID string
	if folder != "" {
		f, err := s.Folder(ctx, folder)
		if err != nil {
			return nil, err
		}
		folderID = f.ID
	}
	if r, err := s.st.Flow(ctx, ref); err == nil && (folderID == "" || r.FolderID == folderID) {
		return flowOf(r), nil
	}
	var matches []*store.Flow
	if ns, name, ok := strings.Cut(ref, "/"); ok {
		rs, err := s.st.FlowsByName(ctx, ns, name)
		if err != nil {
			return nil, fmt.Errorf("find flow %q: %w", ref, err)
		}
		for _, r := range rs {
			if folderID == "" || r.FolderID == folderID {
				matches = append(matches, r)
			}
		}
	}
	if len(matches) == 0 {
		rs, err := s.st.FlowsByTitle(ctx, ref, folderID)
		if err != nil {
			return nil, fmt.Errorf("find flow %q: %w", ref, err)
		}
		matches = rs
	}
	switch len(matches) {
	case 0:
		where := ""
		if folder != "" {
			where = " in folder " + folder
		}
		return nil, kindErrorf(ErrNotFound, "no flow is titled or named %q%s", ref, where)
	case 1:
		return flowOf(matches[0]), nil
	}
	folders := make([]string, len(matches))
	for i, m := range matches {
		folders[i] = m.FolderName
	}
	return nil, kindErrorf(ErrAmbiguous, "%d flows match %q (in folders %s); name the folder with --folder",
		len(matches), ref, strings.Join(folders, ", "))
}

// Version is one saved version of a flow.
type Version struct {
	FlowID     string    `json:"flowId"`
	Version    int       `json:"version"`
	DocVersion string    `json:"documentVersion"`
	Document   string    `json:"document,omitempty"`
	CreatedBy  string    `json:"createdBy,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Versions lists a flow's versions, newest first, without documents.
func (s *Service) Versions(ctx context.Context, flowID string) ([]*Version, error) {
	vs, err := s.st.FlowVersions(ctx, flowID)
	if err != nil {
		return nil, fmt.Errorf("list the versions of flow %s: %w", flowID, err)
	}
	out := make([]*Version, len(vs))
	for i, v := range vs {
		out[i] = &Version{FlowID: v.FlowID, Version: v.Version, DocVersion: v.DocVersion, CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt}
	}
	return out, nil
}

// Version returns one version of a flow with its document; version 0
// means the current one.
func (s *Service) Version(ctx context.Context, flowID string, version int) (*Version, error) {
	if version == 0 {
		f, err := s.Flow(ctx, flowID)
		if err != nil {
			return nil, err
		}
		version = f.Version
	}
	v, err := s.st.FlowVersion(ctx, flowID, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, kindErrorf(ErrNotFound, "flow %s has no version %d", flowID, version)
	}
	if err != nil {
		return nil, fmt.Errorf("read version %d of flow %s: %w", version, flowID, err)
	}
	return &Version{FlowID: v.FlowID, Version: v.Version, DocVersion: v.DocVersion, Document: v.Document,
		CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt}, nil
}

// SaveParams describe a save of a flow document.
type SaveParams struct {
	FolderID string
	// FlowID, when set, saves a new version of that flow. Otherwise the
	// document goes to the folder's flow with its namespace and name,
	// which is created when there is none.
	FlowID   string
	Document []byte
	// By names who saved, for the version history.
	By string
}

// SaveResult tells what a save did.
type SaveResult struct {
	Flow *Flow
	// Created is set for a new flow; Changed when a version was added
	// (saving the current document again adds none).
	Created bool
	Changed bool
}

// SaveFlow validates a document and saves it as a new version. A
// document that does not validate changes nothing: the error wraps
// ErrInvalid and, for document problems, a *dsl.ValidationError listing
// each problem with its path and line.
func (s *Service) SaveFlow(ctx context.Context, p SaveParams) (*SaveResult, error) {
	defer s.flowsChanged()
	w, err := dsl.Parse(p.Document)
	if err != nil {
		return nil, invalid(err)
	}
	folderID := p.FolderID
	if p.FlowID != "" {
		f, err := s.st.Flow(ctx, p.FlowID)
		if err != nil {
			return nil, fmt.Errorf("read flow %s: %w", p.FlowID, err)
		}
		folderID = f.FolderID
	}
	if _, err := s.st.FlowFolder(ctx, folderID); err != nil {
		return nil, fmt.Errorf("read folder %s: %w", folderID, err)
	}
	if err := s.check(ctx, w, folderID, []*dsl.Workflow{w}); err != nil {
		return nil, err
	}
	var res *SaveResult
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		res, err = s.saveTx(ctx, tx, folderID, p.FlowID, w, string(p.Document), p.By)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// check verifies what parsing cannot: catalog functions and their
// arguments, and helper flows (in the folder, or among extra, the flows
// being saved with w).
func (s *Service) check(ctx context.Context, w *dsl.Workflow, folderID string, extra []*dsl.Workflow) error {
	eng := engine.New(engine.Config{Catalog: s.cfg.Catalog, Flows: &checkResolver{s: s, folderID: folderID, extra: extra}})
	if err := eng.Check(ctx, w); err != nil {
		var ve *dsl.ValidationError
		if errors.As(err, &ve) {
			return invalid(err)
		}
		return fmt.Errorf("check flow %s/%s: %w", w.Document.Namespace, w.Document.Name, err)
	}
	return nil
}

// saveTx saves w (whose text is doc) in tx: a new version of flowID, or
// of the folder's flow of the same namespace and name, or a new flow.
func (s *Service) saveTx(ctx context.Context, tx *store.Tx, folderID, flowID string, w *dsl.Workflow, doc, by string) (*SaveResult, error) {
	d := w.Document
	now := s.now()
	var cur *store.Flow
	var err error
	if flowID != "" {
		cur, err = tx.Flow(ctx, flowID)
	} else {
		cur, err = tx.FlowByName(ctx, folderID, d.Namespace, d.Name)
		if errors.Is(err, store.ErrNotFound) {
			cur, err = nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read flow %s/%s: %w", d.Namespace, d.Name, err)
	}
	row := &store.Flow{FolderID: folderID}
	created := cur == nil
	if cur != nil {
		prev, err := tx.FlowVersion(ctx, cur.ID, cur.Version)
		if err != nil {
			return nil, fmt.Errorf("read flow %s/%s: %w", d.Namespace, d.Name, err)
		}
		if prev.Document == doc {
			return &SaveResult{Flow: flowOf(cur)}, nil
		}
		row = cur
	} else {
		row.ID = id.NewAt("flw", now)
		row.CreatedAt = now
	}
	row.Namespace, row.Name, row.DocVersion = d.Namespace, d.Name, d.Version
	row.Title = d.Title
	if row.Title == "" {
		row.Title = d.Name
	}
	row.Description = d.Summary
	row.Version++
	row.TriggerKind, row.TriggerJSON = triggerOf(w)
	row.SaveAllData = w.SaveAllData()
	row.UpdatedAt = now
	if created {
		err = tx.CreateFlow(ctx, row)
	} else {
		err = tx.UpdateFlow(ctx, row)
	}
	if errors.Is(err, store.ErrConflict) {
		return nil, invalid(fmt.Errorf("the folder already holds a flow named %s/%s", d.Namespace, d.Name))
	}
	if err != nil {
		return nil, fmt.Errorf("save flow %s/%s: %w", d.Namespace, d.Name, err)
	}
	err = tx.CreateFlowVersion(ctx, &store.FlowVersion{FlowID: row.ID, Version: row.Version, DocVersion: d.Version,
		Document: doc, CreatedBy: by, CreatedAt: now})
	if err != nil {
		return nil, fmt.Errorf("save version %d of flow %s/%s: %w", row.Version, d.Namespace, d.Name, err)
	}
	if row.FolderName == "" {
		if f, err := tx.FlowFolder(ctx, folderID); err == nil {
			row.FolderName = f.Name
		}
	}
	action := "flow.update"
	if created {
		action = "flow.create"
	}
	if err := s.audit.RecordTx(ctx, tx.Queries, audit.Entry{Action: action, Target: flowTarget(row.ID, row.Title),
		Details: map[string]any{"version": row.Version, "folder": row.FolderName, "namespace": row.Namespace, "name": row.Name}}); err != nil {
		return nil, err
	}
	return &SaveResult{Flow: flowOf(row), Created: created, Changed: true}, nil
}

// triggerOf returns the kind of w's trigger and its settings as JSON.
func triggerOf(w *dsl.Workflow) (kind, settings string) {
	t := w.Trigger()
	if t == nil {
		return "", ""
	}
	if t.APIEndpoint != nil {
		kind = "apiEndpoint"
	}
	if m, ok := w.Document.Metadata["vigil"].(map[string]any); ok {
		if b, err := json.Marshal(m["trigger"]); err == nil {
			settings = string(b)
		}
	}
	return kind, settings
}

// SetOn turns a flow on or off. Turning on checks, through the Checker,
// that every connection the flow names is set.
func (s *Service) SetOn(ctx context.Context, flowID string, on bool) (*Flow, error) {
	defer s.flowsChanged()
	f, err := s.Flow(ctx, flowID)
	if err != nil {
		return nil, err
	}
	if on {
		if err := s.checkOn(ctx, f); err != nil {
			return nil, err
		}
	}
	if err := s.st.SetFlowOn(ctx, flowID, on, s.now()); err != nil {
		return nil, fmt.Errorf("turn flow %q %s: %w", f.Title, onOff(on), err)
	}
	f.On = on
	action := "flow.disable"
	if on {
		action = "flow.enable"
	}
	s.audit.Record(ctx, audit.Entry{Action: action, Target: flowTarget(f.ID, f.Title)})
	return f, nil
}

// flowTarget names a flow for the audit log.
func flowTarget(id, title string) audit.Target {
	return audit.Target{Kind: "flow", ID: id, Name: title}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// checkOn checks that f may be turned on.
func (s *Service) checkOn(ctx context.Context, f *Flow) error {
	if s.cfg.Checker == nil {
		return nil
	}
	w, err := s.workflow(ctx, f.ID, f.Version)
	if err != nil {
		return err
	}
	refs := Connections(s.cfg.Catalog, w)
	if len(refs) == 0 {
		return nil
	}
	if err := s.cfg.Checker.CheckConnections(ctx, f.FolderID, refs); err != nil {
		return fmt.Errorf("flow %q cannot be turned on: %w", f.Title, err)
	}
	return nil
}

// SetFolderOn turns every flow of a folder on or off. Flows that cannot
// be turned on are left off; the error lists them.
func (s *Service) SetFolderOn(ctx context.Context, folderID string, on bool) ([]*Flow, error) {
	fs, err := s.Flows(ctx, ListFlowsParams{FolderID: folderID})
	if err != nil {
		return nil, err
	}
	var done []*Flow
	var errs []error
	for _, f := range fs {
		g, err := s.SetOn(ctx, f.ID, on)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, g)
	}
	return done, errors.Join(errs...)
}

// DeleteFlow deletes a flow that is off, with its versions and history.
func (s *Service) DeleteFlow(ctx context.Context, flowID string) error {
	defer s.flowsChanged()
	f, err := s.Flow(ctx, flowID)
	if err != nil {
		return err
	}
	if f.On {
		return invalid(fmt.Errorf("flow %q is on; turn it off before deleting it", f.Title))
	}
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteFlow(ctx, flowID) }); err != nil {
		return fmt.Errorf("delete flow %q: %w", f.Title, err)
	}
	s.audit.Record(ctx, audit.Entry{Action: "flow.delete", Target: flowTarget(f.ID, f.Title)})
	return nil
}

// ConnectionRef is a connection a flow names, as in `call:
// okta.suspendUser` with `with: {connection: Okta}`. Bundles carry these
// references, never credentials.
type ConnectionRef struct {
	Name string `json:"name" yaml:"name"`
	// Type is the connector: okta, entra, google, salesforce, slack, jira, http.
	Type string `json:"type" yaml:"type"`
}

// Connections lists the connections w names through catalog functions
// that need one, sorted and without duplicates. Connections named by a
// runtime expression cannot be known before the flow runs and are left out.
func Connections(cat *catalog.Catalog, w *dsl.Workflow) []ConnectionRef {
	seen := map[ConnectionRef]bool{}
	w.Walk(func(_ string, t *dsl.Task) {
		if t.Call == nil || t.Call.HTTP != nil || t.Call.OpenAPI != nil || w.Use.Functions[t.Call.Function] != nil {
			return
		}
		fn, ok := cat.Function(t.Call.Function)
		if !ok || fn.Connector == "" || t.Call.With == nil {
			return
		}
		args, _ := t.Call.With.Value.(map[string]any)
		if name, ok := args[catalog.ConnectionArg].(string); ok && name != "" {
			seen[ConnectionRef{Name: name, Type: fn.Connector}] = true
		}
	})
	out := make([]ConnectionRef, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Type < out[j].Type
	})
	return out
}

// helperRefs lists the helper flows w runs, with the path of each call.
func helperRefs(w *dsl.Workflow) map[string]engine.FlowRef {
	out := map[string]engine.FlowRef{}
	w.Walk(func(path string, t *dsl.Task) {
		if t.Run != nil && t.Run.Workflow != nil {
			rw := t.Run.Workflow
			out[path] = engine.FlowRef{Namespace: rw.Namespace, Name: rw.Name, Version: rw.Version}
		}
	})
	return out
}
