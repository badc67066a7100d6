// Package secret seals the credentials Vigil keeps (API tokens, client
// secrets, hook keys) with AES-256-GCM under one master key.
//
// The master key comes from VIGIL_MASTER_KEY or from <data-dir>/master.key,
// which is generated once with mode 0600. Each sealed value is bound to a
// purpose string (the associated data), so a ciphertext copied from one record
// into another fails to open instead of leaking under the wrong name.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// KeyFile is the name of the generated master key file in the data
// directory.
const KeyFile = "master.key"

// EnvMasterKey names the variable that may hold the base64 master key.
const EnvMasterKey = "VIGIL_MASTER_KEY"

// prefix marks the format of a sealed value, so that the format can change
// later without guessing.
const prefix = "v1:"

// ErrOpen is returned when a sealed value cannot be opened: the master key is
// not the one it was sealed with, or the value was altered.
var ErrOpen = errors.New("cannot open a sealed secret: the master key does not match the one it was sealed with, or the value was altered")

// Box seals and opens secrets under one master key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the master key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext for the given purpose, e.g. "hook:hk_01…:param:clientToken".
func (b *Box) Seal(plaintext, purpose string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(purpose))
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// binaryPrefix marks a value made by SealBytes. It cannot begin a value
// made by Seal (which begins with prefix), so OpenBytes tells the two apart.
const binaryPrefix = 0x01

// SealBytes is Seal for values stored as bytes: it appends to dst the
// binary format byte, the nonce and the ciphertext, without Seal's base64
// text, which makes a value a third larger (and a row of a few KB spill
// over a database page). OpenBytes opens it, and values made by Seal too.
func (b *Box) SealBytes(dst, plaintext []byte, purpose string) ([]byte, error) {
	n := b.aead.NonceSize()
	dst = slices.Grow(dst, 1+n+len(plaintext)+b.aead.Overhead())
	dst = append(dst, binaryPrefix)
	nonce := dst[len(dst) : len(dst)+n]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	dst = dst[:len(dst)+n]
	return b.aead.Seal(dst, nonce, plaintext, []byte(purpose)), nil
}

// OpenBytes decrypts a value made by SealBytes, or by Seal (stored as
// bytes), for the same purpose. It fails closed with ErrOpen as Open does.
func (b *Box) OpenBytes(sealed []byte, purpose string) ([]byte, error) {
	if len(sealed) > 0 && sealed[0] == binaryPrefix {
		return b.open(sealed[1:], purpose)
	}
	pt, err := b.Open(string(sealed), purpose) // Seal's text, stored before SealBytes
	if err != nil {
		return nil, err
	}
	return []byte(pt), nil
}

// open decrypts nonce||ciphertext.
func (b *Box) open(raw []byte, purpose string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(raw) < n {
		return nil, ErrOpen
	}
	pt, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Open decrypts a value made by Seal for the same purpose. It fails closed
// with ErrOpen on a wrong key, a wrong purpose or a tampered value.
func (b *Box) Open(sealed, purpose string) (string, error) {
	if !strings.HasPrefix(sealed, prefix) {
		return "", ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if err != nil {
		return "", ErrOpen
	}
	pt, err := b.open(raw, purpose)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// LoadKey returns the master key: from env (base64 of 32 bytes) when it is
// set, else from <dataDir>/master.key, generating that file (mode 0600) the
// first time. A key that is present but malformed is an error, never
// silently replaced: replacing it would make every sealed secret unreadable.
func LoadKey(env string, dataDir string) ([]byte, error) {
	if env != "" {
		k, err := decodeKey(env)
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid master key: %w; it must be 32 random bytes in base64 (openssl rand -base64 32)", EnvMasterKey, err)
		}
		return k, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	data, err := os.ReadFile(path) //nolint:gosec // G304: the key file's fixed name in the configured data directory
	switch {
	case err == nil:
		k, derr := decodeKey(strings.TrimSpace(string(data)))
		if derr != nil {
			return nil, fmt.Errorf("the master key file %s is corrupt: %w; restore it from backup (a new key cannot open the secrets already stored)", path, derr)
		}
		return k, nil
	case errors.Is(err, os.ErrNotExist):
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("cannot create the data directory %s: %w", dataDir, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: the key file's fixed name in the configured data directory
		if err != nil {
			return nil, fmt.Errorf("cannot write the master key file %s: %w; check that the data directory is writable", path, err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		cerr := f.Close()
		if werr != nil || cerr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("cannot write the master key file %s: %w", path, errors.Join(werr, cerr))
		}
		return key, nil
	default:
		return nil, fmt.Errorf("cannot read the master key file %s: %w", path, err)
	}
}

func decodeKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("%d bytes instead of 32", len(k))
	}
	return k, nil
}

// Mask shows only the last four characters of a secret, for lists and forms.
func Mask(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("•", 8)
	}
	return strings.Repeat("•", 8) + s[len(s)-4:]
}
