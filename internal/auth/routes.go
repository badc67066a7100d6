package auth

import (
	"net/http"
	"strings"
	"sync"

	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// Requirements that are not permissions of a role: no role holds them, and
// Requirement reports them for routes that are open to everyone or that
// check a credential of their own instead of a user.
const (
	// Anyone is what an open route requires: the sign-in page and API, static
	// assets, health checks and the OpenAPI document.
	Anyone Permission = "anyone"
	// OwnCredential is what a route requires that checks a credential of its
	// own (an API endpoint's client token, the metrics token) and never a
	// user's session or API token.
	OwnCredential Permission = "own-credential" //nolint:gosec // G101: the name of a permission, not a credential
)

// Guarded is a handler that says which permission a request needs before
// it runs. Every guard of this package is one, so that the route table
// itself tells a test which role may call which route; a route whose
// handler is not Guarded has forgotten its permission.
type Guarded interface {
	http.Handler
	// Requires returns the permission a request with method needs, Anyone
	// for an open route or OwnCredential for one with its own credential.
	Requires(method string) Permission
}

// Requirement returns what a request with method needs to get through h,
// looking through wrappers that expose Unwrap() http.Handler, and false
// when h declares nothing.
func Requirement(h http.Handler, method string) (Permission, bool) {
	if g, ok := within[Guarded](h); ok {
		return g.Requires(method), true
	}
	return "", false
}

// within returns the first of h and the handlers it wraps (through
// Unwrap() http.Handler) that is a T.
func within[T any](h http.Handler) (T, bool) {
	for h != nil {
		if t, ok := h.(T); ok {
			return t, true
		}
		u, ok := h.(interface{ Unwrap() http.Handler })
		if !ok {
			break
		}
		h = u.Unwrap()
	}
	var zero T
	return zero, false
}

// declared is a handler with a fixed requirement.
type declared struct {
	perm Permission
	next http.Handler
}

func (d declared) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.next.ServeHTTP(w, r) }

// Requires is the fixed requirement, whatever the method.
func (d declared) Requires(string) Permission { return d.perm }

// Open marks h as open to everyone, signed in or not. It changes nothing
// about how h serves; it records that being open is deliberate.
func Open(h http.Handler) Guarded { return declared{perm: Anyone, next: h} }

// OpenFunc is Open for a handler function.
func OpenFunc(h func(http.ResponseWriter, *http.Request)) Guarded { return Open(http.HandlerFunc(h)) }

// WithOwnCredential marks h as checking a credential of its own (a client
// token, a metrics token) rather than a user, which it must then refuse
// without.
func WithOwnCredential(h http.Handler) Guarded { return declared{perm: OwnCredential, next: h} }

// SessionOnly wraps a route that a browser session may use but an API
// token may not, refusing token callers with 403 before next runs: a
// token must not mint tokens or change its user's password, so that a
// leaked token cannot outlive its revocation or lock its owner out.
func SessionOnly(next http.Handler) http.Handler { return sessionOnly{next: next} }

type sessionOnly struct{ next http.Handler }

func (s sessionOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if MethodFrom(r.Context()) != MethodToken {
		s.next.ServeHTTP(w, r)
		return
	}
	msg := httpjson.Sentence(ErrTokenRequiresSession.Error())
	if strings.HasPrefix(r.URL.Path, "/api/") {
		httpjson.WriteError(w, http.StatusForbidden, "forbidden", msg, "")
		return
	}
	http.Error(w, msg, http.StatusForbidden)
}

func (s sessionOnly) Unwrap() http.Handler { return s.next }

// IsSessionOnly reports whether h, or a handler it wraps, is SessionOnly.
func IsSessionOnly(h http.Handler) bool {
	_, ok := within[sessionOnly](h)
	return ok
}

// Route is one pattern served and the handler registered for it.
type Route struct {
	// Pattern is the http.ServeMux pattern, "METHOD /path" for most.
	Pattern string
	Handler http.Handler
}

// RouteTable is an http.ServeMux that remembers what was registered on it,
// so that the server can list every route it serves with what each
// requires (Requirement) and a test can call them all.
type RouteTable struct {
	*http.ServeMux
	mu     sync.Mutex
	routes []Route
}

// NewRouteTable returns an empty table.
func NewRouteTable() *RouteTable { return &RouteTable{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern, as http.ServeMux.Handle does.
func (t *RouteTable) Handle(pattern string, h http.Handler) {
	t.ServeMux.Handle(pattern, h)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.routes = append(t.routes, Route{Pattern: pattern, Handler: h})
}

// HandleFunc registers h for pattern, as http.ServeMux.HandleFunc does.
func (t *RouteTable) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	t.Handle(pattern, http.HandlerFunc(h))
}

// Routes returns the routes registered so far, in order.
func (t *RouteTable) Routes() []Route {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Route(nil), t.routes...)
}
