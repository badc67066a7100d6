package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// Source is a configured posture source as the API shows it: its settings
// but never its credentials.
type Source struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Kind     string          `json:"kind"`
	Settings source.Settings `json:"settings"`
	// HasCredentials tells whether secrets are stored for it.
	HasCredentials bool `json:"hasCredentials"`
	Primary        bool `json:"primary"`
	// ScheduleSeconds is the interval between scheduled scans; 0 means on
	// demand only.
	ScheduleSeconds int64      `json:"scheduleSeconds"`
	LastScanAt      *time.Time `json:"lastScanAt,omitempty"`
	LastScanOK      bool       `json:"lastScanOk"`
	LastError       string     `json:"lastError,omitempty"`
	LastAccounts    int        `json:"lastAccounts"`
	LastSuccessAt   *time.Time `json:"lastSuccessAt,omitempty"`
	CreatedAt       time.Time  `json:"createdAt"`
}

func sourceOf(s *source.Source) *Source {
	return &Source{ID: s.ID, Name: s.Name, Kind: string(s.Kind), Settings: s.Settings, HasCredentials: s.HasCredentials,
		Primary: s.Primary, ScheduleSeconds: int64(s.Schedule / time.Second), LastScanAt: timePtr(s.LastScanAt),
		LastScanOK: s.LastScanOK, LastError: s.LastError, LastAccounts: s.LastAccounts,
		LastSuccessAt: timePtr(s.LastSuccessAt), CreatedAt: s.CreatedAt}
}

// listSources serves GET /api/v1/sources, in the order they were added.
func (a *API) listSources(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Sources.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]*Source, 0, len(list))
	for _, s := range list {
		out = append(out, sourceOf(s))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"sources": out})
	return nil
}

// sourceNamed returns the source named in the path.
func (a *API) sourceNamed(r *http.Request) (*source.Source, error) {
	name := r.PathValue("name")
	s, err := a.svc.Sources.Get(r.Context(), name)
	if errors.Is(err, source.ErrNotFound) {
		return nil, notFound("No source is named %q.", name)
	}
	return s, err
}

// getSource serves GET /api/v1/sources/{name}.
func (a *API) getSource(w http.ResponseWriter, r *http.Request) error {
	s, err := a.sourceNamed(r)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, sourceOf(s))
	return nil
}

// listScans serves GET /api/v1/scans: the latest scans, newest first.
func (a *API) listScans(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r, 20, 200)
	if err != nil {
		return err
	}
	list, err := a.svc.Sources.Scans(r.Context(), n)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*source.ScanResult{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"scans": list})
	return nil
}

// ScanQueued is the answer to POST /api/v1/scans.
type ScanQueued struct {
	// JobID is the id of the background job that runs the scan.
	JobID int64 `json:"jobId"`
	// Duplicate is set when a scan of the same sources was already
	// waiting or running: that job answers for this request.
	Duplicate bool `json:"duplicate"`
	// Sources are the sources the scan reads; empty means every source.
	Sources []string `json:"sources"`
}

// startScan serves POST /api/v1/scans {"sources": [...]}: it queues a
// durable scan job, which survives a restart, and answers 202 at once.
// The scan's result appears in GET /api/v1/scans when it ends.
func (a *API) startScan(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Sources []string `json:"sources"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if a.svc.Queue == nil {
		return unavailable("Scans cannot be queued on this server: it has no job queue.")
	}
	ctx := r.Context()
	names := make([]string, 0, len(in.Sources))
	for _, name := range in.Sources {
		name = strings.TrimSpace(name)
		s, err := a.svc.Sources.Get(ctx, name)
		if errors.Is(err, source.ErrNotFound) {
			return invalid("sources", "No source is named %q; GET /api/v1/sources lists them.", name)
		}
		if err != nil {
			return err
		}
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		list, err := a.svc.Sources.List(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return conflict("No source is configured, so there is nothing to scan; add a source first.")
		}
	}
	q, err := a.svc.Sources.QueueScan(ctx, names, source.TriggerAPI)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusAccepted, ScanQueued{JobID: q.JobID, Duplicate: q.Duplicate, Sources: names})
	return nil
}
