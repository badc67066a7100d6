package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/secret"
)

// NoteKind is the kind of the execution history entries a dry run
// records, one per request that was not sent.
const NoteKind = engine.NoteDryRun

// NoteCall is the kind of the execution history entries a real call
// records, one per request sent: the request and the answer, masked.
const NoteCall = engine.NoteConnectorCall

// maxRecordedBody is how much of an answer's body a history entry keeps:
// enough to read a vendor's error, not a page of users.
const maxRecordedBody = 4 << 10

// Request is a request a connector sent or, in a dry run, did not send, as
// recorded in the execution history: secrets are masked.
type Request struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Headers are the request's headers, each name with its values joined
	// by ", ".
	Headers map[string]string `json:"headers"`
	// Body is the decoded JSON body, the form of a token request, the text
	// of any other body, or nil.
	Body any `json:"body"`
}

// Map returns the request as the JSON-like value the history stores.
func (r Request) Map() map[string]any {
	h := make(map[string]any, len(r.Headers))
	for k, v := range r.Headers {
		h[k] = v
	}
	return map[string]any{"method": r.Method, "url": r.URL, "headers": h, "body": r.Body}
}

// recorder is the http.RoundTripper every connector call goes through. It
// records each request and its answer, masked, in the execution history,
// so the execution page can show what a flow did to a vendor. In a dry run
// (next is nil) nothing is sent: the answer is a canned response in the
// vendor's shape.
type recorder struct {
	env  *engine.CallEnv
	conn *connection.Resolved
	mask *secret.Masker
	// next sends real requests: the SSRF-guarded transport. Nil in a dry
	// run.
	next http.RoundTripper

	mu   sync.Mutex
	sent []Request
}

func newRecorder(env *engine.CallEnv, conn *connection.Resolved, next http.RoundTripper) *recorder {
	return &recorder{env: env, conn: conn, mask: newMasker(conn), next: next}
}

// Requests returns what was recorded so far.
func (r *recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// RoundTrip records req, its secrets masked, and answers with a canned
// response instead of sending it.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	rec := Request{Method: req.Method, URL: r.mask.URL(req.URL), Headers: r.mask.Headers(req.Header),
		Body: recordBody(r.mask, req.Header.Get("Content-Type"), body)}
	r.mu.Lock()
	r.sent = append(r.sent, rec)
	r.mu.Unlock()
	// An answer that echoes a token of the query is masked too.
	mask := r.mask.With(secret.QueryTokens(req.URL)...)
	data := rec.Map()
	data["connection"] = r.conn.Name
	data["dryRun"] = r.next == nil
	began := time.Now()
	if r.next == nil {
		res := r.canned(req, body)
		data["response"] = answer(mask, res.StatusCode, res.Header, res.Body.(*cannedBody).b)
		data["durationMs"] = time.Since(began).Milliseconds()
		msg := fmt.Sprintf("Dry run: %s %s was not sent (connection %q).", rec.Method, rec.URL, r.conn.Name)
		if err := r.env.Record(req.Context(), NoteKind, msg, data); err != nil {
			return nil, fmt.Errorf("record the dry-run request: %w", err)
		}
		return res, nil
	}
	res, err := r.next.RoundTrip(req)
	data["durationMs"] = time.Since(began).Milliseconds()
	if err != nil {
		data["error"] = mask.String(err.Error())
		msg := fmt.Sprintf("%s %s failed (connection %q).", rec.Method, rec.URL, r.conn.Name)
		if rerr := r.env.Record(req.Context(), NoteCall, msg, data); rerr != nil {
			return nil, fmt.Errorf("record the connector call: %w", rerr)
		}
		return nil, err
	}
	// Keep the start of the answer for the record and hand the caller the
	// whole body, read or not.
	head, rerr := io.ReadAll(io.LimitReader(res.Body, maxRecordedBody+1))
	res.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), res.Body), res.Body}
	if rerr != nil {
		data["error"] = mask.String(rerr.Error())
	}
	data["response"] = answer(mask, res.StatusCode, res.Header, head)
	msg := fmt.Sprintf("%s %s answered %s (connection %q).", rec.Method, rec.URL, res.Status, r.conn.Name)
	if err := r.env.Record(req.Context(), NoteCall, msg, data); err != nil {
		res.Body.Close()
		return nil, fmt.Errorf("record the connector call: %w", err)
	}
	return res, nil
}

// answer is a response as the history keeps it: status, masked headers
// and the start of the body, masked.
func answer(m *secret.Masker, status int, h http.Header, body []byte) map[string]any {
	truncated := len(body) > maxRecordedBody
	if truncated {
		body = body[:maxRecordedBody]
	}
	hdr := map[string]any{}
	for k, v := range m.Headers(h) {
		hdr[k] = v
	}
	var b any
	if truncated {
		// A cut body no longer parses: mask the token fields as text.
		b = m.Text(strings.ToValidUTF8(string(body), ""))
	} else {
		b = recordBody(m, h.Get("Content-Type"), body)
	}
	return map[string]any{"status": status, "headers": hdr, "body": b, "truncated": truncated}
}

// cannedBody is the body of a canned answer, kept readable for the record.
type cannedBody struct {
	*bytes.Reader
	b []byte
}

// Close does nothing: the bytes stay readable for the record.
func (cannedBody) Close() error { return nil }

// canned is the answer a dry run gives instead of sending req.
func (r *recorder) canned(req *http.Request, body []byte) *http.Response {
	status, ctype, answer := cannedAnswer(r.conn, req, body)
	res := &http.Response{
		StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: &cannedBody{bytes.NewReader(answer), answer}, ContentLength: int64(len(answer)),
		Request: req,
	}
	if ctype != "" {
		res.Header.Set("Content-Type", ctype)
	}
	return res
}

// newMasker returns the masker of what a call on conn records: the
// connection's credentials, and the header an HTTP connection sends its
// API key in.
func newMasker(conn *connection.Resolved) *secret.Masker {
	m := secret.NewMasker(conn.Credentials()...)
	if conn.Kind == connection.KindHTTP && conn.Get("auth") == connection.AuthAPIKey {
		m = m.WithHeaders(conn.Get("headerName"))
	}
	return m
}

// recordBody decodes a JSON or form body for the record and masks it.
func recordBody(m *secret.Masker, ctype string, b []byte) any {
	if len(b) == 0 {
		return nil
	}
	switch {
	case strings.HasPrefix(ctype, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return m.String(string(b))
		}
		return m.Form(form)
	case strings.Contains(ctype, "json"):
		v, err := engine.DecodeJSON(b)
		if err != nil {
			return m.String(string(b))
		}
		return m.Value(v)
	}
	return m.String(string(b))
}

// dryRunUserID is the id canned answers give a user looked up by login.
const dryRunUserID = "00uDRYRUN00000000000"

var oktaUserID = regexp.MustCompile(`^00u[0-9A-Za-z]{17}$`)

// cannedAnswer is the response a vendor would give to req, minimal but in
// the vendor's documented shape, so the client and the function behave as
// they would after a real success.
func cannedAnswer(conn *connection.Resolved, req *http.Request, body []byte) (int, string, []byte) {
	const jsonType = "application/json"
	path := req.URL.Path
	origin := req.URL.Scheme + "://" + req.URL.Host
	if req.Method == http.MethodPost && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("grant_type") != "" {
			tok := map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": "dry-run-access-token"}
			if conn.Kind == connection.KindSalesforce {
				tok["instance_url"] = origin
				tok["issued_at"] = "0"
			}
			if s := form.Get("scope"); s != "" {
				tok["scope"] = s
			}
			return 200, jsonType, mustJSON(tok)
		}
	}
	switch conn.Kind {
	case connection.KindOkta:
		switch {
		case req.Method == http.MethodGet && strings.HasPrefix(path, "/api/v1/users/") && strings.Count(path, "/") == 4:
			key, _ := url.PathUnescape(strings.TrimPrefix(path, "/api/v1/users/"))
			id, login := key, key
			if !oktaUserID.MatchString(key) {
				id = dryRunUserID
			} else {
				login = ""
			}
			return 200, jsonType, mustJSON(map[string]any{"id": id, "status": "ACTIVE",
				"profile": map[string]any{"login": login, "email": login}})
		case strings.HasSuffix(path, "/lifecycle/expire_password"):
			id := strings.Split(strings.TrimPrefix(path, "/api/v1/users/"), "/")[0]
			return 200, jsonType, mustJSON(map[string]any{"id": id, "status": "PASSWORD_EXPIRED", "profile": map[string]any{}})
		case req.Method == http.MethodPost:
			return 200, jsonType, []byte("{}")
		}
		return 204, "", nil
	case connection.KindGoogle:
		key, _ := url.PathUnescape(path[strings.LastIndex(path, "/")+1:])
		u := map[string]any{"kind": "admin#directory#user", "id": key, "primaryEmail": key, "suspended": true}
		if strings.Contains(key, "@") {
			u["id"] = "dry-run"
		} else {
			u["primaryEmail"] = ""
		}
		return 200, jsonType, mustJSON(u)
	case connection.KindSalesforce:
		if req.Method == http.MethodGet {
			return 200, jsonType, []byte(`{"totalSize":0,"done":true,"records":[]}`)
		}
		return 204, "", nil
	case connection.KindSlack:
		if strings.HasSuffix(path, "/chat.postMessage") {
			var m struct {
				Channel string `json:"channel"`
				Text    string `json:"text"`
			}
			_ = json.Unmarshal(body, &m)
			return 200, jsonType, mustJSON(map[string]any{"ok": true, "channel": m.Channel, "ts": "0000000000.000000",
				"message": map[string]any{"type": "message", "text": m.Text}})
		}
		return 200, "text/html", []byte("ok")
	case connection.KindJira:
		var in struct {
			Fields struct {
				Project struct {
					Key string `json:"key"`
				} `json:"project"`
			} `json:"fields"`
		}
		_ = json.Unmarshal(body, &in)
		return 201, jsonType, mustJSON(map[string]any{"id": "0", "key": in.Fields.Project.Key + "-0",
			"self": origin + "/rest/api/3/issue/0"})
	case connection.KindHTTP:
		return 200, "", nil
	}
	return 204, "", nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var _ http.RoundTripper = (*recorder)(nil)
