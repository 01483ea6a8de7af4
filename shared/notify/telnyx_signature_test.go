package notify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
	"time"
)

// telnyxSigner signs bodies the way Telnyx does.
type telnyxSigner struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newTelnyxSigner(t testing.TB) telnyxSigner {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return telnyxSigner{pub, priv}
}

func (s telnyxSigner) sign(ts string, body []byte) string {
	msg := append([]byte(ts+"|"), body...)
	return base64.StdEncoding.EncodeToString(ed25519.Sign(s.priv, msg))
}

func TestVerifyTelnyx(t *testing.T) {
	s := newTelnyxSigner(t)
	other := newTelnyxSigner(t)
	now := time.Unix(1767225600, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"data":{"id":"e1","event_type":"message.sent"}}`)
	tampered := bytes.Clone(body)
	tampered[10] ^= 1
	old := strconv.FormatInt(now.Unix()-301, 10)
	future := strconv.FormatInt(now.Unix()+301, 10)
	edgeOld := strconv.FormatInt(now.Unix()-300, 10)
	edgeFuture := strconv.FormatInt(now.Unix()+300, 10)

	cases := []struct {
		name     string
		key      ed25519.PublicKey
		sig, ts  string
		body     []byte
		want     error // nil = valid
		wantText string
	}{
		{"valid", s.pub, s.sign(ts, body), ts, body, nil, ""},
		{"valid 300 s old", s.pub, s.sign(edgeOld, body), edgeOld, body, nil, ""},
		{"valid 300 s ahead", s.pub, s.sign(edgeFuture, body), edgeFuture, body, nil, ""},
		{"wrong key", other.pub, s.sign(ts, body), ts, body, ErrTelnyxBadSignature, "does not match"},
		{"tampered body", s.pub, s.sign(ts, body), ts, tampered, ErrTelnyxBadSignature, ""},
		{"signature of another timestamp", s.pub, s.sign(edgeOld, body), ts, body, ErrTelnyxBadSignature, ""},
		{"301 s old", s.pub, s.sign(old, body), old, body, ErrTelnyxStaleTimestamp, "outside the tolerance"},
		{"301 s in the future", s.pub, s.sign(future, body), future, body, ErrTelnyxStaleTimestamp, ""},
		{"missing signature", s.pub, "", ts, body, ErrTelnyxMissingSignature, "missing telnyx-signature-ed25519"},
		{"missing timestamp", s.pub, s.sign(ts, body), "", body, ErrTelnyxMissingTimestamp, "missing telnyx-timestamp"},
		{"garbage base64", s.pub, "!!!not base64!!!", ts, body, ErrTelnyxBadEncoding, "not base64"},
		{"short signature", s.pub, base64.StdEncoding.EncodeToString([]byte("short")), ts, body, ErrTelnyxBadEncoding, ""},
		{"timestamp not a number", s.pub, s.sign("abc", body), "abc", body, ErrTelnyxBadTimestamp, ""},
		{"signed timestamp with plus", s.pub, s.sign("+"+ts, body), "+" + ts, body, ErrTelnyxBadTimestamp, ""},
		{"timestamp in milliseconds", s.pub, s.sign(ts+"000", body), ts + "000", body, ErrTelnyxStaleTimestamp, ""},
		{"huge timestamp", s.pub, s.sign("999999999999999999", body), "999999999999999999", body, ErrTelnyxStaleTimestamp, ""},
		{"timestamp over int64", s.pub, s.sign("9999999999999999999", body), "9999999999999999999", body, ErrTelnyxBadTimestamp, ""},
		{"nil key", nil, s.sign(ts, body), ts, body, ErrTelnyxBadPublicKey, ""},
		{"short key", s.pub[:16], s.sign(ts, body), ts, body, ErrTelnyxBadPublicKey, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyTelnyx(c.key, c.sig, c.ts, c.body, now, TelnyxTolerance)
			if c.want == nil {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("want %v, got %v", c.want, err)
			}
			if c.wantText != "" && !bytes.Contains([]byte(err.Error()), []byte(c.wantText)) {
				t.Fatalf("error %q does not say %q", err, c.wantText)
			}
		})
	}
}

func TestParseTelnyxPublicKey(t *testing.T) {
	s := newTelnyxSigner(t)
	k, err := ParseTelnyxPublicKey(" " + base64.StdEncoding.EncodeToString(s.pub) + "\n")
	if err != nil || !k.Equal(s.pub) {
		t.Fatalf("got %v, %v", k, err)
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 31))} {
		if _, err := ParseTelnyxPublicKey(bad); !errors.Is(err, ErrTelnyxBadPublicKey) {
			t.Fatalf("%q: got %v", bad, err)
		}
	}
}

// FuzzVerifyTelnyx: never panics, and nothing but the real signature of
// "<timestamp>|<body>" verifies.
func FuzzVerifyTelnyx(f *testing.F) {
	seed := make([]byte, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	now := time.Unix(1767225600, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"data":{"id":"e1"}}`)
	good := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, append([]byte(ts+"|"), body...)))
	f.Add(good, ts, body)
	f.Add(good, ts, []byte(`{"data":{"id":"e2"}}`))
	f.Add("", "", []byte{})
	f.Add("AAAA", "-1", []byte("x"))
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, 64)), ts, body)
	f.Fuzz(func(t *testing.T, sig, timestamp string, b []byte) {
		err := VerifyTelnyx(pub, sig, timestamp, b, now, TelnyxTolerance)
		if err != nil {
			return
		}
		want := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, append([]byte(timestamp+"|"), b...)))
		if sig != want {
			t.Fatalf("a forged signature verified: sig=%q ts=%q body=%q", sig, timestamp, b)
		}
	})
}
