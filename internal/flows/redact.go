package flows

import (
	"context"
	"sort"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

const redacted = "[redacted]"

// secretRedactor replaces the values of a flow's declared secrets
// (use.secrets) in data shown in history. The engine redacts what each
// run reads; this covers what it cannot know: secret values carried in
// data recorded before a resume, and the execution's final output.
type secretRedactor []string

// redactorFor reads the secrets w declares. Secrets that cannot be read
// are skipped: the engine faults the task that needs them.
func (s *Service) redactorFor(ctx context.Context, w *dsl.Workflow) secretRedactor {
	if s.cfg.Secrets == nil || len(w.Use.Secrets) == 0 {
		return nil
	}
	var out secretRedactor
	var add func(v any)
	add = func(v any) {
		switch v := v.(type) {
		case string:
			if len(v) >= 4 {
				out = append(out, v)
			}
		case map[string]any:
			for _, e := range v {
				add(e)
			}
		case []any:
			for _, e := range v {
				add(e)
			}
		}
	}
	for _, name := range w.Use.Secrets {
		if v, err := s.cfg.Secrets.Secret(ctx, name); err == nil {
			add(v)
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// redact returns v with every occurrence of a secret replaced.
func (r secretRedactor) redact(v any) any {
	if len(r) == 0 {
		return v
	}
	switch v := v.(type) {
	case string:
		for _, sec := range r {
			v = strings.ReplaceAll(v, sec, redacted)
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.redact(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[r.redact(k).(string)] = r.redact(e)
		}
		return out
	}
	return v
}
