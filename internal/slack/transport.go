package slack

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// maxBody bounds one answer; Slack's are small.
const maxBody = 1 << 20

// newTransport builds the shared vendor transport for the Web API and for
// webhooks: 429 and 5xx are retried, and a post that got no answer is not
// sent again, since it may have been delivered. Errors never carry the
// URL, which for a webhook is the secret.
func newTransport(client *http.Client, retry vendorhttp.Retry) *vendorhttp.Client {
	return &vendorhttp.Client{
		Vendor:       &vendor,
		HTTP:         client,
		Retry:        retry.WithDefaults(),
		MaxBody:      maxBody,
		RetryNetwork: func(string) bool { return false },
		Refusal: func(op string, r *vendorhttp.Response) error {
			return statusError(op, r.Status, r.Body, r.RetryAfter)
		},
	}
}
