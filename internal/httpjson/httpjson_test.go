package httpjson

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, http.StatusConflict, "conflict", "The folder holds flows.", "folder")
	if rec.Code != http.StatusConflict || rec.Header().Get("Content-Type") != "application/json" ||
		rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("answer %d, headers %v", rec.Code, rec.Header())
	}
	want := `{"error":{"code":"conflict","message":"The folder holds flows.","field":"folder"}}` + "\n"
	if rec.Body.String() != want {
		t.Fatalf("body %q, want %q", rec.Body.String(), want)
	}
}

func TestDecode(t *testing.T) {
	type in struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	for _, c := range []struct {
		name, body string
		empty      bool
		msg        string // "" means accepted
	}{
		{name: "ok", body: `{"name":"a","count":2}`},
		{name: "empty", body: ``, empty: true},
		{name: "too big", body: `{"name":"` + strings.Repeat("x", 2048) + `"}`, msg: "The request body is larger than 1 KB."},
		{name: "syntax", body: `{"name": s3cret}`, msg: "The request body is not valid JSON (at byte 10)."},
		{name: "cut short", body: `{"name":"a"`, msg: "The request body is not valid JSON (it ends too early)."},
		{name: "type", body: `{"count":"hunter2"}`, msg: `The request body is not the JSON this endpoint expects: field "count" must be int.`},
		{name: "not an object", body: `["hunter2"]`, msg: "The request body is not the JSON this endpoint expects: it must be httpjson.in."},
		{name: "unknown field", body: `{"nmae":"a"}`, msg: `The request body is not the JSON this endpoint expects: json: unknown field "nmae".`},
		{name: "two values", body: `{"name":"a"} {"name":"b"}`, msg: "The request body holds more than one JSON value."},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			var v in
			err := Decode(httptest.NewRecorder(), r, &v, 1<<10)
			var be *BodyError
			switch {
			case c.empty:
				if !errors.Is(err, ErrEmpty) {
					t.Fatalf("err %v, want ErrEmpty", err)
				}
			case c.msg == "":
				if err != nil || v.Name != "a" || v.Count != 2 {
					t.Fatalf("err %v, value %+v", err, v)
				}
			case !errors.As(err, &be):
				t.Fatalf("err %v, want a *BodyError", err)
			case be.Message != c.msg:
				t.Fatalf("message %q, want %q", be.Message, c.msg)
			}
			if err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "hunter2")) {
				t.Fatalf("message quotes the body: %q", err)
			}
		})
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"  name is required ":      "Name is required.",
		"Already a sentence.":      "Already a sentence.",
		"is the receiver up?":      "Is the receiver up?",
		"refused!":                 "Refused!",
		"okta answered 403: E0001": "Okta answered 403: E0001.",
	} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
