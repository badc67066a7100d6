package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showLoginPage serves GET /login: the sign-in form, or the user's landing
// page when they are signed in already.
func (c *Console) showLoginPage(w http.ResponseWriter, r *http.Request) {
	if u, ok := auth.UserFrom(r.Context()); ok {
		http.Redirect(w, r, cleanPath(r.URL.Query().Get("next"), landing(u)), http.StatusSeeOther) //nolint:gosec // G710: cleanPath keeps only a local path
		return
	}
	c.view(w, r, "login", "Sign in", "").Set("next", r.URL.Query().Get("next")).Set("sso", c.ssoLabel()).Render()
}

// ssoButton is what an Auth offers when it can sign people in through an
// identity provider; *auth.Service does once single sign-on is enabled.
type ssoButton interface {
	OIDCButton() (label string, ok bool)
}

// ssoLabel is the label of the sign-in page's single sign-on button, or ""
// when the server has no single sign-on (the page shows none).
func (c *Console) ssoLabel() string {
	b, ok := c.svc.Auth.(ssoButton)
	if !ok {
		return ""
	}
	label, on := b.OIDCButton()
	if !on {
		return ""
	}
	return label
}
