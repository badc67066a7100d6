package invoke

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRequest feeds the invoke URL's request parsing any query, content
// type, token header and body: the token is taken from the header first and
// the query second, the flow input always encodes as JSON and never carries
// the credentials, and a body is the input's body exactly when it is JSON.
func FuzzRequest(f *testing.F) {
	for _, s := range []struct{ query, contentType, token, body string }{
		{"clientToken=abc", "application/json", "", `{"eventData":{"title":"Unused Admin Account"}}`},
		{"a=1&a=2&b=", "", "tok", `[1,2,3]`},
		{"", "application/vnd.okta+json; charset=utf-8", "", `{"x":null}`},
		{"clientToken=q&clientToken=r", "text/plain", "h", `not json`},
		{"%zz&=&;", "application/json", "", `{"unterminated":`},
		{"x=%00", "multipart/form-data; boundary=\"", "", "\xff\xfe"},
		{"", "", "", ""},
	} {
		f.Add(s.query, s.contentType, s.token, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, rawQuery, contentType, token string, body []byte) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/api/flo/a/invoke", RawQuery: rawQuery},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if token != "" {
			r.Header.Set("X-Api-Client-Token", token)
		}
		r.Header.Set("Authorization", "Bearer secret-bearer")
		r.Header.Set("Cookie", "session=secret-cookie")
		got := callerToken(r)
		if want := r.URL.Query().Get("clientToken"); token != "" && got != token || token == "" && got != want {
			t.Fatalf("callerToken = %q with header %q and query %q", got, token, rawQuery)
		}
		const limit = 1 << 10
		req, err := readRequest(httptest.NewRecorder(), r, limit)
		if len(body) > limit {
			if err == nil {
				t.Fatalf("a %d-byte body was read under a %d-byte limit", len(body), limit)
			}
			return
		}
		if err != nil {
			t.Fatalf("readRequest: %v", err)
		}
		if req.query.Has("clientToken") {
			t.Fatalf("the query %q kept the client token", req.rawQuery)
		}
		in := req.input("exe_1")
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("the flow input does not encode as JSON: %v", err)
		}
		if strings.Contains(string(b), "secret-bearer") || strings.Contains(string(b), "secret-cookie") {
			t.Fatalf("the flow input carries credentials: %s", b)
		}
		if token != "" && strings.Contains(strings.ToLower(string(b)), "x-api-client-token") {
			t.Fatalf("the flow input carries the token header: %s", b)
		}
		valid := len(body) > 0 && json.Valid(body)
		if req.isJSON && !valid || req.jsonErr != nil && valid {
			t.Fatalf("isJSON = %v, jsonErr = %v for body %q", req.isJSON, req.jsonErr, body)
		}
		if valid && (contentType == "" || contentType == "application/json") && !req.isJSON {
			t.Fatalf("the JSON body %q with type %q was not parsed", body, contentType)
		}
		if req.isJSON && req.jsonErr != nil {
			t.Fatal("a body both parsed and failed to parse")
		}
	})
}
