package console

import "github.com/vigil-ispm/vigil/internal/httpjson"

// productNames are the names people know the products by, where the issue
// payload's sourceProductName differs: the payload keeps Okta ISPM's
// "AAD", which flows route on, while every page says Microsoft Entra ID.
var productNames = map[string]string{"AAD": "Microsoft Entra ID"}

// productName is the name the console shows for a sourceProductName.
func productName(p string) string {
	if n, ok := productNames[p]; ok {
		return n
	}
	return p
}

// failureKinds say in words what each kind of failed delivery or Test
// Connection means (hooks.Kind…), instead of the code.
var failureKinds = map[string]string{
	"dns":              "the host name does not resolve",
	"connect_refused":  "the receiver refused the connection",
	"connect":          "the receiver could not be reached",
	"tls":              "the TLS handshake failed",
	"timeout":          "the receiver did not answer in time",
	"ssrf_blocked":     "the address is not allowed for outbound requests (see Admin → Settings, outbound allowlist)",
	"non_2xx":          "the receiver answered with an error status",
	"redirect":         "the receiver answered with a redirect, which is not followed",
	"connection_reset": "the connection was reset",
	"read_body":        "the answer could not be read",
	"internal":         "an error inside Vigil",
}

// failureText is the words for a failure kind; an unknown kind shows as is.
func failureText(kind string) string {
	if s, ok := failureKinds[kind]; ok {
		return s
	}
	return kind
}

// failureSentence is a failure kind as a sentence, for a result that has no
// message of its own: "The receiver did not answer in time."
func failureSentence(kind string) string {
	if kind == "" {
		return "The request failed."
	}
	return httpjson.Sentence(failureText(kind))
}
