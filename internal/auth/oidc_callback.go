package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/vigil-ispm/vigil/internal/audit"
)

// oidcRefusal is a single sign-on that did not end signed in: Message is
// the one sentence the person reads, Reason what the log records.
type oidcRefusal struct {
	Status  int
	Message string
	Reason  string
}

func (e *oidcRefusal) Error() string { return "single sign-on refused: " + e.Reason }

// The sentences a refused person reads. None says more than they need:
// the log has the reason.
const (
	msgFlowExpired  = "This sign-in has expired or was started in another browser; start again from the sign-in page."
	msgProviderSaid = "The identity provider did not sign you in; try again or ask an administrator."
	msgExchange     = "The identity provider did not complete the sign-in; try again in a moment."
	msgUnverified   = "The identity provider's answer could not be verified; try again or ask an administrator."
	msgNoName       = "Your identity provider account has no usable verified e-mail address; ask an administrator."
	msgNoRole       = "Your identity provider account is not in a group that may use Vigil; ask an administrator for access."
	msgDisabled     = "Your Vigil account is disabled; ask an administrator."
	msgOtherAccount = "This Vigil account is linked to another identity provider account; ask an administrator."
	msgLastAdmin    = "Your groups no longer make you super_admin, but you are the last enabled super_admin; ask for another super_admin to be made first."
)

func refuse(status int, msg, reason string) *oidcRefusal {
	return &oidcRefusal{Status: status, Message: msg, Reason: reason}
}

// oidcCallback serves GET /auth/oidc/callback: it checks the state,
// exchanges the code (with the PKCE verifier), verifies the ID token and its
// nonce, maps the groups to a role, finds or creates the user, starts a
// session and goes to the console's home page. Refusals get a short page
// and no session; nothing from the provider's tokens reaches the log.
func (s *Service) oidcCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	o := s.oidc.Load()
	// A flow cookie serves one callback, whatever its outcome.
	http.SetCookie(w, s.flowCookie(r, o, "", -1))
	clientIP := s.cfg.ClientIP(r)

	ident, role, err := s.oidcIdentity(r, o)
	var u *User
	var prev Role
	var created bool
	if err == nil {
		u, prev, created, err = s.externalUser(r.Context(), ident, role)
	}
	if err == nil {
		err = s.replaceSession(w, r, u)
	}
	if err != nil {
		var ref *oidcRefusal
		if !errors.As(err, &ref) {
			s.log.Error("single sign-on failed", "user", ident.Name, "subject", ident.Subject, "client_ip", clientIP, "error", err)
			ref = refuse(http.StatusInternalServerError, "Signing in failed on the server; the log has the details.", "")
		} else {
			s.log.Warn("single sign-on refused", "reason", ref.Reason, "user", ident.Name, "subject", ident.Subject,
				"groups", logGroups(ident.Groups), "client_ip", clientIP)
		}
		reason := ref.Reason
		if reason == "" {
			reason = "server error"
		}
		target := userTarget("", ident.Name)
		if u != nil {
			target = userTarget(u.ID, u.Name)
		}
		s.audit.Record(r.Context(), audit.Entry{Action: "auth.signin.failed", Outcome: audit.Failure,
			Actor: &audit.Actor{Kind: audit.ActorAnonymous, Address: clientIP}, Target: target,
			Details: map[string]any{"method": "oidc", "reason": reason}})
		s.writeRefusal(w, ref)
		return
	}
	attrs := []any{"user", u.Name, "user_id", u.ID, "subject", ident.Subject, "role", string(u.Role), "method", "oidc", "client_ip", clientIP}
	if created {
		attrs = append(attrs, "created", true)
	} else if prev != u.Role {
		attrs = append(attrs, "previous_role", string(prev))
	}
	if ident.Name != u.Name {
		// The provider's address changed since the account was linked:
		// the person keeps their account, found by the subject.
		attrs = append(attrs, "provider_name", ident.Name)
	}
	s.log.Info("signed in", attrs...)
	details := map[string]any{"method": "oidc"}
	if created {
		details["created"] = true
	} else if prev != u.Role {
		details["previousRole"], details["role"] = string(prev), string(u.Role)
	}
	s.audit.Record(r.Context(), audit.Entry{Action: "auth.signin",
		Actor:  &audit.Actor{Kind: audit.ActorUser, ID: u.ID, Name: u.Name, Address: clientIP},
		Target: userTarget(u.ID, u.Name), Details: details})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// oidcIdentity completes the protocol part of the callback: it returns who
// the provider vouches for and the role their groups give, or an
// *oidcRefusal. The identity is filled as far as it was learnt, for the log.
func (s *Service) oidcIdentity(r *http.Request, o *oidcClient) (ExternalIdentity, Role, error) {
	var ident ExternalIdentity
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return ident, "", refuse(http.StatusForbidden, msgProviderSaid, "the identity provider answered "+clip(e, 64))
	}
	c, err := r.Cookie(OIDCFlowCookie)
	if err != nil {
		return ident, "", refuse(http.StatusBadRequest, msgFlowExpired, "no sign-in in progress (flow cookie missing)")
	}
	flow, ok := parseOIDCFlow(c.Value)
	if !ok {
		return ident, "", refuse(http.StatusBadRequest, msgFlowExpired, "malformed flow cookie")
	}
	now := s.cfg.Now()
	if age := now.Sub(flow.started); age > oidcFlowTTL || age < -time.Minute {
		return ident, "", refuse(http.StatusBadRequest, msgFlowExpired, "the sign-in was started too long ago")
	}
	if !sameSecret(q.Get("state"), flow.state) {
		return ident, "", refuse(http.StatusBadRequest, msgFlowExpired, "state does not match")
	}
	code := q.Get("code")
	if code == "" {
		return ident, "", refuse(http.StatusBadRequest, msgProviderSaid, "no authorization code")
	}

	ctx := oidc.ClientContext(r.Context(), o.cfg.HTTPClient)
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(flow.verifier))
	if err != nil {
		return ident, "", refuse(http.StatusBadGateway, msgExchange, "token exchange failed: "+describeExchangeError(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return ident, "", refuse(http.StatusBadGateway, msgExchange, "the token response holds no ID token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return ident, "", refuse(http.StatusForbidden, msgUnverified, "ID token rejected: "+shortCause(err))
	}
	ident.Issuer, ident.Subject = idt.Issuer, idt.Subject
	if ident.Subject == "" {
		return ident, "", refuse(http.StatusForbidden, msgUnverified, "the ID token has no sub claim")
	}
	if !sameSecret(idt.Nonce, flow.nonce) {
		return ident, "", refuse(http.StatusForbidden, msgUnverified, "ID token nonce does not match")
	}
	if err := readClaims(idt, o.cfg.GroupsClaim, &ident); err != nil {
		return ident, "", err
	}
	role, ok := o.cfg.GroupRoles.RoleFor(ident.Groups)
	if !ok {
		// Whoever lost access at the provider loses their open sessions too.
		if err := s.endSessionsOf(r.Context(), ident); err != nil {
			return ident, "", err
		}
		return ident, "", refuse(http.StatusForbidden, msgNoRole, "no group maps to a role")
	}
	return ident, role, nil
}

// readClaims fills ident's name and groups from the ID token: the name is
// the e-mail address (refused when the provider says it is unverified), or
// preferred_username when there is none.
func readClaims(idt *oidc.IDToken, groupsClaim string, ident *ExternalIdentity) error {
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return refuse(http.StatusForbidden, msgUnverified, "unreadable ID token claims")
	}
	var email, preferred string
	var verified *bool
	_ = json.Unmarshal(claims["email"], &email)
	_ = json.Unmarshal(claims["preferred_username"], &preferred)
	_ = json.Unmarshal(claims["email_verified"], &verified)
	name := email
	if email != "" && verified != nil && !*verified {
		return refuse(http.StatusForbidden, msgNoName, "the e-mail address is not verified")
	}
	if name == "" {
		name = preferred
	}
	ident.Name = normalizeName(name)
	if ident.Name == "" {
		return refuse(http.StatusForbidden, msgNoName, "the ID token has neither email nor preferred_username")
	}
	if err := checkName(ident.Name); err != nil {
		return refuse(http.StatusForbidden, msgNoName, "the e-mail address is not a valid user name")
	}
	if rawGroups, ok := claims[groupsClaim]; ok {
		var one string
		if err := json.Unmarshal(rawGroups, &ident.Groups); err != nil {
			if json.Unmarshal(rawGroups, &one) != nil {
				return refuse(http.StatusForbidden, msgNoRole, fmt.Sprintf("the %q claim is not a list of strings", clip(groupsClaim, 64)))
			}
			ident.Groups = []string{one}
		}
	}
	return nil
}

// describeExchangeError names why the token endpoint refused, without the
// response body, which a provider may fill with anything.
func describeExchangeError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Sprintf("HTTP %d %s", status, clip(re.ErrorCode, 64))
	}
	return shortCause(err)
}

// clip bounds a provider-chosen string before it is logged.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// logGroups bounds the groups written to the log: enough to see why a
// mapping did not match, not a provider's whole directory.
func logGroups(groups []string) []string {
	if len(groups) > 20 {
		return append(groups[:20:20], fmt.Sprintf("(and %d more)", len(groups)-20))
	}
	return groups
}

// refusalPage is the short page a refused single sign-on shows.
var refusalPage = template.Must(template.New("refusal").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in refused · Vigil</title></head>
<body><main style="max-width:480px;margin:80px auto;font-family:system-ui,sans-serif">
<h1>Sign-in refused</h1>
<p id="sso-error" role="alert">{{.Message}}</p>
<p><a href="{{.Login}}">Back to sign in</a></p>
</main></body></html>
`))

func (s *Service) writeRefusal(w http.ResponseWriter, ref *oidcRefusal) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(ref.Status)
	_ = refusalPage.Execute(w, map[string]string{"Message": ref.Message, "Login": LoginPath})
}
