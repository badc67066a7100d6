package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what one load run measured.
type loadResult struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

func (r loadResult) perSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

// load runs conns callers, each sending requests one after another with
// send, until d has passed or max requests were sent (0: no bound), and
// prints the count every second to progress. send reports whether the
// answer was the expected one.
func load(ctx context.Context, name string, conns int, d time.Duration, max int, progress io.Writer,
	send func(ctx context.Context) bool) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var sent, failed atomic.Int64
	lats := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				fmt.Fprintf(progress, "  %-13s %6.0fs  %9d requests  %6d errors\n", name, time.Since(start).Seconds(), sent.Load(), failed.Load())
			}
		}
	}()
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if max > 0 && sent.Add(1) > int64(max) {
					sent.Add(-1)
					return
				} else if max == 0 {
					sent.Add(1)
				}
				t0 := time.Now()
				ok := send(ctx)
				if ctx.Err() != nil && !ok {
					// Cut short by the end of the run: not an answer.
					sent.Add(-1)
					return
				}
				lats[i] = append(lats[i], time.Since(t0))
				if !ok {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stopProgress)
	res := loadResult{Requests: int(sent.Load()), Errors: int(failed.Load()), Elapsed: time.Since(start)}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	res.P50, res.P99 = percentile(all, 0.50), percentile(all, 0.99)
	return res
}

// percentile returns the p-th percentile of ds (which it sorts).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds)-1) * p)
	return ds[i]
}

// post sends body to url with the headers and reports whether the answer
// had the wanted status; it reads the answer to the end so that the
// connection is kept.
func post(ctx context.Context, c *http.Client, url string, body []byte, headers map[string]string, want int) (*http.Response, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytesReader(body))
	if err != nil {
		return nil, false
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err == nil && resp.StatusCode == want
}

// newClient is an HTTP client that keeps a connection per caller.
func newClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns * 2
	t.MaxIdleConnsPerHost = conns * 2
	t.MaxConnsPerHost = 0
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}
