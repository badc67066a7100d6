package app_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// slowBody opens a connection to the server and sends the headers of a
// sign-in whose body never fully arrives.
func slowBody(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", base[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/v1/session HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
	return conn
}

// TestSlowBodyCutOff checks that a client trickling its request body is
// cut off once the read timeout has passed, instead of holding its
// connection for as long as it keeps trickling.
func TestSlowBodyCutOff(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		r := startNode(t, storetest.DatabaseURL(t, dialect), "", nil, func(c *app.Config) { c.ReadTimeout = 300 * time.Millisecond })
		conn := slowBody(t, r.url)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		// The server answers (or just closes) once the timeout passes;
		// the deadline is only a safety net for a server that never does.
		conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
		_, err := io.ReadAll(conn)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the server still read a trickled body after 2 minutes; want the connection cut off at the read timeout")
		}
	})
}

// TestSlowBodyFlood checks that a flood of anonymous slow-body requests
// takes no more than the anonymous cap: further anonymous requests are
// answered 503 at once, health checks still answer, and once the flood
// ends anonymous requests are served again.
func TestSlowBodyFlood(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		const limit = 8
		r := startNode(t, storetest.DatabaseURL(t, dialect), "", nil, func(c *app.Config) {
			c.ReadTimeout = 10 * time.Minute
			c.MaxAnonymous = limit
		})
		var flood []net.Conn
		for range 5 * limit {
			flood = append(flood, slowBody(t, r.url))
		}
		status := func(path string) int {
			resp, err := http.Get(r.url + path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		waitFor(t, "an anonymous request answered 503 while the flood holds every slot", func() bool {
			return status("/login") == http.StatusServiceUnavailable
		})
		for _, path := range []string{"/healthz", "/readyz"} {
			if got := status(path); got != http.StatusOK {
				t.Errorf("GET %s during the flood: %d; want 200", path, got)
			}
		}
		for _, c := range flood {
			c.Close()
		}
		waitFor(t, "anonymous requests served again after the flood", func() bool {
			return status("/login") == http.StatusOK
		})
	})
}

// waitFor polls cond until it holds, failing the test after two minutes
// (a safety net, not a measure of speed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2 minutes for %s", what)
		}
	}
}

// TestMetricsNeedToken checks that /metrics answers only a scraper with the
// metrics token; it was open to anyone who could reach the server.
func TestMetricsNeedToken(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		const token = "metrics-token-0123456789"
		r := startNode(t, storetest.DatabaseURL(t, dialect), "", nil, func(c *app.Config) { c.MetricsToken = token })
		for _, tc := range []struct {
			auth string
			want int
		}{{"", 401}, {"Bearer wrong-token", 401}, {"Basic " + token, 401}, {"Bearer " + token, 200}} {
			req, _ := http.NewRequest("GET", r.url+"/metrics", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want || (tc.want == 200) != strings.Contains(string(body), "vigil_http_requests_total") {
				t.Errorf("GET /metrics with %q: %d; want %d, metrics only with the token", tc.auth, resp.StatusCode, tc.want)
			}
		}
	})
}
