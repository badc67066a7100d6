package engine

import (
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxEncodeDepth is the nesting AppendJSON and EncodeJSON write; a deeper
// value is left to encoding/json, as Normalize leaves it (isPlain).
const maxEncodeDepth = 200

// AppendJSON appends v to dst as json.Marshal writes it, byte for byte:
// keys sorted, <, > and & escaped, invalid UTF-8 replaced, floats in
// encoding/json's form. It handles the plain values Normalize returns
// without reflection, which an execution writes several times (its input,
// each step's state and history, its output). ok is false, and dst is
// returned as it was, when v holds anything else (a struct, a NaN, a
// value nested deeper than 200): the caller then uses json.Marshal.
func AppendJSON(dst []byte, v any) (out []byte, ok bool) {
	e := encoder{buf: dst, keys: make([]string, 0, 32)}
	if _, ok := e.write(v, 0); !ok {
		return dst, false
	}
	return e.buf, true
}

// EncodeJSON appends v to dst as json.Marshal writes it and returns, from the same walk,
// the value DecodeJSON reads back from those bytes: a copy with the
// numbers read again from the text written for them, with DecodeJSON's
// own rule, and the strings shared. A start seals the bytes and runs the
// value, without parsing what it has just written. ok is false when v is
// not plain (as for AppendJSON), or when reading the bytes back would not
// give the same strings and keys (invalid UTF-8, which the encoding
// replaces) or would give a number as a string (one beyond float64's
// range); the caller then marshals and decodes.
func EncodeJSON(dst []byte, v any) (data []byte, decoded any, ok bool) {
	e := encoder{buf: dst, decode: true, keys: make([]string, 0, 32)}
	d, ok := e.write(v, 0)
	if !ok {
		return dst, nil, false
	}
	return e.buf, d, true
}

// encoder writes plain values as JSON; with decode it also builds the
// value read back (see EncodeJSON).
type encoder struct {
	buf    []byte
	decode bool
	// keys holds the sorted keys of the maps being written, outermost
	// first: one slice for the whole walk.
	keys []string
}

// write appends v and returns, when e.decode, the value read back.
func (e *encoder) write(v any, depth int) (any, bool) {
	if depth > maxEncodeDepth {
		return nil, false
	}
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
		return nil, true
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
		return v, true
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
		return v, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		start := len(e.buf)
		e.buf = appendFloat(e.buf, v)
		return e.number(start)
	case *big.Int:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil, true
		}
		start := len(e.buf)
		e.buf = v.Append(e.buf, 10)
		return e.number(start)
	case string:
		if e.decode && !utf8.ValidString(v) {
			return nil, false
		}
		e.buf = appendString(e.buf, v)
		return v, true
	case []any:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil, true
		}
		var out []any
		if e.decode {
			out = make([]any, len(v))
		}
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			d, ok := e.write(x, depth+1)
			if !ok {
				return nil, false
			}
			if e.decode {
				out[i] = d
			}
		}
		e.buf = append(e.buf, ']')
		if !e.decode {
			return nil, true
		}
		return out, true
	case map[string]any:
		return e.object(v, depth)
	}
	return nil, false
}

// number returns what DecodeJSON reads from the number written at
// e.buf[start:]: the text decides, as it does for DecodeJSON.
func (e *encoder) number(start int) (any, bool) {
	if !e.decode {
		return nil, true
	}
	n := numberOf(string(e.buf[start:]))
	if _, isString := n.(string); isString {
		return nil, false
	}
	return n, true
}

func (e *encoder) object(m map[string]any, depth int) (any, bool) {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return nil, true
	}
	start := len(e.keys)
	e.keys = slices.Grow(e.keys, len(m))
	for k := range m {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys[start:])
	var out map[string]any
	if e.decode {
		out = make(map[string]any, len(m))
	}
	e.buf = append(e.buf, '{')
	for i := range len(m) {
		// Index e.keys each time: the maps inside may grow it.
		k := e.keys[start+i]
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if e.decode && !utf8.ValidString(k) {
			return nil, false
		}
		e.buf = appendString(e.buf, k)
		e.buf = append(e.buf, ':')
		d, ok := e.write(m[k], depth+1)
		if !ok {
			return nil, false
		}
		if e.decode {
			out[k] = d
		}
	}
	e.buf = append(e.buf, '}')
	clear(e.keys[start:])
	e.keys = e.keys[:start]
	if !e.decode {
		return nil, true
	}
	return out, true
}

// appendFloat writes f as encoding/json does: the shortest decimal that
// reads back as f, in exponent form below 1e-6 and from 1e21, with the
// exponent's leading zero dropped (1e-7, not 1e-07).
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// htmlSafe marks the ASCII characters a JSON string holds as they are
// with HTML escaping: all but control characters, ", \, <, > and &.
var htmlSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()

// appendString writes s quoted as encoding/json does with HTML escaping
// (json.Marshal's default): ", \ and control characters escaped, <, >
// and & as \u003c, \u003e and \u0026, U+2028 and U+2029 escaped, and each
// byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// numberOf is the value DecodeJSON gives a JSON number: an int when its
// text is an integer that fits one, else a float64, else (beyond
// float64's range) its text.
func numberOf(text string) any {
	if i, err := strconv.ParseInt(text, 10, 64); err == nil && i >= math.MinInt && i <= math.MaxInt {
		return int(i)
	}
	if f, err := json.Number(text).Float64(); err == nil {
		return f
	}
	return text
}
