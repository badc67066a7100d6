package flows

import (
	"context"
	"encoding/json"
	"math"
	"math/big"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// echoTasks hands a flow's input back as it saw it, both as a value and as
// the text jq writes for it, which keeps what the stored output's JSON
// would not (a big integer's digits).
const echoTasks = `do:
  - echo:
      set:
        echo: '${ . }'
        text: '${ tojson }'
        one: '${ .ints.one + 1 }'
`

// numbersInput mixes the kinds of value a start gets: integers and
// floats, whole and not, a big integer, nested objects and arrays,
// unicode and characters JSON escapes, and an issue event's subject.
func numbersInput() map[string]any {
	big, _ := new(big.Int).SetString("12345678901234567890", 10)
	return map[string]any{
		"ints":   map[string]any{"one": 1, "neg": -7, "zero": 0},
		"floats": map[string]any{"oneDot": 1.0, "e3": 1e3, "half": 0.5, "tiny": 1e-7, "huge": 1e21, "negZero": math.Copysign(0, -1), "two63": 9223372036854775808.0},
		"big":    big,
		"bigF":   12345678901234567890.0,
		"nested": map[string]any{"a": []any{1, 2.5, map[string]any{"b": []any{}, "c": nil, "d": true}}},
		"text":   "héllo 世界 🙂 <a&b> \u2028",
		"eventData": map[string]any{"id": "iss_1", "title": "Stale admin", "affectedEntity": map[string]any{
			"displayName": "Ann Lee", "identifierInService": "ann@example.com"}},
	}
}

// The value a flow gets, the input stored and the subject read from it
// are pinned: a start's handling of its input must not change them.
func TestStartInputKeepsItsValues(t *testing.T) {
	withNumber := numbersInput()
	withNumber["number"] = json.Number("1.0")
	cases := []struct {
		name               string
		input              map[string]any
		wantText, wantSeal string
	}{
		{"plain", numbersInput(),
			"{\"big\":12345678901234567000,\"bigF\":12345678901234567000,\"eventData\":{\"affectedEntity\":{\"displayName\":\"Ann Lee\",\"identifierInService\":\"ann@example.com\"},\"id\":\"iss_1\",\"title\":\"Stale admin\"},\"floats\":{\"e3\":1000,\"half\":0.5,\"huge\":1e+21,\"negZero\":0,\"oneDot\":1,\"tiny\":1e-7,\"two63\":9223372036854776000},\"ints\":{\"neg\":-7,\"one\":1,\"zero\":0},\"nested\":{\"a\":[1,2.5,{\"b\":[],\"c\":null,\"d\":true}]},\"text\":\"héllo 世界 🙂 <a&b> \u2028\"}",
			"{\"big\":12345678901234567890,\"bigF\":12345678901234567000,\"eventData\":{\"affectedEntity\":{\"displayName\":\"Ann Lee\",\"identifierInService\":\"ann@example.com\"},\"id\":\"iss_1\",\"title\":\"Stale admin\"},\"floats\":{\"e3\":1000,\"half\":0.5,\"huge\":1e+21,\"negZero\":-0,\"oneDot\":1,\"tiny\":1e-7,\"two63\":9223372036854776000},\"ints\":{\"neg\":-7,\"one\":1,\"zero\":0},\"nested\":{\"a\":[1,2.5,{\"b\":[],\"c\":null,\"d\":true}]},\"text\":\"héllo 世界 🙂 \\u003ca\\u0026b\\u003e \\u2028\"}"},
		{"number", withNumber,
			"{\"big\":12345678901234567000,\"bigF\":12345678901234567000,\"eventData\":{\"affectedEntity\":{\"displayName\":\"Ann Lee\",\"identifierInService\":\"ann@example.com\"},\"id\":\"iss_1\",\"title\":\"Stale admin\"},\"floats\":{\"e3\":1000,\"half\":0.5,\"huge\":1e+21,\"negZero\":0,\"oneDot\":1,\"tiny\":1e-7,\"two63\":9223372036854776000},\"ints\":{\"neg\":-7,\"one\":1,\"zero\":0},\"nested\":{\"a\":[1,2.5,{\"b\":[],\"c\":null,\"d\":true}]},\"number\":1,\"text\":\"héllo 世界 🙂 <a&b> \u2028\"}",
			"{\"big\":12345678901234567000,\"bigF\":12345678901234567000,\"eventData\":{\"affectedEntity\":{\"displayName\":\"Ann Lee\",\"identifierInService\":\"ann@example.com\"},\"id\":\"iss_1\",\"title\":\"Stale admin\"},\"floats\":{\"e3\":1000,\"half\":0.5,\"huge\":1e+21,\"negZero\":0,\"oneDot\":1,\"tiny\":1e-7,\"two63\":9223372036854776000},\"ints\":{\"neg\":-7,\"one\":1,\"zero\":0},\"nested\":{\"a\":[1,2.5,{\"b\":[],\"c\":null,\"d\":true}]},\"number\":1,\"text\":\"héllo 世界 🙂 \\u003ca\\u0026b\\u003e \\u2028\"}"},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		f := b.saveOn(t, flowDoc("echo", "", echoTasks))
		for _, local := range []bool{false, true} {
			if local {
				b.svc.RunLocally(2)
				t.Cleanup(func() { b.svc.StopLocal(context.Background()) })
			}
			for _, c := range cases {
				e := b.run(t, f.ID, c.input, StartOptions{})
				if e.Status != StatusSucceeded {
					t.Fatalf("%s local %v: execution = %+v", c.name, local, e)
				}
				out := e.Output.(map[string]any)
				if out["text"] != c.wantText {
					t.Errorf("%s local %v: the flow saw %s\nwant %s", c.name, local, out["text"], c.wantText)
				}
				if out["one"] != 2 {
					t.Errorf("%s local %v: .ints.one + 1 = %#v; want 2", c.name, local, out["one"])
				}
				r, err := st.FlowExecution(b.ctx, e.ID)
				if err != nil {
					t.Fatal(err)
				}
				plain, err := b.svc.box.OpenBytes(r.InputSealed, purposeInput+e.ID)
				if err != nil {
					t.Fatal(err)
				}
				if string(plain) != c.wantSeal {
					t.Errorf("%s local %v: stored input %s\nwant %s", c.name, local, plain, c.wantSeal)
				}
				want := Subject{IssueID: "iss_1", Title: "Stale admin", User: "Ann Lee ann@example.com"}
				if r.Subject != want {
					t.Errorf("%s local %v: subject = %+v; want %+v", c.name, local, r.Subject, want)
				}
			}
		}
	})
}
