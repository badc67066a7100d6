package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// callOpenAPI fetches the OpenAPI 3 or Swagger 2.0 document, finds the
// operation by operationId and sends the request it describes.
func (x *execution) callOpenAPI(ctx context.Context, o *dsl.OpenAPICall, in any, env *evalEnv) (any, error) {
	doc, err := x.openAPIDocument(ctx, o.Document, in, env)
	if err != nil {
		return nil, err
	}
	method, path, pathItem, op := findOperation(doc.doc, o.OperationID)
	if op == nil {
		return nil, faultf(ErrConfiguration, 400, "Unknown operation", "the OpenAPI document has no operation %s", o.OperationID)
	}
	params := map[string]any{}
	if o.Parameters != nil {
		v, err := x.evalTemplate(ctx, o.Parameters, in, env)
		if err != nil {
			return nil, err
		}
		if m, ok := v.(map[string]any); ok {
			params = m
		}
	}
	base, err := serverURL(doc)
	if err != nil {
		return nil, err
	}
	req := &outgoing{method: method, header: http.Header{}, output: o.Output, redirect: o.Redirect, auth: o.Auth}
	query := url.Values{}
	all := append(append(openapi3.Parameters{}, pathItem.Parameters...), op.Parameters...)
	for _, pr := range all {
		p := pr.Value
		if p == nil {
			continue
		}
		v, ok := params[p.Name]
		if !ok || v == nil {
			if p.Required {
				return nil, faultf(ErrValidation, 400, "Missing parameter", "operation %s needs parameter %s (in %s)", o.OperationID, p.Name, p.In)
			}
			continue
		}
		switch p.In {
		case openapi3.ParameterInPath:
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(toString(v)))
		case openapi3.ParameterInQuery:
			if l, isList := v.([]any); isList {
				for _, e := range l {
					query.Add(p.Name, toString(e))
				}
			} else {
				query.Set(p.Name, toString(v))
			}
		case openapi3.ParameterInHeader:
			req.header.Set(p.Name, toString(v))
		case openapi3.ParameterInCookie:
			req.header.Add("Cookie", p.Name+"="+url.QueryEscape(toString(v)))
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		name := "body"
		if n, ok := rb.Value.Extensions["x-originalParamName"].(string); ok && n != "" {
			name = n
		}
		if v, ok := params[name]; ok {
			req.body, req.hasBody = v, true
			if rb.Value.Content.Get("application/json") == nil && len(rb.Value.Content) > 0 {
				for _, ct := range sortedContentTypes(rb.Value.Content) {
					req.header.Set("Content-Type", ct)
					break
				}
			}
		} else if rb.Value.Required {
			return nil, faultf(ErrValidation, 400, "Missing body", "operation %s needs a request body: pass it as parameter %s", o.OperationID, name)
		}
	}
	u, err := base.Parse(strings.TrimRight(base.Path, "/") + path)
	if err != nil {
		return nil, faultf(ErrConfiguration, 400, "Invalid operation path", "operation %s has an invalid path: %v", o.OperationID, err)
	}
	u.RawQuery = query.Encode()
	req.url = u
	return x.send(ctx, req, in, env)
}

func sortedContentTypes(c openapi3.Content) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func findOperation(doc *openapi3.T, id string) (method, path string, item *openapi3.PathItem, op *openapi3.Operation) {
	if doc.Paths == nil {
		return "", "", nil, nil
	}
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range keys {
		pi := paths[p]
		for m, o := range pi.Operations() {
			if o.OperationID == id {
				return m, p, pi, o
			}
		}
	}
	return "", "", nil, nil
}

// serverURL is the document's first server, with variables at their
// defaults and relative URLs resolved against the document's location.
func serverURL(d *openapiDoc) (*url.URL, error) {
	raw := ""
	if len(d.doc.Servers) > 0 && d.doc.Servers[0] != nil {
		s := d.doc.Servers[0]
		raw = s.URL
		for name, v := range s.Variables {
			if v != nil {
				raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
			}
		}
	}
	u, err := d.base.Parse(raw)
	if err != nil {
		return nil, faultf(ErrConfiguration, 400, "Invalid server", "the OpenAPI document's server URL %q is invalid", raw)
	}
	if raw == "" {
		u.Path = "/"
	}
	return u, nil
}

// openAPIDocument fetches and parses the document, once per execution.
func (x *execution) openAPIDocument(ctx context.Context, ep *dsl.Endpoint, in any, env *evalEnv) (*openapiDoc, error) {
	u, err := x.endpointURL(ctx, ep, in, env)
	if err != nil {
		return nil, err
	}
	key := u.String()
	st := x.httpState
	st.mu.Lock()
	if d, ok := st.docs[key]; ok {
		st.mu.Unlock()
		return d, nil
	}
	st.mu.Unlock()
	v, err := x.send(ctx, &outgoing{method: http.MethodGet, url: u, header: http.Header{"Accept": {"application/json, application/yaml;q=0.9"}},
		output: "bytes", auth: ep.Auth}, in, env)
	if err != nil {
		return nil, err
	}
	data, _ := v.([]byte)
	doc, err := parseOpenAPI(data)
	if err != nil {
		return nil, faultf(ErrConfiguration, 400, "Invalid OpenAPI document", "%s is not a valid OpenAPI 3 or Swagger 2.0 document: %v", redactURL(key), err)
	}
	d := &openapiDoc{doc: doc, base: u}
	st.mu.Lock()
	st.docs[key] = d
	st.mu.Unlock()
	return d, nil
}

// parseOpenAPI reads an OpenAPI 3 document, or a Swagger 2.0 one and
// converts it to OpenAPI 3. External references are not followed.
func parseOpenAPI(data []byte) (*openapi3.T, error) {
	var probe map[string]any
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return nil, err
	}
	if v, ok := probe["swagger"]; ok {
		if s := fmt.Sprint(v); !strings.HasPrefix(s, "2") {
			return nil, fmt.Errorf("swagger version %s is not supported", s)
		}
		js := data
		if !json.Valid(data) {
			var err error
			if js, err = json.Marshal(probe); err != nil {
				return nil, err
			}
		}
		var d2 openapi2.T
		if err := json.Unmarshal(js, &d2); err != nil {
			return nil, err
		}
		return openapi2conv.ToV3(&d2)
	}
	if _, ok := probe["openapi"]; !ok {
		return nil, fmt.Errorf("neither openapi nor swagger is set")
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	return loader.LoadFromData(data)
}
