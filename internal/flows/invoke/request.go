package invoke

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
)

// request is an invocation read and parsed once.
type request struct {
	r        *http.Request
	raw      []byte
	body     any
	isJSON   bool
	jsonErr  error
	query    url.Values
	rawQuery string
}

// credentialHeaders never reach a flow's input (and so never its history).
var credentialHeaders = map[string]bool{
	"x-api-client-token": true,
	"authorization":      true,
	"cookie":             true,
}

func readRequest(w http.ResponseWriter, r *http.Request, limit int64) (*request, error) {
	body, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength, limit)
	if err != nil {
		return nil, err
	}
	req := &request{r: r, raw: body}
	q := r.URL.Query()
	q.Del(tokenQueryKey)
	req.query = q
	req.rawQuery = q.Encode()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if len(body) > 0 && (ct == "application/json" || strings.HasSuffix(ct, "+json") || ct == "") {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			if ct != "" {
				req.jsonErr = jsonError(err)
			}
		} else {
			req.body, req.isJSON = v, true
		}
	}
	return req, nil
}

// readBody reads body, into one buffer of the announced length when the
// request announced one within limit (io.ReadAll would grow its buffer
// several times for a typical event); body enforces limit either way.
func readBody(body io.Reader, announced, limit int64) ([]byte, error) {
	if announced <= 0 || announced > limit {
		return io.ReadAll(body)
	}
	// One byte more than announced, so that the end is seen without a
	// second buffer.
	buf := make([]byte, 0, announced+1)
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case errors.Is(err, io.EOF):
			return buf, nil
		case err != nil:
			return nil, err
		case len(buf) == cap(buf):
			// More than was announced: the rest is read (and bounded)
			// as without an announced length.
			rest, err := io.ReadAll(body)
			if err != nil {
				return nil, err
			}
			return append(buf, rest...), nil
		}
	}
}

func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &syntaxError{msg: se.Error()}
	}
	return err
}

type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

// input builds the flow input the way Okta's API Endpoint card outputs it:
// body, headers (lower-cased names), query, raw{headers, body, query} and
// context{execution_id}. Credentials are left out.
func (req *request) input(execID string) map[string]any {
	headers := map[string]any{}
	rawHeaders := map[string]any{}
	for name, vals := range req.r.Header {
		lname := strings.ToLower(name)
		if credentialHeaders[lname] {
			continue
		}
		headers[lname] = strings.Join(vals, ", ")
		rawHeaders[name] = strings.Join(vals, ", ")
	}
	query := map[string]any{}
	for k, vals := range req.query {
		if len(vals) == 1 {
			query[k] = vals[0]
		} else {
			l := make([]any, len(vals))
			for i, v := range vals {
				l[i] = v
			}
			query[k] = l
		}
	}
	var body any = map[string]any{}
	if req.isJSON {
		body = req.body
	}
	return map[string]any{
		"body":    body,
		"headers": headers,
		"query":   query,
		"raw": map[string]any{
			"headers": rawHeaders,
			"body":    string(req.raw),
			"query":   req.rawQuery,
		},
		"context": map[string]any{"execution_id": execID},
	}
}

func newExecutionID(now time.Time) string { return id.NewAt("exe", now) }

func splitComma(s string) []string {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(strings.ToLower(parts[i]))
	}
	return parts
}
