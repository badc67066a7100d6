package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// maxScheduleSeconds bounds a source's schedule: a year, far beyond any
// useful interval and far from the overflow of a time.Duration.
const maxScheduleSeconds = 366 * 24 * 3600

// schedule checks an interval between scans given in seconds.
func schedule(secs int64) (time.Duration, error) {
	if secs < 0 || secs > maxScheduleSeconds {
		return 0, invalid("scheduleSeconds", "The schedule must be from 0 (on demand only) to %d seconds (a year).", maxScheduleSeconds)
	}
	return time.Duration(secs) * time.Second, nil
}

// addSource serves POST /api/v1/sources: a new posture source, checked as
// the CLI and the console check it (fields, URLs, key files) without
// calling the vendor; the first scan does that. The answer never holds
// the credentials, only whether some are stored.
func (a *API) addSource(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name        string             `json:"name"`
		Kind        source.Kind        `json:"kind"`
		Settings    source.Settings    `json:"settings"`
		Credentials source.Credentials `json:"credentials"`
		Primary     bool               `json:"primary"`
		// ScheduleSeconds absent means the default of a day; 0 means
		// on demand only.
		ScheduleSeconds *int64 `json:"scheduleSeconds"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	add := source.Input{Name: strings.TrimSpace(in.Name), Kind: in.Kind, Settings: in.Settings,
		Credentials: in.Credentials, Primary: in.Primary}
	if in.ScheduleSeconds != nil {
		every, err := schedule(*in.ScheduleSeconds)
		if err != nil {
			return err
		}
		add.Schedule = every
		if every == 0 {
			add.Schedule = -1 // on demand only, in the service's terms
		}
	}
	// A taken name comes back as source.ErrConflict, a 409.
	s, err := a.svc.Sources.Add(ctx, add)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusCreated, sourceOf(s))
	return nil
}

// removeSource serves DELETE /api/v1/sources/{name}: the source and its
// stored accounts. Its open issues are resolved in the same transaction,
// in the caller's name; adding the source again reopens them.
func (a *API) removeSource(w http.ResponseWriter, r *http.Request) error {
	s, err := a.sourceNamed(r)
	if err != nil {
		return err
	}
	if err := a.svc.Sources.Remove(r.Context(), s.Name, userName(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setSchedule serves PUT /api/v1/sources/{name}/schedule
// {"scheduleSeconds": n}: the interval between scheduled scans, 0 for on
// demand only. The service raises an interval under a minute to a minute.
func (a *API) setSchedule(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ScheduleSeconds *int64 `json:"scheduleSeconds"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.ScheduleSeconds == nil {
		return invalid("scheduleSeconds", "Give the interval between scans, as {\"scheduleSeconds\": 86400}, or 0 for on demand only.")
	}
	every, err := schedule(*in.ScheduleSeconds)
	if err != nil {
		return err
	}
	s, err := a.sourceNamed(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := a.svc.Sources.SetSchedule(ctx, s.Name, every); err != nil {
		return err
	}
	if s, err = a.svc.Sources.Get(ctx, s.Name); err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, sourceOf(s))
	return nil
}
