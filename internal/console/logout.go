package console

import "net/http"

// logout serves POST /logout: it ends the session and shows the sign-in
// page.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if err := c.svc.Auth.SignOut(w, r); err != nil {
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/login", flashOK, "You are signed out.")
}
