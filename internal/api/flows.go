package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// folderParam resolves the folder query parameter (an id or a name);
// "" when it is absent.
func (a *API) folderParam(ctx context.Context, r *http.Request) (*flows.Folder, error) {
	v := r.URL.Query().Get("folder")
	if v == "" {
		return nil, nil
	}
	return a.folderArg(ctx, v)
}

// folderArg resolves a folder given as input (an id or a name): an
// unknown one is bad input, not a missing page.
func (a *API) folderArg(ctx context.Context, v string) (*flows.Folder, error) {
	f, err := a.svc.Flows.Folder(ctx, v)
	if errors.Is(err, flows.ErrNotFound) {
		return nil, invalid("folder", "No folder is named %q; GET /api/v1/folders lists them.", v)
	}
	return f, err
}

// findFlow resolves a flow reference: its id, namespace/name or title,
// in the folder of the folder query parameter when one is given.
func (a *API) findFlow(ctx context.Context, r *http.Request, ref string) (*flows.Flow, error) {
	folder := r.URL.Query().Get("folder")
	f, err := a.svc.Flows.FindFlow(ctx, ref, folder)
	switch {
	case errors.Is(err, flows.ErrNotFound):
		if folder != "" {
			return nil, notFound("No flow in folder %q has the id, name or title %q.", folder, ref)
		}
		return nil, notFound("No flow has the id, name or title %q.", ref)
	case errors.Is(err, flows.ErrAmbiguous):
		return nil, conflict("Several folders hold a flow named %q; name the folder with the folder query parameter, or use the flow's id.", ref)
	}
	return f, err
}

// listFolders serves GET /api/v1/folders.
func (a *API) listFolders(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Flows.Folders(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []*flows.Folder{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"folders": list})
	return nil
}

// listFlows serves GET /api/v1/flows (?folder=, ?on=true|false), by
// folder and title.
func (a *API) listFlows(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var p flows.ListFlowsParams
	folder, err := a.folderParam(ctx, r)
	if err != nil {
		return err
	}
	if folder != nil {
		p.FolderID = folder.ID
	}
	switch v := r.URL.Query().Get("on"); v {
	case "":
	case "true", "false":
		on := v == "true"
		p.On = &on
	default:
		return invalid("on", "The on parameter must be true or false.")
	}
	list, err := a.svc.Flows.Flows(ctx, p)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*flows.Flow{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"flows": list})
	return nil
}

// getFlow serves GET /api/v1/flows/{id}.
func (a *API) getFlow(w http.ResponseWriter, r *http.Request) error {
	f, err := a.findFlow(r.Context(), r, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, f)
	return nil
}

// turnFlowOn serves POST /api/v1/flows/{id}/on. A flow whose connections
// are not set stays off: 409 names them.
func (a *API) turnFlowOn(w http.ResponseWriter, r *http.Request) error {
	return a.switchFlow(w, r, true)
}

// turnFlowOff serves POST /api/v1/flows/{id}/off.
func (a *API) turnFlowOff(w http.ResponseWriter, r *http.Request) error {
	return a.switchFlow(w, r, false)
}

func (a *API) switchFlow(w http.ResponseWriter, r *http.Request, on bool) error {
	ctx := r.Context()
	f, err := a.findFlow(ctx, r, r.PathValue("id"))
	if err != nil {
		return err
	}
	f, err = a.svc.Flows.SetOn(ctx, f.ID, on)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, f)
	return nil
}

var executionStatuses = []string{flows.StatusPending, flows.StatusRunning, flows.StatusWaiting, flows.StatusSucceeded, flows.StatusFaulted, flows.StatusCancelled}

// ExecutionPage is one page of GET /api/v1/executions.
type ExecutionPage struct {
	Executions []*flows.Execution `json:"executions"`
	// Next is the cursor of the next page (?before=), empty on the last.
	Next string `json:"next,omitempty"`
}

// listExecutions serves GET /api/v1/executions (?flow=, ?folder=,
// ?status=, ?limit=, ?before=): the history, newest first, without the
// data each execution carried.
func (a *API) listExecutions(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := flows.ExecutionFilter{Status: q.Get("status"), Before: q.Get("before")}
	if f.Status != "" && !slices.Contains(executionStatuses, f.Status) {
		return invalid("status", "The status %q is not one of pending, running, waiting, succeeded, faulted or cancelled.", f.Status)
	}
	n, err := limit(r, 50, 500)
	if err != nil {
		return err
	}
	f.Limit = n
	if ref := q.Get("flow"); ref != "" {
		fl, err := a.findFlow(ctx, r, ref)
		var ae *Error
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return invalid("flow", "%s", ae.Message)
		}
		if err != nil {
			return err
		}
		f.FlowID = fl.ID
	} else {
		folder, err := a.folderParam(ctx, r)
		if err != nil {
			return err
		}
		if folder != nil {
			f.FolderID = folder.ID
		}
	}
	list, err := a.svc.Flows.Executions(ctx, f)
	if err != nil {
		return err
	}
	out := ExecutionPage{Executions: list}
	if out.Executions == nil {
		out.Executions = []*flows.Execution{}
	}
	if len(list) == n {
		out.Next = list[len(list)-1].ID
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

// getExecution serves GET /api/v1/executions/{id}: the execution with its
// steps, notes and the helper flows it started. Data appears only when
// the flow saves all data, with secrets redacted.
func (a *API) getExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	h, err := a.svc.Flows.Execution(r.Context(), id)
	if errors.Is(err, flows.ErrNotFound) {
		return notFound("No execution has the id %s.", id)
	}
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, h)
	return nil
}
