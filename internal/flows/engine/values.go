package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Normalize converts v to the JSON-like values jq works on: nil, bool,
// int, float64, *big.Int, string, []any and map[string]any. Values of
// other Go types (structs, typed maps, json.Number) go through JSON.
func Normalize(v any) (any, error) {
	if isPlain(v, 0) {
		return v, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value cannot be represented as JSON: %w", err)
	}
	return DecodeJSON(data)
}

func isPlain(v any, depth int) bool {
	if depth > 200 {
		return false
	}
	switch v := v.(type) {
	case nil, bool, int, string, *big.Int:
		return true
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case []any:
		for _, e := range v {
			if !isPlain(e, depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range v {
			if !isPlain(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// DecodeJSON decodes JSON keeping integers as int (ids stay exact).
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return fixNumbers(v), nil
}

func fixNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		return numberOf(string(v))
	case []any:
		for i, e := range v {
			v[i] = fixNumbers(e)
		}
		return v
	case map[string]any:
		for k, e := range v {
			v[k] = fixNumbers(e)
		}
		return v
	}
	return v
}

// exceedsSize tells whether v, written as JSON, is longer than limit
// bytes. It estimates without allocating and stops early.
func exceedsSize(v any, limit int) bool {
	n := 0
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case nil:
			n += 4
		case bool:
			n += 5
		case int:
			n += 20
		case float64:
			n += 24
		case string:
			n += len(v) + 2
		case []any:
			n += 2
			for _, e := range v {
				n++
				if n > limit || walk(e) {
					return true
				}
			}
		case map[string]any:
			n += 2
			for k, e := range v {
				n += len(k) + 4
				if n > limit || walk(e) {
					return true
				}
			}
		default:
			n += 32
		}
		return n > limit
	}
	return walk(v)
}

// redactor replaces secret values in data shown in history.
type redactor struct {
	mu      sync.RWMutex
	secrets []string
}

const redacted = "[redacted]"

// add remembers the secret strings in v (a string or an object of them).
func (r *redactor) add(v any) {
	switch v := v.(type) {
	case string:
		if len(v) < 4 {
			return
		}
		r.mu.Lock()
		for _, s := range r.secrets {
			if s == v {
				r.mu.Unlock()
				return
			}
		}
		r.secrets = append(r.secrets, v)
		// Longest first, so a secret containing another is replaced whole.
		sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
		r.mu.Unlock()
	case map[string]any:
		for _, e := range v {
			r.add(e)
		}
	case []any:
		for _, e := range v {
			r.add(e)
		}
	}
}

func (r *redactor) empty() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets) == 0
}

// redact returns a copy of v with every occurrence of a secret replaced.
func (r *redactor) redact(v any) any {
	if r.empty() {
		return v
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.redactValue(v)
}

func (r *redactor) redactValue(v any) any {
	switch v := v.(type) {
	case string:
		return r.redactString(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.redactValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[r.redactString(k)] = r.redactValue(e)
		}
		return out
	}
	return v
}

func (r *redactor) redactString(s string) string {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

// toString renders a value for a header, query parameter or URI: strings
// as is, other values as JSON.
func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	data, err := json.Marshal(v)
	if err != nil || !utf8.Valid(data) {
		return fmt.Sprint(v)
	}
	return string(data)
}

// typeName names a JSON value's type in messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int, float64, *big.Int:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
