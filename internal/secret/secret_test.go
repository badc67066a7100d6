package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newBox(t *testing.T) *Box {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	b, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	b := newBox(t)
	sealed, err := b.Seal("s3cr3t-token", "hook:1:param:clientToken")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "s3cr3t") {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := b.Open(sealed, "hook:1:param:clientToken")
	if err != nil || got != "s3cr3t-token" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenFailsClosed(t *testing.T) {
	b := newBox(t)
	sealed, _ := b.Seal("value", "p")
	other := newBox(t)
	raw, _ := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	raw[len(raw)-1] ^= 1
	tampered := prefix + base64.RawStdEncoding.EncodeToString(raw)
	for name, open := range map[string]func() (string, error){
		"wrong key":     func() (string, error) { return other.Open(sealed, "p") },
		"wrong purpose": func() (string, error) { return b.Open(sealed, "q") },
		"tampered":      func() (string, error) { return b.Open(tampered, "p") },
		"garbage":       func() (string, error) { return b.Open("v1:!!!", "p") },
		"no prefix":     func() (string, error) { return b.Open("abc", "p") },
	} {
		if v, err := open(); !errors.Is(err, ErrOpen) || v != "" {
			t.Errorf("%s: Open = %q, %v; want ErrOpen", name, v, err)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key mode = %v, %v; want 0600", fi.Mode(), err)
	}
	k2, err := LoadKey("", dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave another key: %v", err)
	}
	// A corrupt key file is an error, never silently replaced.
	os.WriteFile(filepath.Join(dir, "master.key"), []byte("not-a-key"), 0o600)
	if _, err := LoadKey("", dir); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt key: err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "master.key")); string(b) != "not-a-key" {
		t.Fatal("corrupt key file was overwritten")
	}
	if _, err := LoadKey("c2hvcnQ=", dir); err == nil || !strings.Contains(err.Error(), EnvMasterKey) {
		t.Fatalf("short env key: err = %v", err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if k, err := LoadKey(env, dir); err != nil || k[0] != 7 {
		t.Fatalf("env key: %v", err)
	}
}

func TestSealBytesOpenBytes(t *testing.T) {
	b := newBox(t)
	sealed, err := b.SealBytes([]byte("keep"), []byte("s3cr3t-input"), "flows.input/exe_1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sealed, []byte("keep")) {
		t.Fatalf("SealBytes did not append to dst: %q", sealed)
	}
	sealed = sealed[len("keep"):]
	if bytes.Contains(sealed, []byte("s3cr3t")) {
		t.Fatal("sealed value contains the plaintext")
	}
	if want := 1 + 12 + len("s3cr3t-input") + 16; len(sealed) != want {
		t.Errorf("sealed is %d bytes, want %d (format byte, nonce, ciphertext, tag)", len(sealed), want)
	}
	got, err := b.OpenBytes(sealed, "flows.input/exe_1")
	if err != nil || string(got) != "s3cr3t-input" {
		t.Fatalf("OpenBytes = %q, %v", got, err)
	}
	// A value sealed as text before, stored as bytes, still opens.
	text, _ := b.Seal("older", "p")
	if got, err := b.OpenBytes([]byte(text), "p"); err != nil || string(got) != "older" {
		t.Fatalf("OpenBytes(Seal) = %q, %v", got, err)
	}
}

func TestOpenBytesFailsClosed(t *testing.T) {
	b := newBox(t)
	sealed, _ := b.SealBytes(nil, []byte("value"), "p")
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	other := newBox(t)
	for name, open := range map[string]func() ([]byte, error){
		"wrong key":     func() ([]byte, error) { return other.OpenBytes(sealed, "p") },
		"wrong purpose": func() ([]byte, error) { return b.OpenBytes(sealed, "q") },
		"tampered":      func() ([]byte, error) { return b.OpenBytes(tampered, "p") },
		"short":         func() ([]byte, error) { return b.OpenBytes(sealed[:5], "p") },
		"garbage text":  func() ([]byte, error) { return b.OpenBytes([]byte("v1:!!!"), "p") },
		"no prefix":     func() ([]byte, error) { return b.OpenBytes([]byte("abc"), "p") },
		"empty":         func() ([]byte, error) { return b.OpenBytes(nil, "p") },
	} {
		if v, err := open(); !errors.Is(err, ErrOpen) || v != nil {
			t.Errorf("%s: OpenBytes = %q, %v; want ErrOpen", name, v, err)
		}
	}
}
