package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// fakeResolver maps host names to addresses; unknown names do not resolve.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

var testResolver = fakeResolver{
	"loopback.test":   addrs("127.0.0.1"),
	"loopback6.test":  addrs("::1"),
	"rebind.test":     addrs("10.0.0.1"),
	"metadata.test":   addrs("169.254.169.254"),
	"mapped.test":     addrs("::ffff:192.168.0.1"),
	"allprivate.test": addrs("192.168.1.1", "fd12::1", "100.64.1.1"),
}

// loopbackOnly wraps g's real connect so that a test fails, rather than send
// a packet off the machine, if the guard ever hands it another address.
func loopbackOnly(t *testing.T, g *Guard) {
	t.Helper()
	real := g.connect
	g.connect = func(ctx context.Context, network, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("guard tried to connect to %q", address)
			return nil, errors.New("test refused connection")
		}
		return real(ctx, network, address)
	}
}

// TestClientBlocksTargets sends a request to every target through a guard
// without allowlist: each must fail with a *BlockedError before any
// connection is attempted.
func TestClientBlocksTargets(t *testing.T) {
	t.Parallel()
	g := New(Config{Resolver: testResolver})
	g.connect = func(_ context.Context, _, address string) (net.Conn, error) {
		t.Errorf("guard tried to connect to %q", address)
		return nil, errors.New("test refused connection")
	}
	client := g.Client()

	tests := []struct {
		host   string
		reason Reason
	}{
		{"127.0.0.1", ReasonLoopback},
		{"127.0.0.2", ReasonLoopback},
		{"127.1", ReasonLoopback},
		{"0x7f.1", ReasonLoopback},
		{"0x7f000001", ReasonLoopback},
		{"2130706433", ReasonLoopback},
		{"0177.0.0.1", ReasonLoopback},
		{"127.0.0.1.", ReasonLoopback},
		{"[::1]", ReasonLoopback},
		{"[::ffff:127.0.0.1]", ReasonLoopback},
		{"[::ffff:7f00:1]", ReasonLoopback},
		{"0.0.0.0", ReasonUnspecified},
		{"0", ReasonUnspecified},
		{"[::]", ReasonUnspecified},
		{"0.1.2.3", ReasonThisNetwork},
		{"10.0.0.1", ReasonPrivate},
		{"172.16.0.1", ReasonPrivate},
		{"172.31.255.255", ReasonPrivate},
		{"192.168.1.1", ReasonPrivate},
		{"100.64.0.1", ReasonSharedCGNAT},
		{"169.254.1.1", ReasonLinkLocal},
		{"169.254.169.254", ReasonMetadata},
		{"169.254.170.2", ReasonMetadata},
		{"100.100.100.200", ReasonMetadata},
		{"[fd00:ec2::254]", ReasonMetadata},
		{"[::ffff:169.254.169.254]", ReasonMetadata},
		{"[fe80::1]", ReasonLinkLocal},
		{"[fe80::1%25lo]", ReasonLinkLocal},
		{"[fc00::1]", ReasonUniqueLocal},
		{"[fd12:3456::1]", ReasonUniqueLocal},
		{"[fec0::1]", ReasonSiteLocal},
		{"[64:ff9b::7f00:1]", "NAT64 address embedding a loopback address"},
		{"[64:ff9b::a9fe:a9fe]", "NAT64 address embedding a cloud metadata address"},
		{"[64:ff9b:1::a00:1]", ReasonNAT64Local},
		{"[2002:7f00:1::]", "6to4 address embedding a loopback address"},
		{"[2002:a00:1::1]", "6to4 address embedding a private address"},
		{"[::127.0.0.1]", ReasonIPv4Compatible},
		{"[::8.8.8.8]", ReasonIPv4Compatible},
		{"[2001:0:4136:e378:8000:63bf:3fff:fdd2]", ReasonTeredo},
		{"224.0.0.1", ReasonMulticast},
		{"239.255.255.250", ReasonMulticast},
		{"[ff02::1]", ReasonMulticast},
		{"255.255.255.255", ReasonBroadcast},
		{"240.0.0.1", ReasonReserved},
		{"198.18.0.1", ReasonBenchmarking},
		{"192.0.2.1", ReasonDocumentation},
		{"[2001:db8::1]", ReasonDocumentation},
		{"[100::1]", ReasonDiscard},
		{"loopback.test", ReasonLoopback},
		{"loopback6.test", ReasonLoopback},
		{"rebind.test", ReasonPrivate},
		{"metadata.test", ReasonMetadata},
		{"mapped.test", ReasonPrivate},
		{"allprivate.test", ReasonPrivate},
		{"0x7f.1.2.3.4", ReasonMalformedHost},
		{"1.2.3.256", ReasonMalformedHost},
		{"0x100.1", ReasonMalformedHost},
		{"09.1.1.1", ReasonMalformedHost},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			err := get(client, "http://"+tt.host+":8080/")
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("Get: err = %v, want *BlockedError", err)
			}
			if be.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", be.Reason, tt.reason)
			}
		})
	}
}

// TestAllowlistReachesLoopback runs a real server on 127.0.0.1 and checks
// that an allowlist of 127.0.0.0/8 opens it in every spelling, and only it.
func TestAllowlistReachesLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	allow, err := ParseAllowlist("127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	g := New(Config{Allow: allow, Resolver: testResolver})
	loopbackOnly(t, g)
	client := g.Client()

	for _, host := range []string{"127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]", "loopback.test"} {
		t.Run("reach "+host, func(t *testing.T) {
			resp, err := client.Get(fmt.Sprintf("http://%s:%d/", host, port))
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if string(body) != "ok" {
				t.Errorf("body = %q, want ok", body)
			}
		})
	}
	for _, host := range []string{"[::1]", "0.0.0.0", "10.0.0.1", "169.254.169.254", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "loopback6.test", "rebind.test"} {
		t.Run("block "+host, func(t *testing.T) {
			err := get(client, fmt.Sprintf("http://%s:%d/", host, port))
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("Get: err = %v, want *BlockedError", err)
			}
		})
	}
}

func TestMixedAnswerConnectsToAllowedAddress(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	g := New(Config{
		Allow:    []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolver: fakeResolver{"mixed.test": addrs("10.0.0.1", "127.0.0.1")},
	})
	loopbackOnly(t, g)
	resp, err := g.Client().Get(fmt.Sprintf("http://mixed.test:%d/", port))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	resp.Body.Close()
}

func TestBlockedErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want string
	}{
		{"http://127.0.0.1/", "outbound request to 127.0.0.1 blocked: loopback address (add it to --allow-outbound to permit)"},
		{"http://loopback.test/", "outbound request to loopback.test (127.0.0.1) blocked: loopback address (add it to --allow-outbound to permit)"},
		{"http://169.254.169.254/", "outbound request to 169.254.169.254 blocked: cloud metadata address (add exactly this address to --allow-outbound to permit)"},
		{"http://1.2.3.256/", "outbound request to 1.2.3.256 blocked: malformed numeric host (write the address in its usual form)"},
	}
	g := New(Config{Resolver: testResolver})
	loopbackOnly(t, g)
	for _, tt := range tests {
		err := get(g.Client(), tt.url)
		var be *BlockedError
		if !errors.As(err, &be) {
			t.Fatalf("Get %s: err = %v, want *BlockedError", tt.url, err)
		}
		if got := be.Error(); got != tt.want {
			t.Errorf("Get %s: message\n got %q\nwant %q", tt.url, got, tt.want)
		}
	}
}

func TestControl(t *testing.T) {
	t.Parallel()
	g := New(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	tests := []struct {
		address string
		blocked bool
	}{
		{"127.0.0.1:80", false},
		{"8.8.8.8:443", false},
		{"[2606:4700:4700::1111]:443", false},
		{"10.0.0.1:80", true},
		{"[::1]:80", true},
		{"[::ffff:10.0.0.1]:80", true},
		{"169.254.169.254:80", true},
		{"not-an-address:80", true},
	}
	for _, tt := range tests {
		err := g.control("tcp", tt.address, nil)
		if (err != nil) != tt.blocked {
			t.Errorf("control(%q) = %v, want blocked=%v", tt.address, err, tt.blocked)
		}
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/one":
			http.Redirect(w, r, "/two", http.StatusFound)
		case "/two":
			http.Redirect(w, r, "/end", http.StatusFound)
		case "/private":
			http.Redirect(w, r, "http://10.0.0.1/", http.StatusFound)
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		default:
			io.WriteString(w, "end")
		}
	}))
	defer srv.Close()
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

	tests := []struct {
		name       string
		max        int
		path       string
		wantStatus int
		wantErr    bool
		wantBlock  bool
	}{
		{"not followed by default", 0, "/one", http.StatusFound, false, false},
		{"followed within limit", 2, "/one", http.StatusOK, false, false},
		{"over limit", 1, "/one", 0, true, false},
		{"to private address", 3, "/private", 0, true, true},
		{"to metadata address", 3, "/metadata", 0, true, true},
		{"to file scheme", 3, "/file", 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(Config{Allow: allow, MaxRedirects: tt.max})
			loopbackOnly(t, g)
			resp, err := g.Client().Get(srv.URL + tt.path)
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("Get: no error, status %d", resp.StatusCode)
				}
				var be *BlockedError
				if errors.As(err, &be) != tt.wantBlock {
					t.Errorf("Get: err = %v, want blocked=%v", err, tt.wantBlock)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
		})
	}
}

func TestClientSettings(t *testing.T) {
	t.Parallel()
	g := New(Config{})
	c := g.Client()
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", c.Transport)
	}
	if tr.Proxy != nil {
		t.Error("transport takes a proxy from the environment")
	}
	if c.Timeout != DefaultTimeout {
		t.Errorf("timeout = %v, want %v", c.Timeout, DefaultTimeout)
	}
	if New(Config{Timeout: -1}).Client().Timeout != 0 {
		t.Error("negative timeout does not mean no limit")
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		blocked bool
	}{
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"93.184.216.34", false},
		{"100.63.255.255", false},
		{"100.128.0.0", false},
		{"172.32.0.1", false},
		{"2606:4700:4700::1111", false},
		{"2a00:1450:4001:80b::200e", false},
		{"::ffff:8.8.8.8", false},
		{"64:ff9b::808:808", false},
		{"2002:808:808::1", false},
		{"127.0.0.1", true},
		{"10.255.255.255", true},
		{"169.254.169.254", true},
		{"fd00:ec2::254", true},
		{"::ffff:169.254.169.254", true},
		{"64:ff9b::c0a8:101", true},
		{"2002:c0a8:101::", true},
		{"4000::1", true},
		{"fe80::1%eth0", true},
	}
	for _, tt := range tests {
		err := Check(netip.MustParseAddr(tt.addr))
		if (err != nil) != tt.blocked {
			t.Errorf("Check(%s) = %v, want blocked=%v", tt.addr, err, tt.blocked)
		}
	}
	if err := Check(netip.Addr{}); err == nil {
		t.Error("Check(zero Addr) = nil, want error")
	}
}

func TestGuardCheckAllowlist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		allow   string
		addr    string
		blocked bool
	}{
		{"127.0.0.0/8", "127.0.0.1", false},
		{"127.0.0.0/8", "::ffff:127.0.0.5", false},
		{"127.0.0.0/8", "::1", true},
		{"127.0.0.0/8", "0.0.0.0", true},
		{"127.0.0.0/8", "64:ff9b::7f00:1", true},
		{"::1/128", "::1", false},
		{"10.0.0.0/8", "10.1.2.3", false},
		{"10.0.0.0/8", "192.168.0.1", true},
		{"169.254.0.0/16", "169.254.1.1", false},
		{"169.254.0.0/16", "169.254.169.254", true},
		{"169.254.169.254/32", "169.254.169.254", false},
		{"169.254.169.254", "169.254.169.254", false},
		{"fe80::/10", "fe80::1%eth0", false},
		{"::ffff:10.0.0.0/104", "10.9.9.9", false},
		{"", "8.8.8.8", false},
	}
	for _, tt := range tests {
		allow, err := ParseAllowlist(tt.allow)
		if err != nil {
			t.Fatal(err)
		}
		err = New(Config{Allow: allow}).Check(netip.MustParseAddr(tt.addr))
		if (err != nil) != tt.blocked {
			t.Errorf("allow %q: Check(%s) = %v, want blocked=%v", tt.allow, tt.addr, err, tt.blocked)
		}
	}
}

func TestParseAllowlist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "", want: ""},
		{in: "127.0.0.0/8,::1/128", want: "127.0.0.0/8 ::1/128"},
		{in: " 127.0.0.1/8 , 10.0.0.1 ,", want: "127.0.0.0/8 10.0.0.1/32"},
		{in: "::ffff:127.0.0.0/104", want: "127.0.0.0/8"},
		{in: "fd00::1", want: "fd00::1/128"},
		{in: "127.0.0.0/33", wantErr: `allowlist entry "127.0.0.0/33" is not a CIDR such as 127.0.0.0/8 or ::1/128`},
		{in: "localhost", wantErr: `allowlist entry "localhost" is not a CIDR`},
		{in: "127.0.0.0/8,10.0.0.300/8", wantErr: `allowlist entry "10.0.0.300/8"`},
		{in: "fe80::1%eth0", wantErr: `allowlist entry "fe80::1%eth0"`},
	}
	for _, tt := range tests {
		got, err := ParseAllowlist(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAllowlist(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAllowlist(%q): %v", tt.in, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if strings.Join(s, " ") != tt.want {
			t.Errorf("ParseAllowlist(%q) = %q, want %q", tt.in, strings.Join(s, " "), tt.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	g := New(Config{Resolver: fakeResolver{
		"public.test": addrs("8.8.8.8"),
		"half.test":   addrs("8.8.8.8", "10.0.0.1"),
	}})
	tests := []struct {
		url       string
		wantErr   bool
		wantBlock bool
	}{
		{"https://public.test/hook", false, false},
		{"https://8.8.8.8/hook", false, false},
		{"https://half.test/hook", true, true},
		{"http://127.0.0.1:8080/", true, true},
		{"http://0x7f.1/", true, true},
		{"ftp://public.test/", true, false},
		{"https:///nohost", true, false},
		{"https://unknown.test/", true, false},
		{"://bad", true, false},
	}
	for _, tt := range tests {
		err := g.CheckURL(context.Background(), tt.url)
		if (err != nil) != tt.wantErr {
			t.Errorf("CheckURL(%q) = %v, want error=%v", tt.url, err, tt.wantErr)
			continue
		}
		var be *BlockedError
		if errors.As(err, &be) != tt.wantBlock {
			t.Errorf("CheckURL(%q) = %v, want blocked=%v", tt.url, err, tt.wantBlock)
		}
	}
}

func TestLegacyIPv4(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want string // "" means not a numeric host; "err" means refused
	}{
		{"example.com", ""},
		{"1.2.3.4.example", ""},
		{"0x7f.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7F.0.0.0x1", "127.0.0.1"},
		{"0x", "0.0.0.0"},
		{"8.8.8.8.", "8.8.8.8"},
		{"4294967295", "255.255.255.255"},
		{"4294967296", "err"},
		{"1.2.3.4.5", "err"},
		{"256.1", "err"},
		{"1.16777216", "err"},
		{"08", "err"},
		{"99999999999999999999999", "err"},
	}
	for _, tt := range tests {
		a, ok, err := hostAddr(tt.host)
		var got string
		switch {
		case err != nil:
			got = "err"
		case ok:
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("hostAddr(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://acme.okta.com", "https://acme.okta.com/api/v1", true},
		{"https://acme.okta.com", "https://ACME.okta.com:443/", true},
		{"http://h", "http://h:80/x", true},
		{"https://acme.okta.com", "http://acme.okta.com", false},
		{"https://acme.okta.com", "https://acme.okta.com:8443", false},
		{"https://acme.okta.com", "https://evil.example", false},
		{"https://acme.okta.com", "https://acme.okta.com.evil.example", false},
		{"https://acme.okta.com", "", false},
		{"", "", false},
		{"https://a b", "https://a b", false},
	} {
		if got := SameOrigin(tc.a, tc.b); got != tc.want {
			t.Errorf("SameOrigin(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// get fetches u and closes the body of any answer; the tests here only
// look at the error.
func get(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err == nil {
		resp.Body.Close()
	}
	return err
}
