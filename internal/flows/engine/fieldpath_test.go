package engine

import (
	"math/big"
	"reflect"
	"testing"

	"github.com/itchyny/gojq"
)

// fieldsOf must give what jq gives for a path of fields, or leave the
// value to jq when jq reports an error.
func TestFieldsOfIsJQ(t *testing.T) {
	nested := map[string]any{"b": map[string]any{"c": []any{1, "x"}}, "n": nil, "s": "text", "i": 7,
		"f": 1.5, "big": big.NewInt(3), "t": true, "arr": []any{map[string]any{"c": 1}}}
	data := []any{nil, "text", 3, 2.5, true, []any{1}, map[string]any{}, map[string]any{"a": nested}, nested}
	paths := [][]string{{"a"}, {"a", "b"}, {"a", "b", "c"}, {"a", "n"}, {"a", "n", "deeper"}, {"a", "s"},
		{"a", "s", "x"}, {"a", "i", "x"}, {"a", "f", "x"}, {"a", "big", "x"}, {"a", "t", "x"}, {"a", "arr", "c"},
		{"missing", "x", "y"}, {"b", "c"}, {"s"}, {"i"}}
	for _, d := range data {
		for _, p := range paths {
			src := ""
			for _, f := range p {
				src += "." + f
			}
			q, err := gojq.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			code, err := gojq.Compile(q)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := code.Run(d).Next()
			_, jqErr := want.(error)
			got, ok := fieldsOf(d, p)
			switch {
			case ok && jqErr:
				t.Errorf("%s on %#v: fieldsOf gave %#v; jq reports %v", src, d, got, want)
			case ok && !reflect.DeepEqual(got, want):
				t.Errorf("%s on %#v: fieldsOf gave %#v; jq gives %#v", src, d, got, want)
			case !ok && !jqErr:
				t.Errorf("%s on %#v: fieldsOf left to jq what jq reads as %#v", src, d, want)
			}
		}
	}
	if _, ok := fieldsOf(map[string]any{}, nil); ok {
		t.Error("an empty path was read; it is not a path expression")
	}
}
