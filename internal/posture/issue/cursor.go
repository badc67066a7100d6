package issue

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// ErrBadCursor is returned (wrapped) when a Filter's After or Before is not
// a cursor a Page gave, or both are set.
var ErrBadCursor = errors.New("the page cursor is not one this list gave; start again from the first page")

// encodeCursor turns an issue's place in the list order into a cursor: the
// severity rank, the detection time in microseconds and the id, opaque to
// callers so the order can change without breaking their code.
func encodeCursor(k store.PostureIssueKey) string {
	raw := strconv.Itoa(k.SeverityRank) + "." + strconv.FormatInt(k.DetectedAt.UnixMicro(), 10) + "." + k.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeCursor reads a cursor encodeCursor made.
func decodeCursor(c string) (*store.PostureIssueKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, ErrBadCursor
	}
	parts := strings.SplitN(string(b), ".", 3)
	if len(parts) != 3 || parts[2] == "" {
		return nil, ErrBadCursor
	}
	rank, err := strconv.Atoi(parts[0])
	if err != nil {
		return nil, ErrBadCursor
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, ErrBadCursor
	}
	return &store.PostureIssueKey{SeverityRank: rank, DetectedAt: time.UnixMicro(micros).UTC(), ID: parts[2]}, nil
}
