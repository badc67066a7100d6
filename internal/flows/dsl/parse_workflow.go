package dsl

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
	namePattern   = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
)

func (p *parser) workflow(n *yaml.Node) *Workflow {
	w := &Workflow{}
	fs, ok := p.fields(n, "")
	if !ok {
		return w
	}
	p.allowed(fs, "", "document", "input", "use", "do", "timeout", "output", "schedule", "evaluate")
	if def, ok := p.raw(n, "").(map[string]any); ok {
		w.Definition = def
	}

	if d := get(fs, "document"); d != nil {
		w.Document = p.document(d, "document")
		p.checkVigil(w, p.metaLine)
	} else {
		p.errorf(n, "document", "required property is missing")
	}
	if s := get(fs, "schedule"); s != nil {
		p.errorf(s, "schedule", "schedule is not supported: start flows with document.metadata.vigil.trigger or from another flow")
	}
	if e := get(fs, "evaluate"); e != nil {
		p.evaluate(e, "evaluate")
	}
	if u := get(fs, "use"); u != nil {
		w.Use = p.use(u, "use")
	}
	if i := get(fs, "input"); i != nil {
		w.Input = p.input(i, "input", nil)
	}
	if o := get(fs, "output"); o != nil {
		w.Output = p.output(o, "output", nil)
	}
	if t := get(fs, "timeout"); t != nil {
		w.Timeout = p.timeout(t, "timeout", &w.Use)
	}
	if d := get(fs, "do"); d != nil {
		w.Do = p.taskList(d, "do", nil, &w.Use)
	} else {
		p.errorf(n, "do", "required property is missing")
	}
	p.checkReferences(w)
	return w
}

func (p *parser) document(n *yaml.Node, path string) Document {
	var d Document
	fs, ok := p.fields(n, path)
	if !ok {
		return d
	}
	p.allowed(fs, path, "dsl", "namespace", "name", "version", "title", "summary", "tags", "metadata")
	for _, req := range []string{"dsl", "namespace", "name", "version"} {
		if get(fs, req) == nil {
			p.errorf(n, join(path, req), "required property is missing")
		}
	}
	for _, f := range fs {
		fp := join(path, f.key)
		switch f.key {
		case "dsl":
			d.DSL = p.str(f.v, fp)
			if d.DSL != "" && !semverPattern.MatchString(d.DSL) {
				p.errorf(f.v, fp, "expected a semantic version such as 1.0.0")
			} else if d.DSL != "" && !strings.HasPrefix(d.DSL, "1.") {
				p.errorf(f.v, fp, "DSL version %s is not supported: Vigil runs DSL 1.x documents", d.DSL)
			}
		case "namespace":
			d.Namespace = p.str(f.v, fp)
			if d.Namespace != "" && !namePattern.MatchString(d.Namespace) {
				p.errorf(f.v, fp, "expected letters, digits and dashes (at most 63)")
			}
		case "name":
			d.Name = p.str(f.v, fp)
			if d.Name != "" && !namePattern.MatchString(d.Name) {
				p.errorf(f.v, fp, "expected letters, digits and dashes (at most 63)")
			}
		case "version":
			d.Version = p.str(f.v, fp)
			if d.Version != "" && !semverPattern.MatchString(d.Version) {
				p.errorf(f.v, fp, "expected a semantic version such as 1.0.0")
			}
		case "title":
			d.Title = p.str(f.v, fp)
		case "summary":
			d.Summary = p.str(f.v, fp)
		case "tags":
			d.Tags, _ = p.object(f.v, fp)
		case "metadata":
			d.Metadata, _ = p.object(f.v, fp)
			p.metaLine = f.k.Line
		}
	}
	return d
}

func (p *parser) object(n *yaml.Node, path string) (map[string]any, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected object")
		return nil, false
	}
	m, _ := p.raw(n, path).(map[string]any)
	return m, true
}

func (p *parser) evaluate(n *yaml.Node, path string) {
	fs, ok := p.fields(n, path)
	if !ok {
		return
	}
	p.allowed(fs, path, "language", "mode")
	if l := get(fs, "language"); l != nil {
		if v := p.str(l, join(path, "language")); v != "" && v != "jq" {
			p.errorf(l, join(path, "language"), "expression language %s is not supported: use jq", v)
		}
	}
	if m := get(fs, "mode"); m != nil {
		if v := p.str(m, join(path, "mode")); v != "" && v != "strict" {
			p.errorf(m, join(path, "mode"), "expression mode %s is not supported: use strict", v)
		}
	}
}

func (p *parser) use(n *yaml.Node, path string) Use {
	u := Use{}
	fs, ok := p.fields(n, path)
	if !ok {
		return u
	}
	p.allowed(fs, path, "authentications", "errors", "extensions", "functions", "retries", "secrets", "timeouts", "catalogs")
	// Timeouts, errors and authentications first: tasks refer to them.
	if t := get(fs, "timeouts"); t != nil {
		u.Timeouts = map[string]*Timeout{}
		items, _ := p.fields(t, join(path, "timeouts"))
		for _, it := range items {
			u.Timeouts[it.key] = p.timeout(it.v, join(join(path, "timeouts"), it.key), nil)
		}
	}
	if a := get(fs, "authentications"); a != nil {
		u.Authentications = map[string]*AuthPolicy{}
		items, _ := p.fields(a, join(path, "authentications"))
		for _, it := range items {
			u.Authentications[it.key] = p.authPolicy(it.v, join(join(path, "authentications"), it.key))
		}
	}
	if e := get(fs, "errors"); e != nil {
		u.Errors = map[string]*ErrorDef{}
		items, _ := p.fields(e, join(path, "errors"))
		for _, it := range items {
			u.Errors[it.key] = p.errorDef(it.v, join(join(path, "errors"), it.key), nil)
		}
	}
	if r := get(fs, "retries"); r != nil {
		u.Retries = map[string]*RetryPolicy{}
		items, _ := p.fields(r, join(path, "retries"))
		for _, it := range items {
			u.Retries[it.key] = p.retryPolicy(it.v, join(join(path, "retries"), it.key), nil)
		}
	}
	if s := get(fs, "secrets"); s != nil {
		u.Secrets = p.stringList(s, join(path, "secrets"))
	}
	if x := get(fs, "extensions"); x != nil {
		p.errorf(x, join(path, "extensions"), "extensions are not supported")
	}
	if c := get(fs, "catalogs"); c != nil {
		p.errorf(c, join(path, "catalogs"), "remote function catalogs are not supported: Vigil's functions come from its built-in catalog")
	}
	if f := get(fs, "functions"); f != nil {
		u.Functions = map[string]*Task{}
		items, _ := p.fields(f, join(path, "functions"))
		for _, it := range items {
			fp := join(join(path, "functions"), it.key)
			t := p.task(it.v, fp, nil, &u)
			if t != nil {
				t.Line = it.k.Line
				if t.Kind == KindCall && t.Call != nil && t.Call.Function == it.key {
					p.errorf(it.v, fp, "function %s calls itself", it.key)
				}
				u.Functions[it.key] = t
			}
		}
	}
	return u
}

func (p *parser) input(n *yaml.Node, path string, scope []string) *Input {
	in := &Input{}
	fs, ok := p.fields(n, path)
	if !ok {
		return in
	}
	p.allowed(fs, path, "schema", "from")
	if s := get(fs, "schema"); s != nil {
		in.Schema = p.schema(s, join(path, "schema"))
	}
	if f := get(fs, "from"); f != nil {
		in.From = p.exprTemplate(f, join(path, "from"), scope)
	}
	return in
}

func (p *parser) output(n *yaml.Node, path string, scope []string) *Output {
	out := &Output{}
	fs, ok := p.fields(n, path)
	if !ok {
		return out
	}
	p.allowed(fs, path, "schema", "as")
	if s := get(fs, "schema"); s != nil {
		out.Schema = p.schema(s, join(path, "schema"))
	}
	if a := get(fs, "as"); a != nil {
		out.As = p.exprTemplate(a, join(path, "as"), scope)
	}
	return out
}

func (p *parser) export(n *yaml.Node, path string, scope []string) *Export {
	ex := &Export{}
	fs, ok := p.fields(n, path)
	if !ok {
		return ex
	}
	p.allowed(fs, path, "schema", "as")
	if s := get(fs, "schema"); s != nil {
		ex.Schema = p.schema(s, join(path, "schema"))
	}
	if a := get(fs, "as"); a != nil {
		ex.As = p.exprTemplate(a, join(path, "as"), scope)
	}
	return ex
}

func (p *parser) schema(n *yaml.Node, path string) *Schema {
	s := &Schema{Format: "json"}
	fs, ok := p.fields(n, path)
	if !ok {
		return s
	}
	p.allowed(fs, path, "format", "document", "resource")
	if f := get(fs, "format"); f != nil {
		s.Format = p.str(f, join(path, "format"))
		if s.Format != "json" && !strings.HasPrefix(s.Format, "json:") {
			p.errorf(f, join(path, "format"), "schema format %s is not supported: use json", s.Format)
		}
	}
	if r := get(fs, "resource"); r != nil {
		p.errorf(r, join(path, "resource"), "external schema resources are not supported: write the schema inline under document")
		return s
	}
	d := get(fs, "document")
	if d == nil {
		p.errorf(n, join(path, "document"), "required property is missing")
		return s
	}
	s.Document = p.raw(d, join(path, "document"))
	if err := compileSchema(s); err != nil {
		p.errorf(d, join(path, "document"), "invalid JSON Schema: %v", err)
	}
	return s
}

func (p *parser) timeout(n *yaml.Node, path string, use *Use) *Timeout {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		name := p.str(n, path)
		if use == nil || use.Timeouts[name] == nil {
			p.errorf(n, path, "timeout %s is not defined under use.timeouts", name)
			return nil
		}
		return use.Timeouts[name]
	}
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	p.allowed(fs, path, "after")
	a := get(fs, "after")
	if a == nil {
		p.errorf(n, join(path, "after"), "required property is missing")
		return nil
	}
	return &Timeout{After: p.duration(a, join(path, "after"), nil)}
}
