package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/signature"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Endpoints manages the invoke alias, client token and signing secrets of
// flows with an API Endpoint trigger.
type Endpoints struct {
	store *store.Store
	box   *secret.Box
	now   func() time.Time
	// audit records who saw or rotated a client token.
	audit *audit.Recorder
	// aliases keeps the rows invocations look up; every write here
	// forgets them, so the handler must share this Endpoints.
	aliases store.RowCache[store.Endpoint]
	// readAlias reads an endpoint for aliases (a test counts the reads).
	readAlias func(ctx context.Context, alias string) (*store.Endpoint, error)
}

// NewEndpoints returns the endpoint settings service.
func NewEndpoints(st *store.Store, box *secret.Box, now func() time.Time) *Endpoints {
	if now == nil {
		now = time.Now
	}
	return &Endpoints{store: st, box: box, now: now, audit: audit.NewRecorder(st, nil, now),
		aliases:   store.RowCache[store.Endpoint]{Age: AliasCacheAge, Size: aliasCacheSize},
		readAlias: st.EndpointByAlias}
}

// Settings is what the "Endpoint settings" dialog and `vigil flows endpoint`
// show. ClientToken is filled only for callers allowed to see it.
type Settings struct {
	FlowID      string `json:"flowId"`
	Alias       string `json:"-"`
	InvokeURL   string `json:"invokeUrl"`
	ClientToken string `json:"clientToken,omitempty"`
	Security    string `json:"security"`
	Response    string `json:"response"`
	// Signature is set when the trigger verifies webhook signatures.
	Signature *SignatureSettings `json:"signature,omitempty"`
}

// SignatureSettings are the signature verification of an endpoint as its
// settings show it: never the secrets, only how many are set (0: every
// call is refused until one is).
type SignatureSettings struct {
	Scheme  string `json:"scheme"`
	Header  string `json:"header,omitempty"`
	Secrets int    `json:"secrets"`
}

// aliasBytes gives aliases 160 random bits and tokens 256.
const (
	aliasBytes = 20
	tokenBytes = 32
)

func tokenPurpose(flowID string) string   { return "endpoint:" + flowID + ":token" }
func signingPurpose(flowID string) string { return "endpoint:" + flowID + ":signing" }

// Ensure returns the flow's endpoint, creating its alias and client token
// the first time. It is safe to call on every save of a flow.
func (e *Endpoints) Ensure(ctx context.Context, flowID string) (*store.Endpoint, error) {
	ep, err := e.store.EndpointByFlow(ctx, flowID)
	if err == nil {
		return ep, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	sealed, err := e.box.Seal(id.Token(tokenBytes), tokenPurpose(flowID))
	if err != nil {
		return nil, err
	}
	now := e.now()
	ep = &store.Endpoint{FlowID: flowID, Alias: id.Token(aliasBytes), TokenSealed: sealed, CreatedAt: now, UpdatedAt: now}
	err = e.store.CreateEndpoint(ctx, ep)
	e.changed()
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return e.store.EndpointByFlow(ctx, flowID)
		}
		return nil, fmt.Errorf("create endpoint: %w", err)
	}
	return ep, nil
}

// Token opens the flow's current client token.
func (e *Endpoints) Token(ep *store.Endpoint) (string, error) {
	return e.box.Open(ep.TokenSealed, tokenPurpose(ep.FlowID))
}

// Reveal opens the flow's current client token to show it to a person,
// and records in the audit log that it was shown (never the token).
// flowTitle names the flow in the record.
func (e *Endpoints) Reveal(ctx context.Context, ep *store.Endpoint, flowTitle string) (string, error) {
	token, err := e.Token(ep)
	if err != nil {
		return "", err
	}
	e.audit.Record(ctx, audit.Entry{Action: "flow.token.reveal", Target: audit.Target{Kind: "flow", ID: ep.FlowID, Name: flowTitle}})
	return token, nil
}

// Rotate gives the flow a new client token. With grace 0 the old token stops
// working at once; otherwise it keeps working until grace has passed.
func (e *Endpoints) Rotate(ctx context.Context, flowID string, grace time.Duration) (string, error) {
	ep, err := e.Ensure(ctx, flowID)
	if err != nil {
		return "", err
	}
	token := id.Token(tokenBytes)
	sealed, err := e.box.Seal(token, tokenPurpose(flowID))
	if err != nil {
		return "", err
	}
	now := e.now()
	ep.PrevTokenSealed, ep.PrevExpiresAt = "", time.Time{}
	if grace > 0 {
		ep.PrevTokenSealed, ep.PrevExpiresAt = ep.TokenSealed, now.Add(grace)
	}
	ep.TokenSealed, ep.UpdatedAt = sealed, now
	err = e.store.UpdateEndpointTokens(ctx, ep)
	e.changed()
	if err != nil {
		return "", fmt.Errorf("rotate token: %w", err)
	}
	target := audit.Target{Kind: "flow", ID: flowID}
	if f, err := e.store.Flow(ctx, flowID); err == nil {
		target.Name = f.Title
	}
	e.audit.Record(ctx, audit.Entry{Action: "flow.token.rotate", Target: target,
		Details: map[string]any{"changed": []string{"clientToken"}, "graceSeconds": max(int64(grace/time.Second), 0)}})
	return token, nil
}

// SetSigningSecrets replaces the secrets an endpoint with signature
// verification accepts (several during a rotation), as they are.
func (e *Endpoints) SetSigningSecrets(ctx context.Context, flowID string, secrets []string) error {
	ep, err := e.Ensure(ctx, flowID)
	if err != nil {
		return err
	}
	return e.putSigningSecrets(ctx, ep, secrets)
}

func (e *Endpoints) putSigningSecrets(ctx context.Context, ep *store.Endpoint, secrets []string) error {
	raw, _ := json.Marshal(secrets)
	sealed, err := e.box.Seal(string(raw), signingPurpose(ep.FlowID))
	if err != nil {
		return err
	}
	ep.SigningSecretsSealed, ep.UpdatedAt = sealed, e.now()
	err = e.store.UpdateEndpointSigningSecrets(ctx, ep)
	e.changed()
	return err
}

// SetSigningSecret makes secret the signing secret the endpoint of a flow
// whose trigger verifies signatures with scheme accepts, in place of any:
// the sender's own (a GitHub webhook's secret, the whsec_ secret of a
// Standard Webhooks sender such as another Vigil's integration), or, when
// secret is empty, a new one it generates and returns for the sender.
// With keepPrevious the secret it replaces stays valid beside it until
// the next change, so that a sender can be moved over. A secret that does
// not fit scheme is refused with an *input.InvalidError and changes
// nothing. The change is audited; the secret is not.
func (e *Endpoints) SetSigningSecret(ctx context.Context, flowID, scheme, secret string, keepPrevious bool) (string, error) {
	generated := secret == ""
	if generated {
		var err error
		if secret, err = signature.NewSecretFor(scheme); err != nil {
			return "", err
		}
	} else if msg := signature.CheckSecret(scheme, secret); msg != "" {
		return "", &input.InvalidError{Field: "signingSecret", Message: msg}
	}
	ep, err := e.Ensure(ctx, flowID)
	if err != nil {
		return "", err
	}
	secrets := []string{secret}
	if keepPrevious {
		old, err := e.signingSecrets(ep)
		if err != nil {
			return "", fmt.Errorf("open the signing secret it replaces: %w", err)
		}
		if len(old) > 0 {
			secrets = append(secrets, old[0])
		}
	}
	if err := e.putSigningSecrets(ctx, ep, secrets); err != nil {
		return "", fmt.Errorf("set the signing secret: %w", err)
	}
	target := audit.Target{Kind: "flow", ID: flowID}
	if f, err := e.store.Flow(ctx, flowID); err == nil {
		target.Name = f.Title
	}
	e.audit.Record(ctx, audit.Entry{Action: "flow.signing_secret.set", Target: target,
		Details: map[string]any{"generated": generated, "keptPrevious": len(secrets) > 1}})
	if !generated {
		return "", nil
	}
	return secret, nil
}

// SigningSecrets counts the signing secrets the endpoint of a flow
// accepts: 0 means a trigger that verifies signatures refuses every call.
func (e *Endpoints) SigningSecrets(ep *store.Endpoint) (int, error) {
	secrets, err := e.signingSecrets(ep)
	return len(secrets), err
}

func (e *Endpoints) signingSecrets(ep *store.Endpoint) ([]string, error) {
	if ep.SigningSecretsSealed == "" {
		return nil, nil
	}
	raw, err := e.box.Open(ep.SigningSecretsSealed, signingPurpose(ep.FlowID))
	if err != nil {
		return nil, err
	}
	var out []string
	return out, json.Unmarshal([]byte(raw), &out)
}

// checkToken compares a presented token with the current one and, during a
// grace period, the previous one, in constant time.
func (e *Endpoints) checkToken(ep *store.Endpoint, presented string) bool {
	if presented == "" {
		return false
	}
	ok := false
	if cur, err := e.box.Open(ep.TokenSealed, tokenPurpose(ep.FlowID)); err == nil {
		ok = constantTimeEqual(cur, presented)
	}
	if ep.PrevTokenSealed != "" && e.now().Before(ep.PrevExpiresAt) {
		if prev, err := e.box.Open(ep.PrevTokenSealed, tokenPurpose(ep.FlowID)); err == nil {
			ok = constantTimeEqual(prev, presented) || ok
		}
	}
	return ok
}

// InvokeURL is the URL callers use, up to /invoke, as Okta shows it.
func InvokeURL(publicURL, alias string) string { //nolint:revive // stutters, but its callers in many packages use this name; a rename is a change of its own
	return publicURL + "/api/flo/" + alias + "/invoke"
}
