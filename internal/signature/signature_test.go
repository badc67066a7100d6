package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// handSign computes the signature straight from the specification's
// definition, without any code of the package under test.
func handSign(t *testing.T, secret, id, ts, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id + "." + ts + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specBody   = `{"test": 2432232314}`
)

var specTime = time.Unix(1614265330, 0)

func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		id     string
		ts     time.Time
		body   string
		want   string
	}{
		// The example published with the specification's reference libraries.
		{"published example", specSecret, specID, specTime, specBody, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"computed by hand", specSecret, specID, specTime, specBody, handSign(t, specSecret, specID, "1614265330", specBody)},
		{"secret without prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", specID, specTime, specBody, handSign(t, specSecret, specID, "1614265330", specBody)},
		{"sub-second time truncated", specSecret, "evt_1", time.Unix(1700000000, 999_000_000), "{}", handSign(t, specSecret, "evt_1", "1700000000", "{}")},
		{"empty body", specSecret, "evt_2", specTime, "", handSign(t, specSecret, "evt_2", "1614265330", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sign(tt.secret, tt.id, tt.ts, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Sign = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignRejectsBadSecret(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "whsec_", "whsec_not base64!"} {
		_, err := Sign(s, "id", specTime, nil)
		if !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("Sign(secret %q) err = %v, want ErrInvalidSecret", s, err)
		}
		if err != nil && strings.Contains(err.Error(), "base64!") {
			t.Errorf("error %q reveals the secret", err)
		}
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if a == b {
		t.Error("two secrets are equal")
	}
	if !strings.HasPrefix(a, "whsec_") {
		t.Errorf("secret %q lacks whsec_ prefix", a)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(key) < 24 || len(key) > 64 {
		t.Errorf("secret decodes to %d bytes, err %v; want 24 to 64", len(key), err)
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := specSecret, "whsec_"+base64.StdEncoding.EncodeToString([]byte("another secret of 24 bytes!"))
	h, err := Headers(specID, specTime, []byte(specBody), newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("webhook-id"); got != specID {
		t.Errorf("webhook-id = %q", got)
	}
	if got := h.Get("webhook-timestamp"); got != "1614265330" {
		t.Errorf("webhook-timestamp = %q", got)
	}
	want := handSign(t, newSecret, specID, "1614265330", specBody) + " " + handSign(t, oldSecret, specID, "1614265330", specBody)
	if got := h.Get("webhook-signature"); got != want {
		t.Errorf("webhook-signature = %q, want %q", got, want)
	}
	if _, err := Headers(specID, specTime, nil); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Headers without secret: err = %v, want ErrNoSecret", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a different key, 24 bytes"))
	good := handSign(t, specSecret, specID, "1614265330", specBody)
	header := func(id, ts, sig string) http.Header {
		h := http.Header{}
		if id != "" {
			h.Set("Webhook-Id", id)
		}
		if ts != "" {
			h.Set("Webhook-Timestamp", ts)
		}
		if sig != "" {
			h.Set("Webhook-Signature", sig)
		}
		return h
	}
	tests := []struct {
		name      string
		secrets   []string
		header    http.Header
		body      string
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"valid", []string{specSecret}, header(specID, "1614265330", good), specBody, specTime, 0, nil},
		{"second of several signatures", []string{specSecret}, header(specID, "1614265330", "v1,Zm9v "+good), specBody, specTime, 0, nil},
		{"old secret during rotation", []string{other, specSecret}, header(specID, "1614265330", good), specBody, specTime, 0, nil},
		{"other versions ignored", []string{specSecret}, header(specID, "1614265330", "v1a,"+strings.TrimPrefix(good, "v1,")+" "+good), specBody, specTime, 0, nil},
		{"edge of tolerance", []string{specSecret}, header(specID, "1614265330", good), specBody, specTime.Add(5 * time.Minute), 0, nil},
		{"wrong secret", []string{other}, header(specID, "1614265330", good), specBody, specTime, 0, ErrNoMatchingSignature},
		{"body changed", []string{specSecret}, header(specID, "1614265330", good), specBody + " ", specTime, 0, ErrNoMatchingSignature},
		{"id changed", []string{specSecret}, header("msg_other", "1614265330", good), specBody, specTime, 0, ErrNoMatchingSignature},
		{"wrong version only", []string{specSecret}, header(specID, "1614265330", "v2,"+strings.TrimPrefix(good, "v1,")), specBody, specTime, 0, ErrNoMatchingSignature},
		{"garbage signature", []string{specSecret}, header(specID, "1614265330", "v1,***"), specBody, specTime, 0, ErrNoMatchingSignature},
		{"too old", []string{specSecret}, header(specID, "1614265330", good), specBody, specTime.Add(5*time.Minute + time.Second), 0, ErrTimestampTooOld},
		{"too new", []string{specSecret}, header(specID, "1614265330", good), specBody, specTime.Add(-5*time.Minute - time.Second), 0, ErrTimestampTooNew},
		{"custom tolerance", []string{specSecret}, header(specID, "1614265330", good), specBody, specTime.Add(time.Hour), 2 * time.Hour, nil},
		{"bad timestamp", []string{specSecret}, header(specID, "2021-02-25T15:02:10Z", good), specBody, specTime, 0, ErrInvalidTimestamp},
		{"missing id", []string{specSecret}, header("", "1614265330", good), specBody, specTime, 0, ErrMissingHeader},
		{"missing timestamp", []string{specSecret}, header(specID, "", good), specBody, specTime, 0, ErrMissingHeader},
		{"missing signature", []string{specSecret}, header(specID, "1614265330", ""), specBody, specTime, 0, ErrMissingHeader},
		{"no secret", nil, header(specID, "1614265330", good), specBody, specTime, 0, ErrNoSecret},
		{"bad secret", []string{"whsec_%%%"}, header(specID, "1614265330", good), specBody, specTime, 0, ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secrets, tt.header, []byte(tt.body), tt.now, tt.tolerance)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignThenVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"issue.created"}`)
	h, err := Headers("0b8f3c7e", now, body, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify([]string{secret}, h, body, now.Add(time.Minute), 0); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestVerifyHMAC checks the plain HMAC scheme as GitHub signs: the hex
// HMAC-SHA256 of the body keyed with the secret's bytes, with or without
// "sha256=", in either case.
func TestVerifyHMAC(t *testing.T) {
	// GitHub's documented example of a valid delivery.
	body := []byte("Hello, World!")
	const secret = "It's a Secret to Everybody"
	const sum = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	for _, got := range []string{sum, "sha256=" + sum, "SHA256=" + strings.ToUpper(sum), " sha256=" + sum + " "} {
		if err := VerifyHMAC([]string{"another secret of 16+", secret}, got, body); err != nil {
			t.Errorf("VerifyHMAC(%q) = %v, want nil", got, err)
		}
	}
	for _, tc := range []struct {
		name, got string
		body      []byte
		want      error
	}{
		{"tampered body", sum, []byte("Hello, World?"), ErrNoMatchingSignature},
		{"not hex", "sha256=zz", body, ErrNoMatchingSignature},
		{"missing", "", body, ErrMissingHeader},
	} {
		if err := VerifyHMAC([]string{secret}, tc.got, tc.body); !errors.Is(err, tc.want) {
			t.Errorf("%s: VerifyHMAC = %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := VerifyHMAC(nil, sum, body); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secret: %v", err)
	}
}

// TestCheckSecret: a secret of one's own is taken only in the shape its
// scheme needs, and what is wrong is said without the secret.
func TestCheckSecret(t *testing.T) {
	good, _ := NewSecret()
	for _, tc := range []struct{ scheme, secret, want string }{
		{SchemeStandard, good, ""},
		{SchemeStandard, "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 16)), "24 to 64"},
		{SchemeStandard, "whsec_not base64!", "24 to 64"},
		{SchemeHMAC, "0123456789abcdef", ""},
		{SchemeHMAC, "short-secret", "16 to 256"},
		{SchemeHMAC, " 0123456789abcdef", "16 to 256"},
		{"md5", "0123456789abcdef", "neither"},
	} {
		msg := CheckSecret(tc.scheme, tc.secret)
		if (tc.want == "") != (msg == "") || !strings.Contains(msg, tc.want) {
			t.Errorf("CheckSecret(%s, …) = %q, want %q", tc.scheme, msg, tc.want)
		}
		if tc.secret != "" && msg != "" && strings.Contains(msg, tc.secret) {
			t.Errorf("CheckSecret's message repeats the secret: %q", msg)
		}
	}
	for _, scheme := range []string{SchemeStandard, SchemeHMAC} {
		s, err := NewSecretFor(scheme)
		if err != nil || CheckSecret(scheme, s) != "" {
			t.Errorf("NewSecretFor(%s) = %q, %v; does not fit its scheme", scheme, s, err)
		}
	}
}
