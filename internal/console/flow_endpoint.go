package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
)

// endpointView is the Endpoint settings dialog.
type endpointView struct {
	InvokeURL string
	Token     string
	Security  string
	Response  string
	Curl      string
}

// showFlowEndpoint serves GET /workflows/flows/{id}/endpoint: the flow page
// with Endpoint settings open (the API Endpoint card's </> button): the
// invoke URL up to /invoke, the client token masked with reveal and copy,
// rotate, and a curl example.
func (c *Console) showFlowEndpoint(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil || c.svc.Endpoints == nil {
		c.unavailable(w, r, "Flow endpoints")
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	f, err := c.svc.Flows.Flow(ctx, id)
	if err != nil {
		c.fail(w, r, err, "/workflows/flows")
		return
	}
	var api *dsl.APIEndpoint
	if f.Workflow != nil {
		if t := f.Workflow.Trigger(); t != nil {
			api = t.APIEndpoint
		}
	}
	if api == nil {
		c.redirect(w, r, "/workflows/flows/"+id, flashError, "This flow has no API Endpoint card, so it has no invoke URL.")
		return
	}
	// Ensure only creates the alias and token the first time; it is how a
	// flow added by a template gets its endpoint.
	ep, err := c.svc.Endpoints.Ensure(ctx, f.ID)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	ev := &endpointView{InvokeURL: invoke.InvokeURL(c.publicURL(r), ep.Alias), Security: api.Security, Response: api.Response}
	if ev.Security == "" {
		ev.Security = dsl.SecurityClientToken
	}
	if ev.Response == "" {
		ev.Response = dsl.ResponseSync
	}
	if ev.Security == dsl.SecurityClientToken {
		if ev.Token, err = c.svc.Endpoints.Reveal(ctx, ep, f.Title); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	ev.Curl = curlExample(ev.InvokeURL, ev.Security)
	c.renderFlow(w, r, f, flowPage{Text: string(f.Document), Endpoint: ev}, http.StatusOK)
}

// curlExample is a command that invokes the flow. The token is read from
// an environment variable, so the command can be copied into a terminal or
// a ticket without leaking it.
func curlExample(invokeURL, security string) string {
	var b strings.Builder
	b.WriteString("curl -X POST '" + invokeURL + "' \\\n  -H 'Content-Type: application/json' \\\n")
	switch security {
	case dsl.SecurityClientToken:
		b.WriteString("  -H \"x-api-client-token: $CLIENT_TOKEN\" \\\n")
	case dsl.SecurityOAuth2:
		b.WriteString("  -H \"Authorization: Bearer $ACCESS_TOKEN\" \\\n")
	}
	b.WriteString("  -d '{\"hello\": \"world\"}'")
	return b.String()
}

// rotateFlowToken serves POST /workflows/flows/{id}/endpoint/rotate: a new
// client token, the old one working on for the chosen grace period.
func (c *Console) rotateFlowToken(w http.ResponseWriter, r *http.Request) {
	if c.svc.Endpoints == nil {
		c.unavailable(w, r, "Flow endpoints")
		return
	}
	id := r.PathValue("id")
	back := "/workflows/flows/" + id + "/endpoint"
	if !c.readForm(w, r, back) {
		return
	}
	var grace time.Duration
	if r.PostFormValue("grace") == "24h" {
		grace = 24 * time.Hour
	}
	if _, err := c.svc.Endpoints.Rotate(r.Context(), id, grace); err != nil {
		c.fail(w, r, err, back)
		return
	}
	msg := "The client token is rotated; the old one stopped working."
	if grace > 0 {
		msg = "The client token is rotated; the old one keeps working for 24 hours."
	}
	c.redirect(w, r, back, flashOK, msg)
}
