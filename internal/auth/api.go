package auth

import (
	"github.com/vigil-ispm/vigil/internal/httpjson"

	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// maxAPIBody bounds the JSON bodies of these endpoints, which are all small.
const maxAPIBody = 64 << 10

// Mux is where Register adds its routes: the server's *http.ServeMux, or
// a recorder in tests that check every registered route is documented.
type Mux interface {
	Handle(pattern string, handler http.Handler)
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Register adds the JSON API of accounts to mux:
//
//	POST   /api/v1/session      sign in {name, password}: sets the session cookie, returns the user
//	DELETE /api/v1/session      sign out
//	GET    /api/v1/me           the signed-in user and their permissions
//	PUT    /api/v1/me/password  change own password {currentPassword, newPassword} (session only)
//	GET    /api/v1/users        list users                      (users:manage)
//	POST   /api/v1/users        create {name, role, password?}  (users:manage)
//	PATCH  /api/v1/users/{id}   change {role?, disabled?, password?} (users:manage)
//	GET    /api/v1/tokens       own API tokens; ?user=ID|NAME or ?all=true with users:manage
//	POST   /api/v1/tokens       create {name, expiresInDays?, user?}: the token is shown once
//	DELETE /api/v1/tokens/{id}  revoke an own token (any token with users:manage)
//
// With single sign-on enabled (EnableOIDC, called first) it also adds
//
//	GET    /auth/oidc/login     send the browser to the identity provider
//	GET    /auth/oidc/callback  come back from it signed in
//
// Each route resolves the caller itself when the server has not wrapped mux
// in Authenticate. Errors are {"error": {"code", "message", "field"}}.
func (s *Service) Register(mux Mux) {
	handler := func(perm Permission, fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r); err != nil {
				s.writeAPIError(w, r, err)
			}
		})
		if perm == Anyone {
			return Open(h)
		}
		return RequireAPI(perm, h)
	}
	handle := func(pattern string, perm Permission, fn func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, s.ensure(handler(perm, fn)))
	}
	// A token may not change its user's password or mint tokens.
	sessionOnly := func(pattern string, perm Permission, fn func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, s.ensure(SessionOnly(handler(perm, fn))))
	}
	handle("POST /api/v1/session", Anyone, s.apiSignIn)
	handle("DELETE /api/v1/session", Anyone, s.apiSignOut)
	handle("GET /api/v1/me", PermSelf, s.apiMe)
	sessionOnly("PUT /api/v1/me/password", PermSelf, s.apiChangePassword)
	handle("GET /api/v1/users", PermManageUsers, s.apiUsers)
	handle("POST /api/v1/users", PermManageUsers, s.apiCreateUser)
	handle("PATCH /api/v1/users/{id}", PermManageUsers, s.apiUpdateUser)
	handle("GET /api/v1/tokens", PermSelf, s.apiTokens)
	sessionOnly("POST /api/v1/tokens", PermSelf, s.apiCreateToken)
	handle("DELETE /api/v1/tokens/{id}", PermSelf, s.apiRevokeToken)
	if s.oidc.Load() != nil {
		mux.Handle("GET "+OIDCLoginPath, OpenFunc(s.oidcLogin))
		mux.Handle("GET "+OIDCCallbackPath, OpenFunc(s.oidcCallback))
	}
}

// Me is the answer of GET /api/v1/me and of signing in: the user, what
// they may do (so the console can hide the rest), and how they signed in.
type Me struct {
	User
	Permissions []Permission `json:"permissions"`
	Method      Method       `json:"method,omitempty"`
}

func (s *Service) writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *InvalidError
	var conflict *ConflictError
	var locked *LockedError
	switch {
	case errors.As(err, &inv):
		httpjson.WriteError(w, http.StatusBadRequest, "invalid", inv.Message, inv.Field)
	case errors.As(err, &conflict):
		httpjson.WriteError(w, http.StatusConflict, "conflict", conflict.Message, "name")
	case errors.As(err, &locked):
		secs := int(math.Ceil(locked.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		httpjson.WriteError(w, http.StatusTooManyRequests, "too_many_attempts",
			fmt.Sprintf("Too many failed sign-ins; try again in %d seconds.", secs), "")
	case errors.Is(err, ErrInvalidCredentials):
		httpjson.WriteError(w, http.StatusUnauthorized, "invalid_credentials", "The user name or password is not correct.", "")
	case errors.Is(err, ErrTokenRequiresSession):
		httpjson.WriteError(w, http.StatusForbidden, "forbidden", httpjson.Sentence(err.Error()), "")
	case errors.Is(err, ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, "not_found", "There is no such user or token.", "")
	default:
		s.log.Error("accounts API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		httpjson.WriteError(w, http.StatusInternalServerError, "internal", "The request failed on the server; the log has the details.", "")
	}
}

// decode reads a JSON body into v, refusing unknown fields and big bodies.
// Its messages never quote the body, which may hold a password.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	err := httpjson.Decode(w, r, v, maxAPIBody)
	var be *httpjson.BodyError
	switch {
	case errors.Is(err, httpjson.ErrEmpty):
		return invalid("body", "The request body is empty; send a JSON object.")
	case errors.As(err, &be):
		return invalid("body", be.Message)
	}
	return err
}

func me(u *User, m Method) Me { return Me{User: *u, Permissions: u.Role.Permissions(), Method: m} }

func (s *Service) apiSignIn(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Name == "" || in.Password == "" {
		return invalid("name", "Give both a user name and a password.")
	}
	u, err := s.SignIn(w, r, in.Name, in.Password)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, me(u, MethodSession))
	return nil
}

func (s *Service) apiSignOut(w http.ResponseWriter, r *http.Request) error {
	if err := s.SignOut(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) apiMe(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	httpjson.Write(w, http.StatusOK, me(u, MethodFrom(r.Context())))
	return nil
}

func (s *Service) apiChangePassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, _ := UserFrom(r.Context())
	if err := s.ChangePassword(r.Context(), u.ID, in.CurrentPassword, in.NewPassword, s.cfg.ClientIP(r)); err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			return invalid("currentPassword", "The current password is not correct.")
		}
		return err
	}
	// Every session of the user ended with the change; keep this one signed in.
	token, end, err := s.StartSession(r.Context(), u)
	if err != nil {
		return err
	}
	s.SetSessionCookie(w, r, token, end)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) apiUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.Users(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"users": users})
	return nil
}

func (s *Service) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name     string `json:"name"`
		Role     Role   `json:"role"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	generated := ""
	if in.Password == "" {
		generated = GeneratePassword()
		in.Password = generated
	}
	u, err := s.CreateUser(r.Context(), in.Name, in.Role, in.Password)
	if err != nil {
		return err
	}
	out := map[string]any{"user": u}
	if generated != "" {
		out["password"] = generated // shown once, to pass on to the user
	}
	httpjson.Write(w, http.StatusCreated, out)
	return nil
}

// userByRef finds a user by id or, failing that, by name.
func (s *Service) userByRef(r *http.Request, ref string) (*User, error) {
	u, err := s.User(r.Context(), ref)
	if errors.Is(err, ErrNotFound) {
		return s.UserByName(r.Context(), ref)
	}
	return u, err
}

func (s *Service) apiUpdateUser(w http.ResponseWriter, r *http.Request) error {
	target, err := s.userByRef(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	var up UserUpdate
	if err := decode(w, r, &up); err != nil {
		return err
	}
	u, err := s.UpdateUser(r.Context(), target.ID, up)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

func (s *Service) apiTokens(w http.ResponseWriter, r *http.Request) error {
	caller, _ := UserFrom(r.Context())
	userID := caller.ID
	q := r.URL.Query()
	if q.Get("all") == "true" || q.Get("user") != "" {
		if !caller.Can(PermManageUsers) {
			httpjson.WriteError(w, http.StatusForbidden, "forbidden", "Listing other users' tokens needs the users:manage permission.", "")
			return nil
		}
		userID = ""
		if ref := q.Get("user"); ref != "" {
			u, err := s.userByRef(r, ref)
			if err != nil {
				return err
			}
			userID = u.ID
		}
	}
	tokens, err := s.Tokens(r.Context(), userID)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"tokens": tokens})
	return nil
}

func (s *Service) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name          string `json:"name"`
		ExpiresInDays int    `json:"expiresInDays"`
		User          string `json:"user"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	caller, _ := UserFrom(r.Context())
	owner := caller
	if in.User != "" {
		u, err := s.userByRef(r, in.User)
		if err != nil {
			return err
		}
		if u.ID != caller.ID && !caller.Can(PermManageUsers) {
			httpjson.WriteError(w, http.StatusForbidden, "forbidden", "Creating tokens for other users needs the users:manage permission.", "")
			return nil
		}
		owner = u
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > 3650 {
		return invalid("expiresInDays", "expiresInDays must be between 0 (never expires) and 3650.")
	}
	t, raw, err := s.CreateToken(r.Context(), owner.ID, in.Name, time.Duration(in.ExpiresInDays)*24*time.Hour)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusCreated, map[string]any{"apiToken": t, "token": raw})
	return nil
}

func (s *Service) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	caller, _ := UserFrom(r.Context())
	t, err := s.Token(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if t.UserID != caller.ID && !caller.Can(PermManageUsers) {
		// Someone else's token: answer as if it did not exist.
		return fmt.Errorf("token of another user: %w", ErrNotFound)
	}
	if err := s.RevokeToken(r.Context(), t.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
