package consoletest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Sources is an in-memory implementation of the console's Sources whose
// "synthetic" kind scans a generated organization (internal/posture/synth)
// into the real issue service, so that scans open real issues and, through
// the outbox, real hook deliveries.
type Sources struct {
	mu      sync.Mutex
	st      *store.Store
	issues  *issue.Service
	now     func() time.Time
	sources map[string]*console.Source
	scans   []*console.Scan
	// wg tracks running scans, for Close.
	wg sync.WaitGroup
}

var _ console.Sources = (*Sources)(nil)

// NewSources returns an empty Sources scanning into issues.
func NewSources(st *store.Store, issues *issue.Service, now func() time.Time) *Sources {
	return &Sources{st: st, issues: issues, now: now, sources: map[string]*console.Source{}}
}

// Wait blocks until every started scan has ended.
func (s *Sources) Wait() { s.wg.Wait() }

var sourceKinds = []console.FormType{
	{Type: "synthetic", Label: "Synthetic organization", Fields: []console.Field{
		{Name: "people", Label: "People", Required: true, Placeholder: "200", Help: "How many people to generate, across Okta, Entra ID, Google Workspace, Salesforce and AWS."},
		{Name: "seed", Label: "Seed", Placeholder: "1"}}},
	{Type: "okta", Label: "Okta", Fields: []console.Field{
		{Name: "url", Label: "Org URL", Kind: "url", Required: true, Placeholder: "https://example.okta.com"},
		{Name: "token", Label: "API token", Secret: true, Required: true}}},
}

// SourceKinds describes the forms.
func (s *Sources) SourceKinds() []console.FormType { return sourceKinds }

// Sources lists the sources by name.
func (s *Sources) Sources(ctx context.Context) ([]console.Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]console.Source, 0, len(s.sources))
	for _, src := range s.sources {
		out = append(out, *src)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Source returns one source.
func (s *Sources) Source(ctx context.Context, name string) (*console.Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.sources[name]
	if !ok {
		return nil, fmt.Errorf("source %s: %w", name, console.ErrNotFound)
	}
	c := *src
	return &c, nil
}

func check(in console.SourceInput) error {
	if in.Name == "" {
		return &console.InputError{Field: "name", Message: "Give the source a name."}
	}
	switch in.Kind {
	case "synthetic":
		if n, err := strconv.Atoi(in.Values["people"]); err != nil || n < 1 || n > 5000 {
			return &console.InputError{Field: "people", Message: "People must be a number from 1 to 5000."}
		}
	case "okta":
		if in.Values["url"] == "" {
			return &console.InputError{Field: "url", Message: "Fill in the Org URL."}
		}
	default:
		return &console.InputError{Field: "kind", Message: "Unknown source kind " + in.Kind + "."}
	}
	return nil
}

// AddSource stores a source; secrets are dropped (the fake never uses
// them).
func (s *Sources) AddSource(ctx context.Context, in console.SourceInput) error {
	if err := check(in); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sources[in.Name]; ok {
		return &console.InputError{Field: "name", Message: "A source named " + in.Name + " exists already."}
	}
	vals := map[string]string{}
	for k, v := range in.Values {
		if k != "token" {
			vals[k] = v
		}
	}
	s.sources[in.Name] = &console.Source{Name: in.Name, Kind: in.Kind, Values: vals, Primary: in.Primary, Schedule: 24 * time.Hour}
	return nil
}

// UpdateSource replaces a source's settings.
func (s *Sources) UpdateSource(ctx context.Context, name string, in console.SourceInput) error {
	if err := check(in); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.sources[name]
	if !ok {
		return fmt.Errorf("source %s: %w", name, console.ErrNotFound)
	}
	for k, v := range in.Values {
		if k != "token" {
			src.Values[k] = v
		}
	}
	src.Primary = in.Primary
	return nil
}

// TestSource accepts any valid synthetic source and refuses Okta (the
// fake reaches no network).
func (s *Sources) TestSource(ctx context.Context, name string, in console.SourceInput) (console.CheckResult, error) {
	if err := check(in); err != nil {
		return console.CheckResult{}, err
	}
	if in.Kind == "okta" {
		return console.CheckResult{Message: "Okta did not answer: this test server reaches no network."}, nil
	}
	return console.CheckResult{OK: true, Message: "The organization of " + in.Values["people"] + " people can be generated."}, nil
}

// RemoveSource deletes a source and resolves its issues.
func (s *Sources) RemoveSource(ctx context.Context, name, by string) error {
	s.mu.Lock()
	_, ok := s.sources[name]
	delete(s.sources, name)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("source %s: %w", name, console.ErrNotFound)
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := s.issues.ResolveSource(ctx, tx, "src_"+name, name, issue.Note{By: by, Why: "source removed"})
		return err
	})
}

// QueueScan scans the synthetic sources in the background, as StartScan.
func (s *Sources) QueueScan(ctx context.Context, name string) error {
	_, err := s.StartScan(ctx, name)
	return err
}

// StartScan scans the synthetic sources in the background and returns
// the scan's id.
func (s *Sources) StartScan(ctx context.Context, name string) (string, error) {
	s.mu.Lock()
	var targets []*console.Source
	for _, src := range s.sources {
		if name == "" || src.Name == name {
			targets = append(targets, src)
		}
	}
	if len(targets) == 0 {
		s.mu.Unlock()
		return "", &console.InputError{Message: "There is no source to scan; add one first."}
	}
	sc := &console.Scan{ID: id.New("scn"), Status: "running", Trigger: "manual", StartedAt: s.now(), Total: len(targets) + 1,
		Progress: "Reading sources…", Errors: map[string]string{}}
	if name != "" {
		sc.Sources = []string{name}
	}
	s.scans = append(s.scans, sc)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.scan(context.WithoutCancel(ctx), sc, targets)
	}()
	return sc.ID, nil
}

func (s *Sources) scan(ctx context.Context, sc *console.Scan, targets []*console.Source) {
	now := s.now()
	var findings []detect.Finding
	scopes := map[string]string{}
	accounts := 0
	for _, src := range targets {
		s.mu.Lock()
		sc.Progress = "Reading " + src.Name + "…"
		s.mu.Unlock()
		if src.Kind != "synthetic" {
			s.finishSource(sc, src, 0, "Okta did not answer: this test server reaches no network.")
			continue
		}
		n, _ := strconv.Atoi(src.Values["people"])
		seed, _ := strconv.ParseInt(src.Values["seed"], 10, 64)
		org, _ := synth.Generate(n, seed, now)
		g, err := org.Graph()
		if err != nil {
			s.finishSource(sc, src, 0, err.Error())
			continue
		}
		for _, gs := range org.Sources {
			scopes[gs.Name] = "src_" + src.Name
			accounts += len(gs.Accounts)
		}
		findings = append(findings, detect.Run(g, detect.Config{}, now)...)
		s.finishSource(sc, src, accounts, "")
	}
	s.mu.Lock()
	sc.Progress = "Updating issues…"
	s.mu.Unlock()
	var sum issue.Summary
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		sum, err = s.issues.Reconcile(ctx, tx, issue.Scan{ID: sc.ID, At: now, Scopes: scopes, Findings: findings})
		return err
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	sc.Done = sc.Total
	sc.EndedAt = s.now()
	sc.Accounts = accounts
	sc.Opened, sc.Resolved, sc.Unchanged = sum.Opened+sum.Reopened, sum.Resolved, sum.Unchanged
	switch {
	case err != nil:
		sc.Status, sc.Error = "failed", "The issues could not be updated: "+err.Error()
	case len(sc.Errors) > 0:
		sc.Status = "partial"
	default:
		sc.Status = "succeeded"
	}
}

func (s *Sources) finishSource(sc *console.Scan, src *console.Source, accounts int, errMsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc.Done++
	src.LastScanAt, src.LastAccounts, src.LastError, src.LastScanOK = s.now(), accounts, errMsg, errMsg == ""
	if errMsg != "" {
		sc.Errors[src.Name] = errMsg
	} else {
		src.LastSuccessAt = src.LastScanAt
	}
}

// Scan returns a scan's progress.
func (s *Sources) Scan(ctx context.Context, scanID string) (*console.Scan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.scans {
		if sc.ID == scanID {
			c := *sc
			return &c, nil
		}
	}
	return nil, fmt.Errorf("scan %s: %w", scanID, console.ErrNotFound)
}

// Scans lists the latest scans, newest first.
func (s *Sources) Scans(ctx context.Context, limit int) ([]console.Scan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []console.Scan
	for i := len(s.scans) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, *s.scans[i])
	}
	return out, nil
}
