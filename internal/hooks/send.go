package hooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/signature"
)

// UserAgent is sent with every request.
const UserAgent = "Vigil-Hooks/1"

// HeaderTest marks a Test Connection request.
const HeaderTest = "X-Vigil-Test"

// Error kinds of a failed attempt or connection test.
const (
	KindDNS            = "dns"
	KindConnectRefused = "connect_refused"
	KindConnect        = "connect"
	KindTLS            = "tls"
	KindTimeout        = "timeout"
	KindSSRFBlocked    = "ssrf_blocked"
	KindNon2xx         = "non_2xx"
	KindRedirect       = "redirect"
	KindConnReset      = "connection_reset"
	KindReadBody       = "read_body"
	KindInternal       = "internal"
)

// target is everything needed to send to an integration.
type target struct {
	URL     string
	Keys    []Key
	Secrets []string
}

// result is the outcome of one HTTP attempt.
type result struct {
	Start      time.Time // on the service clock
	Latency    time.Duration
	StatusCode int
	Status     string
	Body       []byte
	Truncated  bool
	RetryAfter time.Duration // from Retry-After on 429 or 503; 0 if none
	// Request is what was sent, secrets masked.
	Request Request
	ErrKind string
	Err     string
}

// OK reports whether the receiver accepted the event: a 2xx answer whose
// body (up to the cap) arrived whole.
func (r *result) OK() bool { return r.ErrKind == "" && r.StatusCode >= 200 && r.StatusCode < 300 }

// send POSTs body to t, signed, with its API key entries, and reads at most
// maxBody bytes of the answer: the rest is never read, so a receiver that
// answers a gigabyte costs no memory. Every secret the request carried is
// masked in the answer kept (receivers' error pages often echo the request
// URL and headers), and the connection is not kept for another request, so
// that Go's client never logs bytes a receiver sends after its answer
// ("Unsolicited response").
func (s *Service) send(ctx context.Context, t target, msgID string, body []byte, test bool, maxBody int) *result {
	res := &result{Start: s.now()}
	req, err := s.request(ctx, t, msgID, body, res.Start, test)
	if err != nil {
		res.ErrKind, res.Err = KindInternal, err.Error()
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	req = req.WithContext(ctx)
	req.Close = true
	mask := newMasker(req, t)
	res.Request = maskedRequest(mask, req)
	// Latency is measured on the wall clock: the service clock may be a
	// test's fake one.
	began := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		res.Latency = time.Since(began)
		res.ErrKind, res.Err = s.classify(err)
		return res
	}
	defer resp.Body.Close()
	res.StatusCode, res.Status = resp.StatusCode, resp.Status
	// Read past the cap by the longest secret, so that one which starts
	// before the cap is masked whole rather than cut.
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, int64(maxBody+mask.Longest())+1))
	res.Latency = time.Since(began)
	data = mask.Bytes(data)
	if len(data) > maxBody {
		data, res.Truncated = data[:maxBody], true
	}
	res.Body = data
	switch {
	case rerr != nil:
		kind, msg := s.classify(rerr)
		if kind != KindTimeout {
			kind = KindReadBody
		}
		res.ErrKind, res.Err = kind, fmt.Sprintf("The receiver answered %s but the body could not be read: %s", resp.Status, lowerFirst(msg))
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.ErrKind = KindRedirect
		res.Err = fmt.Sprintf("The receiver answered %s, a redirect%s; redirects are not followed, so update the webhook address.", resp.Status, where(resp))
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		res.ErrKind, res.Err = KindNon2xx, fmt.Sprintf("The receiver answered %s.", resp.Status)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), s.now(), s.cfg.MaxRetryAfter)
		}
	}
	return res
}

// where describes a redirect's target without its query, which may carry tokens.
func where(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return ""
	}
	loc.RawQuery, loc.Fragment, loc.User = "", "", nil
	return " to " + loc.String()
}

func (s *Service) request(ctx context.Context, t target, msgID string, body []byte, now time.Time, test bool) (*http.Request, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, errors.New("the saved webhook address is not a valid URL")
	}
	// Parameters are appended to the query as typed, keeping their case
	// and the query already in the address.
	var params []string
	for _, k := range t.Keys {
		if k.Placement == PlaceParam {
			params = append(params, url.QueryEscape(k.Name)+"="+url.QueryEscape(k.Value))
		}
	}
	if len(params) > 0 {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += strings.Join(params, "&")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("the webhook request could not be built")
	}
	if len(t.Secrets) > 0 {
		h, err := signature.Headers(msgID, now, body, t.Secrets...)
		if err != nil {
			return nil, fmt.Errorf("sign the event: %w", err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
	} else {
		req.Header.Set(signature.HeaderID, msgID)
		req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if test {
		req.Header.Set(HeaderTest, "true")
	}
	for _, k := range t.Keys {
		if k.Placement == PlaceHeader {
			// Set as typed, not canonicalized: some receivers compare
			// header names with case.
			req.Header[k.Name] = []string{k.Value}
		}
	}
	return req, nil
}

// retryAfter parses a Retry-After value (seconds or an HTTP date), capped.
func retryAfter(v string, now time.Time, limit time.Duration) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(limit/time.Second) {
			return limit
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, limit)
}

// classify turns a transport error into a kind and one sentence that never
// quotes the request URL (its query may hold API keys).
func (s *Service) classify(err error) (string, string) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var blocked *netguard.BlockedError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	switch {
	case errors.As(err, &blocked):
		return KindSSRFBlocked, blocked.Error() + "."
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return KindDNS, fmt.Sprintf("The host name %s does not exist (DNS).", dnsErr.Name)
		}
		return KindDNS, fmt.Sprintf("The host name %s could not be resolved: %s.", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout, fmt.Sprintf("The receiver did not answer within %s.", s.cfg.RequestTimeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindConnectRefused, "The receiver refused the connection (nothing listens on that address and port)."
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidCert),
		errors.As(err, &recordErr), errors.As(err, &alert):
		return KindTLS, fmt.Sprintf("The TLS handshake failed: %s.", err)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindConnReset, "The receiver closed the connection before the answer was complete."
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return KindConnect, "The receiver's network cannot be reached."
	case errors.Is(err, context.Canceled):
		return KindInternal, "The attempt was interrupted."
	}
	return KindConnect, fmt.Sprintf("The request failed: %s.", err)
}

// lowerFirst lets a sentence continue another.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
