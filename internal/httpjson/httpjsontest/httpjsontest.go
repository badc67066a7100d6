// Package httpjsontest sends the requests of tests to JSON APIs and reads
// their answers, so that each test says only what it asks and checks.
package httpjsontest

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Answer is what a test reads of a response: its status, its header and
// its body decoded as a JSON object (nil when it is none: an empty body,
// or text). The body itself is read and closed before Do returns.
type Answer struct {
	StatusCode int
	Header     http.Header
	JSON       map[string]any
}

// Do sends req with the default client (tests send only to their own
// loopback servers) and returns what it answered.
func Do(t testing.TB, req *http.Request) Answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req) //nolint:gosec // G704: a test's request to its own loopback server
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := Answer{StatusCode: resp.StatusCode, Header: resp.Header}
	if json.Unmarshal(raw, &a.JSON) != nil {
		a.JSON = nil
	}
	return a
}
