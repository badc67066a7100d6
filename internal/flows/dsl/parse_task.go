package dsl

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// kindKeys are the properties that decide a task's kind.
var kindKeys = []string{"call", "do", "fork", "emit", "for", "listen", "raise", "run", "set", "switch", "try", "wait"}

var baseKeys = []string{"if", "input", "output", "export", "timeout", "then", "metadata"}

func (p *parser) taskList(n *yaml.Node, path string, scope []string, use *Use) TaskList {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected a list of named tasks")
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, path, "expected at least one task")
		return nil
	}
	list := make(TaskList, 0, len(n.Content))
	names := map[string]bool{}
	for i, item := range n.Content {
		ip := index(path, i)
		item = resolve(item)
		if item == nil || item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			p.errorf(item, ip, "expected an object with exactly one task name")
			continue
		}
		k, v := item.Content[0], item.Content[1]
		name := k.Value
		tp := join(ip, name)
		if k.Tag != "!!str" || name == "" {
			p.errorf(k, ip, "task name must be a string")
			continue
		}
		if names[name] {
			p.errorf(k, tp, "duplicate task name %s", name)
		}
		names[name] = true
		if name == DirectiveContinue || name == DirectiveExit || name == DirectiveEnd {
			p.errorf(k, tp, "task name %s is a flow directive", name)
		}
		t := p.task(v, tp, scope, use)
		if t == nil {
			continue
		}
		t.Line = k.Line
		list = append(list, &NamedTask{Name: name, Task: t})
	}
	// then targets must be in the same list (the specification forbids
	// jumping to another depth).
	for i, nt := range list {
		tp := join(index(path, i), nt.Name)
		p.checkDirective(list, nt.Task.Then, tp+".then", nt.Task.Line)
		for j, c := range nt.Task.Switch {
			p.checkDirective(list, c.Then, fmt.Sprintf("%s.switch[%d].%s.then", tp, j, c.Name), nt.Task.Line)
		}
	}
	return list
}

func (p *parser) checkDirective(list TaskList, then, path string, line int) {
	switch then {
	case "", DirectiveContinue, DirectiveExit, DirectiveEnd:
		return
	}
	if list.Index(then) < 0 {
		p.problems = append(p.problems, Problem{Path: path, Line: line, Msg: fmt.Sprintf("then refers to task %s, which is not in the same task list", then)})
	}
}

func (p *parser) task(n *yaml.Node, path string, scope []string, use *Use) *Task {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	var present []string
	for _, k := range kindKeys {
		if get(fs, k) != nil {
			present = append(present, k)
		}
	}
	kind := ""
	switch {
	case contains(present, "for"):
		kind = "for"
	case contains(present, "try"):
		kind = "try"
	case len(present) == 1:
		kind = present[0]
	case len(present) == 0:
		keys := make([]string, 0, len(fs))
		for _, f := range fs {
			keys = append(keys, f.key)
		}
		sort.Strings(keys)
		p.errorf(n, path, "unknown task kind: expected one of call, do, emit, for, fork, raise, run, set, switch, try, wait (found %s)", strings.Join(keys, ", "))
		return nil
	default:
		p.errorf(n, path, "a task has exactly one kind, found %s", strings.Join(present, " and "))
		return nil
	}
	if kind == "listen" {
		p.errorf(n, path, "task kind listen is not supported")
		return nil
	}

	t := &Task{Kind: Kind(kind)}
	if def, ok := p.raw(n, path).(map[string]any); ok {
		t.Definition = def
	}
	var kindSpecific []string
	switch t.Kind {
	case KindCall:
		kindSpecific = []string{"call", "with"}
	case KindFor:
		kindSpecific = []string{"for", "while", "do"}
	case KindTry:
		kindSpecific = []string{"try", "catch"}
	default:
		kindSpecific = []string{kind}
	}
	p.allowed(fs, path, append(append([]string{}, baseKeys...), kindSpecific...)...)

	// Base properties.
	if v := get(fs, "if"); v != nil {
		t.If = p.strictExpr(v, join(path, "if"), scope)
	}
	if v := get(fs, "input"); v != nil {
		t.Input = p.input(v, join(path, "input"), scope)
	}
	if v := get(fs, "output"); v != nil {
		t.Output = p.output(v, join(path, "output"), scope)
	}
	if v := get(fs, "export"); v != nil {
		t.Export = p.export(v, join(path, "export"), scope)
	}
	if v := get(fs, "timeout"); v != nil {
		t.Timeout = p.timeout(v, join(path, "timeout"), use)
	}
	if v := get(fs, "then"); v != nil {
		t.Then = p.str(v, join(path, "then"))
	}
	if v := get(fs, "metadata"); v != nil {
		t.Metadata, _ = p.object(v, join(path, "metadata"))
	}

	kp := join(path, kind)
	kn := get(fs, kind)
	switch t.Kind {
	case KindCall:
		t.Call = p.call(kn, get(fs, "with"), path, scope, use)
	case KindDo:
		t.Do = p.taskList(kn, kp, scope, use)
	case KindFork:
		t.Fork = p.fork(kn, kp, scope, use)
	case KindEmit:
		t.Emit = p.emit(kn, kp, scope)
	case KindFor:
		t.For, t.Do = p.forTask(fs, path, scope, use, t.Metadata)
	case KindRaise:
		t.Raise = p.raise(kn, kp, scope, use)
	case KindRun:
		t.Run = p.run(kn, kp, scope)
	case KindSet:
		kn = resolve(kn)
		if kn != nil && kn.Kind == yaml.ScalarNode && kn.Tag == "!!str" {
			if src, ok := IsExpr(kn.Value); ok {
				t.Set = &Template{Value: p.compile(kn, kp, src, scope)}
				break
			}
			p.errorf(kn, kp, "expected an object or a runtime expression")
			break
		}
		if kn == nil || kn.Kind != yaml.MappingNode || len(kn.Content) == 0 {
			p.errorf(kn, kp, "expected a non-empty object or a runtime expression")
			break
		}
		t.Set = p.template(kn, kp, scope)
	case KindSwitch:
		t.Switch = p.switchCases(kn, kp, scope)
	case KindTry:
		t.Try = p.try(fs, path, scope, use)
	case KindWait:
		t.Wait = p.duration(kn, kp, scope)
	}
	if t.Kind != KindFor {
		if c, ok := t.Metadata["vigil"].(map[string]any); ok {
			if _, has := c["concurrency"]; has {
				p.errorf(get(fs, "metadata"), join(path, "metadata.vigil.concurrency"), "concurrency applies to for tasks only")
			}
		}
	}
	return t
}

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
		v := resolve(n.Content[i])
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
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
		if u := get(bfs, "use"); u != nil {
			p.allowed(bfs, fp, "use")
			b.Use = p.str(u, join(fp, "use"))
		} else {
			p.allowed(bfs, fp, "username", "password")
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
		if u := get(bfs, "use"); u != nil {
			p.allowed(bfs, fp, "use")
			b.Use = p.str(u, join(fp, "use"))
		} else {
			p.allowed(bfs, fp, "token")
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
	o := &OAuth2Auth{Grant: "client_credentials", TokenPath: "/oauth2/token", Encoding: "application/x-www-form-urlencoded"}
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

func (p *parser) fork(n *yaml.Node, path string, scope []string, use *Use) *Fork {
	f := &Fork{}
	fs, ok := p.fields(n, path)
	if !ok {
		return f
	}
	p.allowed(fs, path, "branches", "compete")
	if b := get(fs, "branches"); b != nil {
		f.Branches = p.taskList(b, join(path, "branches"), scope, use)
	} else {
		p.errorf(n, join(path, "branches"), "required property is missing")
	}
	if c := get(fs, "compete"); c != nil {
		f.Compete = p.boolean(c, join(path, "compete"))
	}
	return f
}

func (p *parser) emit(n *yaml.Node, path string, scope []string) *Emit {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	p.allowed(fs, path, "event")
	ev := get(fs, "event")
	if ev == nil {
		p.errorf(n, join(path, "event"), "required property is missing")
		return nil
	}
	ep := join(path, "event")
	efs, ok := p.fields(ev, ep)
	if !ok {
		return nil
	}
	p.allowed(efs, ep, "with")
	with := get(efs, "with")
	if with == nil {
		p.errorf(ev, join(ep, "with"), "required property is missing")
		return nil
	}
	wp := join(ep, "with")
	wfs, ok := p.fields(with, wp)
	if !ok {
		return nil
	}
	for _, req := range []string{"source", "type"} {
		if get(wfs, req) == nil {
			p.errorf(with, join(wp, req), "required property is missing")
		}
	}
	for _, f := range wfs {
		switch f.key {
		case "id", "source", "type", "time", "subject", "datacontenttype", "dataschema":
			p.str(f.v, join(wp, f.key))
		}
	}
	return &Emit{Event: p.template(with, wp, scope)}
}

func (p *parser) forTask(fs []field, path string, scope []string, use *Use, meta map[string]any) (*For, TaskList) {
	f := &For{Each: "item", At: "index"}
	fp := join(path, "for")
	ffs, ok := p.fields(get(fs, "for"), fp)
	if ok {
		p.allowed(ffs, fp, "each", "in", "at")
		if v := get(ffs, "each"); v != nil {
			f.Each = p.varName(v, join(fp, "each"))
		}
		if v := get(ffs, "at"); v != nil {
			f.At = p.varName(v, join(fp, "at"))
		}
		inner := append(append([]string{}, scope...), "$"+f.Each, "$"+f.At)
		if v := get(ffs, "in"); v != nil {
			f.In = p.strictExpr(v, join(fp, "in"), scope)
		} else {
			p.errorf(get(fs, "for"), join(fp, "in"), "required property is missing")
		}
		if v := get(fs, "while"); v != nil {
			f.While = p.strictExpr(v, join(path, "while"), inner)
		}
		scope = inner
	}
	if c, ok := meta["vigil"].(map[string]any); ok {
		if v, has := c["concurrency"]; has {
			n, isInt := v.(int)
			if !isInt || n < 1 || n > 64 {
				p.errorf(nil, join(path, "metadata.vigil.concurrency"), "expected an integer from 1 to 64")
			} else {
				f.Concurrency = n
			}
			if f.While != nil && f.Concurrency > 1 {
				p.errorf(nil, join(path, "metadata.vigil.concurrency"), "concurrency cannot be combined with while, which needs iterations in order")
			}
		}
	}
	var body TaskList
	if d := get(fs, "do"); d != nil {
		body = p.taskList(d, join(path, "do"), scope, use)
	} else {
		p.errorf(get(fs, "for"), join(path, "do"), "required property is missing")
	}
	return f, body
}

func (p *parser) varName(n *yaml.Node, path string) string {
	s := strings.TrimPrefix(p.str(n, path), "$")
	if s != "" && !varPattern.MatchString(s) {
		p.errorf(n, path, "expected a variable name (letters, digits, underscore)")
	}
	for _, std := range StandardVars {
		if "$"+s == std {
			p.errorf(n, path, "variable name %s is reserved", s)
		}
	}
	return s
}

func (p *parser) raise(n *yaml.Node, path string, scope []string, use *Use) *Raise {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	p.allowed(fs, path, "error")
	e := get(fs, "error")
	if e == nil {
		p.errorf(n, join(path, "error"), "required property is missing")
		return nil
	}
	ep := join(path, "error")
	if resolve(e).Kind == yaml.ScalarNode {
		name := p.str(e, ep)
		if use == nil || use.Errors[name] == nil {
			p.errorf(e, ep, "error %s is not defined under use.errors", name)
		}
		return &Raise{Ref: name}
	}
	return &Raise{Error: p.errorDef(e, ep, scope)}
}

func (p *parser) errorDef(n *yaml.Node, path string, scope []string) *ErrorDef {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	p.allowed(fs, path, "type", "status", "instance", "title", "detail")
	for _, req := range []string{"type", "status"} {
		if get(fs, req) == nil {
			p.errorf(n, join(path, req), "required property is missing")
		}
	}
	for _, f := range fs {
		if f.key == "status" {
			if f.v.Tag == "!!str" {
				if _, ok := IsExpr(f.v.Value); ok {
					continue
				}
			}
			p.integer(f.v, join(path, f.key))
		} else {
			p.str(f.v, join(path, f.key))
		}
	}
	return &ErrorDef{Fields: p.template(n, path, scope)}
}

func (p *parser) run(n *yaml.Node, path string, scope []string) *Run {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	r := &Run{Await: true}
	for _, k := range []string{"container", "shell", "script"} {
		if v := get(fs, k); v != nil {
			p.errorf(v, join(path, k), "task kind run %s is not supported", k)
			return nil
		}
	}
	p.allowed(fs, path, "workflow", "await", "return")
	if a := get(fs, "await"); a != nil {
		r.Await = p.boolean(a, join(path, "await"))
	}
	if rv := get(fs, "return"); rv != nil {
		p.str(rv, join(path, "return"))
	}
	wn := get(fs, "workflow")
	if wn == nil {
		p.errorf(n, path, "expected workflow")
		return nil
	}
	wp := join(path, "workflow")
	wfs, ok := p.fields(wn, wp)
	if !ok {
		return nil
	}
	p.allowed(wfs, wp, "namespace", "name", "version", "input")
	rw := &RunWorkflow{Version: "latest"}
	for _, req := range []string{"namespace", "name", "version"} {
		if get(wfs, req) == nil {
			p.errorf(wn, join(wp, req), "required property is missing")
		}
	}
	if v := get(wfs, "namespace"); v != nil {
		rw.Namespace = p.str(v, join(wp, "namespace"))
	}
	if v := get(wfs, "name"); v != nil {
		rw.Name = p.str(v, join(wp, "name"))
	}
	if v := get(wfs, "version"); v != nil {
		rw.Version = p.str(v, join(wp, "version"))
	}
	if v := get(wfs, "input"); v != nil {
		if resolve(v).Kind != yaml.MappingNode {
			p.errorf(v, join(wp, "input"), "expected object")
		} else {
			rw.Input = p.template(v, join(wp, "input"), scope)
		}
	}
	r.Workflow = rw
	return r
}

func (p *parser) switchCases(n *yaml.Node, path string, scope []string) []*SwitchCase {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, path, "expected a non-empty list of cases")
		return nil
	}
	var cases []*SwitchCase
	for i, item := range n.Content {
		ip := index(path, i)
		item = resolve(item)
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			p.errorf(item, ip, "expected an object with exactly one case name")
			continue
		}
		name := item.Content[0].Value
		cp := join(ip, name)
		fs, ok := p.fields(item.Content[1], cp)
		if !ok {
			continue
		}
		p.allowed(fs, cp, "when", "then")
		c := &SwitchCase{Name: name}
		if w := get(fs, "when"); w != nil {
			c.When = p.strictExpr(w, join(cp, "when"), scope)
		}
		if t := get(fs, "then"); t != nil {
			c.Then = p.str(t, join(cp, "then"))
		} else {
			p.errorf(item.Content[1], join(cp, "then"), "required property is missing")
		}
		cases = append(cases, c)
	}
	return cases
}

func (p *parser) try(fs []field, path string, scope []string, use *Use) *Try {
	t := &Try{}
	t.Do = p.taskList(get(fs, "try"), join(path, "try"), scope, use)
	cn := get(fs, "catch")
	cp := join(path, "catch")
	if cn == nil {
		p.errorf(get(fs, "try"), cp, "required property is missing")
		return t
	}
	cfs, ok := p.fields(cn, cp)
	if !ok {
		return t
	}
	p.allowed(cfs, cp, "errors", "as", "when", "exceptWhen", "retry", "do")
	c := &Catch{As: "error"}
	if a := get(cfs, "as"); a != nil {
		c.As = p.varName(a, join(cp, "as"))
	}
	inner := append(append([]string{}, scope...), "$"+c.As)
	if e := get(cfs, "errors"); e != nil {
		c.Errors = p.errorFilter(e, join(cp, "errors"))
	}
	if w := get(cfs, "when"); w != nil {
		c.When = p.strictExpr(w, join(cp, "when"), inner)
	}
	if w := get(cfs, "exceptWhen"); w != nil {
		c.ExceptWhen = p.strictExpr(w, join(cp, "exceptWhen"), inner)
	}
	if r := get(cfs, "retry"); r != nil {
		rp := join(cp, "retry")
		if resolve(r).Kind == yaml.ScalarNode {
			c.RetryRef = p.str(r, rp)
			if use == nil || use.Retries[c.RetryRef] == nil {
				p.errorf(r, rp, "retry policy %s is not defined under use.retries", c.RetryRef)
			} else {
				c.Retry = use.Retries[c.RetryRef]
			}
		} else {
			c.Retry = p.retryPolicy(r, rp, inner)
		}
	}
	if d := get(cfs, "do"); d != nil {
		c.Do = p.taskList(d, join(cp, "do"), inner, use)
	}
	t.Catch = c
	return t
}

func (p *parser) errorFilter(n *yaml.Node, path string) *ErrorFilter {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	p.allowed(fs, path, "with")
	w := get(fs, "with")
	if w == nil {
		return nil
	}
	wp := join(path, "with")
	wfs, ok := p.fields(w, wp)
	if !ok {
		return nil
	}
	p.allowed(wfs, wp, "type", "status", "instance", "title", "details", "detail")
	if len(wfs) == 0 {
		p.errorf(w, wp, "expected at least one property")
	}
	f := &ErrorFilter{}
	for _, x := range wfs {
		xp := join(wp, x.key)
		switch x.key {
		case "type":
			f.Type = p.str(x.v, xp)
		case "status":
			f.Status = p.integer(x.v, xp)
		case "instance":
			f.Instance = p.str(x.v, xp)
		case "title":
			f.Title = p.str(x.v, xp)
		case "details", "detail":
			f.Detail = p.str(x.v, xp)
		}
	}
	return f
}

func (p *parser) retryPolicy(n *yaml.Node, path string, scope []string) *RetryPolicy {
	r := &RetryPolicy{Backoff: "constant"}
	fs, ok := p.fields(n, path)
	if !ok {
		return r
	}
	p.allowed(fs, path, "when", "exceptWhen", "delay", "backoff", "limit", "jitter")
	if w := get(fs, "when"); w != nil {
		r.When = p.strictExpr(w, join(path, "when"), scope)
	}
	if w := get(fs, "exceptWhen"); w != nil {
		r.ExceptWhen = p.strictExpr(w, join(path, "exceptWhen"), scope)
	}
	if d := get(fs, "delay"); d != nil {
		r.Delay = p.duration(d, join(path, "delay"), nil)
	}
	if b := get(fs, "backoff"); b != nil {
		bp := join(path, "backoff")
		bfs, ok := p.fields(b, bp)
		if ok {
			p.allowed(bfs, bp, "constant", "linear", "exponential")
			if len(bfs) != 1 {
				p.errorf(b, bp, "expected exactly one of constant, linear, exponential")
			} else {
				r.Backoff = bfs[0].key
				p.fields(bfs[0].v, join(bp, bfs[0].key))
			}
		}
	}
	if l := get(fs, "limit"); l != nil {
		lp := join(path, "limit")
		lfs, ok := p.fields(l, lp)
		if ok {
			p.allowed(lfs, lp, "attempt", "duration")
			if a := get(lfs, "attempt"); a != nil {
				ap := join(lp, "attempt")
				afs, ok := p.fields(a, ap)
				if ok {
					p.allowed(afs, ap, "count", "duration")
					if c := get(afs, "count"); c != nil {
						r.AttemptCount = p.integer(c, join(ap, "count"))
						if r.AttemptCount < 0 {
							p.errorf(c, join(ap, "count"), "expected a positive integer")
						}
					}
					if d := get(afs, "duration"); d != nil {
						r.AttemptDuration = p.duration(d, join(ap, "duration"), nil)
					}
				}
			}
			if d := get(lfs, "duration"); d != nil {
				r.Duration = p.duration(d, join(lp, "duration"), nil)
			}
		}
	}
	if j := get(fs, "jitter"); j != nil {
		jp := join(path, "jitter")
		jfs, ok := p.fields(j, jp)
		if ok {
			p.allowed(jfs, jp, "from", "to")
			if f := get(jfs, "from"); f != nil {
				r.JitterFrom = p.duration(f, join(jp, "from"), nil)
			} else {
				p.errorf(j, join(jp, "from"), "required property is missing")
			}
			if t := get(jfs, "to"); t != nil {
				r.JitterTo = p.duration(t, join(jp, "to"), nil)
			} else {
				p.errorf(j, join(jp, "to"), "required property is missing")
			}
		}
	}
	return r
}

// checkReferences verifies names tasks refer to across the document.
func (p *parser) checkReferences(w *Workflow) {
	var walk func(l TaskList, path string)
	walk = func(l TaskList, path string) {
		for i, nt := range l {
			tp := join(index(path, i), nt.Name)
			t := nt.Task
			check := func(ref *AuthRef, at string) {
				if ref != nil && ref.Use != "" && w.Use.Authentications[ref.Use] == nil {
					p.problems = append(p.problems, Problem{Path: at, Line: t.Line, Msg: fmt.Sprintf("authentication %s is not defined under use.authentications", ref.Use)})
				}
			}
			if t.Call != nil {
				if t.Call.HTTP != nil && t.Call.HTTP.Endpoint != nil {
					check(t.Call.HTTP.Endpoint.Auth, tp+".with.endpoint.authentication")
				}
				if t.Call.OpenAPI != nil {
					check(t.Call.OpenAPI.Auth, tp+".with.authentication")
					if t.Call.OpenAPI.Document != nil {
						check(t.Call.OpenAPI.Document.Auth, tp+".with.document.endpoint.authentication")
					}
				}
			}
			walk(t.Do, tp+".do")
			if t.Fork != nil {
				walk(t.Fork.Branches, tp+".fork.branches")
			}
			if t.Try != nil {
				walk(t.Try.Do, tp+".try")
				if t.Try.Catch != nil {
					walk(t.Try.Catch.Do, tp+".catch.do")
				}
			}
		}
	}
	walk(w.Do, "do")
	for name, f := range w.Use.Functions {
		walk(TaskList{{Name: name, Task: f}}, "use.functions")
	}
}
