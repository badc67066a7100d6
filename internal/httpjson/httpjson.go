// Package httpjson is how Vigil's server answers and reads JSON: the JSON
// API, the hooks and accounts APIs, invoke URLs, health checks and the
// console's few JSON endpoints all write through Write and read through
// Decode, so that every answer has the same headers and every refused body
// the same kind of sentence.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Write answers status with v as JSON. Answers are never cached: several
// carry a secret shown once (a new token, an endpoint's client token).
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrorBody is the JSON shape of every error answer:
// {"error": {"code", "message", "field"}}. Message is one sentence for a
// person; Field names the input at fault, if one is; Detail carries
// structured facts some answers add (a limit's retry time, say).
type ErrorBody struct {
	Error ErrorFields `json:"error"`
}

// ErrorFields is the inside of an ErrorBody.
type ErrorFields struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Detail  any    `json:"detail,omitempty"`
}

// WriteError answers status with an ErrorBody.
func WriteError(w http.ResponseWriter, status int, code, message, field string) {
	Write(w, status, ErrorBody{Error: ErrorFields{Code: code, Message: message, Field: field}})
}

// Sentence turns an error's text into the sentence an error answer
// carries: trimmed, capitalised and ending in a full stop.
func Sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

// ErrEmpty is what Decode returns for an empty body; callers whose every
// field is optional treat it as an empty object.
var ErrEmpty = errors.New("the request body is empty; send a JSON object")

// BodyError is a body Decode refused. Its message is a sentence that
// names what is wrong without quoting the body, which may hold a password
// or a token.
type BodyError struct{ Message string }

func (e *BodyError) Error() string { return e.Message }

// Decode reads a JSON body of at most max bytes into v, refusing unknown
// fields and anything after the first value. It returns ErrEmpty for an
// empty body and a *BodyError for a body it refuses.
func Decode(w http.ResponseWriter, r *http.Request, v any, max int64) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return &BodyError{Message: describe(err, max)}
	}
	if dec.More() {
		return &BodyError{Message: "The request body holds more than one JSON value."}
	}
	return nil
}

// describe says what is wrong with a body the decoder refused, from the
// error's kind rather than its text, which can quote a byte of the body.
func describe(err error, max int64) string {
	var (
		tooBig *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return fmt.Sprintf("The request body is larger than %d KB.", max>>10)
	case errors.As(err, &syntax):
		return fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("The request body is not the JSON this endpoint expects: field %q must be %s.", typ.Field, typ.Type)
	case errors.As(err, &typ):
		return fmt.Sprintf("The request body is not the JSON this endpoint expects: it must be %s.", typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "The request body is not valid JSON (it ends too early)."
	}
	// Unknown fields: encoding/json names the field, never a value.
	return "The request body is not the JSON this endpoint expects: " + err.Error() + "."
}
