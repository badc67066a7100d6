package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// Park is returned by a catalog function whose task must wait for
// something outside the execution, such as a person's approval, for
// longer than a worker should be held. The engine records nothing for the
// task and Run returns the *Park as is (errors.As), so the caller can put
// the execution aside and run it again, with the same journal, once the
// awaited thing happened or Until passed: the task then runs again and
// finds its answer. try/catch does not catch a Park; it is not a fault.
type Park struct {
	// Until is when the execution should run again even if nothing
	// happened (an approval's expiry); zero means never.
	Until time.Time
	// Reason says what the execution waits for, for logs and history.
	Reason string
}

func (p *Park) Error() string {
	if p.Until.IsZero() {
		return "the execution waits: " + p.Reason
	}
	return fmt.Sprintf("the execution waits until %s: %s", p.Until.UTC().Format(time.RFC3339), p.Reason)
}

// isPark tells whether err parks the execution.
func isPark(err error) bool {
	var p *Park
	return errors.As(err, &p)
}

// CallSite is a call task of a flow, as its document writes it.
type CallSite struct {
	// Reference is the task's JSON pointer, such as /do/3/remediate/try/0/suspend.
	Reference string
	// Function is the called function's name (okta.suspendUser, http).
	Function string
	// With is the task's `with:` as written, expressions unevaluated.
	With any
}

// CallsAfter lists the call tasks that come after the calling task in the
// flow's document, in document order. An approval uses it to show the
// action it guards.
func (env *CallEnv) CallsAfter() []CallSite {
	if env == nil || env.x == nil {
		return nil
	}
	var all []CallSite
	env.x.wf.WalkRefs(func(ref string, t *dsl.Task) {
		if t.Kind != dsl.KindCall || t.Call == nil {
			return
		}
		name := t.Call.Function
		switch {
		case t.Call.HTTP != nil:
			name = "http"
		case t.Call.OpenAPI != nil:
			name = "openapi"
		}
		all = append(all, CallSite{Reference: ref, Function: name, With: t.Definition["with"]})
	})
	for i, c := range all {
		if c.Reference == env.TaskReference {
			return all[i+1:]
		}
	}
	return nil
}

// Input is the execution's input, as the workflow received it.
func (env *CallEnv) Input() any {
	if env == nil || env.x == nil {
		return nil
	}
	return env.x.rawInput
}
