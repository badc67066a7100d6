package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/vigil-ispm/vigil/internal/id"
)

// HashParams are argon2id's cost parameters. They are written into every
// hash (PHC string format), so raising them later only affects new hashes;
// older ones are re-hashed at their owner's next sign-in.
type HashParams struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// DefaultHashParams returns the second recommended option of RFC 9106
// (64 MiB, 3 passes, 4 lanes, 16-byte salt, 32-byte key): the first option
// needs 2 GiB per sign-in, too much for a small server.
func DefaultHashParams() HashParams {
	return HashParams{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}
}

// Limits on parameters read back from a stored hash, so that a tampered row
// cannot make one sign-in take minutes or gigabytes.
const (
	maxHashMemory  = 1 << 20 // 1 GiB in KiB
	maxHashTime    = 64
	minPasswordLen = 12
	maxPasswordLen = 1024
)

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC-format argon2id hash of password:
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>.
func HashPassword(password string, p HashParams) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	key := idKey(password, salt, p)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// idKey derives the argon2id key of password and then hands the memory
// argon2 worked in (64 MiB by default) back to the operating system. That
// memory is garbage as soon as the key is derived, but it made the heap
// look large, so the collector would not run again until the heap grew to
// twice that, or for two minutes: a server that had just created its first
// administrator, or signed someone in, stayed at over 100 MiB while idle.
// Hashes are rare (sign-ins, password changes), and one collection of a
// small heap costs far less than the hash itself.
func idKey(password string, salt []byte, p HashParams) []byte {
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	debug.FreeOSMemory()
	return key
}

// errBadHash is returned for a stored hash that is not one this package wrote.
var errBadHash = errors.New("the stored password hash is not a valid argon2id hash")

// decodeHash splits an encoded hash into its parameters, salt and key.
func decodeHash(encoded string) (HashParams, []byte, []byte, error) {
	var p HashParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, errBadHash
	}
	if threads < 1 || threads > 255 || p.Time < 1 || p.Time > maxHashTime || p.Memory < 8*threads || p.Memory > maxHashMemory {
		return p, nil, nil, errBadHash
	}
	p.Threads = uint8(threads)
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key)) //nolint:gosec // G115: at most 64 and 128, checked above
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches the encoded hash, in
// time that does not depend on how much of the key matches. It fails (with
// an error) for a hash it cannot read.
func VerifyPassword(encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := idKey(password, salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// needsRehash reports whether encoded was made with other parameters than p.
func needsRehash(encoded string, p HashParams) bool {
	got, _, _, err := decodeHash(encoded)
	return err != nil || got != p
}

// GeneratePassword returns a random password of 128 bits, written as 26
// lower-case letters and digits: easy to copy, impossible to guess.
func GeneratePassword() string { return id.Token(16) }

// checkPassword applies the password policy: long enough to resist
// guessing, short enough not to be a way to make the server work hard. The
// message never repeats the password.
func checkPassword(password, name string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLen:
		return invalid("password", fmt.Sprintf("The password must be at least %d characters long.", minPasswordLen))
	case len(password) > maxPasswordLen:
		return invalid("password", fmt.Sprintf("The password must be at most %d bytes long.", maxPasswordLen))
	case strings.EqualFold(strings.TrimSpace(password), name):
		return invalid("password", "The password must not be the user name.")
	}
	return nil
}
