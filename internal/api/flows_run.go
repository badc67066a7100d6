package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// maxRunBody bounds the body of a run. It leaves room above the largest
// input the flows service accepts for JSON whitespace, so that an
// oversized input is refused by the service's own check, which says so.
const maxRunBody = 2*flows.DefaultMaxInput + maxBody

// maxRunWait is the longest ?wait= of a run, in seconds: long enough for a
// flow that calls a few vendors, short enough for proxies to keep the
// request open.
const maxRunWait = 60

// RunStarted is the answer to a run that did not end before the answer:
// poll GET /api/v1/executions/{executionId} for the outcome.
type RunStarted struct {
	ExecutionID string `json:"executionId"`
	// Status is pending or running.
	Status string `json:"status"`
}

// runFlow serves POST /api/v1/flows/{id}/run {"input", "dryRun",
// "version"}: a test run of a saved flow, as the console's Test flow and
// Okta Workflows' Test Flow do. It runs even while the flow is off, so
// that a flow can be tried before it is turned on, and is marked as a
// test in the history. It answers 202 with the execution's id at once, or
// with ?wait=SECONDS waits that long for the execution to end and answers
// it as GET /api/v1/executions/{id} does.
func (a *API) runFlow(w http.ResponseWriter, r *http.Request) error {
	wait, err := waitParam(r)
	if err != nil {
		return err
	}
	var in struct {
		Input   json.RawMessage `json:"input"`
		DryRun  bool            `json:"dryRun"`
		Version int             `json:"version"`
	}
	if err := decodeMax(w, r, &in, maxRunBody); err != nil {
		return err
	}
	// The raw input goes to the service as it is, which decodes it with
	// its own number handling and bounds its size.
	input := in.Input
	if raw := bytes.TrimSpace(input); len(raw) == 0 || string(raw) == "null" {
		input = json.RawMessage(`{}`)
	}
	if in.Version < 0 {
		return invalid("version", "The version must be a number from 1 up; leave it out to run the current version.")
	}
	ctx := r.Context()
	f, err := a.findFlow(ctx, r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if in.Version > 0 {
		_, err := a.svc.Flows.Version(ctx, f.ID, in.Version)
		if errors.Is(err, flows.ErrNotFound) {
			return invalid("version", "Flow %q has no version %d; it is at version %d.", f.Title, in.Version, f.Version)
		}
		if err != nil {
			return err
		}
	}
	execID, err := a.svc.Flows.Start(ctx, f.ID, input,
		flows.StartOptions{Test: true, AllowOff: true, DryRun: in.DryRun, Version: in.Version})
	switch {
	case errors.Is(err, flows.ErrNoQueue):
		return unavailable("Flows cannot run on this server: it has no job queue.")
	case errors.Is(err, flows.ErrInvalid):
		// Start refuses only the input as bad input: not JSON, or too
		// large.
		return invalid("input", "%s", httpjson.Sentence(err.Error()))
	case err != nil:
		return err
	}
	w.Header().Set("Location", "/api/v1/executions/"+execID)
	if wait == 0 {
		httpjson.Write(w, http.StatusAccepted, RunStarted{ExecutionID: execID, Status: flows.StatusPending})
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	e, err := a.svc.Flows.Wait(wctx, execID)
	if err != nil && wctx.Err() == nil {
		return err
	}
	if e == nil || !e.Done() {
		status := flows.StatusPending
		if e != nil {
			status = e.Status
		}
		httpjson.Write(w, http.StatusAccepted, RunStarted{ExecutionID: execID, Status: status})
		return nil
	}
	h, err := a.svc.Flows.Execution(ctx, execID)
	if err != nil {
		return err
	}
	// The history holds the output only when the flow saves all data; the
	// caller who waited gets it regardless, as a synchronous API Endpoint
	// gives it to its caller.
	if h.Execution.Output == nil {
		h.Execution.Output = e.Output
	}
	httpjson.Write(w, http.StatusOK, h)
	return nil
}

// waitParam reads the query parameter wait: 0 when absent, otherwise a
// number of seconds from 1 to maxRunWait.
func waitParam(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxRunWait {
		return 0, invalid("wait", "The wait must be a number of seconds from 1 to %d.", maxRunWait)
	}
	return time.Duration(n) * time.Second, nil
}

// cancelExecution serves POST /api/v1/executions/{id}/cancel: a pending
// or running execution ends as cancelled, and the answer is its history
// as it now stands; the service stops the worker running it. An
// execution that already ended is a 409 that names its status, so that a
// script knows whether what it meant to stop finished first.
func (a *API) cancelExecution(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	err := a.svc.Flows.Cancel(ctx, id)
	switch {
	case errors.Is(err, flows.ErrNotFound):
		return notFound("No execution has the id %s.", id)
	case errors.Is(err, flows.ErrInvalid):
		h, herr := a.svc.Flows.Execution(ctx, id)
		if herr != nil {
			return herr
		}
		return conflict("The execution already ended (status %s); nothing was cancelled.", h.Execution.Status)
	case err != nil:
		return err
	}
	h, err := a.svc.Flows.Execution(ctx, id)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, h)
	return nil
}
