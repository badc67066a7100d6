package invoke

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReadBody checks that a body is read whole whatever length was
// announced, and that the limit holds when the body is longer than it
// announced.
func TestReadBody(t *testing.T) {
	const limit = 16
	for _, tc := range []struct {
		name      string
		body      string
		announced int64
		tooLarge  bool
	}{
		{name: "as announced", body: `{"a":1}`, announced: 7},
		{name: "no length", body: `{"a":1}`, announced: -1},
		{name: "shorter than announced", body: `{"a":1}`, announced: 12},
		{name: "longer than announced", body: `{"a":12345}`, announced: 3},
		{name: "empty", body: ``, announced: 0},
		{name: "at the limit", body: strings.Repeat("x", limit), announced: limit},
		{name: "over the limit, announced", body: strings.Repeat("x", limit+1), announced: limit + 1, tooLarge: true},
		{name: "over the limit, announced less", body: strings.Repeat("x", limit+1), announced: 4, tooLarge: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			got, err := readBody(http.MaxBytesReader(w, r.Body, limit), tc.announced, limit)
			var tooBig *http.MaxBytesError
			if tc.tooLarge {
				if !errors.As(err, &tooBig) {
					t.Fatalf("read %q, %v; want a MaxBytesError", got, err)
				}
				return
			}
			if err != nil || string(got) != tc.body {
				t.Fatalf("read %q, %v; want %q", got, err, tc.body)
			}
		})
	}
}
