package dsl

import (
	"strings"

	"gopkg.in/yaml.v3"
)

func (p *parser) call(fn, with *yaml.Node, path string, scope []string, use *Use) *Call {
	name := p.str(fn, join(path, "call"))
	c := &Call{Function: name}
	wp := join(path, "with")
	switch name {
	case "":
		return c
	case "grpc", "asyncapi", "mcp", "a2a":
		p.errorf(fn, join(path, "call"), "task kind call %s is not supported", name)
		return nil
	case "http":
		if with == nil {
			p.errorf(fn, wp, "required property is missing")
			return c
		}
		c.HTTP = p.httpCall(with, wp, scope)
	case "openapi":
		if with == nil {
			p.errorf(fn, wp, "required property is missing")
			return c
		}
		c.OpenAPI = p.openAPICall(with, wp, scope)
	default:
		if strings.Contains(name, "://") || strings.Contains(name, "@") {
			p.errorf(fn, join(path, "call"), "task kind call of a remote catalog function (%s) is not supported: call a function of Vigil's catalog by its dotted name", name)
			return nil
		}
		if with != nil {
			if resolve(with).Kind != yaml.MappingNode {
				p.errorf(with, wp, "expected object")
				return c
			}
			c.With = p.template(with, wp, scope)
		}
	}
	return c
}

func (p *parser) httpCall(n *yaml.Node, path string, scope []string) *HTTPCall {
	h := &HTTPCall{Output: "content"}
	fs, ok := p.fields(n, path)
	if !ok {
		return h
	}
	p.allowed(fs, path, "method", "endpoint", "headers", "body", "query", "output", "redirect")
	if m := get(fs, "method"); m != nil {
		h.Method = strings.ToUpper(p.str(m, join(path, "method")))
	} else {
		p.errorf(n, join(path, "method"), "required property is missing")
	}
	if e := get(fs, "endpoint"); e != nil {
		h.Endpoint = p.endpoint(e, join(path, "endpoint"), scope)
	} else {
		p.errorf(n, join(path, "endpoint"), "required property is missing")
	}
	if v := get(fs, "headers"); v != nil {
		h.Headers = p.stringMapOrExpr(v, join(path, "headers"), scope)
	}
	if v := get(fs, "query"); v != nil {
		h.Query = p.stringMapOrExpr(v, join(path, "query"), scope)
	}
	if v := get(fs, "body"); v != nil {
		h.Body = p.template(v, join(path, "body"), scope)
	}
	if v := get(fs, "output"); v != nil {
		h.Output = p.outputFormat(v, join(path, "output"))
	}
	if v := get(fs, "redirect"); v != nil {
		h.Redirect = p.boolean(v, join(path, "redirect"))
	}
	return h
}

func (p *parser) outputFormat(n *yaml.Node, path string) string {
	s := p.str(n, path)
	switch s {
	case "content", "response", "raw":
	default:
		if s != "" {
			p.errorf(n, path, "expected content, response or raw")
		}
	}
	return s
}

// stringMapOrExpr reads headers and query: an object of strings or a
// runtime expression producing one.
func (p *parser) stringMapOrExpr(n *yaml.Node, path string, scope []string) *Template {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		if src, ok := IsExpr(n.Value); ok {
			return &Template{Value: p.compile(n, path, src, scope)}
		}
	}
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected an object of strings or a runtime expression")
		return nil
	}
	for i := 1; i < len(n.Content); i += 2 {
		// The schema wants strings: a number must be quoted ('5').
		v := resolve(n.Content[i])
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			p.errorf(v, join(path, n.Content[i-1].Value), "expected string")
		}
	}
	return p.template(n, path, scope)
}

func (p *parser) endpoint(n *yaml.Node, path string, scope []string) *Endpoint {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		return &Endpoint{URI: p.uriTemplate(n, path, scope)}
	}
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	p.allowed(fs, path, "uri", "authentication")
	e := &Endpoint{}
	if u := get(fs, "uri"); u != nil {
		e.URI = p.uriTemplate(u, join(path, "uri"), scope)
	} else {
		p.errorf(n, join(path, "uri"), "required property is missing")
	}
	if a := get(fs, "authentication"); a != nil {
		e.Auth = p.authRef(a, join(path, "authentication"))
	}
	return e
}

func (p *parser) uriTemplate(n *yaml.Node, path string, scope []string) *Template {
	s := p.str(n, path)
	if s == "" {
		return nil
	}
	if src, ok := IsExpr(s); ok {
		return &Template{Value: p.compile(n, path, src, scope)}
	}
	if !uriPattern.MatchString(s) {
		p.errorf(n, path, "expected an absolute URI such as https://example.com/path")
	}
	return &Template{Value: s, Static: true}
}

func (p *parser) openAPICall(n *yaml.Node, path string, scope []string) *OpenAPICall {
	o := &OpenAPICall{Output: "content"}
	fs, ok := p.fields(n, path)
	if !ok {
		return o
	}
	p.allowed(fs, path, "document", "operationId", "parameters", "authentication", "output", "redirect")
	if d := get(fs, "document"); d != nil {
		dp := join(path, "document")
		dfs, ok := p.fields(d, dp)
		if ok {
			p.allowed(dfs, dp, "name", "endpoint")
			if e := get(dfs, "endpoint"); e != nil {
				o.Document = p.endpoint(e, join(dp, "endpoint"), scope)
			} else {
				p.errorf(d, join(dp, "endpoint"), "required property is missing")
			}
			if nm := get(dfs, "name"); nm != nil {
				p.str(nm, join(dp, "name"))
			}
		}
	} else {
		p.errorf(n, join(path, "document"), "required property is missing")
	}
	if v := get(fs, "operationId"); v != nil {
		o.OperationID = p.str(v, join(path, "operationId"))
	} else {
		p.errorf(n, join(path, "operationId"), "required property is missing")
	}
	if v := get(fs, "parameters"); v != nil {
		if resolve(v).Kind != yaml.MappingNode {
			p.errorf(v, join(path, "parameters"), "expected object")
		} else {
			o.Parameters = p.template(v, join(path, "parameters"), scope)
		}
	}
	if v := get(fs, "authentication"); v != nil {
		o.Auth = p.authRef(v, join(path, "authentication"))
	}
	if v := get(fs, "output"); v != nil {
		o.Output = p.outputFormat(v, join(path, "output"))
	}
	if v := get(fs, "redirect"); v != nil {
		o.Redirect = p.boolean(v, join(path, "redirect"))
	}
	return o
}

func (p *parser) authRef(n *yaml.Node, path string) *AuthRef {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	if u := get(fs, "use"); u != nil && len(fs) == 1 {
		return &AuthRef{Use: p.str(u, join(path, "use"))}
	}
	return &AuthRef{Policy: p.authPolicy(n, path)}
}

// secretOr reads an authentication that either names a secret (use) or
// gives its own fields, keys: it returns the secret's name, or reports
// inline after checking that only keys are there, for the caller to read.
func (p *parser) secretOr(fs []field, path string, keys ...string) (use string, inline bool) {
	if u := get(fs, "use"); u != nil {
		p.allowed(fs, path, "use")
		return p.str(u, join(path, "use")), false
	}
	p.allowed(fs, path, keys...)
	return "", true
}

func (p *parser) authPolicy(n *yaml.Node, path string) *AuthPolicy {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	if len(fs) != 1 {
		p.errorf(n, path, "expected exactly one of basic, bearer, oauth2, oidc")
		return nil
	}
	f := fs[0]
	fp := join(path, f.key)
	ap := &AuthPolicy{}
	switch f.key {
	case "basic":
		b := &BasicAuth{}
		bfs, ok := p.fields(f.v, fp)
		if !ok {
			return nil
		}
		var inline bool
		if b.Use, inline = p.secretOr(bfs, fp, "username", "password"); inline {
			b.Username = p.requiredTemplate(bfs, f.v, fp, "username")
			b.Password = p.requiredTemplate(bfs, f.v, fp, "password")
		}
		ap.Basic = b
	case "bearer":
		b := &BearerAuth{}
		bfs, ok := p.fields(f.v, fp)
		if !ok {
			return nil
		}
		var inline bool
		if b.Use, inline = p.secretOr(bfs, fp, "token"); inline {
			b.Token = p.requiredTemplate(bfs, f.v, fp, "token")
		}
		ap.Bearer = b
	case "oauth2", "oidc":
		o := p.oauth2(f.v, fp, f.key == "oidc")
		if f.key == "oidc" {
			ap.OIDC = o
		} else {
			ap.OAuth2 = o
		}
	case "digest", "certificate":
		p.errorf(f.k, fp, "%s authentication is not supported", f.key)
		return nil
	default:
		p.errorf(f.k, fp, "unknown authentication scheme: expected basic, bearer, oauth2 or oidc")
		return nil
	}
	return ap
}

func (p *parser) requiredTemplate(fs []field, parent *yaml.Node, path, key string) *Template {
	v := get(fs, key)
	if v == nil {
		p.errorf(parent, join(path, key), "required property is missing")
		return nil
	}
	p.str(v, join(path, key))
	return p.template(v, join(path, key), nil)
}

func (p *parser) oauth2(n *yaml.Node, path string, oidc bool) *OAuth2Auth {
	o := &OAuth2Auth{Grant: "client_credentials", TokenPath: "/oauth2/token", Encoding: "application/x-www-form-urlencoded"} //nolint:gosec // G101: defaults, no credential
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	if u := get(fs, "use"); u != nil {
		p.allowed(fs, path, "use")
		o.Use = p.str(u, join(path, "use"))
		return o
	}
	keys := []string{"authority", "grant", "client", "request", "issuers", "scopes", "audiences", "username", "password", "subject", "actor"}
	if !oidc {
		keys = append(keys, "endpoints")
	}
	p.allowed(fs, path, keys...)
	if a := get(fs, "authority"); a != nil {
		o.Authority = p.uriTemplate(a, join(path, "authority"), nil)
	} else {
		p.errorf(n, join(path, "authority"), "required property is missing")
	}
	if g := get(fs, "grant"); g != nil {
		o.Grant = p.str(g, join(path, "grant"))
	}
	if o.Grant != "client_credentials" {
		p.errorf(get(fs, "grant"), join(path, "grant"), "OAuth2 grant %s is not supported: use client_credentials", o.Grant)
	}
	if c := get(fs, "client"); c != nil {
		cp := join(path, "client")
		cfs, ok := p.fields(c, cp)
		if ok {
			p.allowed(cfs, cp, "id", "secret", "assertion", "authentication")
			for _, k := range []string{"id", "secret"} {
				if v := get(cfs, k); v != nil {
					p.str(v, join(cp, k))
				}
			}
			if a := get(cfs, "authentication"); a != nil {
				switch v := p.str(a, join(cp, "authentication")); v {
				case "client_secret_basic", "client_secret_post":
				default:
					p.errorf(a, join(cp, "authentication"), "client authentication %s is not supported: use client_secret_post or client_secret_basic", v)
				}
			}
			if a := get(cfs, "assertion"); a != nil {
				p.errorf(a, join(cp, "assertion"), "client assertions are not supported")
			}
		}
		o.Client = p.template(c, cp, nil)
	} else {
		p.errorf(n, join(path, "client"), "required property is missing")
	}
	if e := get(fs, "endpoints"); e != nil {
		ep := join(path, "endpoints")
		efs, ok := p.fields(e, ep)
		if ok {
			p.allowed(efs, ep, "token", "revocation", "introspection")
			if t := get(efs, "token"); t != nil {
				o.TokenPath = p.str(t, join(ep, "token"))
			}
			for _, k := range []string{"revocation", "introspection"} {
				if v := get(efs, k); v != nil {
					p.str(v, join(ep, k))
				}
			}
		}
	}
	if r := get(fs, "request"); r != nil {
		rp := join(path, "request")
		rfs, ok := p.fields(r, rp)
		if ok {
			p.allowed(rfs, rp, "encoding")
			if e := get(rfs, "encoding"); e != nil {
				o.Encoding = p.str(e, join(rp, "encoding"))
				switch o.Encoding {
				case "application/x-www-form-urlencoded":
				case "application/json":
					p.errorf(e, join(rp, "encoding"), "JSON-encoded token requests are not supported: use application/x-www-form-urlencoded")
				default:
					p.errorf(e, join(rp, "encoding"), "expected application/x-www-form-urlencoded")
				}
			}
		}
	}
	if s := get(fs, "scopes"); s != nil {
		o.Scopes = p.stringList(s, join(path, "scopes"))
	}
	if s := get(fs, "audiences"); s != nil {
		o.Audiences = p.stringList(s, join(path, "audiences"))
	}
	for _, k := range []string{"username", "password", "subject", "actor"} {
		if v := get(fs, k); v != nil {
			p.errorf(v, join(path, k), "%s is used only by OAuth2 grants Vigil does not support", k)
		}
	}
	return o
}
