package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/slack"
	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// statusOf returns the HTTP status a vendor answered, or 0 when the error
// is not an answer.
func statusOf(err error) int {
	var (
		ve *vendorhttp.Error
		he *httpError
	)
	switch {
	case errors.As(err, &ve) && ve.Vendor == "slack":
		return slackStatus(ve)
	case errors.As(err, &ve):
		return ve.StatusCode
	case errors.As(err, &he):
		return he.status
	}
	return 0
}

// slackStatus gives Slack's errors, most of which come with HTTP 200 and
// {"ok": false}, the status a flow would expect of them.
func slackStatus(e *slack.Error) int {
	switch {
	case e.StatusCode != 200 && e.StatusCode != 0:
		return e.StatusCode
	case errors.Is(e, slack.ErrUnauthorized):
		return 401
	case errors.Is(e, slack.ErrForbidden):
		return 403
	case errors.Is(e, slack.ErrNotFound):
		return 404
	case errors.Is(e, slack.ErrRateLimited):
		return 429
	}
	return 400
}

// fault turns an error of a function into the fault the flow sees. A
// vendor's answer becomes a communication error with its status; a network
// failure one with status 503; anything else a runtime error. Vendor
// clients keep secrets out of their errors, and the detail is masked again
// in case a vendor echoed one.
func (x *call) fault(ctx context.Context, err error) error {
	var f *engine.Fault
	if errors.As(err, &f) {
		return f
	}
	if ctx.Err() != nil {
		return err
	}
	t, _ := connection.TypeOf(x.fn.Kind)
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, x.fn.Kind+":") {
		msg = rest
	}
	msg = newMasker(x.conn).String(msg)
	detail := fmt.Sprintf("%s through connection %q failed: %s", x.fn.Name, x.conn.Name, msg)
	var blocked *netguard.BlockedError
	var netErr net.Error
	switch status := statusOf(err); {
	case status >= 300:
		return &engine.Fault{Type: engine.ErrCommunication, Status: status, Title: t.Title + " refused the request", Detail: detail}
	case errors.As(err, &blocked):
		return &engine.Fault{Type: engine.ErrCommunication, Status: 403, Title: "Outbound request blocked", Detail: detail}
	case errors.As(err, &netErr), errors.Is(err, errTransport):
		return &engine.Fault{Type: engine.ErrCommunication, Status: 503, Title: t.Title + " could not be reached", Detail: detail}
	}
	return &engine.Fault{Type: engine.ErrRuntime, Status: 500, Title: "Connector action failed", Detail: detail}
}

// errTransport marks errors of sending a request (http.request).
var errTransport = errors.New("request not sent")
