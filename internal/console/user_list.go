package console

import (
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// roleInfo describes a role on the users page.
type roleInfo struct {
	Role        auth.Role
	Permissions []auth.Permission
}

// showUserList serves GET /admin/users: every user with their role, and
// the permissions of each role.
func (c *Console) showUserList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Users == nil {
		c.unavailable(w, r, "Users")
		return
	}
	var note usersNote
	if rv, ok := c.takeReveal(w, r); ok {
		switch rv.Kind {
		case revealCreated:
			note = usersNote{Created: rv.Name, Password: rv.Value}
		case revealReset:
			note = usersNote{Reset: rv.Name, Password: rv.Value}
		}
	}
	c.renderUsers(w, r, note, http.StatusOK)
}

// usersNote is what the users page says after a POST it answers itself.
type usersNote struct {
	Error string
	// Created and Password announce a user made with a generated
	// password, which is shown in this response only.
	Created  string
	Password string
	// Reset names the user whose password was reset to Password.
	Reset string
}

func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, note usersNote, status int) {
	users, err := c.svc.Users.Users(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	var roles []roleInfo
	for _, ro := range auth.Roles() {
		roles = append(roles, roleInfo{Role: ro, Permissions: ro.Permissions()})
	}
	me, _ := auth.UserFrom(r.Context())
	c.view(w, r, "user_list", "Users and roles", "admin").Set("tab", "users").
		Set("users", users).Set("roles", roles).Set("me", me).
		Set("note", note).Status(status).Render()
}

// createUser serves POST /admin/users: a new user with a role and a
// password typed by the admin, or generated and shown once.
func (c *Console) createUser(w http.ResponseWriter, r *http.Request) {
	if c.svc.Users == nil {
		c.unavailable(w, r, "Users")
		return
	}
	if !c.readForm(w, r, "/admin/users") {
		return
	}
	role, err := auth.ParseRole(r.PostFormValue("role"))
	if err != nil {
		c.renderUsers(w, r, usersNote{Error: httpjson.Sentence(err.Error())}, http.StatusUnprocessableEntity)
		return
	}
	password, generated := r.PostFormValue("password"), false
	if password == "" {
		password, generated = auth.GeneratePassword(), true
	}
	u, err := c.svc.Users.CreateUser(r.Context(), strings.TrimSpace(r.PostFormValue("name")), role, password)
	if err != nil {
		if msg, ok := userMessage(err); ok {
			c.renderUsers(w, r, usersNote{Error: msg}, http.StatusUnprocessableEntity)
			return
		}
		c.serverError(w, r, err)
		return
	}
	if generated {
		// Shown once, on the page this redirects to.
		c.redirectRevealing(w, r, "/admin/users", "The user "+u.Name+" is created as "+string(u.Role)+".",
			revealed{Kind: revealCreated, Name: u.Name, Value: password})
		return
	}
	c.redirect(w, r, "/admin/users", flashOK, "The user "+u.Name+" is created as "+string(u.Role)+".")
}

// updateUser serves POST /admin/users/{id}: change the role, disable or
// enable the account.
func (c *Console) updateUser(w http.ResponseWriter, r *http.Request) {
	if c.svc.Users == nil {
		c.unavailable(w, r, "Users")
		return
	}
	if !c.readForm(w, r, "/admin/users") {
		return
	}
	var up auth.UserUpdate
	if s := r.PostFormValue("role"); s != "" {
		role, err := auth.ParseRole(s)
		if err != nil {
			c.redirect(w, r, "/admin/users", flashError, httpjson.Sentence(err.Error()))
			return
		}
		up.Role = &role
	}
	switch r.PostFormValue("state") {
	case "disable":
		t := true
		up.Disabled = &t
	case "enable":
		f := false
		up.Disabled = &f
	}
	u, err := c.svc.Users.UpdateUser(r.Context(), r.PathValue("id"), up)
	if err != nil {
		c.fail(w, r, err, "/admin/users")
		return
	}
	state := "enabled"
	if u.Disabled {
		state = "disabled"
	}
	c.redirect(w, r, "/admin/users", flashOK, "The user "+u.Name+" is "+string(u.Role)+" and "+state+".")
}
