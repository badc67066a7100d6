package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// login serves POST /login: it checks the name and password, starts a
// session and goes to the page the user asked for.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	next := r.PostFormValue("next")
	u, err := c.svc.Auth.SignIn(w, r, name, password)
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			c.serverError(w, r, err)
			return
		}
		code := http.StatusUnauthorized
		var locked *auth.LockedError
		if errors.As(err, &locked) {
			code = http.StatusTooManyRequests
		}
		c.view(w, r, "login", "Sign in", "").Set("next", next).Set("username", name).Set("error", msg).Set("sso", c.ssoLabel()).Status(code).Render()
		return
	}
	http.Redirect(w, r, cleanPath(next, landing(u)), http.StatusSeeOther)
}
