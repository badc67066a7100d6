package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// reservedRequestHeaders are set by the client or the connection; a flow
// may not set them.
var reservedRequestHeaders = []string{"host", "content-length", "transfer-encoding", "connection", "authorization",
	"proxy-authorization", "cookie"}

func httpFunctions() []*Function {
	return []*Function{
		{
			Name: "http.request", Kind: connection.KindHTTP,
			Summary: "Sends an HTTP request to a path under an http connection's base URL, with the connection's authentication; answers outside 2xx raise a communication error with their status.",
			Args: []Arg{connectionArg,
				{Name: "method", Type: "string", Default: "GET", Enum: httpMethods, Doc: "The HTTP method. Default GET."},
				{Name: "path", Type: "string", Default: "", Doc: "Path under the base URL, such as /v1/tickets; it may not leave the base URL."},
				{Name: "query", Type: "object", Doc: "Query parameters; arrays give repeated parameters."},
				{Name: "headers", Type: "object", Doc: "Extra headers (string values); authentication headers come from the connection."},
				{Name: "body", Type: "any", Doc: "The body: a string is sent as is, anything else as JSON."}},
			Output: []Arg{{Name: "status", Type: "integer", Doc: "The HTTP status."},
				{Name: "headers", Type: "object", Doc: "Response headers, names in lower case, values joined by \", \"."},
				{Name: "body", Type: "any", Doc: "The body: decoded JSON, text, or null when empty."},
				{Name: "dryRun", Type: "boolean", Doc: "True when the request was recorded instead of sent."}},
			run: runHTTP,
		},
	}
}

// httpError is an answer outside 2xx.
type httpError struct {
	status  int
	where   string
	snippet string
}

func (e *httpError) Error() string {
	msg := fmt.Sprintf("%s answered %d %s", e.where, e.status, http.StatusText(e.status))
	if e.snippet != "" {
		msg += ": " + e.snippet
	}
	return msg
}

func runHTTP(ctx context.Context, x *call) (map[string]any, error) {
	t, err := x.conn.HTTP()
	if err != nil {
		return nil, err
	}
	target, err := joinPath(t.BaseURL, x.str("path"))
	if err != nil {
		return nil, argFault(x.fn, argProblem("path", err.Error()))
	}
	if q, ok := x.args["query"].(map[string]any); ok {
		vals := target.Query()
		for _, k := range slices.Sorted(maps.Keys(q)) {
			switch v := q[k].(type) {
			case []any:
				for _, e := range v {
					vals.Add(k, scalar(e))
				}
			default:
				vals.Add(k, scalar(v))
			}
		}
		target.RawQuery = vals.Encode()
	}
	header := http.Header{}
	if h, ok := x.args["headers"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(h)) {
			v, ok := h[k].(string)
			switch {
			case !connection.ValidHeaderName(k):
				return nil, argFault(x.fn, argProblem("headers."+k, "not a valid HTTP header name"))
			case !ok:
				return nil, argFault(x.fn, argProblem("headers."+k, "expected a string, got "+typeName(h[k])))
			case strings.ContainsAny(v, "\r\n"):
				return nil, argFault(x.fn, argProblem("headers."+k, "a header value may not contain a line break"))
			case slices.Contains(reservedRequestHeaders, strings.ToLower(k)) || strings.EqualFold(k, t.AuthHeader):
				return nil, argFault(x.fn, argProblem("headers."+k, "this header is set by the client or the connection"))
			}
			header.Set(k, v)
		}
	}
	var body []byte
	switch b := x.args["body"].(type) {
	case nil:
	case string:
		body = []byte(b)
		if header.Get("Content-Type") == "" {
			header.Set("Content-Type", "text/plain; charset=utf-8")
		}
	default:
		if body, err = json.Marshal(b); err != nil {
			return nil, argFault(x.fn, argProblem("body", "cannot be encoded as JSON"))
		}
		if header.Get("Content-Type") == "" {
			header.Set("Content-Type", "application/json")
		}
	}
	if header.Get("Accept") == "" {
		header.Set("Accept", "application/json, */*;q=0.5")
	}
	if t.AuthHeader != "" {
		header.Set(t.AuthHeader, t.AuthValue)
	}
	method := x.str("method")
	where := method + " " + newMasker(x.conn).URL(target)
	res, data, err := x.send(ctx, method, target.String(), header, body) //nolint:bodyclose // send reads and closes the body
	if err != nil {
		return nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		snippet := strings.TrimSpace(string(data))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return nil, &httpError{status: res.StatusCode, where: where, snippet: snippet}
	}
	hdr := map[string]any{}
	for k, v := range res.Header {
		hdr[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	var out any
	if len(data) > 0 {
		out = string(data)
		if strings.Contains(res.Header.Get("Content-Type"), "json") {
			if v, err := engine.DecodeJSON(data); err == nil {
				out = v
			}
		}
	}
	return map[string]any{"status": res.StatusCode, "headers": hdr, "body": out}, nil
}

// send sends the request, retrying 429 (and 503 with Retry-After to an
// idempotent method) after the wait the server asks for, within
// MaxRetries and MaxRetryWait.
func (x *call) send(ctx context.Context, method, target string, header http.Header, body []byte) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		if body == nil {
			req.Body = nil
		}
		req.Header = header.Clone()
		res, err := x.opts.HTTPClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			return nil, nil, errors.Join(errTransport, unwrapURL(err))
		}
		data, err := io.ReadAll(io.LimitReader(res.Body, x.cfg.MaxResponseBytes+1))
		res.Body.Close()
		if err != nil {
			return nil, nil, errors.Join(errTransport, err)
		}
		if int64(len(data)) > x.cfg.MaxResponseBytes {
			return nil, nil, fmt.Errorf("the response body is larger than %d bytes", x.cfg.MaxResponseBytes)
		}
		retryable := res.StatusCode == http.StatusTooManyRequests ||
			(res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "" && idempotent(method))
		if !retryable || x.cfg.MaxRetries < 0 || attempt >= x.cfg.MaxRetries {
			return res, data, nil
		}
		wait, ok := retryAfter(res.Header.Get("Retry-After"), x.cfg.Now())
		if !ok {
			wait = time.Second << attempt
		}
		if wait > x.cfg.MaxRetryWait {
			return res, data, nil
		}
		if err := x.cfg.Sleep(ctx, wait); err != nil {
			return nil, nil, err
		}
	}
}

func idempotent(method string) bool {
	return method != http.MethodPost && method != http.MethodPatch
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// joinPath appends a relative path to the base URL, refusing anything that
// would leave it: another scheme or host, a query or fragment in the path,
// dot segments.
func joinPath(base, p string) (*url.URL, error) {
	b, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("the connection's base URL is not valid")
	}
	if p == "" {
		return b, nil
	}
	rel, err := url.Parse(p)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a valid path", p)
	case rel.Scheme != "" || rel.Host != "" || strings.HasPrefix(p, "//"):
		return nil, fmt.Errorf("expected a path under the connection's base URL, not a URL of its own (%q)", p)
	case rel.RawQuery != "" || rel.Fragment != "" || strings.ContainsAny(p, "?#"):
		return nil, fmt.Errorf("put query parameters in query, not in the path (%q)", p)
	}
	for _, seg := range strings.Split(rel.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, fmt.Errorf("the path may not contain . or .. segments (%q)", p)
		}
	}
	out := *b
	out.Path = strings.TrimRight(b.Path, "/") + "/" + strings.TrimLeft(rel.Path, "/")
	out.RawPath = ""
	if rel.RawPath != "" {
		out.RawPath = strings.TrimRight(b.EscapedPath(), "/") + "/" + strings.TrimLeft(rel.RawPath, "/")
	}
	return &out, nil
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case *big.Int:
		return v.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// unwrapURL drops net/http's *url.Error wrapper, whose message repeats the
// URL (which may carry a secret).
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
