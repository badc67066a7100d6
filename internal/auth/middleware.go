package auth

import (
	"github.com/vigil-ispm/vigil/internal/httpjson"

	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-ispm/vigil/internal/audit"
)

// Method says how a request proved who it is.
type Method string

// The ways a request can be signed in.
const (
	// MethodSession is a browser session cookie.
	MethodSession Method = "session"
	// MethodToken is an API token in "Authorization: Bearer".
	MethodToken Method = "token"
)

// LoginPath is where RequirePage sends visitors who are not signed in.
const LoginPath = "/login"

// principal is what Authenticate learned about a request.
type principal struct {
	user    *User
	method  Method
	tokenID string
	// tokenName names the API token for the audit log.
	tokenName string
	// refused is why presented credentials were not accepted (a bad token);
	// nil when none were presented or they were accepted.
	refused error
	// failed is a storage error that kept the credentials from being checked.
	failed error
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalFrom(ctx context.Context) (*principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*principal)
	return p, ok
}

// UserFrom returns the signed-in user of a request's context, put there by
// Authenticate, and false when the request is anonymous.
func UserFrom(ctx context.Context) (*User, bool) {
	p, ok := principalFrom(ctx)
	if !ok || p.user == nil {
		return nil, false
	}
	return p.user, true
}

// MethodFrom says how the request's user signed in ("" when anonymous).
func MethodFrom(ctx context.Context) Method {
	if p, ok := principalFrom(ctx); ok && p.user != nil {
		return p.method
	}
	return ""
}

// TokenIDFrom returns the id of the API token a request used, or "".
func TokenIDFrom(ctx context.Context) string {
	if p, ok := principalFrom(ctx); ok {
		return p.tokenID
	}
	return ""
}

// WithUser returns ctx signed in as u by method. Other ways of proving
// identity (single sign-on, tests of handlers behind Require) use it to
// hand a user to the same permission checks.
func WithUser(ctx context.Context, u *User, method Method) context.Context {
	p := &principal{user: u, method: method}
	return audit.WithActor(withPrincipal(ctx, p), p.actor(audit.ActorFrom(ctx).Address))
}

// Authenticate resolves the caller of each request, from an
// "Authorization: Bearer" API token if the header is present, otherwise from
// the session cookie, and puts the user in the request context (UserFrom).
// It never refuses a request itself: Require does, so that public pages
// behind it keep working for anonymous visitors.
//
// A request already authenticated by an outer Authenticate is passed on
// as it is, so that a handler which wraps itself (the console) costs no
// second lookup when the server wraps everything.
func (s *Service) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := principalFrom(r.Context()); ok {
			next.ServeHTTP(w, r)
			return
		}
		p := s.resolve(r)
		ctx := withPrincipal(r.Context(), p)
		ctx = audit.WithActor(ctx, p.actor(s.cfg.ClientIP(r)))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ensure runs Authenticate unless an outer handler already has, so that the
// package's own routes work whether or not the server wraps its mux.
func (s *Service) ensure(next http.Handler) http.Handler {
	return ensured{next: next, auth: s.Authenticate(next)}
}

// ensured is what ensure returns; Unwrap lets Requirement see the guard
// inside.
type ensured struct{ next, auth http.Handler }

func (e ensured) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, ok := principalFrom(r.Context()); ok {
		e.next.ServeHTTP(w, r)
		return
	}
	e.auth.ServeHTTP(w, r)
}

func (e ensured) Unwrap() http.Handler { return e.next }

// actor is p as the audit log names it, from address.
func (p *principal) actor(address string) audit.Actor {
	if p.user == nil {
		return audit.Actor{Kind: audit.ActorAnonymous, Address: address}
	}
	a := audit.Actor{Kind: audit.ActorUser, ID: p.user.ID, Name: p.user.Name, Address: address}
	if p.method == MethodToken {
		a.Kind, a.Token = audit.ActorToken, p.tokenName
	}
	return a
}

func (s *Service) resolve(r *http.Request) *principal {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, raw, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return &principal{refused: ErrMalformedToken}
		}
		u, t, err := s.TokenUser(ctx, strings.TrimSpace(raw))
		switch {
		case errors.Is(err, ErrMalformedToken), errors.Is(err, ErrUnknownToken), errors.Is(err, ErrExpiredToken):
			return &principal{refused: err}
		case err != nil:
			s.log.Error("cannot check an API token", "error", err)
			return &principal{failed: err}
		}
		return &principal{user: u, method: MethodToken, tokenID: t.ID, tokenName: t.Name}
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return &principal{}
	}
	u, err := s.SessionUser(ctx, c.Value)
	switch {
	case errors.Is(err, errNoSession):
		return &principal{}
	case err != nil:
		s.log.Error("cannot check a session", "error", err)
		return &principal{failed: err}
	}
	return &principal{user: u, method: MethodSession}
}

// Require lets a request through only if its user has perm. Refusals are
// answered as JSON for paths under /api/ (RequireAPI) and as a redirect to
// the sign-in page or a plain 403 otherwise (RequirePage).
func Require(perm Permission, next http.Handler) http.Handler {
	api, page := RequireAPI(perm, next), RequirePage(perm, next)
	return required(perm, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(w, r)
		} else {
			page.ServeHTTP(w, r)
		}
	})
}

// guard is the handler every Require… function returns: it serves with
// its check and declares its permission (Guarded).
type guard struct {
	perm  Permission
	serve http.HandlerFunc
}

func required(perm Permission, serve http.HandlerFunc) guard { return guard{perm: perm, serve: serve} }

func (g guard) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.serve(w, r) }

// Requires is the one permission the handler was wrapped with, whatever the method.
func (g guard) Requires(string) Permission { return g.perm }

// methodGuard is what GuardMethods wraps a handler in.
type methodGuard struct {
	read, write Permission
	r, w        http.Handler
}

func (g methodGuard) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if isRead(req.Method) {
		g.r.ServeHTTP(rw, req)
	} else {
		g.w.ServeHTTP(rw, req)
	}
}

// Requires is the read permission for GET, HEAD and OPTIONS, the write one otherwise.
func (g methodGuard) Requires(method string) Permission {
	if isRead(method) {
		return g.read
	}
	return g.write
}

func isRead(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// Guard returns Require for perm as a wrapper, the form that packages
// registering their own routes (hooks.RegisterAPI) take.
func Guard(perm Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return Require(perm, next) }
}

// GuardMethods is Guard with one permission for reading (GET, HEAD,
// OPTIONS) and another for every other method, for a package that
// registers all of its routes behind one wrapper but whose views are open
// to more roles than its changes (hooks: hooks:view and hooks:manage).
func GuardMethods(read, write Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return methodGuard{read: read, write: write, r: Require(read, next), w: Require(write, next)}
	}
}

// RequireAPI lets a request through only if its user has perm, answering
// 401 {"error":{"code":"unauthorized",…}} when nobody is signed in (or the
// token is bad), 403 {"error":{"code":"forbidden",…}} when the role lacks
// perm, and 503 when the credentials could not be checked.
func RequireAPI(perm Permission, next http.Handler) http.Handler {
	return required(perm, func(w http.ResponseWriter, r *http.Request) {
		p, _ := principalFrom(r.Context())
		switch {
		case p != nil && p.failed != nil:
			httpjson.WriteError(w, http.StatusServiceUnavailable, "unavailable", "Your credentials could not be checked right now; try again shortly.", "")
		case p == nil || p.user == nil:
			msg, challenge := "Sign in or send an API token as \"Authorization: Bearer\".", `Bearer realm="vigil"`
			if p != nil && p.refused != nil {
				msg, challenge = httpjson.Sentence(p.refused.Error()), `Bearer realm="vigil", error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			httpjson.WriteError(w, http.StatusUnauthorized, "unauthorized", msg, "")
		case !p.user.Can(perm):
			httpjson.WriteError(w, http.StatusForbidden, "forbidden",
				"Your role ("+string(p.user.Role)+") does not have the "+string(perm)+" permission.", "")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// RequirePage is RequireAPI for console pages: a visitor who is not signed
// in is sent to LoginPath?next=<this page>, and one whose role lacks perm
// gets a plain 403 page.
func RequirePage(perm Permission, next http.Handler) http.Handler {
	return required(perm, func(w http.ResponseWriter, r *http.Request) {
		p, _ := principalFrom(r.Context())
		switch {
		case p != nil && p.failed != nil:
			http.Error(w, "Your sign-in could not be checked right now; try again shortly.", http.StatusServiceUnavailable)
		case p == nil || p.user == nil:
			http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		case !p.user.Can(perm):
			http.Error(w, "Your role ("+string(p.user.Role)+") cannot open this page.", http.StatusForbidden)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
