package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/vigil-ispm/vigil/internal/auth"
)

//go:embed templates
var templateFS embed.FS

// viewNames lists every page the handlers render. New fails if one of them
// has no file, so a missing view is found at start-up, not by a user.
var viewNames = []string{
	"login", "error",
	"dashboard", "issue_list", "issue_show",
	"source_list", "source_form", "scan_show",
	"integration_list", "integration_form", "integration_show", "delivery_show",
	"template_list", "flow_list", "flow_new", "flow_show", "flow_builder",
	"execution_list", "execution_show", "approval_list",
	"connection_list", "connection_form",
	"table_list", "table_show",
	"user_list", "token_list", "settings_show", "audit_list",
	"alert_list",
	"identity_list", "identity_show",
	"password_form",
}

// parseViews parses the layout and partials once, then each view on a clone
// of them.
func parseViews() (map[string]*template.Template, error) {
	base := template.New("").Funcs(funcs())
	common, err := fs.Glob(templateFS, "templates/common/*.html")
	if err != nil {
		return nil, err
	}
	if _, err := base.ParseFS(templateFS, common...); err != nil {
		return nil, fmt.Errorf("console: parse the layout: %w", err)
	}
	views := make(map[string]*template.Template, len(viewNames))
	for _, name := range viewNames {
		file := "templates/views/" + name + ".html"
		if _, err := fs.Stat(templateFS, file); err != nil {
			return nil, fmt.Errorf("console: the view %q is missing: %w", name, err)
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, file)
		if err != nil {
			return nil, fmt.Errorf("console: parse the view %q: %w", name, err)
		}
		views[name] = t
	}
	return views, nil
}

// view is one page being prepared: the template's data, pre-filled with the
// signed-in user, their permissions and the flash message.
type view struct {
	c      *Console
	w      http.ResponseWriter
	r      *http.Request
	name   string
	status int
	data   map[string]any
}

// view starts a page. section is the top-level area ("ispm", "workflows",
// "admin") the header highlights.
func (c *Console) view(w http.ResponseWriter, r *http.Request, name, title, section string) *view {
	u, _ := auth.UserFrom(r.Context())
	v := &view{c: c, w: w, r: r, name: name, status: http.StatusOK, data: map[string]any{
		"title":   title,
		"section": section,
		"tab":     "",
		"user":    u,
		"path":    r.URL.Path,
		"flash":   takeFlash(w, r),
		"now":     c.cfg.Now(),
	}}
	if c.svc.Approvals != nil && u.Can(auth.PermDecideApprovals) {
		// The header's count; a failure to count leaves it out rather
		// than failing the page.
		if n, err := c.svc.Approvals.PendingApprovals(r.Context()); err == nil {
			v.data["pendingApprovals"] = &pendingCount{N: n}
		} else {
			c.log.Warn("cannot count pending approval requests", "error", err)
		}
	}
	return v
}

// pendingCount is the header's count of approval requests waiting for a
// decision; the header shows the Approvals link whenever it is set.
type pendingCount struct{ N int }

// Set adds a value for the template.
func (v *view) Set(key string, value any) *view {
	v.data[key] = value
	return v
}

// Status sets the HTTP status of the page (200 by default).
func (v *view) Status(code int) *view {
	v.status = code
	return v
}

// Render writes the page. It renders into a buffer first, so that a
// template error becomes a clean 500 rather than half a page.
func (v *view) Render() {
	t, ok := v.c.views[v.name]
	if !ok {
		v.c.serverError(v.w, v.r, fmt.Errorf("no view named %q", v.name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v.data); err != nil {
		v.c.serverError(v.w, v.r, fmt.Errorf("render %s: %w", v.name, err))
		return
	}
	h := v.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	v.w.WriteHeader(v.status)
	_, _ = v.w.Write(buf.Bytes())
}

// can reports whether the request's user has perm.
func can(r *http.Request, perm auth.Permission) bool {
	u, ok := auth.UserFrom(r.Context())
	return ok && u.Can(perm)
}

// userName is the signed-in user's name, recorded as who made a change.
func userName(r *http.Request) string {
	if u, ok := auth.UserFrom(r.Context()); ok {
		return u.Name
	}
	return ""
}

// queryWith returns the current query with key set to value ("" removes
// it), for filter links and pagers.
func queryWith(r *http.Request, pairs ...string) string {
	q := r.URL.Query()
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			q.Del(pairs[i])
		} else {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	s := q.Encode()
	if s == "" {
		return r.URL.Path
	}
	return r.URL.Path + "?" + s
}

// cleanPath keeps a redirect target on this site: a local absolute path
// (with its query), or fallback. The target is judged after it is cleaned
// and unescaped, and refused if it holds a backslash or a control
// character anywhere: browsers read "\" as "/" and drop tabs and newlines,
// so "/ispm/../\evil.example", which cleans to "/\evil.example", or
// "/\t/evil.example" would take the user off-site.
func cleanPath(p, fallback string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || !safeTarget(p) {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !safeTarget(u.Path) {
		return fallback
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") {
		return fallback
	}
	return (&url.URL{Path: clean, RawQuery: u.RawQuery}).String()
}

// safeTarget reports whether s holds neither a backslash nor a control
// character, escaped or not.
func safeTarget(s string) bool {
	if un, err := url.PathUnescape(s); err == nil && un != s && !safeTarget(un) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f || unicode.IsControl(r) })
}

// sectionOf maps a permission set to the landing page of a user.
func landing(u *auth.User) string {
	switch {
	case u == nil:
		return "/login"
	case u.Can(auth.PermViewDashboard):
		return "/ispm"
	case u.Can(auth.PermViewFlows):
		return "/workflows/flows"
	default:
		return "/admin/tokens"
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
