// Package settings is the one registry of the server settings that
// Admin → Settings edits: for each, its key in the settings table, its
// default, its check, its name in the console's form and the API's JSON,
// and the flag and environment variable that win over the saved value.
// The server reads the saved values at start and while it runs
// (internal/app); the console and the JSON API read and save them through
// Service. A key or a rule is therefore written once, and a value the
// console accepts is one the server can start with.
package settings

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/netguard"
)

// Setting describes one saved setting.
type Setting struct {
	// Key is the setting's row in the settings table.
	Key string
	// Field is its name in the console's form, and the Field of the
	// InvalidError that refuses it.
	Field string
	// JSON is its name in the JSON API.
	JSON string
	// Flag and Env name the flag of vigil serve and the environment
	// variable whose value wins over the saved one; "" when there is none.
	Flag, Env string
	// Default is the value used until one is saved; "" means the server
	// chooses (the public URL comes from the listen address).
	Default string
	// check puts a value in canonical form, or says in one sentence why
	// it cannot be saved (the second result, "" when it can).
	check func(string) (string, string)
}

// The settings, in the order Admin → Settings shows them.
var (
	// PublicURL is how people and other systems reach this server.
	PublicURL = Setting{Key: "public_url", Field: "public_url", JSON: "publicUrl",
		Flag: "public-url", Env: "VIGIL_PUBLIC_URL", check: checkURL}
	// AllowOutbound lists, comma-separated, the CIDRs outbound requests
	// may reach despite the SSRF guard.
	AllowOutbound = Setting{Key: "allow_outbound", Field: "allow_outbound", JSON: "allowOutbound",
		Flag: "allow-outbound", Env: "VIGIL_ALLOW_OUTBOUND", check: checkAllowlist}
	// HistoryDays is how many days flow execution history is kept.
	HistoryDays = Setting{Key: "flow_history_days", Field: "history_days", JSON: "historyDays",
		Default: "30", check: checkDays("Keep flow history for 1 to 3650 days.")}
	// DeliveryDays is how many days hook deliveries are kept.
	DeliveryDays = Setting{Key: "hook_delivery_days", Field: "delivery_days", JSON: "deliveryDays",
		Default: "30", check: checkDays("Keep deliveries for 1 to 3650 days.")}
)

// All returns every setting, in the order Admin → Settings shows them.
func All() []Setting { return []Setting{PublicURL, AllowOutbound, HistoryDays, DeliveryDays} }

// ByField returns the setting whose form field is field.
func ByField(field string) (Setting, bool) {
	for _, s := range All() {
		if s.Field == field {
			return s, true
		}
	}
	return Setting{}, false
}

// Check returns v in canonical form, or an *InvalidError that says in one
// sentence why it cannot be saved.
func (s Setting) Check(v string) (string, error) {
	out, refusal := s.check(v)
	if refusal != "" {
		return "", &InvalidError{Field: s.Field, Message: refusal}
	}
	return out, nil
}

// InvalidError refuses a value; Message is one sentence for the user.
type InvalidError = input.InvalidError

func checkURL(v string) (string, string) {
	v = strings.TrimRight(strings.TrimSpace(v), "/")
	if v == "" {
		return "", ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "The public URL must be an http or https address such as https://vigil.example.com."
	}
	return v, ""
}

func checkAllowlist(v string) (string, string) {
	v = strings.TrimSpace(v)
	if _, err := netguard.ParseAllowlist(v); err != nil {
		// netguard says "allowlist entry … is not a CIDR …".
		return "", "The outbound " + strings.TrimSuffix(err.Error(), ".") + "."
	}
	return v, ""
}

func checkDays(msg string) func(string) (string, string) {
	return func(v string) (string, string) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 3650 {
			return "", msg
		}
		return strconv.Itoa(n), ""
	}
}

// Days reads a saved number of days as a duration, and returns 0 when v
// is not a positive whole number.
func Days(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * 24 * time.Hour
}
