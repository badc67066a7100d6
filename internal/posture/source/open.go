package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/vigil-ispm/vigil/internal/netguard"
)

// httpClient returns the configured client, or a guarded one with no
// allowlist: a vendor request never leaves through an unguarded client.
func (s *Service) httpClient() *http.Client {
	if s.cfg.HTTPClient != nil {
		return s.cfg.HTTPClient
	}
	return netguard.NewClient(netguard.Config{})
}

// newReader builds the adapter of a source kind.
func (s *Service) newReader(name string, kind Kind, set Settings, cred Credentials, m *meter) (Reader, error) {
	switch kind {
	case KindOkta:
		return s.newOktaReader(name, set, cred, m)
	case KindEntra:
		return s.newEntraReader(name, set, cred, m)
	case KindGoogle:
		return s.newGoogleReader(name, set, cred, m)
	case KindSalesforce:
		return s.newSalesforceReader(name, set, cred, m)
	case KindAWS:
		return s.newAWSReader(name, set, cred, m)
	case KindSnapshot:
		return s.newSnapshotReader(name, set, m)
	}
	return nil, fmt.Errorf("the source kind %q is not supported", kind)
}

// check tells a user what a configuration lacks before anything is stored;
// then it builds the adapter, whose vendor client checks URLs and keys
// without making a request.
func (s *Service) check(kind Kind, set Settings, cred Credentials) error {
	need := func(ok bool, field, what string) error {
		if ok {
			return nil
		}
		return invalid(field, "A%s %s source needs %s.", article(string(kind)), kind, what)
	}
	var errs []error
	switch kind {
	case KindOkta:
		errs = append(errs, need(set.URL != "", "url", "the org URL (--url)"),
			need(cred.Token != "" || (cred.PrivateKey != "" && set.ClientID != ""), "token",
				"an API token (--token-env) or an OAuth service app (--client-id and --private-key-file)"))
	case KindEntra:
		errs = append(errs, need(set.Tenant != "", "tenant", "the tenant id or domain (--tenant)"),
			need(set.ClientID != "", "clientId", "the app's client id (--client-id)"),
			need(cred.ClientSecret != "", "clientSecret", "the app's client secret (--client-secret-env)"))
	case KindGoogle:
		errs = append(errs, need(cred.ServiceAccountKey != "", "credentials", "a service account key file (--credentials-file)"),
			need(set.Subject != "", "subject", "the admin to act as (--subject)"))
	case KindSalesforce:
		errs = append(errs, need(set.URL != "", "url", "the instance URL (--url)"),
			need(set.ClientID != "", "clientId", "the connected app's client id (--client-id)"),
			need(cred.ClientSecret != "", "clientSecret", "the connected app's client secret (--client-secret-env)"))
	case KindAWS:
		errs = append(errs, need(set.File != "" || set.AccessKeyID != "", "file",
			"a credential report file (--credential-report) or AWS credentials (--access-key-id and --secret-access-key-env)"))
		if set.AccessKeyID != "" || cred.SecretAccessKey != "" {
			errs = append(errs, need(set.AccessKeyID != "" && cred.SecretAccessKey != "", "accessKeyId",
				"both the access key id (--access-key-id) and the secret access key (--secret-access-key-env)"))
		}
	case KindSnapshot:
		errs = append(errs, need(set.File != "", "file", "a snapshot file (--file)"))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if set.File != "" {
		if st, err := os.Stat(set.File); err != nil || st.IsDir() {
			return invalid("file", "The file %s cannot be read; give the path of an existing file.", set.File)
		}
	}
	if _, err := s.newReader("check", kind, set, cred, newMeter("check", nil)); err != nil {
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, ": "); ok && !strings.Contains(msg[:len(msg)-len(rest)], " ") {
			msg = rest // drop the vendor package's "okta: " prefix
		}
		return invalid("settings", "The %s settings cannot work: %s.", kind, strings.TrimSuffix(msg, "."))
	}
	return nil
}

func article(word string) string {
	if word != "" && (word[0] == 'a' || word[0] == 'e' || word[0] == 'o') {
		return "n"
	}
	return ""
}

// checkURLs refuses, when a source is saved, a URL setting that the
// outbound guard would refuse to call (a loopback, private or metadata
// address, in any scheme) and plain http to a host not on the outbound
// allowlist, which would send the source's credentials in the clear.
func (s *Service) checkURLs(ctx context.Context, set Settings) error {
	for _, f := range []struct{ field, value string }{{"url", set.URL}, {"graphUrl", set.GraphURL}, {"loginUrl", set.LoginURL}} {
		if f.value == "" {
			continue
		}
		u, err := url.Parse(f.value)
		if err != nil || u.Host == "" {
			return invalid(f.field, "The %s setting must be an absolute https:// URL.", f.field)
		}
		err = s.guard.CheckTarget(ctx, u)
		var blocked *netguard.BlockedError
		switch {
		case errors.As(err, &blocked):
			return invalid(f.field, "The %s setting cannot be used: %s.", f.field, blocked.Error())
		case errors.Is(err, netguard.ErrPlainHTTP):
			return invalid(f.field, "The %s setting must use https; plain http is allowed only for hosts whose addresses are on the outbound allowlist (--allow-outbound).", f.field)
		case err != nil:
			return invalid(f.field, "The %s setting must be an absolute https:// URL.", f.field)
		}
	}
	return nil
}
