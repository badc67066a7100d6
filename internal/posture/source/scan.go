package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Scan statuses.
const (
	ScanRunning = "running"
	// ScanOK: every source asked for was read.
	ScanOK = "ok"
	// ScanPartial: some sources could not be read; the others' issues
	// were reconciled.
	ScanPartial = "partial"
	// ScanFailed: no source could be read, or the scan itself failed.
	ScanFailed = "failed"
)

// Triggers say what started a scan.
const (
	TriggerCLI      = "cli"
	TriggerSchedule = "schedule"
	TriggerAPI      = "api"
)

// ScanOptions say what to scan.
type ScanOptions struct {
	// Sources are the names of the sources to read; empty means all.
	Sources []string
	// Trigger is recorded with the scan; default TriggerAPI.
	Trigger string
	// Progress receives progress reports while sources are read.
	Progress ProgressFunc
	// JobID is the queue job running the scan, 0 for none; Recover
	// queues the scan again when that job's worker dies.
	JobID int64
}

// ScanResult is what a scan did. Its JSON form is stored with the scan.
type ScanResult struct {
	ID      string `json:"id"`
	Trigger string `json:"trigger"`
	Status  string `json:"status"`
	// Error is set when the scan itself failed (not a source).
	Error      string         `json:"error,omitempty"`
	StartedAt  time.Time      `json:"startedAt"`
	FinishedAt time.Time      `json:"finishedAt"`
	Sources    []SourceResult `json:"sources"`
	// Accounts and People count the graph the detections ran on, every
	// source included.
	Accounts int `json:"accounts"`
	People   int `json:"people"`
	// Findings counts the detections over the whole graph, including
	// those of sources not read now, which change no issue.
	Findings int           `json:"findings"`
	Issues   issue.Summary `json:"issues"`
	Timing   Timing        `json:"timing"`
}

// SourceResult is what a scan did with one source.
type SourceResult struct { //nolint:revive // source.Result is already the reader's result
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	OK   bool   `json:"ok"`
	// Error is one sentence saying why the source could not be read.
	Error    string        `json:"error,omitempty"`
	Accounts int           `json:"accounts"`
	Requests int           `json:"requests"`
	Duration time.Duration `json:"duration"`
	Warnings []string      `json:"warnings,omitempty"`
}

// target is a source being scanned.
type target struct {
	row    *store.PostureSource
	result *Result // nil when the read failed
	sr     *SourceResult
}

// Scan reads the sources, builds the identity graph over every configured
// source, runs the detections and reconciles issues, all in one
// transaction. A source that cannot be read is reported in the result and
// the log and changes nothing; Scan returns an error only when the scan
// itself could not run or be saved.
func (s *Service) Scan(ctx context.Context, opts ScanOptions) (*ScanResult, error) {
	if opts.Trigger == "" {
		opts.Trigger = TriggerAPI
	}
	rows, err := s.st.PostureSources(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	targets, err := pick(rows, opts.Sources)
	if err != nil {
		return nil, err
	}
	started := s.now()
	res := &ScanResult{ID: id.NewAt("scn", started), Trigger: opts.Trigger, Status: ScanRunning, StartedAt: started,
		Sources: []SourceResult{}}
	requested, _ := json.Marshal(nonNilStrings(opts.Sources))
	if err := s.st.CreatePostureScan(ctx, &store.PostureScan{ID: res.ID, Trigger: opts.Trigger, RequestedJSON: string(requested),
		Status: ScanRunning, ResultJSON: "{}", StartedAt: started}); err != nil {
		return nil, fmt.Errorf("record the scan: %w", err)
	}
	stop, err := s.lease(ctx, res.ID, opts.JobID)
	if err != nil {
		return s.fail(ctx, res, targets, err)
	}
	defer stop()
	s.cfg.Logger.Info("scan started", "scan", res.ID, "trigger", opts.Trigger, "sources", len(targets))
	progress := s.live.track(res.ID, opts.Progress)
	defer s.live.end(res.ID)

	start := time.Now()
	for _, t := range targets {
		s.read(ctx, t, progress)
		res.Sources = append(res.Sources, *t.sr)
	}
	res.Timing.Read = time.Since(start)
	if err := s.reconcile(ctx, res, rows, targets); err != nil {
		return s.fail(ctx, res, targets, err)
	}
	return res, nil
}

// pick returns the sources named, or all of them.
func pick(rows []*store.PostureSource, names []string) ([]*target, error) {
	if len(rows) == 0 {
		return nil, errors.New("no source is configured; add one with 'vigil sources add'")
	}
	var out []*target
	if len(names) == 0 {
		for _, r := range rows {
			out = append(out, &target{row: r})
		}
		return out, nil
	}
	byName := map[string]*store.PostureSource{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	seen := map[string]bool{}
	for _, n := range names {
		r := byName[n]
		if r == nil {
			return nil, fmt.Errorf("no source is named %q: %w", n, ErrNotFound)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, &target{row: r})
		}
	}
	return out, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// read reads one source, filling t.result on success and t.sr always.
func (s *Service) read(ctx context.Context, t *target, progress ProgressFunc) {
	r := t.row
	t.sr = &SourceResult{Name: r.Name, Kind: Kind(r.Kind)}
	m := newMeter(r.Name, progress)
	start := time.Now()
	result, err := s.readSource(ctx, r, m)
	t.sr.Duration = time.Since(start).Round(time.Millisecond)
	t.sr.Requests = int(m.requests.Load())
	if err == nil {
		err = validate(Kind(r.Kind), result)
	}
	if err != nil {
		t.sr.Error = describe(r.Name, Kind(r.Kind), err, s.cfg.ReadTimeout)
		s.cfg.Logger.Warn(t.sr.Error, "source", r.Name)
		m.report(true)
		return
	}
	t.result = result
	t.sr.OK = true
	t.sr.Accounts = result.Accounts()
	t.sr.Warnings = result.Warnings
	for _, w := range result.Warnings {
		s.cfg.Logger.Warn(w, "source", r.Name)
	}
	m.setAccounts(t.sr.Accounts)
	m.report(true)
}

func (s *Service) readSource(ctx context.Context, r *store.PostureSource, m *meter) (*Result, error) {
	var set Settings
	if err := json.Unmarshal([]byte(r.SettingsJSON), &set); err != nil {
		return nil, fmt.Errorf("decode the source's settings: %w", err)
	}
	cred, err := s.credentials(r)
	if err != nil {
		return nil, err
	}
	reader, err := s.newReader(r.Name, Kind(r.Kind), set, cred, m)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.ReadTimeout)
	defer cancel()
	result, err := reader.Read(rctx, m.fn)
	if err == nil && rctx.Err() != nil {
		err = rctx.Err()
	}
	return result, err
}

// validate checks a read's data on its own, so that malformed data fails
// its source and not the whole scan. A snapshot file was checked account
// by account as it was read, so only its shape is checked here.
func validate(kind Kind, r *Result) error {
	if r == nil || len(r.Parts) == 0 {
		return fmt.Errorf("%w: the read returned no data", graph.ErrInvalid)
	}
	if kind == KindSnapshot {
		return nil
	}
	if _, err := graph.Build(r.Parts, graph.Options{}); err != nil {
		return err
	}
	return nil
}

// keepsCopy says whether a scan stores a kind's accounts in the database
// for later scans. A snapshot file is its own copy: a scan that does not
// read it now reads the file again rather than keep 100 MB twice.
func (k Kind) keepsCopy() bool { return k != KindSnapshot }

// Timing says how long each phase of a scan took.
type Timing struct {
	Read   time.Duration `json:"read"`
	Graph  time.Duration `json:"graph"`
	Detect time.Duration `json:"detect"`
	Save   time.Duration `json:"save"`
}

// reconcile builds the graph, detects and reconciles in one transaction.
func (s *Service) reconcile(ctx context.Context, res *ScanResult, rows []*store.PostureSource, targets []*target) error {
	byID := map[string]*target{}
	for _, t := range targets {
		byID[t.row.ID] = t
	}
	var parts []graph.Source
	scopes := map[string]string{}
	unavailable := map[string]bool{}
	primary := ""
	start := time.Now()
	for _, r := range rows {
		t := byID[r.ID]
		var data *Result
		switch {
		case t != nil && t.result != nil:
			data = t.result
			for _, p := range data.Parts {
				scopes[p.Name] = r.ID
			}
		default:
			stored, err := s.stored(ctx, r, t != nil)
			if err != nil {
				return err
			}
			data = stored
			if t != nil || data == nil {
				unavailable[r.Name] = true // failed now, or never read
				if data != nil {
					for _, p := range data.Parts {
						unavailable[p.Name] = true
					}
				}
			}
		}
		if r.Primary {
			primary = r.Name // absent from the graph when it has no data
		}
		if data == nil {
			continue
		}
		if r.Primary {
			primary = data.primaryPart()
		}
		parts = append(parts, data.Parts...)
	}
	res.Timing.Read += time.Since(start)

	now := s.now()
	var findings []detect.Finding
	var people store.IdentityRows[store.IdentityPerson]
	var accounts store.IdentityRows[store.IdentityAccount]
	if len(scopes) > 0 {
		start = time.Now()
		g, err := graph.Build(parts, graph.Options{Primary: primary})
		if err != nil {
			return fmt.Errorf("build the identity graph: %w", err)
		}
		res.Accounts, res.People = len(g.Accounts), len(g.People)
		res.Timing.Graph = time.Since(start)
		start = time.Now()
		findings = detect.Run(g, s.cfg.Detect, now)
		res.Findings = len(findings)
		people, accounts = inventory(g, now)
		res.Timing.Detect = time.Since(start)
	}
	// The graph is built: a read the transaction does not store need not
	// stay in memory beside the inventory while that is written.
	for _, t := range targets {
		if t.result != nil && !Kind(t.row.Kind).keepsCopy() {
			t.result = nil
		}
	}

	ok := 0
	for _, sr := range res.Sources {
		if sr.OK {
			ok++
		}
	}
	res.Status = ScanOK
	switch {
	case ok == 0:
		res.Status = ScanFailed
	case ok < len(res.Sources):
		res.Status = ScanPartial
	}
	start = time.Now()
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockPosture(ctx); err != nil {
			return fmt.Errorf("lock issues: %w", err)
		}
		for _, t := range targets {
			if t.result == nil || !Kind(t.row.Kind).keepsCopy() {
				continue
			}
			blob, err := json.Marshal(t.result)
			if err != nil {
				return fmt.Errorf("encode the accounts of source %s: %w", t.row.Name, err)
			}
			if err := tx.PutPostureSourceData(ctx, t.row.ID, blob, t.sr.Accounts, now); err != nil {
				return fmt.Errorf("store the accounts of source %s: %w", t.row.Name, err)
			}
			// Stored: its accounts, which Build tied to the graph, need
			// not keep the graph beyond the inventory.
			t.result = nil
		}
		if len(scopes) > 0 {
			if _, err := tx.SyncIdentities(ctx, people, accounts, now); err != nil {
				return fmt.Errorf("store the identity inventory: %w", err)
			}
			// The rows were the graph's last holders: the issues are
			// reconciled from the findings alone, so the graph can go.
			people, accounts = store.IdentityRows[store.IdentityPerson]{}, store.IdentityRows[store.IdentityAccount]{}
		}
		if s.issues != nil && len(scopes) > 0 {
			sum, err := s.issues.Reconcile(ctx, tx, issue.Scan{ID: res.ID, At: now, Scopes: scopes,
				Unavailable: unavailable, Findings: findings})
			if err != nil {
				return err
			}
			res.Issues = sum
		}
		res.FinishedAt = s.now()
		for _, t := range targets {
			if err := tx.RecordPostureSourceResult(ctx, store.PostureSourceResult{SourceID: t.row.ID, ScanID: res.ID,
				At: res.FinishedAt, OK: t.sr.OK, Error: t.sr.Error, Accounts: t.sr.Accounts}); err != nil {
				return fmt.Errorf("record the result of source %s: %w", t.row.Name, err)
			}
		}
		res.Timing.Save = time.Since(start)
		blob, err := json.Marshal(res)
		if err != nil {
			return fmt.Errorf("encode the scan result: %w", err)
		}
		s.cfg.Logger.Info("scan finished", "scan", res.ID, "status", res.Status, "accounts", res.Accounts,
			"opened", res.Issues.Opened+res.Issues.Reopened, "resolved", res.Issues.Resolved, "unchanged", res.Issues.Unchanged,
			"read", res.Timing.Read, "graph", res.Timing.Graph, "detect", res.Timing.Detect, "save", res.Timing.Save)
		if err := tx.FinishPostureScan(ctx, res.ID, res.Status, "", string(blob), res.FinishedAt); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				// Its results are dropped with the transaction: the scan
				// queued again in its place does the work.
				return fmt.Errorf("the scan was ended by recovery while it ran (its lease lapsed): %w", err)
			}
			return err
		}
		// The lease goes with the scan's end, in one transaction: a
		// process killed between the two would leave the lease of a scan
		// no longer running.
		return tx.ReleasePostureScan(ctx, res.ID)
	})
}

// stored returns the accounts of a source not read successfully now: the
// copy of its last successful read, or for a snapshot the file read again
// (unless its read just failed). It returns nil when there is none.
func (s *Service) stored(ctx context.Context, r *store.PostureSource, failedNow bool) (*Result, error) {
	if !Kind(r.Kind).keepsCopy() {
		if failedNow {
			return nil, nil
		}
		res, err := s.readSource(ctx, r, newMeter(r.Name, nil))
		if err == nil {
			err = validate(Kind(r.Kind), res)
		}
		if err != nil {
			s.cfg.Logger.Warn(describe(r.Name, Kind(r.Kind), err, s.cfg.ReadTimeout)+" Its issues stay as they are.", "source", r.Name)
			return nil, nil
		}
		return res, nil
	}
	blob, _, err := s.st.PostureSourceData(ctx, r.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the stored accounts of source %s: %w", r.Name, err)
	}
	var res Result
	if err := json.Unmarshal(blob, &res); err != nil {
		return nil, fmt.Errorf("decode the stored accounts of source %s: %w", r.Name, err)
	}
	return &res, nil
}

// fail records a scan that could not finish and returns its error.
func (s *Service) fail(ctx context.Context, res *ScanResult, targets []*target, cause error) (*ScanResult, error) {
	res.Status = ScanFailed
	res.Error = fmt.Sprintf("The scan could not be completed: %v.", cause)
	res.Issues = issue.Summary{}
	res.FinishedAt = s.now()
	s.cfg.Logger.Error(res.Error, "scan", res.ID)
	wctx := context.WithoutCancel(ctx)
	blob, _ := json.Marshal(res)
	err := s.st.FinishPostureScan(wctx, res.ID, res.Status, res.Error, string(blob), res.FinishedAt)
	for _, t := range targets {
		msg := t.sr.Error
		if msg == "" {
			msg = res.Error
		}
		err = errors.Join(err, s.st.RecordPostureSourceResult(wctx, store.PostureSourceResult{SourceID: t.row.ID,
			ScanID: res.ID, At: res.FinishedAt, Error: msg}))
	}
	if err != nil {
		s.cfg.Logger.Error("the failed scan could not be recorded", "scan", res.ID, "err", err)
	}
	return res, fmt.Errorf("scan %s: %w", res.ID, cause)
}

// Scans returns the latest scans, newest first, as their results (a
// running scan has only its id, trigger, status and start).
func (s *Service) Scans(ctx context.Context, limit int) ([]*ScanResult, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := s.st.PostureScans(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	out := make([]*ScanResult, 0, len(rows))
	for _, r := range rows {
		res := &ScanResult{}
		if r.ResultJSON != "" && r.ResultJSON != "{}" {
			if err := json.Unmarshal([]byte(r.ResultJSON), res); err != nil {
				return nil, fmt.Errorf("scan %s: decode its result: %w", r.ID, err)
			}
		}
		res.ID, res.Trigger, res.Status, res.StartedAt = r.ID, r.Trigger, r.Status, r.StartedAt
		if res.Error == "" {
			res.Error = r.Error
		}
		if res.FinishedAt.IsZero() {
			res.FinishedAt = r.FinishedAt
		}
		out = append(out, res)
	}
	return out, nil
}
