package console

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/store"
)

// ErrNotFound is what a service adapter returns (wrapped) for a thing that
// does not exist; the console answers 404.
var ErrNotFound = errors.New("not found")

// InputError is a service's refusal of what a user typed. Its message is
// one sentence for that user; Field names the input at fault, if one is.
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Message }

// isNotFound reports whether err says a thing does not exist, whichever
// service said it.
func isNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, store.ErrNotFound) || errors.Is(err, issue.ErrNotFound) ||
		errors.Is(err, hooks.ErrNotFound) || errors.Is(err, auth.ErrNotFound)
}

// userMessage returns the sentence to show for an error a user can fix, and
// false for any other error (which is logged and shown as a server error).
func userMessage(err error) (string, bool) {
	var (
		ie  *InputError
		ii  *input.InvalidError
		ic  *input.ConflictError
		al  *auth.LockedError
		te  *issue.TransitionError
		ve  *dsl.ValidationError
		msg string
	)
	switch {
	case errors.As(err, &ie):
		msg = ie.Message
	case errors.As(err, &ii):
		msg = ii.Message
	case errors.As(err, &ic):
		msg = ic.Message
	case errors.As(err, &al):
		msg = al.Error()
	case errors.As(err, &te):
		msg = te.Error()
	case errors.As(err, &ve):
		msg = ve.Error()
	case errors.Is(err, auth.ErrInvalidCredentials):
		msg = err.Error()
	case errors.Is(err, auth.ErrTokenRequiresSession):
		msg = err.Error()
	default:
		return "", false
	}
	return httpjson.Sentence(msg), true
}

// serverError logs err and shows a page that says something failed without
// saying what (the log has the details).
func (c *Console) serverError(w http.ResponseWriter, r *http.Request, err error) {
	c.log.Error("console request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	c.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on the server; the error is in the server log. Try again, and tell your administrator if it persists.")
}

// fail answers err: 404 for a missing thing, the error's sentence for one
// the user can fix (bounced back to back with a flash), a server error
// otherwise.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error, back string) {
	if isNotFound(err) {
		c.notFound(w, r)
		return
	}
	if msg, ok := userMessage(err); ok {
		c.redirect(w, r, back, flashError, msg)
		return
	}
	c.serverError(w, r, err)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.errorPage(w, r, http.StatusNotFound, "This page does not exist, or what it showed was removed.")
}

func (c *Console) forbidden(w http.ResponseWriter, r *http.Request) {
	role := ""
	if u, ok := auth.UserFrom(r.Context()); ok {
		role = string(u.Role)
	}
	c.errorPage(w, r, http.StatusForbidden, "Your role ("+role+") cannot open this page or do this; ask a super admin if you need to.")
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	t, ok := c.views["error"]
	if !ok {
		http.Error(w, msg, code)
		return
	}
	u, _ := auth.UserFrom(r.Context())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = t.ExecuteTemplate(w, "layout", map[string]any{"title": http.StatusText(code), "section": "", "tab": "", "user": u, "status": code, "message": msg, "path": r.URL.Path})
}

// redirect answers a POST with 303 See Other to target, carrying a flash
// message for the next page.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, target, kind, msg string) {
	if msg != "" {
		c.setFlash(w, r, kind, msg)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// Flash kinds.
const (
	flashOK    = "ok"
	flashError = "error"
)

const flashCookie = "vigil_flash"

// flash is a one-time message shown on the next page. It never holds a
// secret: secrets shown once are rendered in the response that made them.
type flash struct {
	Kind    string `json:"k"`
	Message string `json:"m"`
}

func (c *Console) setFlash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	b, _ := json.Marshal(flash{Kind: kind, Message: msg})
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/", //nolint:gosec // G124: HttpOnly, SameSite, Secure as secureCookie says; it holds only the message
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.secureCookie(r), MaxAge: 60})
}

// secureCookie says whether the console's cookies are marked Secure, by
// the rule the session cookie follows.
func (c *Console) secureCookie(r *http.Request) bool {
	return auth.SecureCookie(r, c.publicURL(r))
}

// takeFlash reads the flash message of the request and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode}) //nolint:gosec // G124: it deletes the cookie and carries nothing
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(b, &f) != nil || f.Message == "" {
		return nil
	}
	if f.Kind != flashOK {
		f.Kind = flashError
	}
	return &f
}
