package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// maxBody bounds a JSON request body; every body of this API is small.
const maxBody = 64 << 10

// Error is an answer other than success: an HTTP status and the body
// {"error": {"code", "message", "field"}}. Message is one sentence for a
// person; Field names the input at fault, if one is.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string { return e.Message }

func invalid(field, format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid", Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf(format, args...)}
}

// unprocessable is a request whose body is well-formed but whose content
// the service refuses, such as a flow document that does not validate.
func unprocessable(field, format string, args ...any) error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: field, Message: fmt.Sprintf(format, args...)}
}

func unavailable(format string, args ...any) error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: fmt.Sprintf(format, args...)}
}

// writeError answers err. Errors of the services that say what was wrong
// with the request become 400, 404 or 409 with the service's sentence;
// anything else is logged and answered 500 without details, which may
// name internals.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(err)
	if e == nil {
		a.cfg.Logger.Error("API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal",
			Message: "The request failed on the server; the log has the details."}
	}
	httpjson.WriteError(w, e.Status, e.Code, e.Message, e.Field)
}

// classify maps the errors services document for bad input to an answer,
// or returns nil for a failure of the server.
func classify(err error) *Error {
	var (
		ae  *Error
		te  *issue.TransitionError
		sie *source.InvalidError
		ie  *input.InvalidError
		cme *connection.MissingError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &te):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: httpjson.Sentence(te.Msg)}
	case errors.Is(err, source.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: httpjson.Sentence(err.Error())}
	case errors.As(err, &sie):
		return &Error{Status: http.StatusBadRequest, Code: "invalid", Field: sie.Field, Message: httpjson.Sentence(sie.Message)}
	case errors.As(err, &ie):
		return &Error{Status: http.StatusBadRequest, Code: "invalid", Field: ie.Field, Message: httpjson.Sentence(ie.Message)}
	case errors.As(err, &cme):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: httpjson.Sentence(err.Error())}
	case errors.Is(err, issue.ErrNotFound), errors.Is(err, source.ErrNotFound), errors.Is(err, flows.ErrNotFound),
		errors.Is(err, template.ErrNotFound), errors.Is(err, connection.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: httpjson.Sentence(err.Error())}
	case errors.Is(err, connection.ErrConflict):
		// The service's message starts with the sentinel's words, which
		// the sentence after them says better.
		msg := strings.TrimPrefix(err.Error(), connection.ErrConflict.Error()+": ")
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: httpjson.Sentence(msg)}
	case errors.Is(err, flows.ErrAmbiguous), errors.Is(err, flows.ErrExists), errors.Is(err, template.ErrFolderTaken):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: httpjson.Sentence(err.Error())}
	case errors.Is(err, flows.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Code: "invalid", Message: httpjson.Sentence(err.Error())}
	}
	return nil
}

// decode reads a JSON body into v; an empty body leaves v as it is, so
// that bodies whose every field is optional may be left out.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeMax(w, r, v, maxBody)
}

// decodeMax is decode for a body of at most max bytes, for the few
// bodies that carry a document rather than a handful of fields.
func decodeMax(w http.ResponseWriter, r *http.Request, v any, max int64) error {
	err := httpjson.Decode(w, r, v, max)
	var be *httpjson.BodyError
	switch {
	case errors.Is(err, httpjson.ErrEmpty):
		return nil
	case errors.As(err, &be):
		return invalid("body", "%s", be.Message)
	}
	return err
}

// limit reads the query parameter limit: def when absent, otherwise a
// number from 1 to max.
func limit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, invalid("limit", "The limit must be a number from 1 to %d.", max)
	}
	return n, nil
}
