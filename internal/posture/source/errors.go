package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/aws"
	"github.com/vigil-ispm/vigil/internal/entra"
	"github.com/vigil-ispm/vigil/internal/google"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/okta"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/salesforce"
	"github.com/vigil-ispm/vigil/internal/secret"
)

// describe turns a failed read into the one sentence the scan result and
// the log show: which source, what went wrong in words a user acts on, and
// the vendor's own message. Vendor errors never carry secrets.
func describe(name string, kind Kind, err error, timeout time.Duration) string {
	what := "failed"
	var blocked *netguard.BlockedError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		what = fmt.Sprintf("did not finish within %s", timeout)
	case errors.Is(err, context.Canceled):
		what = "was cancelled"
	case errors.As(err, &blocked):
		what = "was refused by the outbound address guard; allow the address with --allow-outbound if it is trusted"
	case anyIs(err, okta.ErrUnauthorized, entra.ErrUnauthorized, google.ErrUnauthorized, salesforce.ErrUnauthorized, aws.ErrUnauthorized):
		what = "was refused: the credentials are wrong, expired or revoked; add the source again with valid ones"
	case anyIs(err, okta.ErrForbidden, entra.ErrForbidden, google.ErrForbidden, salesforce.ErrForbidden, aws.ErrForbidden):
		what = "was refused: the credentials lack a permission the scan needs (see docs/posture.md)"
	case anyIs(err, okta.ErrRateLimited, entra.ErrRateLimited, google.ErrRateLimited, salesforce.ErrRateLimited, aws.ErrRateLimited):
		what = "was still rate-limited after the retries; scan again later"
	case errors.Is(err, secret.ErrOpen):
		what = "could not open its stored credentials with this master key; add the source again"
	case errors.Is(err, graph.ErrInvalid), errors.As(err, &syn), errors.As(err, &typ):
		what = "returned malformed data"
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		what = "could not open its file"
	}
	msg := strings.TrimSuffix(err.Error(), ".")
	return fmt.Sprintf("Reading %s source %s %s: %s.", kind, name, what, msg)
}

func anyIs(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
