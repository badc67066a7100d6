package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// maxDocumentBody bounds the body of a flow save. It leaves room above
// the largest document the DSL accepts for JSON escaping, so that an
// oversized document is refused by the DSL's own check, which says so.
const maxDocumentBody = 2*dsl.MaxDocumentSize + maxBody

// FlowSaved is the answer to a save of a flow document.
type FlowSaved struct {
	*flows.Flow
	// Changed tells whether the save added a version: saving the current
	// document again adds none.
	Changed bool `json:"changed"`
}

// flowDocument is a flow document read from a request, with the folder
// the request names.
type flowDocument struct {
	// Folder is the folder of the body, or else of the folder query
	// parameter.
	Folder string
	// InBody tells whether the body named the folder, which only a
	// create may do.
	InBody bool
	Text   []byte
}

// yamlTypes are the media types of a body that is the document itself.
var yamlTypes = []string{"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}

// readDocument reads the document of a flow save. A YAML body is the
// document itself; a JSON body is {"folder", "document"}, where document
// is the text (YAML or JSON) or the document as a JSON object, so that
// scripts can send either without escaping.
func readDocument(w http.ResponseWriter, r *http.Request) (*flowDocument, error) {
	out := &flowDocument{Folder: r.URL.Query().Get("folder")}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	for _, t := range yamlTypes {
		if ctype != t {
			continue
		}
		text, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDocumentBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, invalid("body", "The request body is larger than %d KB.", maxDocumentBody>>10)
		}
		if err != nil {
			return nil, fmt.Errorf("read the flow document: %w", err)
		}
		out.Text = text
		return out, nil
	}
	var in struct {
		Folder   string          `json:"folder"`
		Document json.RawMessage `json:"document"`
	}
	if err := decodeMax(w, r, &in, maxDocumentBody); err != nil {
		return nil, err
	}
	if in.Folder != "" {
		out.Folder, out.InBody = strings.TrimSpace(in.Folder), true
	}
	raw := bytes.TrimSpace(in.Document)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, invalid("document", "Send the flow document, as document in a JSON body or as a YAML body (Content-Type: application/yaml).")
	case raw[0] == '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, invalid("document", "The document is not a JSON string: %s.", err.Error())
		}
		out.Text = []byte(text)
	case raw[0] == '{':
		out.Text = raw
	default:
		return nil, invalid("document", "The document must be its text (YAML or JSON) as a string, or a JSON object.")
	}
	return out, nil
}

// documentError turns a document the flows service refused into 422
// whose one sentence lists every problem with the path of the task at
// fault; other errors pass unchanged.
func documentError(err error) error {
	var ve *dsl.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) == 0 {
		return err
	}
	parts := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		parts[i] = strings.TrimSuffix(p.String(), ".")
	}
	return unprocessable("document", "The flow document is not valid: %s.", strings.Join(parts, "; "))
}

// checkName answers 409 when the document's namespace/name belongs to a
// flow of the folder other than flowID. The service would otherwise save
// a create as a new version of that flow, and refuse a rename as bad
// input. A document that does not parse passes: the save reports it.
func (a *API) checkName(ctx context.Context, folder *flows.Folder, flowID string, text []byte) error {
	w, err := dsl.Parse(text)
	if err != nil {
		return nil
	}
	list, err := a.svc.Flows.Flows(ctx, flows.ListFlowsParams{FolderID: folder.ID})
	if err != nil {
		return err
	}
	for _, f := range list {
		if f.Namespace == w.Document.Namespace && f.Name == w.Document.Name && f.ID != flowID {
			return conflict("Folder %q already holds the flow %s (%s); PUT /api/v1/flows/%s saves a new version of it.",
				folder.Name, f.Ref(), f.ID, f.ID)
		}
	}
	return nil
}

// createFlow serves POST /api/v1/flows: a new flow, off, from a DSL
// document in a folder. The folder is folder in a JSON body or the folder
// query parameter.
func (a *API) createFlow(w http.ResponseWriter, r *http.Request) error {
	doc, err := readDocument(w, r)
	if err != nil {
		return err
	}
	if doc.Folder == "" {
		return invalid("folder", "Name the folder of the new flow, as folder in the body or the folder query parameter; GET /api/v1/folders lists them.")
	}
	folder, err := a.folderArg(r.Context(), doc.Folder)
	if err != nil {
		return err
	}
	return a.save(w, r, folder, "", doc.Text, http.StatusCreated)
}

// saveFlow serves PUT /api/v1/flows/{id}: the document as the flow's new
// version. The flow stays in its folder and keeps its on or off state.
func (a *API) saveFlow(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	doc, err := readDocument(w, r)
	if err != nil {
		return err
	}
	if doc.InBody {
		return invalid("folder", "A flow stays in its folder; leave folder out of the body.")
	}
	f, err := a.findFlow(ctx, r, r.PathValue("id"))
	if err != nil {
		return err
	}
	folder, err := a.svc.Flows.Folder(ctx, f.FolderID)
	if err != nil {
		return err
	}
	return a.save(w, r, folder, f.ID, doc.Text, http.StatusOK)
}

// save saves text in folder, as a new flow when flowID is empty or as the
// next version of flowID, and answers the flow with status.
func (a *API) save(w http.ResponseWriter, r *http.Request, folder *flows.Folder, flowID string, text []byte, status int) error {
	ctx := r.Context()
	if err := a.checkName(ctx, folder, flowID, text); err != nil {
		return err
	}
	res, err := a.svc.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, FlowID: flowID, Document: text, By: userName(r)})
	if err != nil {
		return documentError(err)
	}
	httpjson.Write(w, status, FlowSaved{Flow: res.Flow, Changed: res.Changed})
	return nil
}

// deleteFlow serves DELETE /api/v1/flows/{id}: the flow with its versions
// and history. A flow that is on is refused with 409, so that nothing
// running is deleted by accident.
func (a *API) deleteFlow(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := a.findFlow(ctx, r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := stateError(a.svc.Flows.DeleteFlow(ctx, f.ID)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listVersions serves GET /api/v1/flows/{id}/versions: every saved
// version, newest first, without documents.
func (a *API) listVersions(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := a.findFlow(ctx, r, r.PathValue("id"))
	if err != nil {
		return err
	}
	list, err := a.svc.Flows.Versions(ctx, f.ID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*flows.Version{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"versions": list})
	return nil
}

// getVersion serves GET /api/v1/flows/{id}/versions/{version}: one
// version with its document as it was saved.
func (a *API) getVersion(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		return invalid("version", "The version must be a number from 1 up; GET the versions to list them.")
	}
	f, err := a.findFlow(ctx, r, r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := a.svc.Flows.Version(ctx, f.ID, n)
	if errors.Is(err, flows.ErrNotFound) {
		return notFound("Flow %q has no version %d; it is at version %d.", f.Title, n, f.Version)
	}
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, v)
	return nil
}
