package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/signature"
)

// endpointView is the Endpoint settings dialog.
type endpointView struct {
	InvokeURL string
	Token     string
	Security  string
	Response  string
	Curl      string
	// Signature is set when the trigger verifies signatures; Generated is
	// a signing secret just generated, shown this once.
	Signature *invoke.SignatureSettings
	Generated string
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
	api := apiEndpointOf(f)
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
	if sig := api.Signature; sig != nil {
		n, err := c.svc.Endpoints.SigningSecrets(ep)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		ev.Signature = &invoke.SignatureSettings{Scheme: sig.Scheme, Header: sig.Header, Secrets: n}
		if rv, ok := c.takeReveal(w, r); ok && rv.Kind == revealSigning {
			ev.Generated = rv.Value
		}
	}
	ev.Curl = curlExample(ev.InvokeURL, ev.Security, ev.Signature)
	c.renderFlow(w, r, f, flowPage{Text: string(f.Document), Endpoint: ev}, http.StatusOK)
}

// endpointForm starts a POST to a flow's Endpoint settings: it returns the
// flow's id and the dialog to go back to, or answers itself and reports
// false when the flows are unavailable or the form cannot be read.
func (c *Console) endpointForm(w http.ResponseWriter, r *http.Request) (id, back string, ok bool) {
	if c.svc.Flows == nil || c.svc.Endpoints == nil {
		c.unavailable(w, r, "Flow endpoints")
		return "", "", false
	}
	id = r.PathValue("id")
	back = "/workflows/flows/" + id + "/endpoint"
	return id, back, c.readForm(w, r, back)
}

// setFlowSigningSecret serves POST /workflows/flows/{id}/endpoint/signing-secret:
// the sender's own secret (secret), or a generated one (action=generate),
// shown once on the dialog; keep_previous keeps the replaced one working.
func (c *Console) setFlowSigningSecret(w http.ResponseWriter, r *http.Request) {
	id, back, ok := c.endpointForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	f, err := c.svc.Flows.Flow(ctx, id)
	if err != nil {
		c.fail(w, r, err, "/workflows/flows")
		return
	}
	var sig *dsl.SignatureCheck
	if api := apiEndpointOf(f); api != nil {
		sig = api.Signature
	}
	if sig == nil {
		c.redirect(w, r, back, flashError, "This flow does not verify signatures: add signature to its API Endpoint card first.")
		return
	}
	own := ""
	if r.PostFormValue("action") != "generate" {
		if own = r.PostFormValue("secret"); own == "" {
			c.redirect(w, r, back, flashError, "Paste the sender's signing secret, or generate a new one.")
			return
		}
	}
	keep := r.PostFormValue("keep_previous") != ""
	generated, err := c.svc.Endpoints.SetSigningSecret(ctx, id, sig.Scheme, own, keep)
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	msg := "The signing secret is saved."
	if keep {
		msg = "The signing secret is saved; the one it replaced keeps working until the next change."
	}
	if generated == "" {
		c.redirect(w, r, back, flashOK, msg)
		return
	}
	c.redirectRevealing(w, r, back, msg+" Copy it to the sender now: it is shown this once.",
		revealed{Kind: revealSigning, Name: f.Title, Value: generated})
}

// apiEndpointOf is the API Endpoint trigger of f, nil for a flow without
// one.
func apiEndpointOf(f *Flow) *dsl.APIEndpoint {
	if f.Workflow == nil {
		return nil
	}
	if t := f.Workflow.Trigger(); t != nil {
		return t.APIEndpoint
	}
	return nil
}

// curlExample is a command that invokes the flow. The token and the
// signing secret are read from environment variables, so the command can
// be copied into a terminal or a ticket without leaking them. For a flow
// that checks an HMAC signature, it signs the body with openssl; a
// Standard Webhooks signature needs a library, which a comment says.
func curlExample(invokeURL, security string, sig *invoke.SignatureSettings) string {
	var b strings.Builder
	body := "-d '{\"hello\": \"world\"}'"
	if sig != nil {
		switch sig.Scheme {
		case signature.SchemeHMAC:
			b.WriteString("BODY='{\"hello\": \"world\"}'\n")
			body = "-d \"$BODY\""
		case signature.SchemeStandard:
			b.WriteString("# Add webhook-id, webhook-timestamp and webhook-signature, signed with\n" +
				"# $SIGNING_SECRET by a Standard Webhooks library.\n")
		}
	}
	b.WriteString("curl -X POST '" + invokeURL + "' \\\n  -H 'Content-Type: application/json' \\\n")
	switch security {
	case dsl.SecurityClientToken:
		b.WriteString("  -H \"x-api-client-token: $CLIENT_TOKEN\" \\\n")
	case dsl.SecurityOAuth2:
		b.WriteString("  -H \"Authorization: Bearer $ACCESS_TOKEN\" \\\n")
	}
	if sig != nil && sig.Scheme == signature.SchemeHMAC {
		b.WriteString("  -H \"" + sig.Header + ": sha256=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac \"$SIGNING_SECRET\" | sed 's/^.* //')\" \\\n")
	}
	b.WriteString("  " + body)
	return b.String()
}

// rotateFlowToken serves POST /workflows/flows/{id}/endpoint/rotate: a new
// client token, the old one working on for the chosen grace period.
func (c *Console) rotateFlowToken(w http.ResponseWriter, r *http.Request) {
	id, back, ok := c.endpointForm(w, r)
	if !ok {
		return
	}
	// Rotate makes the endpoint it rotates: only a flow whose API
	// Endpoint is secured by a client token has a token to rotate.
	f, err := c.svc.Flows.Flow(r.Context(), id)
	if err != nil {
		c.fail(w, r, err, "/workflows/flows")
		return
	}
	if api := apiEndpointOf(f); api == nil || (api.Security != "" && api.Security != dsl.SecurityClientToken) {
		c.redirect(w, r, back, flashError, "This flow has no client token to rotate: its API Endpoint is not secured with one.")
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
