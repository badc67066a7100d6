package dsl

import (
	"fmt"
	"math"
	"math/big"
	"net/url"
	"sort"
	"strings"

	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/signature"
)

// Trigger says how a flow starts. A flow without one is a helper flow,
// started only by other flows (run: workflow).
type Trigger struct {
	APIEndpoint *APIEndpoint
}

// APIEndpoint is the API Endpoint trigger (Okta Workflows' "API Endpoint"
// card): the flow is invoked by HTTP on /api/flo/{alias}/invoke.
type APIEndpoint struct {
	// Security is clientToken (default), oauth2 or public.
	Security string
	// Response is sync (default: the caller waits for the output) or async
	// (the caller gets 202 and the execution id).
	Response string
	// Signature, when set, makes the invoke endpoint verify a webhook
	// signature before starting the flow.
	Signature *SignatureCheck
	// OktaVerification makes the endpoint answer Okta's one-time event
	// hook verification challenge (x-okta-verification-challenge).
	OktaVerification bool
	// AllowedOrigins lists the browser origins (scheme://host[:port]) that
	// may call the endpoint from a web page, "*" for any. Empty (the
	// default) answers no CORS preflight.
	AllowedOrigins []string
	// Limits bounds how often and how far ahead the endpoint may be
	// invoked; nil means the server's defaults.
	Limits *Limits
}

// Limits bounds the invocations of an API endpoint
// (metadata.vigil.trigger.apiEndpoint.limits). A nil field takes the
// server's default; 0 means no limit.
type Limits struct {
	// RatePerSecond is the sustained rate of accepted invocations.
	RatePerSecond *float64
	// Burst is how many invocations may arrive at once above the rate;
	// 0 means one second's worth of the rate.
	Burst *int
	// MaxBacklog bounds the executions started and not yet ended; above
	// it callers get 503.
	MaxBacklog *int
}

// SignatureCheck configures webhook signature verification on invoke.
type SignatureCheck struct {
	// Scheme is standard-webhooks (webhook-id/-timestamp/-signature headers)
	// or hmac-sha256 (a hex HMAC of the raw body in Header).
	Scheme string
	// Secret names the Vigil secret holding the signing key.
	Secret string
	// Header is the signature header for hmac-sha256.
	Header string
}

// Security values of an API endpoint trigger.
const (
	SecurityClientToken = "clientToken"
	SecurityOAuth2      = "oauth2"
	SecurityPublic      = "public"
)

// Response modes of an API endpoint trigger.
const (
	ResponseSync  = "sync"
	ResponseAsync = "async"
)

// vigilMeta reads document.metadata.vigil, or nil.
func (w *Workflow) vigilMeta() map[string]any {
	m, _ := w.Document.Metadata["vigil"].(map[string]any)
	return m
}

// Trigger returns the flow's trigger, or nil for a helper flow.
func (w *Workflow) Trigger() *Trigger {
	if w.triggerRead {
		return w.trigger
	}
	t, _ := parseTrigger(w.vigilMeta())
	return t
}

// IsHelper tells whether the flow has no trigger and runs only when
// another flow calls it.
func (w *Workflow) IsHelper() bool { return w.Trigger() == nil }

// SaveAllData tells whether every task's input and output is kept in the
// execution history ("Save all data that passes through the Flow").
// It is off by default: history then keeps status and timing only.
func (w *Workflow) SaveAllData() bool {
	v, _ := w.vigilMeta()["saveAllData"].(bool)
	return v
}

// OnDemand tells whether the flow may be run by hand on a posture issue
// (metadata.vigil.onDemand), as Okta ISPM's delegated flows are: the
// issue page and POST /api/v1/issues/{id}/run-flow offer only such flows,
// so that a flow built for another purpose is not fed an issue by
// mistake. It is off by default.
func (w *Workflow) OnDemand() bool {
	v, _ := w.vigilMeta()["onDemand"].(bool)
	return v
}

func parseTrigger(meta map[string]any) (*Trigger, []string) {
	raw, ok := meta["trigger"]
	if !ok || raw == nil {
		return nil, nil
	}
	var probs []string
	tm, ok := raw.(map[string]any)
	if !ok {
		return nil, []string{"trigger: expected object"}
	}
	t := &Trigger{}
	for k, v := range tm {
		switch k {
		case "apiEndpoint":
			t.APIEndpoint, probs = parseAPIEndpoint(v)
		default:
			probs = append(probs, fmt.Sprintf("trigger.%s: unknown trigger kind: expected apiEndpoint", k))
		}
	}
	if t.APIEndpoint == nil && len(probs) == 0 {
		probs = append(probs, "trigger: expected apiEndpoint")
	}
	return t, probs
}

func parseAPIEndpoint(v any) (*APIEndpoint, []string) {
	a := &APIEndpoint{Security: SecurityClientToken, Response: ResponseSync}
	if v == nil {
		return a, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return a, []string{"trigger.apiEndpoint: expected object"}
	}
	var probs []string
	bad := func(key, format string, args ...any) {
		probs = append(probs, "trigger.apiEndpoint."+key+": "+fmt.Sprintf(format, args...))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := m[k]
		switch k {
		case "security":
			s, _ := val.(string)
			switch s {
			case SecurityClientToken, SecurityOAuth2, SecurityPublic:
				a.Security = s
			default:
				bad(k, "expected clientToken, oauth2 or public")
			}
		case "response":
			s, _ := val.(string)
			switch s {
			case ResponseSync, ResponseAsync:
				a.Response = s
			default:
				bad(k, "expected sync or async")
			}
		case "allowedOrigins":
			list, ok := val.([]any)
			if !ok {
				bad(k, "expected an array of origins such as https://app.example.com")
				continue
			}
			for i, o := range list {
				s, _ := o.(string)
				if !validOrigin(s) {
					bad(fmt.Sprintf("%s[%d]", k, i), "expected an origin such as https://app.example.com (scheme and host, no path) or *")
					continue
				}
				a.AllowedOrigins = append(a.AllowedOrigins, strings.ToLower(s))
			}
		case "oktaVerification":
			b, ok := val.(bool)
			if !ok {
				bad(k, "expected boolean")
			}
			a.OktaVerification = b
		case "limits":
			a.Limits = parseLimits(val, func(key, msg string) { bad(k+key, "%s", msg) })
		case "signature":
			sm, ok := val.(map[string]any)
			if !ok {
				bad(k, "expected object")
				continue
			}
			sc := &SignatureCheck{}
			sc.Scheme, _ = sm["scheme"].(string)
			sc.Secret, _ = sm["secret"].(string)
			sc.Header, _ = sm["header"].(string)
			switch sc.Scheme {
			case signature.SchemeStandard:
			case signature.SchemeHMAC:
				if sc.Header == "" {
					bad(k+".header", "required for hmac-sha256")
				}
			default:
				bad(k+".scheme", "expected standard-webhooks or hmac-sha256")
			}
			// A name no request can carry refused every call; the console
			// also shows it in a curl example, inside a shell's quotes.
			if sc.Header != "" && !input.HeaderName(sc.Header) {
				bad(k+".header", "expected an HTTP header name, such as X-Hub-Signature-256")
			}
			if sc.Secret == "" {
				bad(k+".secret", "expected the name of the secret holding the signing key")
			}
			for sk := range sm {
				if sk != "scheme" && sk != "secret" && sk != "header" {
					bad(k+"."+sk, "unknown property")
				}
			}
			a.Signature = sc
		default:
			bad(k, "unknown property")
		}
	}
	return a, probs
}

func parseLimits(v any, bad func(key, msg string)) *Limits {
	m, ok := v.(map[string]any)
	if !ok {
		bad("", "expected object with ratePerSecond, burst and maxBacklog")
		return nil
	}
	l := &Limits{}
	for k, val := range m {
		f, ok := Number(val)
		switch {
		case k != "ratePerSecond" && k != "burst" && k != "maxBacklog":
			bad("."+k, "unknown property: expected ratePerSecond, burst or maxBacklog")
			continue
		case !ok || f < 0 || math.IsInf(f, 0) || math.IsNaN(f):
			bad("."+k, "expected a number, 0 or more (0: no limit)")
			continue
		case k != "ratePerSecond" && (f != math.Trunc(f) || f > math.MaxInt32):
			bad("."+k, "expected a whole number, 0 or more (0: no limit)")
			continue
		}
		switch k {
		case "ratePerSecond":
			l.RatePerSecond = &f
		case "burst":
			n := int(f)
			l.Burst = &n
		case "maxBacklog":
			n := int(f)
			l.MaxBacklog = &n
		}
	}
	return l
}

// Number returns a numeric value of a decoded document or of a flow's
// data as float64.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(n).Float64()
		return f, true
	}
	return 0, false
}

// validOrigin tells whether s is "*" or a browser origin: http or https,
// a host and optional port, nothing else.
func validOrigin(s string) bool {
	if s == "*" {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && !strings.HasSuffix(s, "/")
}

// checkVigil validates document.metadata.vigil.
func (p *parser) checkVigil(w *Workflow, line int) {
	w.triggerRead = true
	raw, ok := w.Document.Metadata["vigil"]
	if !ok {
		return
	}
	const base = "document.metadata.vigil"
	m, ok := raw.(map[string]any)
	if !ok {
		p.problems = append(p.problems, Problem{Path: base, Line: line, Msg: "expected object"})
		return
	}
	for k, v := range m {
		switch k {
		case "trigger":
			var probs []string
			w.trigger, probs = parseTrigger(m)
			for _, pr := range probs {
				path, msg, _ := strings.Cut(pr, ": ")
				p.problems = append(p.problems, Problem{Path: base + "." + path, Line: line, Msg: msg})
			}
		case "saveAllData":
			if _, ok := v.(bool); !ok {
				p.problems = append(p.problems, Problem{Path: base + ".saveAllData", Line: line, Msg: "expected boolean"})
			}
		case "onDemand":
			if _, ok := v.(bool); !ok {
				p.problems = append(p.problems, Problem{Path: base + ".onDemand", Line: line, Msg: "expected boolean"})
			}
		default:
			p.problems = append(p.problems, Problem{Path: base + "." + k, Line: line, Msg: "unknown property"})
		}
	}
}
