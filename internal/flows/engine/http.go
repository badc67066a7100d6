package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// httpState caches what several calls of one execution share.
type httpState struct {
	mu     sync.Mutex
	tokens map[string]*oauth2.Token
	docs   map[string]*openapiDoc
}

func newHTTPState() *httpState {
	return &httpState{tokens: map[string]*oauth2.Token{}, docs: map[string]*openapiDoc{}}
}

type openapiDoc struct {
	doc  *openapi3.T
	base *url.URL
}

// outgoing is an HTTP request a call task is about to send.
type outgoing struct {
	method   string
	url      *url.URL
	header   http.Header
	body     any
	hasBody  bool
	auth     *dsl.AuthRef
	output   string
	redirect bool
}

func (x *execution) callHTTP(ctx context.Context, h *dsl.HTTPCall, in any, env *evalEnv) (any, error) {
	u, err := x.endpointURL(ctx, h.Endpoint, in, env)
	if err != nil {
		return nil, err
	}
	req := &outgoing{method: h.Method, url: u, header: http.Header{}, output: h.Output, redirect: h.Redirect, auth: h.Endpoint.Auth}
	if h.Headers != nil {
		v, err := x.evalTemplate(ctx, h.Headers, in, env)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return nil, faultf(ErrValidation, 400, "Invalid headers", "headers must be an object, not %s", typeName(v))
		}
		for k, val := range m {
			req.header.Set(k, toString(val))
		}
	}
	if h.Query != nil {
		v, err := x.evalTemplate(ctx, h.Query, in, env)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return nil, faultf(ErrValidation, 400, "Invalid query", "query must be an object, not %s", typeName(v))
		}
		q := u.Query()
		for _, k := range slices.Sorted(maps.Keys(m)) {
			q.Set(k, toString(m[k]))
		}
		u.RawQuery = q.Encode()
	}
	if h.Body != nil {
		v, err := x.evalTemplate(ctx, h.Body, in, env)
		if err != nil {
			return nil, err
		}
		req.body, req.hasBody = v, true
	}
	return x.send(ctx, req, in, env)
}

// endpointURL evaluates an endpoint: a runtime expression, or a URI
// template whose {name} variables come from the task input's top-level
// fields.
func (x *execution) endpointURL(ctx context.Context, ep *dsl.Endpoint, in any, env *evalEnv) (*url.URL, error) {
	if ep == nil || ep.URI == nil {
		return nil, faultf(ErrConfiguration, 400, "Invalid endpoint", "the endpoint has no URI")
	}
	var raw string
	if ep.URI.Static {
		s, _ := ep.URI.Value.(string)
		raw = expandURITemplate(s, in)
	} else {
		v, err := x.evalTemplate(ctx, ep.URI, in, env)
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			return nil, faultf(ErrExpression, 400, "Invalid endpoint", "the endpoint expression produced %s, not a URI string", typeName(v))
		}
		raw = s
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, faultf(ErrConfiguration, 400, "Invalid endpoint", "endpoint %q is not an absolute http or https URL", redactURL(raw))
	}
	return u, nil
}

// expandURITemplate expands RFC 6570 simple ({var}) and reserved ({+var})
// expressions from the top-level fields of data. Undefined variables
// expand to nothing, as RFC 6570 says.
func expandURITemplate(s string, data any) string {
	if !strings.Contains(s, "{") {
		return s
	}
	m, _ := data.(map[string]any)
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		name := s[i+1 : i+j]
		reserved := strings.HasPrefix(name, "+")
		name = strings.TrimPrefix(name, "+")
		if v, ok := m[name]; ok && v != nil {
			val := toString(v)
			if reserved {
				b.WriteString(val)
			} else {
				b.WriteString(url.PathEscape(val))
			}
		}
		s = s[i+j+1:]
	}
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

func (x *execution) send(ctx context.Context, o *outgoing, in any, env *evalEnv) (any, error) {
	client := x.eng.cfg.HTTPClient
	if client == nil {
		return nil, faultf(ErrConfiguration, 400, "HTTP not available", "HTTP calls are not available in this runtime")
	}
	var body io.Reader
	if o.hasBody && o.body != nil {
		switch b := o.body.(type) {
		case string:
			body = strings.NewReader(b)
			if o.header.Get("Content-Type") == "" {
				o.header.Set("Content-Type", "text/plain; charset=utf-8")
			}
		default:
			data, err := json.Marshal(b)
			if err != nil {
				return nil, faultf(ErrRuntime, 500, "Invalid body", "the request body cannot be written as JSON: %v", err)
			}
			body = bytes.NewReader(data)
			if o.header.Get("Content-Type") == "" {
				o.header.Set("Content-Type", "application/json")
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, o.method, o.url.String(), body)
	if err != nil {
		return nil, faultf(ErrConfiguration, 400, "Invalid request", "the HTTP request cannot be built: %v", err)
	}
	for k, v := range o.header {
		req.Header[k] = v
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json, */*;q=0.5")
	}
	if o.auth != nil {
		if err := x.authorize(ctx, req, o.auth, in, env); err != nil {
			return nil, err
		}
	}
	c := *client
	if !o.redirect {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	where := o.method + " " + redactURL(o.url.String())
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, faultf(ErrCommunication, 503, "Request failed", "%s failed: %v", where, x.red.redact(err.Error()))
	}
	defer resp.Body.Close()
	limit := x.limits.MaxOutputBytes
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, faultf(ErrCommunication, 503, "Response not read", "%s: the response could not be read: %v", where, err)
	}
	if len(data) > limit {
		return nil, faultf(ErrRuntime, 500, "Response too large", "%s answered more than %d bytes", where, limit)
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300 || o.redirect && resp.StatusCode >= 300 && resp.StatusCode < 400
	if !ok {
		return nil, &Fault{Type: ErrCommunication, Status: resp.StatusCode, Title: "HTTP " + resp.Status,
			Detail: fmt.Sprintf("%s answered %s", where, resp.Status)}
	}
	var content any
	if o.output != "bytes" && o.output != "raw" {
		content = decodeContent(resp.Header.Get("Content-Type"), data)
	}
	switch o.output {
	case "bytes":
		return data, nil
	case "raw":
		return base64.StdEncoding.EncodeToString(data), nil
	case "response":
		return map[string]any{
			"request": map[string]any{
				"method":  o.method,
				"uri":     o.url.String(),
				"headers": headerMap(req.Header, true),
			},
			"statusCode": resp.StatusCode,
			"headers":    headerMap(resp.Header, false),
			"content":    content,
		}, nil
	}
	return content, nil
}

// decodeContent parses JSON bodies; other text stays a string and binary
// content becomes base64.
func decodeContent(ctype string, data []byte) any {
	if len(data) == 0 {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "" && json.Valid(data) {
		if v, err := DecodeJSON(data); err == nil {
			return v
		}
	}
	if utf8.Valid(data) {
		return string(data)
	}
	return base64.StdEncoding.EncodeToString(data)
}

var sensitiveHeaders = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true}

func headerMap(h http.Header, hideSecrets bool) map[string]any {
	m := make(map[string]any, len(h))
	for k, v := range h {
		if hideSecrets && sensitiveHeaders[k] {
			m[k] = redacted
			continue
		}
		m[k] = strings.Join(v, ", ")
	}
	return m
}

// authorize applies an authentication policy to req.
func (x *execution) authorize(ctx context.Context, req *http.Request, ref *dsl.AuthRef, in any, env *evalEnv) error {
	pol := ref.Policy
	if ref.Use != "" {
		pol = x.wf.Use.Authentications[ref.Use]
	}
	if pol == nil {
		return faultf(ErrConfiguration, 400, "Unknown authentication", "authentication %s is not defined under use.authentications", ref.Use)
	}
	str := func(t *dsl.Template) (string, error) {
		v, err := x.evalTemplate(ctx, t, in, env)
		if err != nil {
			return "", err
		}
		return toString(v), nil
	}
	switch {
	case pol.Basic != nil:
		var user, pass string
		if pol.Basic.Use != "" {
			m, err := x.secretObject(ctx, pol.Basic.Use)
			if err != nil {
				return err
			}
			user, pass = toString(m["username"]), toString(m["password"])
		} else {
			var err error
			if user, err = str(pol.Basic.Username); err != nil {
				return err
			}
			if pass, err = str(pol.Basic.Password); err != nil {
				return err
			}
		}
		x.red.add(pass)
		x.red.add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))
		req.SetBasicAuth(user, pass)
	case pol.Bearer != nil:
		var token string
		if pol.Bearer.Use != "" {
			m, err := x.secretObject(ctx, pol.Bearer.Use)
			if err != nil {
				return err
			}
			token = toString(m["token"])
		} else {
			var err error
			if token, err = str(pol.Bearer.Token); err != nil {
				return err
			}
		}
		x.red.add(token)
		req.Header.Set("Authorization", "Bearer "+token)
	case pol.OAuth2 != nil || pol.OIDC != nil:
		o, oidc := pol.OAuth2, false
		if o == nil {
			o, oidc = pol.OIDC, true
		}
		tok, err := x.clientCredentials(ctx, o, oidc, in, env)
		if err != nil {
			return err
		}
		x.red.add(tok)
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

func (x *execution) secretObject(ctx context.Context, name string) (map[string]any, error) {
	v, err := x.secret(ctx, name)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, faultf(ErrConfiguration, 400, "Invalid secret", "secret %s must be an object holding the authentication's properties", name)
	}
	return m, nil
}

// clientCredentials gets (and caches for the execution) an OAuth2 access
// token with the client_credentials grant.
func (x *execution) clientCredentials(ctx context.Context, o *dsl.OAuth2Auth, oidc bool, in any, env *evalEnv) (string, error) {
	var props map[string]any
	if o.Use != "" {
		m, err := x.secretObject(ctx, o.Use)
		if err != nil {
			return "", err
		}
		props = m
	} else {
		props = map[string]any{"scopes": toAnyList(o.Scopes), "audiences": toAnyList(o.Audiences)}
		a, err := x.evalTemplate(ctx, o.Authority, in, env)
		if err != nil {
			return "", err
		}
		props["authority"] = a
		c, err := x.evalTemplate(ctx, o.Client, in, env)
		if err != nil {
			return "", err
		}
		props["client"] = c
		props["endpoints"] = map[string]any{"token": o.TokenPath}
	}
	authority := strings.TrimRight(toString(props["authority"]), "/")
	client, _ := props["client"].(map[string]any)
	id, secret := toString(client["id"]), toString(client["secret"])
	x.red.add(secret)
	if authority == "" || id == "" {
		return "", faultf(ErrConfiguration, 400, "Invalid OAuth2 policy", "an OAuth2 policy needs an authority and a client id")
	}
	httpClient := x.eng.cfg.HTTPClient
	if httpClient == nil {
		return "", faultf(ErrConfiguration, 400, "HTTP not available", "HTTP calls are not available in this runtime")
	}
	tokenURL := ""
	if oidc {
		u, err := x.discoverTokenEndpoint(ctx, httpClient, authority)
		if err != nil {
			return "", err
		}
		tokenURL = u
	} else {
		path := "/oauth2/token"
		if ep, ok := props["endpoints"].(map[string]any); ok && toString(ep["token"]) != "" {
			path = toString(ep["token"])
		}
		if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
			tokenURL = path
		} else {
			tokenURL = authority + "/" + strings.TrimLeft(path, "/")
		}
	}
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}
	if ca, ok := client["authentication"].(string); ok && ca == "client_secret_basic" {
		cfg.AuthStyle = oauth2.AuthStyleInHeader
	}
	for _, s := range anyList(props["scopes"]) {
		cfg.Scopes = append(cfg.Scopes, toString(s))
	}
	if aud := anyList(props["audiences"]); len(aud) > 0 {
		cfg.EndpointParams = url.Values{}
		for _, a := range aud {
			cfg.EndpointParams.Add("audience", toString(a))
		}
	}
	cacheKey := tokenURL + "\x00" + id + "\x00" + strings.Join(cfg.Scopes, " ")
	st := x.httpState
	st.mu.Lock()
	if t, ok := st.tokens[cacheKey]; ok && t.Valid() {
		st.mu.Unlock()
		return t.AccessToken, nil
	}
	st.mu.Unlock()
	tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, httpClient))
	if err != nil {
		if ctx.Err() != nil {
			return "", context.Cause(ctx)
		}
		return "", faultf(ErrAuthentication, 401, "OAuth2 token not obtained", "the token endpoint %s refused or failed: %s", redactURL(tokenURL), x.red.redact(err.Error()))
	}
	st.mu.Lock()
	st.tokens[cacheKey] = tok
	st.mu.Unlock()
	return tok.AccessToken, nil
}

func (x *execution) discoverTokenEndpoint(ctx context.Context, client *http.Client, authority string) (string, error) {
	u, err := url.Parse(authority + "/.well-known/openid-configuration")
	if err != nil {
		return "", faultf(ErrConfiguration, 400, "Invalid OIDC authority", "authority %q is not a URL", authority)
	}
	v, err := x.send(ctx, &outgoing{method: http.MethodGet, url: u, header: http.Header{}, output: "content"}, nil, nil)
	if err != nil {
		return "", err
	}
	m, _ := v.(map[string]any)
	te, _ := m["token_endpoint"].(string)
	if te == "" {
		return "", faultf(ErrAuthentication, 401, "OIDC discovery failed", "the OpenID configuration of %s has no token_endpoint", redactURL(authority))
	}
	return te, nil
}

func toAnyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}
