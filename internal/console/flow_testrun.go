package console

import (
	"encoding/json"
	"net/http"
	"strings"
)

// testRunForm is what the flow page's Test flow form holds, kept so that
// input the console refused is shown again as typed.
type testRunForm struct {
	Input  string
	DryRun bool
	// Error is the one sentence saying why the input was refused.
	Error string
}

// defaultTestInput is the Test flow form's input before anything is typed:
// an empty object, which every flow accepts.
const defaultTestInput = "{}"

// startTestRun serves POST /workflows/flows/{id}/test: the flow page's Test
// flow button. It starts a test run of the flow with the typed input, even
// when the flow is off, and opens the execution in Flow history. Input that
// is not JSON is shown again on the flow page with the reason, and starts
// nothing.
func (c *Console) startTestRun(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	id := r.PathValue("id")
	back := "/workflows/flows/" + id
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, &InputError{Message: "The form could not be read; the input may be larger than 1 MiB."}, back)
		return
	}
	form := testRunForm{Input: r.PostFormValue("input"), DryRun: checked(r, "dry_run")}
	input := strings.TrimSpace(form.Input)
	if input == "" {
		input = defaultTestInput
	}
	if !json.Valid([]byte(input)) {
		f, err := c.svc.Flows.Flow(r.Context(), id)
		if err != nil {
			c.fail(w, r, err, "/workflows/flows")
			return
		}
		form.Error = `The input is not JSON; type a JSON document such as {"name": "value"}.`
		c.renderFlow(w, r, f, flowPage{Text: string(f.Document), Test: form}, http.StatusUnprocessableEntity)
		return
	}
	execID, err := c.svc.Flows.TestFlow(r.Context(), id, json.RawMessage(input), form.DryRun)
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, "/workflows/executions/"+execID, flashOK, "The test run started.")
}
