package invoke

import (
	"net/http"
	"slices"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// corsAllowHeaders are the request headers a browser may send to an invoke
// URL: the body's type, the three ways to authenticate, and the
// invocation options.
const corsAllowHeaders = "Content-Type, X-Api-Client-Token, Authorization, Prefer, Idempotency-Key"

// originAllowed tells whether the request's Origin is on the endpoint's
// list of allowed origins ("*" allows any).
func originAllowed(api *dsl.APIEndpoint, origin string) bool {
	if origin == "" || api == nil {
		return false
	}
	origin = strings.ToLower(origin)
	return slices.ContainsFunc(api.AllowedOrigins, func(o string) bool { return o == "*" || o == origin })
}

// preflight answers a browser's CORS preflight (OPTIONS): 204 with the
// CORS headers for an origin the flow allows, else 403 without them, the
// same for an unknown alias, so the browser refuses to send the request.
// A preflight carries no credentials, so none are checked here; the
// request that follows is checked as any other.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	_, target, ok, err := h.lookup(r.Context(), r.PathValue("alias"))
	if err != nil {
		h.internal(w, "look up endpoint", err)
		return
	}
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	if !ok || !originAllowed(target.Endpoint, origin) || (method != http.MethodPost && method != http.MethodGet) {
		writeError(w, http.StatusForbidden, "origin_not_allowed",
			"This origin may not call the invoke URL from a browser; add it to the flow's allowed origins.")
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	hd.Set("Access-Control-Allow-Methods", "GET, POST")
	hd.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	hd.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// allowOrigin adds the CORS headers to the answer to an authenticated
// request from an origin the flow allows, so that the page may read it.
// Answers before authentication carry none: they must look the same for
// every alias.
func allowOrigin(w http.ResponseWriter, r *http.Request, api *dsl.APIEndpoint) {
	origin := r.Header.Get("Origin")
	if !originAllowed(api, origin) {
		return
	}
	w.Header().Add("Vary", "Origin")
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", HeaderExecutionID+", Retry-After")
}
