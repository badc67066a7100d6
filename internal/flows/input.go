package flows

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// startInput is a new execution's input, encoded once for its start: the
// JSON is sealed and stored, and the value gives the subject and, for an
// execution run here, what the flow gets, without parsing the JSON again.
type startInput struct {
	// value is the input as engine.Normalize left it; it may be the
	// caller's own value, so it is read and copied, never changed.
	value any
	// json is value as JSON, as sealed.
	json []byte
}

// decoded returns the input as the engine gets it: the value of its JSON
// as engine.DecodeJSON reads it, so that a flow run here sees what one run
// from the queue sees. It copies value, writing numbers as the decoder
// would read them back, and decodes the JSON only for what a copy cannot
// reproduce exactly (big integers, strings that are not UTF-8, very deep
// values).
func (in startInput) decoded() (any, error) {
	if v, ok := asDecoded(in.value, 0); ok {
		return v, nil
	}
	return engine.DecodeJSON(in.json)
}

// decodedDepth bounds the nesting asDecoded copies, as engine.Normalize
// bounds the values it takes as they are.
const decodedDepth = 200

// asDecoded copies v, a value engine.Normalize took or made, into what
// engine.DecodeJSON returns for v's JSON. It reports false for a value it
// cannot copy exactly, which is then decoded from the JSON.
func asDecoded(v any, depth int) (any, bool) {
	if depth > decodedDepth {
		return nil, false
	}
	switch v := v.(type) {
	case nil, bool, int:
		return v, true
	case string:
		// encoding/json writes bytes that are not UTF-8 as U+FFFD.
		return v, utf8.ValidString(v)
	case float64:
		return decodedFloat(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, ok := asDecoded(e, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if !utf8.ValidString(k) {
				return nil, false
			}
			c, ok := asDecoded(e, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	}
	return nil, false
}

// decodedFloat is what engine.DecodeJSON reads back for f as encoding/json
// writes it: the shortest digits that parse back to f, with an exponent
// below 1e-6 and from 1e21. Whole digits that fit an int are read as an
// int, anything else as f itself.
func decodedFloat(f float64) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	abs := math.Abs(f)
	if f != math.Trunc(f) || abs >= 1e21 {
		return f, true
	}
	if abs < 1<<53 {
		// Every whole number below 2^53 is a float64, so the shortest
		// digits of one are its own.
		return int(f), true
	}
	// Above, the shortest digits may end in zeros that f's do not.
	i, err := strconv.ParseInt(strconv.FormatFloat(f, 'f', -1, 64), 10, 64)
	if err != nil || i < math.MinInt || i > math.MaxInt {
		return f, true
	}
	return int(i), true
}
