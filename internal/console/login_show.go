package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showLoginPage serves GET /login: the sign-in form, or the user's landing
// page when they are signed in already.
func (c *Console) showLoginPage(w http.ResponseWriter, r *http.Request) {
	if u, ok := auth.UserFrom(r.Context()); ok {
		http.Redirect(w, r, cleanPath(r.URL.Query().Get("next"), landing(u)), http.StatusSeeOther)
		return
	}
	c.view(w, r, "login", "Sign in", "").Set("next", r.URL.Query().Get("next")).Render()
}
