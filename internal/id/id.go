// Package id makes the identifiers Vigil gives its records.
//
// An id is a short prefix naming the kind of record ("iss", "flw", "exe") and a
// ULID-style body: 48 bits of milliseconds followed by 80 random bits, written in
// Crockford's base32. Ids therefore sort by creation time, which keeps the
// primary-key indexes of both databases append-mostly, and the prefix lets a
// person (or a log search) tell at a glance what an id refers to.
package id

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// New returns a new id with the given prefix, such as "iss_01JD5Q9Z8W3K4M6N7P8R9S0T1V".
func New(prefix string) string {
	return NewAt(prefix, time.Now())
}

// NewAt is New with the time part taken from t, for callers that run on an
// injected clock.
func NewAt(prefix string, t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	rand.Read(b[6:]) // crypto/rand.Read never fails on supported platforms.
	out := make([]byte, 0, len(prefix)+1+26)
	if prefix != "" {
		out = append(out, prefix...)
		out = append(out, '_')
	}
	return string(appendBase32(out, b))
}

// appendBase32 writes the 128 bits of b as 26 Crockford base32 digits.
func appendBase32(dst []byte, b [16]byte) []byte {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var digits [26]byte
	for i := 25; i >= 0; i-- {
		digits[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return append(dst, digits[:]...)
}

// Token returns n random bytes as unpadded lower-case base32 text, for secrets
// such as client tokens and invoke aliases: safe in URLs and headers alike.
func Token(n int) string {
	buf := make([]byte, n)
	rand.Read(buf)
	return tokenEncoding.EncodeToString(buf)
}

var tokenEncoding = base32.NewEncoding(strings.ToLower(alphabet)).WithPadding(base32.NoPadding)
