package dsl

import (
	"strings"

	"gopkg.in/yaml.v3"
)

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
		fp := join(path, f.key)
		switch f.key {
		case "status":
			// The schema wants a literal integer: a runtime expression
			// here makes the document invalid for every other runtime.
			if n := resolve(f.v); n != nil && n.Tag == "!!str" {
				if _, ok := IsExpr(n.Value); ok {
					p.errorf(n, fp, "expected an integer status such as 500, not a runtime expression (the DSL does not allow one here)")
					continue
				}
			}
			p.integer(f.v, fp)
		case "type":
			if s, ok := p.strOK(f.v, fp); ok && !isExpr(s) && !uriPattern.MatchString(s) {
				p.errorf(f.v, fp, "expected a URI such as https://example.com/errors/not-found or a runtime expression")
			}
		case "instance":
			if s, ok := p.strOK(f.v, fp); ok && !isExpr(s) && !strings.HasPrefix(s, "/") {
				p.errorf(f.v, fp, "expected a JSON pointer such as /do/0/task or a runtime expression")
			}
		default:
			p.str(f.v, fp)
		}
	}
	return &ErrorDef{Fields: p.template(n, path, scope)}
}
