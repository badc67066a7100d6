package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// SourceService gives the console the posture source service. It
// satisfies Sources.
//
// Scan now runs the scan in this process, in the background, so that its
// page can show the progress the source service reports; the scan's result
// is stored by the service as any other. A scan started here does not
// survive a restart of the process (the scheduled scans, River jobs, do).
type SourceService struct {
	sources *source.Service
	now     func() time.Time

	mu   sync.Mutex
	runs map[string]*scanRun
}

var _ Sources = (*SourceService)(nil)

// NewSourceService returns the adapter over svc.
func NewSourceService(svc *source.Service, now func() time.Time) *SourceService {
	if now == nil {
		now = time.Now
	}
	return &SourceService{sources: svc, now: now, runs: map[string]*scanRun{}}
}

// scanRun is a scan started by Scan now, while it runs and for a while
// after.
type scanRun struct {
	id       string
	started  time.Time
	names    []string
	total    int
	progress map[string]source.Progress
	result   *source.ScanResult
	err      error
}

func sourceError(err error) error {
	var ie *source.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, source.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &ie):
		return &InputError{Field: ie.Field, Message: ie.Message}
	}
	return err
}

// sourceKinds are the source forms. Field names are the JSON names of
// source.Settings and source.Credentials.
var sourceKinds = []FormType{
	{Type: string(source.KindOkta), Label: "Okta", Fields: []Field{
		{Name: "url", Label: "Org URL", Kind: "url", Required: true, Placeholder: "https://example.okta.com"},
		{Name: "token", Label: "API token", Secret: true, Help: "A read-only admin's SSWS token; or use an OAuth service app below."},
		{Name: "clientId", Label: "OAuth client id", Help: "An API service app with the okta.*.read scopes."},
		{Name: "privateKey", Label: "OAuth private key", Kind: "textarea", Secret: true, Help: "PEM or JWK."},
		{Name: "keyId", Label: "Key id"}}},
	{Type: string(source.KindEntra), Label: "Microsoft Entra ID", Fields: []Field{
		{Name: "tenant", Label: "Tenant", Required: true, Placeholder: "contoso.onmicrosoft.com"},
		{Name: "clientId", Label: "Client id", Required: true},
		{Name: "clientSecret", Label: "Client secret", Secret: true, Required: true},
		{Name: "graphUrl", Label: "Microsoft Graph URL", Kind: "url", Placeholder: "https://graph.microsoft.com"},
		{Name: "loginUrl", Label: "Login URL", Kind: "url", Placeholder: "https://login.microsoftonline.com"}}},
	{Type: string(source.KindGoogle), Label: "Google Workspace", Fields: []Field{
		{Name: "serviceAccountKey", Label: "Service account key (JSON)", Kind: "textarea", Secret: true, Required: true},
		{Name: "subject", Label: "Admin to act as", Required: true, Placeholder: "admin@example.com"},
		{Name: "customer", Label: "Customer id", Placeholder: "my_customer"},
		{Name: "url", Label: "Admin SDK URL", Kind: "url", Placeholder: "https://admin.googleapis.com"}}},
	{Type: string(source.KindSalesforce), Label: "Salesforce", Fields: []Field{
		{Name: "url", Label: "Instance URL", Kind: "url", Required: true, Placeholder: "https://example.my.salesforce.com"},
		{Name: "clientId", Label: "Client id", Required: true},
		{Name: "clientSecret", Label: "Client secret", Secret: true, Required: true},
		{Name: "apiVersion", Label: "API version", Placeholder: "62.0"}}},
	{Type: string(source.KindAWS), Label: "AWS", Fields: []Field{
		{Name: "file", Label: "Credential report file", Help: "A CSV from aws iam get-credential-report; or use an access key below."},
		{Name: "accessKeyId", Label: "Access key id"},
		{Name: "secretAccessKey", Label: "Secret access key", Secret: true},
		{Name: "sessionToken", Label: "Session token", Secret: true},
		{Name: "region", Label: "Region", Placeholder: "us-east-1"},
		{Name: "url", Label: "IAM endpoint", Kind: "url"}}},
	{Type: string(source.KindSnapshot), Label: "Snapshot file", Fields: []Field{
		{Name: "file", Label: "Snapshot file", Required: true, Help: "A Vigil snapshot (JSON) on this server's disk."}}},
}

// SourceKinds describes the forms.
func (s *SourceService) SourceKinds() []FormType { return sourceKinds }

func sourceOf(src *source.Source) Source {
	vals := map[string]string{}
	var m map[string]any
	if b, err := json.Marshal(src.Settings); err == nil && json.Unmarshal(b, &m) == nil {
		for k, v := range m {
			if s, ok := v.(string); ok {
				vals[k] = s
			}
		}
	}
	return Source{Name: src.Name, Kind: string(src.Kind), Values: vals, Primary: src.Primary, Schedule: src.Schedule,
		LastScanAt: src.LastScanAt, LastScanOK: src.LastScanOK, LastError: src.LastError, LastAccounts: src.LastAccounts,
		LastSuccessAt: src.LastSuccessAt}
}

// Sources lists the sources.
func (s *SourceService) Sources(ctx context.Context) ([]Source, error) {
	list, err := s.sources.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Source, 0, len(list))
	for _, src := range list {
		out = append(out, sourceOf(src))
	}
	return out, nil
}

// Source returns one source.
func (s *SourceService) Source(ctx context.Context, name string) (*Source, error) {
	src, err := s.sources.Get(ctx, name)
	if err != nil {
		return nil, sourceError(err)
	}
	out := sourceOf(src)
	return &out, nil
}

// inputOf maps form values onto the source's settings and credentials by
// their JSON names.
func inputOf(in SourceInput) (source.Input, error) {
	out := source.Input{Name: in.Name, Kind: source.Kind(in.Kind), Primary: in.Primary}
	b, err := json.Marshal(in.Values)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(b, &out.Settings); err != nil {
		return out, err
	}
	if err := json.Unmarshal(b, &out.Credentials); err != nil {
		return out, err
	}
	return out, nil
}

// AddSource saves a new source.
func (s *SourceService) AddSource(ctx context.Context, in SourceInput) error {
	si, err := inputOf(in)
	if err != nil {
		return err
	}
	_, err = s.sources.Add(ctx, si)
	return sourceError(err)
}

// UpdateSource changes what the source service lets change after adding:
// which source is primary. Other settings are kept as they are; the form
// says so.
func (s *SourceService) UpdateSource(ctx context.Context, name string, in SourceInput) error {
	cur, err := s.sources.Get(ctx, name)
	if err != nil {
		return sourceError(err)
	}
	saved := sourceOf(cur)
	for k, v := range in.Values {
		if v != "" && saved.Values[k] != v && !isSecretField(in.Kind, k) {
			return &InputError{Field: k, Message: "Only the primary choice of a saved source can be changed; remove the source and add it again to change its " + k + "."}
		}
		if v != "" && isSecretField(in.Kind, k) {
			return &InputError{Field: k, Message: "The credentials of a saved source cannot be replaced yet; remove the source and add it again with the new ones."}
		}
	}
	if in.Primary && !cur.Primary {
		return sourceError(s.sources.SetPrimary(ctx, name))
	}
	return nil
}

func isSecretField(kind, name string) bool {
	ft, _ := formType(sourceKinds, kind)
	for _, f := range ft.Fields {
		if f.Name == name {
			return f.Secret
		}
	}
	return false
}

// TestSource checks the configuration without calling the vendor: the
// source service reads a source only in a scan.
func (s *SourceService) TestSource(ctx context.Context, name string, in SourceInput) (CheckResult, error) {
	if name != "" {
		return CheckResult{OK: true, Message: "The saved source is configured; Scan now reads it and shows any error."}, nil
	}
	si, err := inputOf(in)
	if err != nil {
		return CheckResult{}, err
	}
	if !si.Kind.Valid() {
		return CheckResult{Message: "Choose the kind of source."}, nil
	}
	for _, f := range func() []Field { ft, _ := formType(sourceKinds, in.Kind); return ft.Fields }() {
		if f.Required && strings.TrimSpace(in.Values[f.Name]) == "" {
			return CheckResult{Message: f.Label + " is required."}, nil
		}
	}
	return CheckResult{OK: true, Message: "The settings are complete. Save, then Scan now: the first scan reads the source and reports any error."}, nil
}

// RemoveSource deletes a source and resolves its issues.
func (s *SourceService) RemoveSource(ctx context.Context, name, by string) error {
	return sourceError(s.sources.Remove(ctx, name, by))
}

// StartScan starts a scan of one source, or all, in the background. While a
// scan started here runs, asking again returns it instead of starting
// another.
func (s *SourceService) StartScan(ctx context.Context, name string) (string, error) {
	list, err := s.sources.List(ctx)
	if err != nil {
		return "", err
	}
	var names []string
	for _, src := range list {
		if name == "" || src.Name == name {
			names = append(names, src.Name)
		}
	}
	if len(names) == 0 {
		if name != "" {
			return "", fmt.Errorf("source %s: %w", name, ErrNotFound)
		}
		return "", &InputError{Message: "There is no source to scan; add one first."}
	}
	s.mu.Lock()
	for _, r := range s.runs {
		if r.result == nil && r.err == nil {
			s.mu.Unlock()
			return r.id, nil
		}
	}
	now := s.now()
	for k, r := range s.runs {
		if now.Sub(r.started) > time.Hour {
			delete(s.runs, k)
		}
	}
	run := &scanRun{id: id.New("run"), started: now, names: names, total: len(names) + 1, progress: map[string]source.Progress{}}
	s.runs[run.id] = run
	s.mu.Unlock()
	opts := source.ScanOptions{Trigger: "console", Progress: func(p source.Progress) {
		s.mu.Lock()
		run.progress[p.Source] = p
		s.mu.Unlock()
	}}
	if name != "" {
		opts.Sources = []string{name}
	}
	go func() {
		res, err := s.sources.Scan(context.WithoutCancel(ctx), opts)
		s.mu.Lock()
		run.result, run.err = res, err
		s.mu.Unlock()
	}()
	return run.id, nil
}

// Scan returns a scan's progress or result: a scan started here by its
// handle, any other by its id.
func (s *SourceService) Scan(ctx context.Context, scanID string) (*Scan, error) {
	s.mu.Lock()
	run, ok := s.runs[scanID]
	var out *Scan
	if ok {
		out = run.view()
	}
	s.mu.Unlock()
	if ok {
		return out, nil
	}
	scans, err := s.sources.Scans(ctx, 200)
	if err != nil {
		return nil, err
	}
	for _, r := range scans {
		if r.ID == scanID {
			sc := scanOf(r)
			return &sc, nil
		}
	}
	return nil, fmt.Errorf("scan %s: %w", scanID, ErrNotFound)
}

// view is the run as a Scan; s.mu is held.
func (r *scanRun) view() *Scan {
	if r.err != nil {
		return &Scan{ID: r.id, Status: "failed", Trigger: "console", Sources: r.names, StartedAt: r.started, Error: sentence(r.err.Error()),
			Done: r.total, Total: r.total}
	}
	if r.result != nil {
		sc := scanOf(r.result)
		sc.ID = r.id
		return &sc
	}
	sc := &Scan{ID: r.id, Status: "running", Trigger: "console", Sources: r.names, StartedAt: r.started, Total: r.total}
	var parts []string
	for _, n := range r.names {
		p, ok := r.progress[n]
		switch {
		case !ok:
			continue
		case p.Done:
			sc.Done++
			parts = append(parts, fmt.Sprintf("%s: %d accounts read", n, p.Accounts))
		default:
			parts = append(parts, fmt.Sprintf("%s: reading %s, %d requests, %d accounts so far", n, p.Step, p.Requests, p.Accounts))
		}
		sc.Accounts += p.Accounts
	}
	if sc.Done == len(r.names) {
		parts = append(parts, "updating issues…")
	}
	sc.Progress = strings.Join(parts, "; ")
	return sc
}

func scanOf(r *source.ScanResult) Scan {
	sc := Scan{ID: r.ID, Status: r.Status, Trigger: r.Trigger, StartedAt: r.StartedAt, EndedAt: r.FinishedAt, Error: r.Error,
		Accounts: r.Accounts, Opened: r.Issues.Opened + r.Issues.Reopened, Resolved: r.Issues.Resolved, Unchanged: r.Issues.Unchanged}
	if sc.Status == source.ScanOK {
		sc.Status = "succeeded"
	}
	for _, src := range r.Sources {
		sc.Sources = append(sc.Sources, src.Name)
		if !src.OK && src.Error != "" {
			if sc.Errors == nil {
				sc.Errors = map[string]string{}
			}
			sc.Errors[src.Name] = src.Error
		}
	}
	sc.Total = len(r.Sources) + 1
	if sc.Status != source.ScanRunning {
		sc.Done = sc.Total
	}
	return sc
}

// Scans lists the latest scans, those running here first.
func (s *SourceService) Scans(ctx context.Context, limit int) ([]Scan, error) {
	var out []Scan
	s.mu.Lock()
	for _, r := range s.runs {
		if r.result == nil && r.err == nil {
			out = append(out, *r.view())
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	stored, err := s.sources.Scans(ctx, limit)
	if err != nil {
		return nil, err
	}
	for _, r := range stored {
		if r.Status == source.ScanRunning && len(out) > 0 {
			continue // shown above with its progress, or by another node
		}
		out = append(out, scanOf(r))
	}
	return out[:min(limit, len(out))], nil
}
