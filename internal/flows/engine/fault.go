package engine

import (
	"errors"
	"fmt"
	"strings"
)

// The specification's standard error types.
const (
	ErrConfiguration  = "https://serverlessworkflow.io/spec/1.0.0/errors/configuration"
	ErrValidation     = "https://serverlessworkflow.io/spec/1.0.0/errors/validation"
	ErrExpression     = "https://serverlessworkflow.io/spec/1.0.0/errors/expression"
	ErrAuthentication = "https://serverlessworkflow.io/spec/1.0.0/errors/authentication"
	ErrAuthorization  = "https://serverlessworkflow.io/spec/1.0.0/errors/authorization"
	ErrTimeout        = "https://serverlessworkflow.io/spec/1.0.0/errors/timeout"
	ErrCommunication  = "https://serverlessworkflow.io/spec/1.0.0/errors/communication"
	ErrRuntime        = "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"
)

// ErrSecretNotFound is wrapped by SecretSource implementations when a
// secret does not exist.
var ErrSecretNotFound = errors.New("secret not found")

// Fault is an error raised in a flow, in the RFC 7807 shape the
// specification uses. An execution that ends with an uncaught fault
// returns it from Run; the CLI prints it as JSON.
type Fault struct {
	Type     string `json:"type"`
	Status   int    `json:"status"`
	Instance string `json:"instance,omitempty"`
	Title    string `json:"title,omitempty"`
	Detail   string `json:"detail,omitempty"`

	// fatal faults are the engine's limits and the workflow timeout: no
	// try/catch may catch them, or a catch could loop forever.
	fatal bool
}

func newFault(typ string, status int, title, detail string) *Fault {
	return &Fault{Type: typ, Status: status, Title: title, Detail: detail}
}

func faultf(typ string, status int, title, format string, args ...any) *Fault {
	return newFault(typ, status, title, fmt.Sprintf(format, args...))
}

// Error prints the fault in one line.
func (f *Fault) Error() string {
	var b strings.Builder
	if f.Title != "" {
		b.WriteString(f.Title)
	} else {
		b.WriteString(f.Type)
	}
	if f.Detail != "" {
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	if f.Instance != "" {
		b.WriteString(" (at ")
		b.WriteString(f.Instance)
		b.WriteString(")")
	}
	return b.String()
}

// Fatal tells whether the fault comes from an engine limit or the
// workflow's timeout, which no catch can catch.
func (f *Fault) Fatal() bool { return f.fatal }

// Object returns the fault as the value expressions see (catch as).
func (f *Fault) Object() map[string]any {
	m := map[string]any{"type": f.Type, "status": f.Status}
	if f.Instance != "" {
		m["instance"] = f.Instance
	}
	if f.Title != "" {
		m["title"] = f.Title
	}
	if f.Detail != "" {
		m["detail"] = f.Detail
	}
	return m
}

func (f *Fault) clone() *Fault {
	c := *f
	return &c
}

// standardKinds are the short names of the standard types; spellings of
// the standard type URIs differ between versions of the specification and
// its conformance kit, so filters compare them by kind.
var standardPrefixes = []string{
	"https://serverlessworkflow.io/spec/1.0.0/errors/",
	"https://serverlessworkflow.io/dsl/errors/types/",
	"https://serverlessworkflow.io/errors/types/",
}

var standardKinds = map[string]bool{
	"configuration": true, "validation": true, "expression": true, "authentication": true,
	"authorization": true, "timeout": true, "communication": true, "runtime": true,
}

func standardKind(t string) string {
	for _, p := range standardPrefixes {
		if k, ok := strings.CutPrefix(t, p); ok && standardKinds[k] {
			return k
		}
	}
	if standardKinds[t] {
		return t
	}
	return ""
}

// sameType compares error types, treating the spellings of a standard
// type as equal.
func sameType(filter, actual string) bool {
	if filter == actual {
		return true
	}
	k := standardKind(filter)
	return k != "" && k == standardKind(actual)
}

// faultAt returns the Fault err wraps, placed at instance unless it
// already has its place, and false when err is no fault.
func faultAt(err error, instance string) (*Fault, bool) {
	var f *Fault
	if !errors.As(err, &f) {
		return nil, false
	}
	if f.Instance == "" {
		f = f.clone()
		f.Instance = instance
	}
	return f, true
}

// asFault converts any error to a Fault at instance. Errors that are not
// faults become runtime faults.
func asFault(err error, instance string) *Fault {
	if f, ok := faultAt(err, instance); ok {
		return f
	}
	return &Fault{Type: ErrRuntime, Status: 500, Title: "Runtime error", Detail: err.Error(), Instance: instance}
}
