package flows

import (
	"context"
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
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
// are the same as before a start encoded its input only once.
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
				plain, err := b.svc.box.Open(r.InputSealed, purposeInput+e.ID)
				if err != nil {
					t.Fatal(err)
				}
				if plain != c.wantSeal {
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

// decodedOfJSON is what a start handed the engine before it encoded its
// input only once: the value decoded from the input's JSON.
func decodedOfJSON(t *testing.T, v any) any {
	t.Helper()
	in, err := engine.Normalize(v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The copy a local run gets equals, type for type, the value decoded from
// the input's JSON.
func TestDecodedIsTheDecodedJSON(t *testing.T) {
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 1.5, 1e3, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, -1e21, 123456789.125,
		1 << 53, 1<<53 + 2, 9223372036854775808.0, -9223372036854775808.0, 9223372036854774784.0, math.MaxFloat64,
		math.SmallestNonzeroFloat64, 0.1, 1.0 / 3, 5e-324, 4.5e15}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		bits := rnd.Uint64()
		f := math.Float64frombits(bits)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		floats = append(floats, f, math.Trunc(f), float64(int64(bits)>>rnd.IntN(64)))
	}
	values := []any{nil, true, 7, -7, math.MaxInt, math.MinInt, "", "héllo 世界 🙂 <a&b> \u2028", "not \xff UTF-8",
		big.NewInt(5), huge, json.Number("1.0"), json.Number("12345678901234567890"),
		[]any{}, map[string]any{}, map[string]any{"\xffkey": 1}, []any{[]any{map[string]any{"a": 1.0}}}}
	for _, f := range floats {
		values = append(values, f)
	}
	for _, v := range values {
		in, err := engine.Normalize(v)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(in)
		got, err := startInput{value: in, json: b}.decoded()
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if want := decodedOfJSON(t, v); !reflect.DeepEqual(got, want) {
			t.Errorf("decoded %#v = %#v (%T); want %#v (%T)", v, got, got, want, want)
		}
	}

	// Deeper than it copies: decoded from the JSON, with the same value.
	deep := any(1.0)
	for range decodedDepth + 5 {
		deep = []any{deep}
	}
	if _, ok := asDecoded(deep, 0); ok {
		t.Errorf("asDecoded copied a value deeper than %d", decodedDepth)
	}
	b, _ := json.Marshal(deep)
	got, err := startInput{value: deep, json: b}.decoded()
	if err != nil || !reflect.DeepEqual(got, decodedOfJSON(t, deep)) {
		t.Errorf("deep value decoded = %v, %v", got, err)
	}
}

// The copy shares nothing with the caller's value, as a value decoded from
// JSON did not.
func TestDecodedIsACopy(t *testing.T) {
	list := []any{1}
	obj := map[string]any{"list": list, "obj": map[string]any{"a": "b"}}
	got, ok := asDecoded(obj, 0)
	if !ok {
		t.Fatal("asDecoded refused a plain value")
	}
	m := got.(map[string]any)
	m["list"].([]any)[0] = 2
	m["obj"].(map[string]any)["a"] = "c"
	m["new"] = true
	if list[0] != 1 || obj["obj"].(map[string]any)["a"] != "b" || len(obj) != 2 {
		t.Errorf("changing the copy changed the input: %v", obj)
	}
}

// The subject read from the input's value is the one read from its JSON,
// whatever the shape of the event.
func TestSubjectOfValueIsSubjectOfJSON(t *testing.T) {
	ev := func(id, title, entity any) map[string]any {
		return map[string]any{"id": id, "title": title, "affectedEntity": entity}
	}
	entity := map[string]any{"displayName": "Ann Lee", "identifierInService": "ann@example.com"}
	long := strings.Repeat("é", subjectMax)
	events := []any{nil, "text", 7, []any{}, map[string]any{}, ev("iss_1", "Stale admin", entity), ev("iss_1", nil, nil),
		ev(1, "t", entity), ev("iss_1", true, entity), ev("iss_1", "t", "x"), ev("i", "t", map[string]any{"displayName": 3}),
		ev(" padded ", long, map[string]any{"displayName": "ann", "identifierInService": "ann"}),
		ev("i", "not \xff UTF-8", entity), map[string]any{"ID": "upper", "title": "t"},
		map[string]any{"id": "a", "Id": "b"}, ev("i", "t", map[string]any{"DISPLAYNAME": "x"}),
		ev("i", "t", map[string]any{"displayName": "Ann", "identifierınService": "ann"})}
	var inputs []any
	for _, e := range events {
		inputs = append(inputs, e, map[string]any{"eventData": e}, map[string]any{"body": map[string]any{"eventData": e}},
			map[string]any{"eventData": e, "body": map[string]any{"eventData": ev("body", "b", nil)}},
			map[string]any{"eventData": ev("top", "t", nil), "body": map[string]any{"eventData": e}},
			map[string]any{"eventData": e, "body": e}, map[string]any{"EventData": e},
			map[string]any{"eventdata": e, "eventData": ev("top", "t", nil)}, map[string]any{"body": map[string]any{"EVENTDATA": e}},
			map[string]any{"eventData": e, "body": "text"}, map[string]any{"eventData": nil, "body": nil})
	}
	inputs = append(inputs, nil, "text", []any{map[string]any{"eventData": ev("i", "t", nil)}})
	read := 0
	for _, in := range inputs {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		want := subjectOf(b)
		got, sure := subjectOfValue(in)
		if !sure {
			continue
		}
		read++
		if got != want {
			t.Errorf("subject of %s = %+v; want %+v", b, got, want)
		}
	}
	if read < len(inputs)/2 {
		t.Errorf("%d of %d inputs' subjects read from the value; want most", read, len(inputs))
	}
	// The common shapes are read from the value, not left to the JSON.
	for _, in := range []any{map[string]any{"eventData": ev("iss_1", "Stale admin", entity)},
		map[string]any{"body": map[string]any{"eventData": ev("iss_1", "Stale admin", entity)}, "headers": map[string]any{}},
		map[string]any{"name": "bob"}} {
		if _, sure := subjectOfValue(in); !sure {
			t.Errorf("subject of %v left to the JSON", in)
		}
	}
}

// invokeShapedInput is the input the invoke endpoint builds for an issue
// event of about 1.1 KB (the body twice: parsed and raw) with a dozen
// headers.
func invokeShapedInput(b *testing.B) map[string]any {
	b.Helper()
	raw := `{"eventType":"com.okta.ispm.issue.created","eventTypeVersion":"1.0","eventId":"5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0",` +
		`"eventTime":"2026-11-28T10:00:00.000Z","eventData":{"id":"iss_01JD8Z6Q0X9V4N7W2K5M3R8T1Y","title":"Admin account without MFA",` +
		`"severity":"HIGH","status":"OPEN","category":"IDENTITY_HYGIENE","detectedAt":"2026-11-28T09:59:58.000Z","score":87.5,"rank":3,` +
		`"description":"An account with administrator privileges can sign in without a second factor. Enroll a phishing-resistant factor or remove the privilege.",` +
		`"affectedEntity":{"type":"ACCOUNT","id":"00u1a2b3c4d5e6f7g8h9","identifierInService":"ada.lovelace@example.com","displayName":"Ada Lovelace",` +
		`"department":"Engineering","manager":"charles.babbage@example.com","lastLogin":"2026-11-27T18:22:10.000Z"},` +
		`"privileges":["SUPER_ADMIN","ORG_ADMIN"],"factors":[],"apps":["Okta Admin Console","AWS","Salesforce"]},` +
		`"tenant":{"id":"ten_01JD8Z","name":"Example Corp"},"padding":"0123456789abcdef0123456789abcdef0123456789abcdef"}`
	var body any
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		b.Fatal(err)
	}
	headers := map[string]any{}
	for _, h := range []string{"accept", "accept-encoding", "content-type", "content-length", "host", "user-agent",
		"x-forwarded-for", "x-forwarded-proto", "x-request-id", "traceparent", "prefer", "connection"} {
		headers[h] = "value of " + h
	}
	return map[string]any{"body": body, "headers": headers, "query": map[string]any{},
		"raw":     map[string]any{"headers": headers, "body": raw, "query": ""},
		"context": map[string]any{"execution_id": "exe_01JD8Z6Q0X9V4N7W2K5M3R8T1Y"}}
}

// BenchmarkStartInput compares what a start does with its input after
// encoding it: parse the JSON again for the subject and for a local run
// (json), or read both from the value (value).
func BenchmarkStartInput(b *testing.B) {
	in, err := engine.Normalize(invokeShapedInput(b))
	if err != nil {
		b.Fatal(err)
	}
	data, err := json.Marshal(in)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if subjectOf(data) == (Subject{}) {
				b.Fatal("no subject")
			}
			if _, err := engine.DecodeJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if sub, sure := subjectOfValue(in); !sure || sub == (Subject{}) {
				b.Fatal("no subject")
			}
			if _, err := (startInput{value: in, json: data}).decoded(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
