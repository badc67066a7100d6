package connection

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-ispm/vigil/internal/okta"
)

// Kinds of connection, one per vendor client plus generic HTTP.
const (
	KindOkta       = "okta"
	KindEntra      = "entra"
	KindGoogle     = "google"
	KindSalesforce = "salesforce"
	KindSlack      = "slack"
	KindJira       = "jira"
	KindHTTP       = "http"
)

// Auth modes of the kinds that offer several.
const (
	AuthToken  = "token"  // okta: API token (SSWS)
	AuthOAuth  = "oauth"  // okta: OAuth 2.0 service app with a private-key JWT
	AuthNone   = "none"   // http
	AuthBearer = "bearer" // http
	AuthBasic  = "basic"  // http
	AuthAPIKey = "apiKey" // http: a key in a header of the caller's choice
)

// Field is one entry of a connection type's form. The console draws the
// form from it and the CLI maps its flags onto it.
type Field struct {
	// Name is the key in Input.Fields and in the stored settings.
	Name  string `json:"name"`
	Label string `json:"label"`
	Help  string `json:"help,omitempty"`
	// Secret fields are sealed at rest and only ever shown masked.
	Secret bool `json:"secret,omitempty"`
	// Required fields must be set for every auth mode; fields needed only
	// by some modes are checked by the type's validation.
	Required bool `json:"required,omitempty"`
	// Default is used when the field is left empty.
	Default string `json:"default,omitempty"`
	// Options lists the allowed values of a choice.
	Options []string `json:"options,omitempty"`
	// Multiline fields hold a document, such as a key file.
	Multiline bool `json:"multiline,omitempty"`
	// URL fields must be absolute http(s) URLs, https unless the host is on
	// the outbound allowlist.
	URL bool `json:"url,omitempty"`
}

// Type describes one kind of connection: its form and the name the
// template's helper flows look for.
type Type struct {
	Kind string `json:"kind"`
	// Title is the vendor's product name.
	Title string `json:"title"`
	// DefaultName is the connection name the ISPM template's helpers use.
	DefaultName string  `json:"defaultName,omitempty"`
	Fields      []Field `json:"fields"`
	// check validates the fields of one input beyond Required and URL.
	check func(v map[string]string) error
}

// Field returns the type's field with that name.
func (t Type) Field(name string) (Field, bool) {
	i := slices.IndexFunc(t.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return t.Fields[i], true
}

var types = []Type{
	{
		Kind: KindOkta, Title: "Okta", DefaultName: "Okta",
		Fields: []Field{
			{Name: "url", Label: "Org URL", Help: "Such as https://example.okta.com.", Required: true, URL: true},
			{Name: "auth", Label: "Authentication", Default: AuthToken, Options: []string{AuthToken, AuthOAuth}},
			{Name: "token", Label: "API token", Help: "Sent as Authorization: SSWS.", Secret: true},
			{Name: "clientId", Label: "Client ID", Help: "The OAuth 2.0 service app's client id."},
			{Name: "privateKey", Label: "Private key", Help: "The service app's private key, as a JWK or PEM.", Secret: true, Multiline: true},
			{Name: "keyId", Label: "Key ID", Help: "The kid of the key registered with the app, if any."},
			{Name: "scopes", Label: "Scopes", Help: "Space-separated scopes granted to the app.",
				Default: "okta.users.read okta.users.manage okta.groups.manage"},
		},
		check: checkOkta,
	},
	{
		Kind: KindEntra, Title: "Microsoft Entra ID", DefaultName: "Microsoft Entra ID",
		Fields: []Field{
			{Name: "tenantId", Label: "Tenant ID", Required: true},
			{Name: "clientId", Label: "Client ID", Help: "The app registration's application (client) id.", Required: true},
			{Name: "clientSecret", Label: "Client secret", Secret: true, Required: true},
			{Name: "loginUrl", Label: "Login URL", Default: "https://login.microsoftonline.com", URL: true},
			{Name: "graphUrl", Label: "Graph URL", Default: "https://graph.microsoft.com", URL: true},
		},
		check: func(v map[string]string) error { return nil },
	},
	{
		Kind: KindGoogle, Title: "Google Workspace", DefaultName: "Google Workspace",
		Fields: []Field{
			{Name: "serviceAccountKey", Label: "Service account key", Help: "The key file (JSON) of a service account with domain-wide delegation.",
				Secret: true, Required: true, Multiline: true},
			{Name: "subject", Label: "Admin to act as", Help: "The email of an admin the service account impersonates.", Required: true},
			{Name: "baseUrl", Label: "Admin SDK URL", Default: "https://admin.googleapis.com", URL: true},
		},
		check: checkGoogle,
	},
	{
		Kind: KindSalesforce, Title: "Salesforce", DefaultName: "Salesforce",
		Fields: []Field{
			{Name: "instanceUrl", Label: "Instance URL", Help: "The org's My Domain URL, such as https://acme.my.salesforce.com.", Required: true, URL: true},
			{Name: "clientId", Label: "Consumer key", Required: true},
			{Name: "clientSecret", Label: "Consumer secret", Secret: true, Required: true},
			{Name: "apiVersion", Label: "API version", Default: "62.0"},
		},
		check: func(v map[string]string) error { return nil },
	},
	{
		Kind: KindSlack, Title: "Slack", DefaultName: "Slack",
		Fields: []Field{
			{Name: "token", Label: "Bot token", Help: "A bot token (xoxb-…) with chat:write.", Secret: true},
			{Name: "webhookUrl", Label: "Incoming webhook URL", Help: "Instead of a bot token: posts go to the webhook's channel.", Secret: true, URL: true},
			{Name: "baseUrl", Label: "Web API URL", Default: "https://slack.com/api", URL: true},
		},
		check: checkSlack,
	},
	{
		Kind: KindJira, Title: "Jira Cloud", DefaultName: "Jira",
		Fields: []Field{
			{Name: "siteUrl", Label: "Site URL", Help: "Such as https://acme.atlassian.net.", Required: true, URL: true},
			{Name: "email", Label: "Account email", Required: true},
			{Name: "apiToken", Label: "API token", Secret: true, Required: true},
		},
		check: func(v map[string]string) error { return nil },
	},
	{
		Kind: KindHTTP, Title: "HTTP",
		Fields: []Field{
			{Name: "baseUrl", Label: "Base URL", Help: "Requests go to paths under it, never elsewhere.", Required: true, URL: true},
			{Name: "auth", Label: "Authentication", Default: AuthNone, Options: []string{AuthNone, AuthBearer, AuthBasic, AuthAPIKey}},
			{Name: "token", Label: "Bearer token", Help: "Sent as Authorization: Bearer.", Secret: true},
			{Name: "username", Label: "User name", Help: "Sent with the password as Authorization: Basic."},
			{Name: "password", Label: "Password", Secret: true},
			{Name: "headerName", Label: "API key header", Help: "The header the receiver reads the key from, such as X-API-Key; a Vigil or Okta Workflows API Endpoint reads X-Api-Client-Token."},
			{Name: "apiKey", Label: "API key", Secret: true},
		},
		check: checkHTTP,
	},
}

// Types lists the connection types in the order the console shows them.
func Types() []Type { return slices.Clone(types) }

// TypeOf returns the type of a kind.
func TypeOf(kind string) (Type, bool) {
	i := slices.IndexFunc(types, func(t Type) bool { return t.Kind == kind })
	if i < 0 {
		return Type{}, false
	}
	return types[i], true
}

func kindNames() string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.Kind
	}
	return strings.Join(names, ", ")
}

func need(v map[string]string, field, why string) error {
	if v[field] == "" {
		return invalid(field, why)
	}
	return nil
}

func checkOkta(v map[string]string) error {
	switch v["auth"] {
	case AuthToken:
		if err := need(v, "token", "An Okta connection with token authentication needs an API token."); err != nil {
			return err
		}
		for _, f := range []string{"clientId", "privateKey", "keyId"} {
			if v[f] != "" {
				return invalid(f, fmt.Sprintf("The field %s is for OAuth authentication; set auth to oauth or leave it empty.", f))
			}
		}
	case AuthOAuth:
		if err := need(v, "clientId", "An Okta connection with OAuth authentication needs the service app's client id."); err != nil {
			return err
		}
		if err := need(v, "privateKey", "An Okta connection with OAuth authentication needs the service app's private key."); err != nil {
			return err
		}
		if _, _, err := okta.ParsePrivateKey([]byte(v["privateKey"])); err != nil {
			return invalid("privateKey", "The private key is neither a JWK nor a PEM private key Okta accepts.")
		}
		if v["token"] != "" {
			return invalid("token", "An API token is for token authentication; set auth to token or leave it empty.")
		}
	default:
		return invalid("auth", "Okta authentication must be token or oauth.")
	}
	return nil
}

func checkGoogle(v map[string]string) error {
	var key struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal([]byte(v["serviceAccountKey"]), &key); err != nil {
		return invalid("serviceAccountKey", "The service account key is not a JSON key file.")
	}
	if key.Type != "service_account" || key.ClientEmail == "" || key.PrivateKey == "" {
		return invalid("serviceAccountKey", "The service account key must be a service_account key file with client_email and private_key.")
	}
	if !strings.Contains(v["subject"], "@") {
		return invalid("subject", "The admin to act as must be an email address.")
	}
	return nil
}

func checkSlack(v map[string]string) error {
	switch {
	case v["token"] == "" && v["webhookUrl"] == "":
		return invalid("token", "A Slack connection needs a bot token or an incoming webhook URL.")
	case v["token"] != "" && v["webhookUrl"] != "":
		return invalid("webhookUrl", "A Slack connection uses a bot token or an incoming webhook URL, not both.")
	case v["token"] != "" && !strings.HasPrefix(v["token"], "xox"):
		return invalid("token", "A Slack bot token starts with xoxb-.")
	}
	return nil
}

func checkHTTP(v map[string]string) error {
	used := map[string][]string{
		AuthBearer: {"token"},
		AuthBasic:  {"username", "password"},
		AuthAPIKey: {"headerName", "apiKey"},
	}
	mode := v["auth"]
	if _, ok := used[mode]; !ok && mode != AuthNone {
		return invalid("auth", "HTTP authentication must be none, bearer, basic or apiKey.")
	}
	for m, fields := range used {
		for _, f := range fields {
			switch {
			case m == mode && v[f] == "":
				return invalid(f, fmt.Sprintf("HTTP authentication %s needs the field %s.", mode, f))
			case m != mode && v[f] != "":
				return invalid(f, fmt.Sprintf("The field %s is not used by HTTP authentication %s; leave it empty.", f, mode))
			}
		}
	}
	if mode == AuthAPIKey {
		h := v["headerName"]
		if !ValidHeaderName(h) {
			return invalid("headerName", fmt.Sprintf("%q is not a valid HTTP header name.", h))
		}
		switch strings.ToLower(h) {
		case "host", "content-length", "content-type", "transfer-encoding", "connection", "cookie":
			return invalid("headerName", fmt.Sprintf("The header %s cannot carry an API key.", h))
		}
	}
	return nil
}

// ValidHeaderName reports whether s is an HTTP token (RFC 9110), the form a
// header name must have.
func ValidHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}
