package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showPasswordForm serves GET /admin/password: the signed-in user's
// Change password form.
func (c *Console) showPasswordForm(w http.ResponseWriter, r *http.Request) {
	c.view(w, r, "password_form", "Change your password", "admin").Set("tab", "password").Render()
}

// changePassword serves POST /admin/password: the current password, then
// the new one twice. Every other session of the user ends; this browser
// stays signed in.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request) {
	const back = "/admin/password"
	if c.svc.Users == nil {
		c.unavailable(w, r, "Users")
		return
	}
	if !c.readForm(w, r, back) {
		return
	}
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("confirm_password") {
		c.redirect(w, r, back, flashError, "The new password and its confirmation differ; type the same password twice.")
		return
	}
	if err := c.svc.Users.ChangeOwnPassword(w, r, r.PostFormValue("current_password"), next); err != nil {
		if msg, ok := userMessage(err); ok {
			c.redirect(w, r, back, flashError, "The password was not changed: "+msg)
			return
		}
		c.serverError(w, r, err)
		return
	}
	u, _ := auth.UserFrom(r.Context())
	c.redirect(w, r, landing(u), flashOK, "Your password is changed; your other sessions are signed out.")
}

// resetPassword serves POST /admin/users/{id}/password: a super admin
// gives a user a new generated password, shown once, and ends the user's
// sessions.
func (c *Console) resetPassword(w http.ResponseWriter, r *http.Request) {
	if c.svc.Users == nil {
		c.unavailable(w, r, "Users")
		return
	}
	password := auth.GeneratePassword()
	u, err := c.svc.Users.UpdateUser(r.Context(), r.PathValue("id"), auth.UserUpdate{Password: &password})
	if err != nil {
		c.fail(w, r, err, "/admin/users")
		return
	}
	// Shown once, on the page this redirects to, as for a new user.
	c.redirectRevealing(w, r, "/admin/users", "The password of "+u.Name+" is reset.",
		revealed{Kind: revealReset, Name: u.Name, Value: password})
}
