// Package invoke serves the API Endpoint trigger: POST or GET
// /api/flo/{alias}/invoke starts a flow, the way Okta Workflows' API Endpoint
// card does, so that a caller configured for Okta Workflows (Okta ISPM's
// event hook, a script) can point at Vigil by changing only the host.
//
// Order of checks, each answering before anything runs: method (405),
// alias and credentials (401, one answer for an unknown alias and for a
// missing or wrong token, checked before the body is read), body size
// (413), webhook signature (401), flow on (409), JSON body (415), rate
// limit (429), backlog (503). An execution row exists only once every check
// passed.
package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/store"
)

// HeaderExecutionID carries the execution id on every response that started
// (or found) an execution.
const HeaderExecutionID = "X-Vigil-Execution-Id"

// Target is what the handler needs to know of a flow.
type Target struct {
	FlowID   string
	Title    string
	On       bool
	Endpoint *dsl.APIEndpoint
}

// StartParams describes an execution to start.
type StartParams struct {
	FlowID      string
	ExecutionID string
	Input       map[string]any
	// Test marks executions caused by a hook's Test Connection (header
	// X-Vigil-Test: true), so that history can tell them apart.
	Test bool
	// InTx runs inside the transaction that stores the execution; the
	// handler uses it to record the idempotency key atomically.
	InTx func(ctx context.Context, tx *store.Tx) error
	// Wait says that the caller calls Wait for this execution next, so
	// that its end can be handed over in-process instead of read back.
	Wait bool
}

// Outcome is an execution's state as seen by a waiting caller.
type Outcome struct {
	Done   bool
	Status string // succeeded, faulted, cancelled, …
	Output any
	Error  any // the RFC 7807 error object of a fault
}

// Flows is what the handler needs from the flows service.
type Flows interface {
	// InvokeTarget returns the flow behind an endpoint, or store.ErrNotFound.
	InvokeTarget(ctx context.Context, flowID string) (Target, error)
	// Start durably stores an execution and its job in one transaction.
	Start(ctx context.Context, p StartParams) error
	// Wait blocks until the execution ends or ctx is done; on ctx's end it
	// returns the outcome so far with Done false.
	Wait(ctx context.Context, executionID string) (Outcome, error)
	// Backlog counts the flow's executions not yet finished.
	Backlog(ctx context.Context, flowID string) (int, error)
}

// Config tunes the handler. Zero values mean the defaults.
type Config struct {
	// MaxBody bounds a request body. Default 1 MiB.
	MaxBody int64
	// SyncCap is how long a synchronous caller waits before getting 202.
	// Default 60 s.
	SyncCap time.Duration
	// Rate and Burst are the per-flow token bucket of flows whose document
	// sets no limits of its own. Default 50/s, burst 100; a negative Rate
	// means no limit.
	Rate  rate.Limit
	Burst int
	// MaxBacklog bounds a flow's unfinished executions; above it callers get
	// 503. Default 1000; negative means no limit.
	MaxBacklog int
	// IdempotencyWindow is how long a webhook-id or Idempotency-Key is
	// remembered. Default 24 h.
	IdempotencyWindow time.Duration
	// OAuth configures "Secure with OAuth 2.0" endpoints.
	OAuth OAuthConfig
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.MaxBody == 0 {
		c.MaxBody = 1 << 20
	}
	if c.SyncCap == 0 {
		c.SyncCap = 60 * time.Second
	}
	if c.Rate == 0 {
		c.Rate = 50
	}
	if c.Burst == 0 {
		c.Burst = 100
	}
	if c.MaxBacklog == 0 {
		c.MaxBacklog = 1000
	}
	if c.IdempotencyWindow == 0 {
		c.IdempotencyWindow = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Handler serves /api/flo/{alias}/invoke.
type Handler struct {
	cfg       Config
	store     *store.Store
	endpoints *Endpoints
	flows     Flows
	logger    *slog.Logger
	oauth     *oauthVerifier
	decoy     *store.Endpoint

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// NewHandler returns the invoke handler. endpoints must be the Endpoints
// that rotates this process's client tokens: the handler keeps the rows it
// looks up in it, and each change there forgets them at once. client is
// the SSRF-guarded HTTP client, used to fetch the OAuth issuer's JWKS.
func NewHandler(cfg Config, st *store.Store, endpoints *Endpoints, flows Flows, client *http.Client, logger *slog.Logger) *Handler {
	cfg = cfg.withDefaults()
	return &Handler{
		cfg:       cfg,
		store:     st,
		endpoints: endpoints,
		flows:     flows,
		logger:    logger,
		oauth:     newOAuthVerifier(cfg.OAuth, client, cfg.Now),
		decoy:     newDecoy(endpoints.box),
		limiters:  map[string]*rate.Limiter{},
	}
}

// Pattern is the route the handler serves; it answers 405 itself for methods
// other than GET and POST.
const Pattern = "/api/flo/{alias}/invoke"

func writeError(w http.ResponseWriter, status int, code, msg string) {
	httpjson.WriteError(w, status, code, msg, "")
}

// errUnauthorized is the one answer to missing and wrong credentials alike.
const msgUnauthorized = "The request has no valid credentials for this endpoint."

// unauthorizedMessage is the 401 message for r. A query that carries the
// client token under a key that differs from clientToken only in case
// (clienttoken, ClientToken) is a common slip that otherwise looks like a
// wrong token, so the message names the key. The hint is read from the
// request alone, never from the endpoint, so it says the same for an alias
// that exists and one that does not.
func unauthorizedMessage(r *http.Request) string {
	if r.URL.Query().Has(tokenQueryKey) {
		return msgUnauthorized
	}
	for k := range r.URL.Query() {
		if strings.EqualFold(k, tokenQueryKey) {
			return msgUnauthorized + " The query key of the client token is " + tokenQueryKey + ", in that case, not " + k + "."
		}
	}
	return msgUnauthorized
}

// answerHeaders are set on every invoke answer. An invoke URL shares its
// origin with the console, and a flow's Return Raw chooses its answer's
// body and headers: a text body sniffed as HTML, or an HTML one, ran its
// scripts as the console's own page, with the session of whoever opened
// the link. Sandboxed, such a page runs nothing and reaches nothing.
var answerHeaders = [][2]string{
	{"X-Content-Type-Options", "nosniff"},
	{"Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'"},
}

// reservedRawHeader tells the headers a flow's Return Raw cannot set: the
// answerHeaders, cookies (for the console's origin) and CORS, which the
// endpoint's settings decide.
func reservedRawHeader(name string) bool {
	switch n := strings.ToLower(name); {
	case n == "set-cookie", n == "set-cookie2", n == "x-content-type-options",
		n == "content-security-policy", n == "content-security-policy-report-only",
		strings.HasPrefix(n, "access-control-"):
		return true
	}
	return false
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, kv := range answerHeaders {
		w.Header().Set(kv[0], kv[1])
	}
	if r.Method == http.MethodOptions {
		h.preflight(w, r)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use POST or GET to invoke a flow.")
		return
	}
	ctx := r.Context()
	ep, target, ok, err := h.lookup(ctx, r.PathValue("alias"))
	if err != nil {
		h.internal(w, "look up endpoint", err)
		return
	}
	// Credentials are checked before the body is read, and an unknown
	// alias gets the very answer a wrong token gets, after the same work:
	// a caller without the token learns nothing, not even that the URL
	// exists, and cannot make the server read a large body.
	if !h.authenticate(ctx, ep, target.Endpoint, r) || !ok {
		writeError(w, http.StatusUnauthorized, "unauthorized", unauthorizedMessage(r))
		return
	}
	allowOrigin(w, r, target.Endpoint)
	req, err := readRequest(w, r, h.cfg.MaxBody)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large",
				fmt.Sprintf("The request body is larger than %d bytes.", h.cfg.MaxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", "The request body could not be read.")
		return
	}
	if !h.verifySignature(ep, target.Endpoint, req) {
		writeError(w, http.StatusUnauthorized, "unauthorized", msgUnauthorized)
		return
	}
	if target.Endpoint.OktaVerification && r.Method == http.MethodGet && r.Header.Get("X-Okta-Verification-Challenge") != "" {
		httpjson.Write(w, http.StatusOK, map[string]string{"verification": r.Header.Get("X-Okta-Verification-Challenge")})
		return
	}
	if !target.On {
		writeError(w, http.StatusConflict, "flow_not_active", "The flow is off; turn it on to accept invocations.")
		return
	}
	if req.jsonErr != nil {
		writeError(w, http.StatusUnsupportedMediaType, "invalid_json", "The request body is not valid JSON: "+req.jsonErr.Error()+".")
		return
	}
	lim := h.limitsOf(target.Endpoint)
	allowed, err := h.allow(ctx, ep.FlowID, lim)
	if err != nil {
		h.internal(w, "check the rate limit", err)
		return
	}
	if !allowed {
		w.Header().Set("Retry-After", lim.retryAfter())
		writeError(w, http.StatusTooManyRequests, "rate_limited", "Too many invocations of this flow; retry after the time in Retry-After.")
		return
	}
	h.start(w, r, ep, target, req)
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request, ep *store.Endpoint, target Target, req *request) {
	ctx := r.Context()
	now := h.cfg.Now()
	key := r.Header.Get("Webhook-Id")
	if key == "" {
		key = r.Header.Get("Idempotency-Key")
	}
	if key != "" {
		if execID, err := h.store.InvokeKey(ctx, ep.FlowID, key, now.Add(-h.cfg.IdempotencyWindow)); err == nil {
			h.replay(w, execID)
			return
		} else if !errors.Is(err, store.ErrNotFound) {
			h.internal(w, "look up idempotency key", err)
			return
		}
	}
	if err := h.checkBacklog(ctx, ep.FlowID, h.limitsOf(target.Endpoint).maxBacklog); errors.Is(err, errBacklogFull) {
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, "backlog_full", "The flow has too many executions waiting; retry later.")
		return
	} else if err != nil {
		h.internal(w, "count backlog", err)
		return
	}
	async := target.Endpoint.Response == dsl.ResponseAsync || preferAsync(r)
	execID := newExecutionID(now)
	params := StartParams{
		FlowID:      ep.FlowID,
		ExecutionID: execID,
		Input:       req.input(execID),
		Test:        r.Header.Get("X-Vigil-Test") == "true",
		Wait:        !async,
	}
	if key != "" {
		params.InTx = func(ctx context.Context, tx *store.Tx) error {
			return tx.PutInvokeKey(ctx, ep.FlowID, key, execID, now, now.Add(-h.cfg.IdempotencyWindow))
		}
	}
	if err := h.flows.Start(ctx, params); err != nil {
		if key != "" && errors.Is(err, store.ErrConflict) {
			// Another request with the same key won the race.
			if first, kerr := h.store.InvokeKey(ctx, ep.FlowID, key, now.Add(-h.cfg.IdempotencyWindow)); kerr == nil {
				h.replay(w, first)
				return
			}
		}
		h.internal(w, "start execution", err)
		return
	}
	w.Header().Set(HeaderExecutionID, execID)
	if async {
		httpjson.Write(w, http.StatusAccepted, accepted{ExecutionID: execID})
		return
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.SyncCap)
	defer cancel()
	out, err := h.flows.Wait(wctx, execID)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		h.internal(w, "wait for execution", err)
		return
	}
	if !out.Done {
		// The cap was reached: the execution goes on; the caller can look
		// it up by id.
		httpjson.Write(w, http.StatusAccepted, accepted{ExecutionID: execID})
		return
	}
	writeOutcome(w, execID, out)
}

// accepted is the 202 answer: the execution's id, and for a request whose
// idempotency key was seen, duplicate. A struct, not a map, because it is
// encoded on every asynchronous invocation and a map costs several times
// the allocations.
type accepted struct {
	ExecutionID string `json:"executionId"`
	Duplicate   bool   `json:"duplicate,omitempty"`
}

func (h *Handler) replay(w http.ResponseWriter, execID string) {
	w.Header().Set(HeaderExecutionID, execID)
	w.Header().Set("X-Vigil-Idempotent-Replay", "true")
	httpjson.Write(w, http.StatusAccepted, accepted{ExecutionID: execID, Duplicate: true})
}

func (h *Handler) internal(w http.ResponseWriter, what string, err error) {
	h.logger.Error("invoke failed", "step", what, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "The flow could not be invoked because of a server error; retry later.")
}

// preferAsync honours "Prefer: respond-async" (RFC 7240).
func preferAsync(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, part := range splitComma(v) {
			if part == "respond-async" {
				return true
			}
		}
	}
	return false
}

// writeOutcome answers a synchronous caller with the finished execution.
func writeOutcome(w http.ResponseWriter, execID string, out Outcome) {
	if out.Status != "succeeded" {
		var e httpjson.ErrorBody
		e.Error.Code = "flow_" + out.Status
		e.Error.Message = "The flow execution " + execID + " ended " + out.Status + "."
		e.Error.Detail = out.Error
		httpjson.Write(w, http.StatusBadGateway, e)
		return
	}
	if raw, ok := rawReturn(out.Output); ok {
		for k, v := range raw.headers {
			if !reservedRawHeader(k) {
				w.Header().Set(k, v)
			}
		}
		if w.Header().Get("Content-Type") == "" {
			if _, isString := raw.body.(string); !isString {
				w.Header().Set("Content-Type", "application/json")
			}
		}
		w.WriteHeader(raw.status)
		// The status is sent: as in httpjson.Write, a body the client did
		// not take can no longer be reported to it.
		switch b := raw.body.(type) {
		case nil:
		case string:
			_, _ = w.Write([]byte(b))
		default:
			_ = json.NewEncoder(w).Encode(b)
		}
		return
	}
	httpjson.Write(w, http.StatusOK, out.Output)
}

type rawResponse struct {
	status  int
	headers map[string]string
	body    any
}

// rawReturn recognises Vigil's "Return Raw": an output object with
// "raw": true beside statusCode, and optional headers and body. The flag
// keeps an ordinary output that happens to have a statusCode field from
// being taken for a raw response.
func rawReturn(output any) (rawResponse, bool) {
	m, ok := output.(map[string]any)
	if !ok || m["raw"] != true {
		return rawResponse{}, false
	}
	code, ok := m["statusCode"].(float64)
	if !ok {
		if n, isInt := m["statusCode"].(int); isInt {
			code, ok = float64(n), true
		}
	}
	if !ok || code < 100 || code > 599 {
		return rawResponse{}, false
	}
	raw := rawResponse{status: int(code), body: m["body"], headers: map[string]string{}}
	if hs, ok := m["headers"].(map[string]any); ok {
		for k, v := range hs {
			if s, ok := v.(string); ok {
				raw.headers[k] = s
			}
		}
	}
	return raw, true
}
