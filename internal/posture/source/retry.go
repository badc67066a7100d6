package source

import "github.com/vigil-ispm/vigil/internal/vendorhttp"

// retry gives a vendor client the service's clock, with vendorhttp's
// defaults for the rest.
func (s *Service) retry() vendorhttp.Retry {
	return vendorhttp.Retry{Now: s.cfg.Now, Sleep: s.cfg.Sleep, Jitter: s.cfg.Jitter}
}
