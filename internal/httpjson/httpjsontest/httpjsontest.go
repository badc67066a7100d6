// Package httpjsontest sends the requests of tests to JSON APIs and reads
// their answers, so that each test says only what it asks and checks.
package httpjsontest

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Do sends req with the default client and returns the response, whose
// body it has read and closed, with that body decoded as a JSON object:
// nil when it is none (an empty body, or text).
func Do(t testing.TB, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if json.Unmarshal(raw, &out) != nil {
		out = nil
	}
	return resp, out
}
