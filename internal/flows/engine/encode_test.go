package engine

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkEncode compares AppendJSON with json.Marshal and EncodeJSON's value
// with DecodeJSON of the same bytes.
func checkEncode(t *testing.T, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%#v): %v", v, err)
	}
	got, ok := AppendJSON([]byte("prefix"), v)
	if !ok {
		t.Fatalf("AppendJSON(%#v) refused a plain value", v)
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("AppendJSON(%#v)\n got %s\nwant prefix%s", v, got, want)
	}
	data, decoded, ok := EncodeJSON([]byte("prefix"), v)
	if !ok {
		if !mayRefuse(v) {
			t.Fatalf("EncodeJSON(%#v) refused a value that reads back as it is", v)
		}
		return
	}
	if !bytes.Equal(data, append([]byte("prefix"), want...)) {
		t.Fatalf("EncodeJSON(%#v)\n got %s\nwant prefix%s", v, data, want)
	}
	wantValue, err := DecodeJSON(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded, wantValue) {
		t.Fatalf("EncodeJSON(%#v) read back %#v; DecodeJSON gives %#v", v, decoded, wantValue)
	}
}

// mayRefuse tells whether EncodeJSON may refuse v: it holds invalid UTF-8
// or a number beyond float64's range.
func mayRefuse(v any) bool {
	switch v := v.(type) {
	case string:
		return !utf8.ValidString(v)
	case *big.Int:
		f, _ := new(big.Float).SetInt(v).Float64()
		return math.IsInf(f, 0)
	case []any:
		return slices.ContainsFunc(v, mayRefuse)
	case map[string]any:
		for k, e := range v {
			if !utf8.ValidString(k) || mayRefuse(e) {
				return true
			}
		}
	}
	return false
}

func TestEncodeJSONIsMarshal(t *testing.T) {
	huge, _ := new(big.Int).SetString("12345678901234567890", 10)
	var ascii strings.Builder
	for c := range 128 {
		ascii.WriteByte(byte(c))
	}
	values := []any{
		nil, true, false, 0, 1, -7, math.MaxInt, math.MinInt,
		0.0, math.Copysign(0, -1), 1.0, 0.5, 1e-6, 1e-7, 9.99e-7, 1e20, 1e21, 1.5e300, -1e-300,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 9223372036854775808.0, 12345678901234567890.0, 0.1 + 0.2,
		huge, new(big.Int), new(big.Int).Neg(huge), (*big.Int)(nil),
		"", "plain", ascii.String(), "héllo 世界 🙂 <a&b> \u2028 \u2029", "bad \xff\xfe utf-8 \xc3", "\u007f\u0080",
		[]any(nil), []any{}, map[string]any(nil), map[string]any{},
		map[string]any{"b": 1, "a": []any{map[string]any{"z": nil, "<": "&"}}, "B": 2.5, "\u2028": "x", "é": "e", "": ""},
		map[string]any{"bad\xffkey": 1, "ok": "bad\xff"},
		[]any{nil, []any{}, map[string]any{}, []any{[]any{1}}},
	}
	for _, v := range values {
		checkEncode(t, v)
	}
}

// randomValue builds a plain value of a few levels from r.
func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(10); {
	case depth > 3 || k < 2:
		return randomString(r)
	case k == 2:
		return r.Int() - math.MaxInt/2
	case k == 3:
		return math.Float64frombits(r.Uint64())
	case k == 4:
		return float64(r.IntN(2000)-1000) * math.Pow(10, float64(r.IntN(60)-30))
	case k == 5:
		return []any{nil, true, false}[r.IntN(3)]
	case k == 6 || k == 7:
		a := make([]any, r.IntN(5))
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(6) {
			m[randomString(r)] = randomValue(r, depth+1)
		}
		return m
	}
}

func randomString(r *rand.Rand) string {
	const pieces = "aZ09 \"\\/<>&\b\f\n\r\t\x00\x1f\x7fé世🙂\u2028\u2029\xff\xc3"
	runes := []string{"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\b", "\f", "\n", "\r", "\t", "\x00",
		"\x1f", "\x7f", "é", "世", "🙂", "\u2028", "\u2029", "\xff", "\xc3", pieces}
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(runes[r.IntN(len(runes))])
	}
	return b.String()
}

func TestEncodeJSONRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		v := randomValue(r, 0)
		if f, isFloat := v.(float64); isFloat && (math.IsNaN(f) || math.IsInf(f, 0)) {
			continue
		}
		checkEncode(t, stripNonFinite(v))
	}
}

// stripNonFinite replaces NaN and infinities, which JSON cannot hold.
func stripNonFinite(v any) any {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0.25
		}
	case []any:
		for i, e := range v {
			v[i] = stripNonFinite(e)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = stripNonFinite(e)
		}
	}
	return v
}

func TestEncodeJSONRefuses(t *testing.T) {
	deep := any("x")
	for range maxEncodeDepth + 1 {
		deep = []any{deep}
	}
	beyondFloat, _ := new(big.Int).SetString("1"+strings.Repeat("0", 400), 10)
	for _, c := range []struct {
		name          string
		v             any
		appendRefuses bool
	}{
		{"NaN", math.NaN(), true},
		{"infinity", math.Inf(-1), true},
		{"a struct", struct{ A int }{1}, true},
		{"a json.Number", json.Number("1"), true},
		{"a typed map", map[string]string{"a": "b"}, true},
		{"nested deeper than the bound", deep, true},
		{"invalid UTF-8 in a string", []any{"\xff"}, false},
		{"invalid UTF-8 in a key", map[string]any{"\xff": 1}, false},
		{"a number beyond float64", beyondFloat, false},
	} {
		if _, ok := AppendJSON(nil, c.v); ok == c.appendRefuses {
			t.Errorf("%s: AppendJSON ok = %v", c.name, ok)
		}
		if _, _, ok := EncodeJSON(nil, c.v); ok {
			t.Errorf("%s: EncodeJSON accepted it", c.name)
		}
	}
}

// FuzzEncodeJSON checks AppendJSON and EncodeJSON against encoding/json on
// every value DecodeJSON reads from the fuzzer's text, and on the text as
// a string.
func FuzzEncodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x"],"b":{"c":null}}`, `"\u2028<&>"`, `1e21`, `-0`, `123456789012345678901234567890`,
		`[1e-7, 0.1, true, false, null]`, "\"\xff\"", `{"":{"":[]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkEncode(t, s)
		v, err := DecodeJSON([]byte(s))
		if err != nil {
			return
		}
		if _, ok := AppendJSON(nil, v); !ok {
			if isPlain(v, 0) {
				t.Fatalf("AppendJSON refused the plain value %#v", v)
			}
			return
		}
		checkEncode(t, v)
	})
}
