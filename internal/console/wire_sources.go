package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// SourceService gives the console the posture source service. It
// satisfies Sources.
//
// Scan now queues the scan job, as the API does, so that the scan
// survives a restart and runs on any node with a free worker; the scan
// list shows it, with the progress of each source while it runs in this
// process.
type SourceService struct {
	sources *source.Service
}

var _ Sources = (*SourceService)(nil)

// NewSourceService returns the adapter over svc.
func NewSourceService(svc *source.Service) *SourceService {
	return &SourceService{sources: svc}
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
	return Source{Source: *src, Values: vals}
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

// QueueScan queues the scan job for one source, or all.
func (s *SourceService) QueueScan(ctx context.Context, name string) error {
	var names []string
	if name != "" {
		names = []string{name}
	}
	_, err := s.sources.QueueScan(ctx, names, TriggerConsole)
	if errors.Is(err, source.ErrNoQueue) {
		return &InputError{Message: "Scans cannot be queued on this server: it has no job queue."}
	}
	return sourceError(err)
}

// TriggerConsole is recorded with the scans Scan now queues.
const TriggerConsole = "console"

// Scan returns a scan's progress or result.
func (s *SourceService) Scan(ctx context.Context, scanID string) (*Scan, error) {
	scans, err := s.sources.Scans(ctx, 200)
	if err != nil {
		return nil, err
	}
	for _, r := range scans {
		if r.ID == scanID {
			sc := s.scanOf(r)
			return &sc, nil
		}
	}
	return nil, fmt.Errorf("scan %s: %w", scanID, ErrNotFound)
}

// scanOf is r as a Scan, with the progress of each source when r runs in
// this process.
func (s *SourceService) scanOf(r *source.ScanResult) Scan {
	sc := scanOf(r)
	if r.Status != source.ScanRunning {
		return sc
	}
	var parts []string
	for _, p := range s.sources.Progress(r.ID) {
		if p.Done {
			sc.Done++
			parts = append(parts, fmt.Sprintf("%s: %d accounts read", p.Source, p.Accounts))
		} else {
			parts = append(parts, fmt.Sprintf("%s: reading %s, %d requests, %d accounts so far", p.Source, p.Step, p.Requests, p.Accounts))
		}
		sc.Accounts += p.Accounts
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

// Scans lists the latest scans, newest first.
func (s *SourceService) Scans(ctx context.Context, limit int) ([]Scan, error) {
	stored, err := s.sources.Scans(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Scan, 0, len(stored))
	for _, r := range stored {
		out = append(out, s.scanOf(r))
	}
	return out, nil
}
