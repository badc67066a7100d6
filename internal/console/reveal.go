package console

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// A secret shown once (a generated password, a new API token, a signing
// secret) used to be rendered in the answer to the POST that made it, so a
// browser reload posted the form again. Instead the POST seals the secret
// into a short-lived cookie scoped to the page it redirects to, and that
// page shows it once and clears it: every form answers 303 and a reload
// changes nothing. The cookie is sealed with the console's box for the
// signed-in user and that page alone, so it is unreadable at rest, to
// another user and to any other page.

const (
	revealCookie = "vigil_reveal"
	revealTTL    = 2 * time.Minute
)

// Kinds of secret a page shows once.
const (
	revealCreated = "created"
	revealReset   = "reset"
	revealToken   = "token"
	revealSigning = "signing"
)

// revealed is a secret to show once on the next page.
type revealed struct {
	Kind string `json:"k"`
	// Name is what the secret belongs to (the user, the token).
	Name    string `json:"n"`
	Value   string `json:"v"`
	Expires int64  `json:"e"`
}

func revealPurpose(r *http.Request, path string) string {
	u, _ := auth.UserFrom(r.Context())
	id := ""
	if u != nil {
		id = u.ID
	}
	return "console reveal " + id + " " + path
}

// redirectRevealing answers a POST with 303 to path (a path without a
// query), carrying a flash message and rv for that page to show once.
func (c *Console) redirectRevealing(w http.ResponseWriter, r *http.Request, path, msg string, rv revealed) {
	rv.Expires = c.cfg.Now().Add(revealTTL).Unix()
	b, err := json.Marshal(rv)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	sealed, err := c.box.Seal(string(b), revealPurpose(r, path))
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: revealCookie, Value: sealed, Path: path, HttpOnly: true, //nolint:gosec // G124: HttpOnly, SameSite=Strict, Secure as secureCookie says, the value sealed
		SameSite: http.SameSiteStrictMode, Secure: c.secureCookie(r), MaxAge: int(revealTTL / time.Second)})
	c.redirect(w, r, path, flashOK, msg)
}

// takeReveal returns the secret this page is to show once, and clears it.
// A cookie sealed for another user or page, or expired, shows nothing.
func (c *Console) takeReveal(w http.ResponseWriter, r *http.Request) (revealed, bool) {
	ck, err := r.Cookie(revealCookie)
	if err != nil || ck.Value == "" {
		return revealed{}, false
	}
	plain, err := c.box.Open(ck.Value, revealPurpose(r, r.URL.Path))
	if err != nil {
		return revealed{}, false
	}
	http.SetCookie(w, &http.Cookie{Name: revealCookie, Value: "", Path: r.URL.Path, MaxAge: -1, HttpOnly: true, //nolint:gosec // G124: it deletes the cookie and carries nothing
		SameSite: http.SameSiteStrictMode, Secure: c.secureCookie(r)})
	var rv revealed
	if json.Unmarshal([]byte(plain), &rv) != nil || c.cfg.Now().Unix() > rv.Expires {
		return revealed{}, false
	}
	return rv, true
}
