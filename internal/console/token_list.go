package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showTokenList serves GET /admin/tokens: the user's API tokens (every
// user's for those who manage users).
func (c *Console) showTokenList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Users == nil {
		c.unavailable(w, r, "API tokens")
		return
	}
	newToken := ""
	if rv, ok := c.takeReveal(w, r); ok && rv.Kind == revealToken {
		newToken = rv.Value
	}
	c.renderTokens(w, r, "", newToken, http.StatusOK)
}

func (c *Console) renderTokens(w http.ResponseWriter, r *http.Request, formErr, newToken string, status int) {
	u, _ := auth.UserFrom(r.Context())
	all := u.Can(auth.PermManageUsers)
	owner := u.ID
	if all {
		owner = ""
	}
	list, err := c.svc.Users.Tokens(r.Context(), owner)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.view(w, r, "token_list", "API tokens", "admin").Set("tab", "tokens").
		Set("tokens", list).Set("all", all).Set("formError", formErr).Set("newToken", newToken).Status(status).Render()
}

// createToken serves POST /admin/tokens: a token for the signed-in user,
// shown once in the answer.
func (c *Console) createToken(w http.ResponseWriter, r *http.Request) {
	if c.svc.Users == nil {
		c.unavailable(w, r, "API tokens")
		return
	}
	if !c.readForm(w, r, "/admin/tokens") {
		return
	}
	u, _ := auth.UserFrom(r.Context())
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	if days < 0 || days > 3650 {
		days = 0
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		c.renderTokens(w, r, "Say what the token is for, so that you know which to revoke later.", "", http.StatusUnprocessableEntity)
		return
	}
	_, raw, err := c.svc.Users.CreateToken(r.Context(), u.ID, name, time.Duration(days)*24*time.Hour)
	if err != nil {
		if msg, ok := userMessage(err); ok {
			c.renderTokens(w, r, msg, "", http.StatusUnprocessableEntity)
			return
		}
		c.serverError(w, r, err)
		return
	}
	c.redirectRevealing(w, r, "/admin/tokens", "The token "+name+" is created.", revealed{Kind: revealToken, Name: name, Value: raw})
}

// revokeToken serves POST /admin/tokens/{id}/revoke: a user revokes their
// own tokens; those who manage users revoke anyone's.
func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) {
	if c.svc.Users == nil {
		c.unavailable(w, r, "API tokens")
		return
	}
	ctx := r.Context()
	u, _ := auth.UserFrom(ctx)
	t, err := c.svc.Users.Token(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err, "/admin/tokens")
		return
	}
	if t.UserID != u.ID && !u.Can(auth.PermManageUsers) {
		c.notFound(w, r) // do not tell that another user's token exists
		return
	}
	if err := c.svc.Users.RevokeToken(ctx, t.ID); err != nil {
		c.fail(w, r, err, "/admin/tokens")
		return
	}
	c.redirect(w, r, "/admin/tokens", flashOK, "The token "+t.Name+" is revoked.")
}
