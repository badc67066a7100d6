// Package netguard provides the one HTTP client that every outbound request
// in Vigil goes through, so that a URL typed by a user (a webhook, a
// connection, an HTTP call in a flow) cannot reach the machine itself, the
// private network behind it or a cloud metadata endpoint (server-side request
// forgery).
//
// The check runs on the resolved address at dial time: the guard resolves
// the host once, checks every address, and connects to the checked address
// literally, with net.Dialer.Control checking it again just before the
// socket connects. A DNS answer that changes between a check and the
// connection (DNS rebinding) therefore cannot slip through. Addresses in an
// explicit allowlist are let through.
package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"syscall"
	"time"
)

// Resolver looks up the addresses of a host name. *net.Resolver satisfies
// it; tests inject a fake to map names to addresses without DNS.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Default limits, chosen so that a receiver that never answers cannot hold a
// worker for long.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultDialTimeout = 10 * time.Second
)

// Config configures a Guard. The zero value refuses every non-public
// address, follows no redirect and uses the system resolver.
type Config struct {
	// Allow lists the prefixes that are let through although they are not
	// public, e.g. 127.0.0.0/8 for a local demo (see ParseAllowlist). Cloud
	// metadata addresses are only let through by an entry naming exactly
	// that address (/32 or /128).
	Allow []netip.Prefix
	// AllowSetting, when set, is asked at each check for the allowlist as
	// saved now and replaces Allow, so that a change of the saved setting
	// applies to a running process. It must be fast (cache its reads).
	AllowSetting func() []netip.Prefix
	// Timeout bounds a whole request, body included. Zero means
	// DefaultTimeout; negative means no limit.
	Timeout time.Duration
	// DialTimeout bounds one connection attempt. Zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// MaxRedirects is how many redirects a client follows, each one checked
	// like the first request. Zero means none: the client returns the 3xx
	// response itself.
	MaxRedirects int
	// Resolver resolves host names. Nil means net.DefaultResolver.
	Resolver Resolver
	// TLSClientConfig, if set, is used for HTTPS, e.g. to trust a test CA.
	TLSClientConfig *tls.Config
}

// Guard checks outbound addresses against the built-in block list and the
// configured allowlist and builds HTTP clients that apply the check on
// every connection. A Guard is safe for concurrent use.
type Guard struct {
	allow        []netip.Prefix
	allowSetting func() []netip.Prefix
	timeout      time.Duration
	maxRedirects int
	resolver     Resolver
	transport    *http.Transport
	// connect opens a connection to an address literal that has passed
	// the check. Tests replace it to make sure nothing leaves the machine.
	connect func(ctx context.Context, network, address string) (net.Conn, error)
}

// New returns a Guard for cfg.
func New(cfg Config) *Guard {
	g := &Guard{
		timeout:      cfg.Timeout,
		maxRedirects: max(cfg.MaxRedirects, 0),
		resolver:     cfg.Resolver,
		allowSetting: cfg.AllowSetting,
	}
	for _, p := range cfg.Allow {
		g.allow = append(g.allow, normalizePrefix(p))
	}
	if g.timeout == 0 {
		g.timeout = DefaultTimeout
	} else if g.timeout < 0 {
		g.timeout = 0
	}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	dialTimeout := cfg.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = DefaultDialTimeout
	}
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, Control: g.control}
	g.connect = d.DialContext
	var tlsConfig *tls.Config
	if cfg.TLSClientConfig != nil {
		tlsConfig = cfg.TLSClientConfig.Clone()
	}
	g.transport = &http.Transport{
		Proxy:                 nil, // never route through a proxy from the environment
		DialContext:           g.DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return g
}

// NewClient is New(cfg).Client().
func NewClient(cfg Config) *http.Client {
	return New(cfg).Client()
}

// Client returns an HTTP client whose every connection, redirects included,
// is checked. Clients from one Guard share a connection pool.
func (g *Guard) Client() *http.Client {
	return &http.Client{
		Transport:     g.transport,
		Timeout:       g.timeout,
		CheckRedirect: g.checkRedirect,
	}
}

// Transport returns the guarded round tripper, for callers that build
// their own client (for instance an OAuth2 token source).
func (g *Guard) Transport() http.RoundTripper {
	return g.transport
}

func (g *Guard) checkRedirect(req *http.Request, via []*http.Request) error {
	if g.maxRedirects == 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > g.maxRedirects {
		return fmt.Errorf("stopped after %d redirects", g.maxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to a %q URL refused", req.URL.Scheme)
	}
	return nil
}

// Check reports whether addr may be called: it is public, or it matches
// the allowlist. It returns a *BlockedError otherwise.
func (g *Guard) Check(addr netip.Addr) error {
	a := normalize(addr)
	r := classify(a)
	if r == "" || g.allowed(a, r) {
		return nil
	}
	return &BlockedError{Addr: a, Reason: r}
}

// allowlist is the allowlist in force: the saved setting when the guard
// follows one, else the configured list.
func (g *Guard) allowlist() []netip.Prefix {
	if g.allowSetting != nil {
		return g.allowSetting()
	}
	return g.allow
}

func (g *Guard) allowed(a netip.Addr, r Reason) bool {
	return slices.ContainsFunc(g.allowlist(), func(p netip.Prefix) bool {
		p = normalizePrefix(p)
		if r == ReasonMetadata {
			return p.IsSingleIP() && p.Addr() == a
		}
		return p.Contains(a)
	})
}

// CheckURL validates a URL up front, for forms that should refuse a
// target before saving it: the scheme must be http or https, and every
// address the host resolves to must pass Check. The dial-time check still
// applies when the URL is used, so a later DNS change is caught there.
func (g *Guard) CheckURL(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("parse URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL scheme %q is not http or https", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("URL has no host")
	}
	addrs, err := g.resolve(ctx, "ip", host)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if err := g.Check(a); err != nil {
			return withHost(err, host)
		}
	}
	return nil
}

// DialContext resolves the host in address, drops every address that fails
// Check and connects to the first remaining one that answers. If none is
// left it returns the *BlockedError of the first refused address.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	ipNetwork := "ip"
	switch network {
	case "tcp4", "udp4":
		ipNetwork = "ip4"
	case "tcp6", "udp6":
		ipNetwork = "ip6"
	}
	addrs, err := g.resolve(ctx, ipNetwork, host)
	if err != nil {
		return nil, err
	}
	var blocked, lastErr error
	for _, a := range addrs {
		a = normalize(a)
		if err := g.Check(a); err != nil {
			if blocked == nil {
				blocked = withHost(err, host)
			}
			continue
		}
		conn, err := g.connect(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if blocked != nil {
		return nil, blocked
	}
	return nil, fmt.Errorf("dial %s: no address found for %s", address, host)
}

// resolve returns the addresses of host: the address itself for a literal
// (legacy numeric forms included), the resolver's answer otherwise.
func (g *Guard) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	a, literal, err := hostAddr(host)
	if err != nil {
		return nil, err
	}
	if literal {
		return []netip.Addr{a}, nil
	}
	addrs, err := g.resolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	return addrs, nil
}

// control runs just before each socket connects and checks the address the
// kernel is about to use. It is the last line: DialContext only ever hands
// the dialer checked literals, but a mistake there must not open a hole.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Host: address, Reason: ReasonInvalid}
	}
	return g.Check(ap.Addr())
}

func withHost(err error, host string) error {
	var be *BlockedError
	if errors.As(err, &be) && be.Host == "" {
		be.Host = host
	}
	return err
}
