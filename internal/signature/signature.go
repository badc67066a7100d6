// Package signature signs and verifies webhooks as the Standard Webhooks
// specification (v1, symmetric) describes, so that any receiver with a
// Standard Webhooks library, Svix's included, can check that a Vigil event is
// genuine, and so that Vigil can check events sent to it the same way.
//
// A signature is HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}"
// keyed with the base64-decoded secret, sent as "v1,<base64>". Several
// signatures, separated by spaces, travel in one header while a secret is
// being rotated; a receiver accepts the message if any of them matches.
package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names defined by Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret Vigil issues, as the specification
// recommends, so a secret is recognisable in a receiver's configuration.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a timestamp may be from the receiver's clock,
// either way, before the message is refused as a possible replay. It is the
// specification's recommendation.
const DefaultTolerance = 5 * time.Minute

// secretBytes is the size of new secrets: within the 24 to 64 bytes the
// specification asks for.
const secretBytes = 32

// Errors returned by Verify and Sign. They are wrapped with detail; use
// errors.Is to tell them apart.
var (
	ErrMissingHeader       = errors.New("webhook header missing")
	ErrInvalidTimestamp    = errors.New("webhook timestamp is not a Unix time in seconds")
	ErrTimestampTooOld     = errors.New("webhook timestamp is too old")
	ErrTimestampTooNew     = errors.New("webhook timestamp is too far in the future")
	ErrNoMatchingSignature = errors.New("no webhook signature matches")
	ErrInvalidSecret       = errors.New("webhook secret is not valid base64")
	ErrNoSecret            = errors.New("no webhook secret configured")
)

// NewSecret returns a fresh random secret of the form whsec_<base64>.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// decodeSecret strips the whsec_ prefix, if any, and decodes the rest. The
// error never contains the secret.
func decodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, ErrInvalidSecret
	}
	return key, nil
}

// Sign returns the v1 signature "v1,<base64>" of body sent with message id
// msgID at time ts (whole seconds).
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, strconv.FormatInt(ts.Unix(), 10), body)), nil
}

func mac(key []byte, msgID, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Headers returns the three Standard Webhooks headers for one message,
// signed with every given secret: during a rotation pass the new and the old
// secret, and receivers that know either accept the message.
func Headers(msgID string, ts time.Time, body []byte, secrets ...string) (http.Header, error) {
	if len(secrets) == 0 {
		return nil, ErrNoSecret
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, msgID, ts, body)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, sig)
	}
	h := make(http.Header)
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return h, nil
}

// Verify checks that header carries a v1 signature of body made with one of
// secrets, and that its timestamp is within tolerance of now (zero
// tolerance means DefaultTolerance). Signatures of other versions are
// ignored. Comparison is constant-time.
func Verify(secrets []string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secrets) == 0 {
		return ErrNoSecret
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	msgID := header.Get(HeaderID)
	tsText := header.Get(HeaderTimestamp)
	sigText := header.Get(HeaderSignature)
	for _, h := range [...]struct{ name, value string }{{HeaderID, msgID}, {HeaderTimestamp, tsText}, {HeaderSignature, sigText}} {
		if h.value == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeader, h.name)
		}
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	ts := time.Unix(sec, 0)
	if now.Sub(ts) > tolerance {
		return ErrTimestampTooOld
	}
	if ts.Sub(now) > tolerance {
		return ErrTimestampTooNew
	}

	var given [][]byte
	for _, field := range strings.Fields(sigText) {
		version, sig, ok := strings.Cut(field, ",")
		if !ok || version != "v1" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		given = append(given, b)
	}
	for _, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return err
		}
		want := mac(key, msgID, tsText, body)
		for _, g := range given {
			if hmac.Equal(want, g) {
				return nil
			}
		}
	}
	return ErrNoMatchingSignature
}

// HMACPrefix may start a hex HMAC-SHA256 signature, as GitHub sends it in
// X-Hub-Signature-256.
const HMACPrefix = "sha256="

// VerifyHMAC checks that got is the hex HMAC-SHA256 of body keyed with the
// bytes of one of secrets, as they are given (GitHub's and most plain
// webhook senders' scheme), with or without HMACPrefix, in either case.
// Comparison is constant-time.
func VerifyHMAC(secrets []string, got string, body []byte) error {
	if len(secrets) == 0 {
		return ErrNoSecret
	}
	got = strings.TrimSpace(got)
	if got == "" {
		return ErrMissingHeader
	}
	if len(got) >= len(HMACPrefix) && strings.EqualFold(got[:len(HMACPrefix)], HMACPrefix) {
		got = got[len(HMACPrefix):]
	}
	given, err := hex.DecodeString(got)
	if err != nil {
		return ErrNoMatchingSignature
	}
	for _, s := range secrets {
		h := hmac.New(sha256.New, []byte(s))
		h.Write(body)
		if hmac.Equal(h.Sum(nil), given) {
			return nil
		}
	}
	return ErrNoMatchingSignature
}

// Secret sizes a receiver takes: Standard Webhooks asks for 24 to 64
// bytes; an HMAC secret of one's own is a string of 16 to 256 bytes.
const (
	minSecretBytes = 24
	maxSecretBytes = 64
	minHMACSecret  = 16
	maxHMACSecret  = 256
)

// CheckSecret tells what is wrong with secret for a receiver of scheme
// (SchemeStandard or SchemeHMAC), in one sentence for the person who
// pasted it that never contains the secret, or "" when it fits.
func CheckSecret(scheme, secret string) string {
	switch scheme {
	case SchemeStandard:
		key, err := decodeSecret(secret)
		if err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
			return "A Standard Webhooks signing secret is whsec_ followed by the base64 of 24 to 64 random bytes."
		}
	case SchemeHMAC:
		if len(secret) < minHMACSecret || len(secret) > maxHMACSecret || strings.TrimSpace(secret) != secret {
			return "An HMAC signing secret is 16 to 256 characters, without spaces around it."
		}
	default:
		return fmt.Sprintf("The signature scheme %q is neither %s nor %s.", scheme, SchemeStandard, SchemeHMAC)
	}
	return ""
}

// NewSecretFor returns a fresh random secret for a receiver of scheme: a
// whsec_ secret for Standard Webhooks, 64 hex digits for HMAC.
func NewSecretFor(scheme string) (string, error) {
	if scheme == SchemeStandard {
		return NewSecret()
	}
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Signature schemes a receiver verifies.
const (
	SchemeStandard = "standard-webhooks"
	SchemeHMAC     = "hmac-sha256"
)
