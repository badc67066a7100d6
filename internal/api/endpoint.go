package api

import (
	"context"
	"net/http"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// maxGrace bounds how long a rotated client token keeps working.
const maxGrace = 30 * 24 * time.Hour

// Endpoint is a flow's Endpoint settings, as the console's dialog and
// `vigil flows endpoint --json` show them.
type Endpoint struct {
	invoke.Settings
	// PreviousTokenExpiresAt is set by a rotation with a grace period:
	// until then the old client token works too.
	PreviousTokenExpiresAt *time.Time `json:"previousTokenExpiresAt,omitempty"`
}

// endpoint returns the Endpoint settings of the flow named in the path,
// creating its alias and client token the first time, as the console and
// the CLI do. The client token is filled only when reveal is set and the
// caller may see it; showing it is recorded in the audit log.
func (a *API) endpoint(ctx context.Context, r *http.Request, reveal bool) (*flows.Flow, *Endpoint, error) {
	f, err := a.findFlow(ctx, r, r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	target, err := a.svc.Flows.Invoke().InvokeTarget(ctx, f.ID)
	if err != nil {
		return nil, nil, err
	}
	api := target.Endpoint
	if api == nil {
		return nil, nil, notFound("Flow %q has no API Endpoint trigger, so it has no invoke URL.", f.Title)
	}
	s := invoke.Settings{FlowID: f.ID, Security: api.Security, Response: api.Response}
	if s.Security == "" {
		s.Security = dsl.SecurityClientToken
	}
	if s.Response == "" {
		s.Response = dsl.ResponseSync
	}
	ep, err := a.svc.Endpoints.Ensure(ctx, f.ID)
	if err != nil {
		return nil, nil, err
	}
	s.Alias = ep.Alias
	s.InvokeURL = invoke.InvokeURL(a.publicURL(r), ep.Alias)
	if sig := api.Signature; sig != nil {
		n, err := a.svc.Endpoints.SigningSecrets(ep)
		if err != nil {
			return nil, nil, err
		}
		s.Signature = &invoke.SignatureSettings{Scheme: sig.Scheme, Header: sig.Header, Secrets: n}
	}
	out := &Endpoint{Settings: s}
	if reveal && s.Security == dsl.SecurityClientToken && can(r, auth.PermManageEndpointTokens) {
		if out.ClientToken, err = a.svc.Endpoints.Reveal(ctx, ep, f.Title); err != nil {
			return nil, nil, err
		}
	}
	if !ep.PrevExpiresAt.IsZero() && a.cfg.Now().Before(ep.PrevExpiresAt) {
		out.PreviousTokenExpiresAt = timePtr(ep.PrevExpiresAt.UTC())
	}
	return f, out, nil
}

// getEndpoint serves GET /api/v1/flows/{id}/endpoint: the invoke URL up
// to /invoke, the security and response mode, and the client token for
// callers who may manage endpoint tokens.
func (a *API) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r.Context(), r, true)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, ep)
	return nil
}

// rotateToken serves POST /api/v1/flows/{id}/endpoint/rotate-token
// {"graceSeconds": n}: a new client token; the old one stops working at
// once, or after the grace period so that callers can be moved over.
func (a *API) rotateToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		GraceSeconds int64 `json:"graceSeconds"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.GraceSeconds < 0 || in.GraceSeconds > int64(maxGrace/time.Second) {
		return invalid("graceSeconds", "The grace period must be between 0 and 30 days, in seconds.")
	}
	grace := time.Duration(in.GraceSeconds) * time.Second
	ctx := r.Context()
	f, ep, err := a.endpoint(ctx, r, false)
	if err != nil {
		return err
	}
	if ep.Security != dsl.SecurityClientToken {
		return conflict("Flow %q is secured with %s, not a client token, so there is no token to rotate.", f.Title, ep.Security)
	}
	token, err := a.svc.Endpoints.Rotate(ctx, f.ID, grace)
	if err != nil {
		return err
	}
	ep.ClientToken, ep.PreviousTokenExpiresAt = token, nil
	if grace > 0 {
		ep.PreviousTokenExpiresAt = timePtr(a.cfg.Now().Add(grace).UTC())
	}
	httpjson.Write(w, http.StatusOK, ep)
	return nil
}

// setSigningSecret serves POST /api/v1/flows/{id}/endpoint/signing-secret
// {"secret": "…"} or {"generate": true}, with "keepPrevious": true to keep
// the replaced secret valid beside it: the secret the trigger's signature
// verification checks calls against. A generated secret is answered once,
// in signingSecret; one of the caller's own is never echoed.
func (a *API) setSigningSecret(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Secret       string `json:"secret"`
		Generate     bool   `json:"generate"`
		KeepPrevious bool   `json:"keepPrevious"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Generate == (in.Secret != "") {
		return invalid("secret", "Send either a secret of your own or generate: true.")
	}
	ctx := r.Context()
	f, ep, err := a.endpoint(ctx, r, false)
	if err != nil {
		return err
	}
	if ep.Signature == nil {
		return conflict("Flow %q does not verify signatures; add signature to its API Endpoint trigger first.", f.Title)
	}
	generated, err := a.svc.Endpoints.SetSigningSecret(ctx, f.ID, ep.Signature.Scheme, in.Secret, in.KeepPrevious)
	if err != nil {
		return err
	}
	if _, ep, err = a.endpoint(ctx, r, false); err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, struct {
		*Endpoint
		SigningSecret string `json:"signingSecret,omitempty"`
	}{ep, generated})
	return nil
}
