package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/frostguard/functions/shared/apperr"
)

const (
	testIssuer   = "https://api.stack-auth.com/api/v1/projects/p1"
	testAudience = "p1"
)

// jwksServer serves the signers' public keys and counts fetches.
type jwksServer struct {
	*httptest.Server
	keys    atomic.Value // []byte
	fetches atomic.Int32
	down    atomic.Bool
}

func newJWKSServer(t *testing.T, signers ...*DevSigner) *jwksServer {
	s := &jwksServer{}
	s.publish(t, signers...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.keys.Load().([]byte))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) publish(t *testing.T, signers ...*DevSigner) {
	set := jwk.NewSet()
	for _, sg := range signers {
		pub, err := jwk.PublicKeyOf(sg.PrivateKey())
		if err != nil {
			t.Fatal(err)
		}
		_ = pub.Remove(jwk.AlgorithmKey)
		_ = set.AddKey(pub)
	}
	b, _ := json.Marshal(set)
	s.keys.Store(b)
}

func newSigner(t *testing.T) *DevSigner {
	s, err := NewDevSigner(testIssuer, testAudience)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newVerifier(t *testing.T, url string, now func() time.Time) *Verifier {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := NewVerifier(ctx, VerifierOptions{JWKSURL: url, Issuer: testIssuer, Audience: testAudience, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var alice = Identity{Subject: "0f8c2b7e-6d1a-4c3b-9e2f-5a7d8c9b0a11", Email: "alice@example.test", Name: "Alice"}

// sign builds a token with arbitrary claims and headers.
func sign(t *testing.T, key jwk.Key, alg jwa.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func validClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": testIssuer, "aud": []string{testAudience}, "sub": alice.Subject,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"email": "alice@example.test", "is_anonymous": false,
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerifyAcceptsAGoodToken(t *testing.T) {
	signer := newSigner(t)
	srv := newJWKSServer(t, signer)
	v := newVerifier(t, srv.URL, nil)
	tok, err := signer.Mint(alice, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	exp := c.ExpiresAt
	c.ExpiresAt = time.Time{}
	if c != (Claims{Subject: alice.Subject, Email: alice.Email, EmailVerified: true, Name: alice.Name}) {
		t.Errorf("claims = %+v", c)
	}
	// The token's exp (the live channel keeps a connection no longer).
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour+time.Second {
		t.Errorf("ExpiresAt %v, want the token's exp an hour from now", exp)
	}
	// The JWKS is cached: a thousand verifications, one fetch.
	for i := 0; i < 1000; i++ {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times", n)
	}
}

// TestJWTAttackMatrix: every forged, stale or misdirected token is 401.
func TestJWTAttackMatrix(t *testing.T) {
	signer := newSigner(t)
	srv := newJWKSServer(t, signer)
	now := time.Now()
	v := newVerifier(t, srv.URL, func() time.Time { return now })
	key := signer.PrivateKey()
	kid := key.KeyID()
	good := validClaims(now)

	pub, _ := jwk.PublicKeyOf(key)
	pubJSON, _ := json.Marshal(pub)
	hmacWithPublicKey, _ := jwk.FromRaw(pubJSON)
	_ = hmacWithPublicKey.Set(jwk.KeyIDKey, kid)

	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	strangerKey, _ := jwk.FromRaw(stranger)
	_ = strangerKey.Set(jwk.KeyIDKey, kid) // claims our kid, signed with another key

	otherKid, _ := jwk.FromRaw(stranger)
	_ = otherKid.Set(jwk.KeyIDKey, "not-a-published-kid")

	valid := sign(t, key, jwa.ES256, good)
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + b64(with(good, "sub", "6a1f0c2d-3b4e-4f5a-8b6c-7d8e9f0a1b22")) + "." + parts[2]

	cases := map[string]string{
		"missing":                             "",
		"garbage":                             "not.a.token",
		"random base64":                       "eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
		"alg none":                            b64(map[string]string{"alg": "none", "kid": kid, "typ": "JWT"}) + "." + b64(good) + ".",
		"HS256 with the public key as secret": sign(t, hmacWithPublicKey, jwa.HS256, good),
		"signed by another key with our kid":  sign(t, strangerKey, jwa.ES256, good),
		"unknown kid":                         sign(t, otherKid, jwa.ES256, good),
		"wrong issuer":                        sign(t, key, jwa.ES256, with(good, "iss", "https://evil.example")),
		"wrong audience":                      sign(t, key, jwa.ES256, with(good, "aud", []string{"another-project"})),
		"no audience":                         sign(t, key, jwa.ES256, with(good, "aud", nil)),
		"no subject":                          sign(t, key, jwa.ES256, with(good, "sub", nil)),
		"empty subject":                       sign(t, key, jwa.ES256, with(good, "sub", "")),
		"blank subject":                       sign(t, key, jwa.ES256, with(good, "sub", "   ")),
		"subject not a UUID":                  sign(t, key, jwa.ES256, with(good, "sub", "admin")),
		"UUID with trailing text":             sign(t, key, jwa.ES256, with(good, "sub", alice.Subject+"\x00x")),
		"UUID without dashes":                 sign(t, key, jwa.ES256, with(good, "sub", strings.ReplaceAll(alice.Subject, "-", ""))),
		"UUID in braces":                      sign(t, key, jwa.ES256, with(good, "sub", "{"+alice.Subject+"}")),
		"no expiry":                           sign(t, key, jwa.ES256, with(good, "exp", nil)),
		"expired":                             sign(t, key, jwa.ES256, with(good, "exp", now.Add(-time.Minute).Unix())),
		"not yet valid":                       sign(t, key, jwa.ES256, with(good, "nbf", now.Add(time.Minute).Unix())),
		"tampered claims":                     tampered,
		"anonymous user":                      sign(t, key, jwa.ES256, with(good, "is_anonymous", true)),
		"payload, no signature":               parts[0] + "." + parts[1],
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tok)
			if apperr.CodeOf(err) != apperr.Unauthenticated {
				t.Fatalf("want 401, got %v", err)
			}
			if e := apperr.From(err); e.Message != ErrUnauthenticated.Message {
				t.Errorf("the message must not explain the failure: %q", e.Message)
			}
		})
	}
	// Within the leeway, exp and nbf still pass.
	for name, claims := range map[string]map[string]any{
		"expired 20 s ago": with(good, "exp", now.Add(-20*time.Second).Unix()),
		"valid in 20 s":    with(good, "nbf", now.Add(20*time.Second).Unix()),
	} {
		if _, err := v.Verify(context.Background(), sign(t, key, jwa.ES256, claims)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRotatedKeyIsFetchedButUnknownKidsCannotHammerTheJWKS(t *testing.T) {
	oldSigner, newSignerAfterRotation := newSigner(t), newSigner(t)
	srv := newJWKSServer(t, oldSigner)
	now := time.Now()
	v := newVerifier(t, srv.URL, func() time.Time { return now })
	ctx := context.Background()

	oldTok, _ := oldSigner.Mint(alice, time.Hour)
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	// Stack Auth rotates: the new key appears in the JWKS.
	srv.publish(t, oldSigner, newSignerAfterRotation)
	newTok, _ := newSignerAfterRotation.Mint(alice, time.Hour)
	if _, err := v.Verify(ctx, newTok); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	fetches := srv.fetches.Load()

	stranger := newSigner(t)
	junk, _ := stranger.Mint(alice, time.Hour)
	for i := 0; i < 50; i++ {
		if _, err := v.Verify(ctx, junk); apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := srv.fetches.Load() - fetches; n > 0 {
		t.Errorf("50 unknown-kid tokens within 30 s caused %d JWKS fetches", n)
	}
	now = now.Add(31 * time.Second)
	_, _ = v.Verify(ctx, junk)
	if n := srv.fetches.Load() - fetches; n != 1 {
		t.Errorf("after the refetch interval: %d fetches, want 1", n)
	}
}

func TestJWKSDownIsRetryableNotUnauthenticated(t *testing.T) {
	signer := newSigner(t)
	srv := newJWKSServer(t, signer)
	srv.down.Store(true)
	v := newVerifier(t, srv.URL, nil)
	tok, _ := signer.Mint(alice, time.Hour)
	if _, err := v.Verify(context.Background(), tok); apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("want 503 (retry), got %v", err)
	}
}

func TestTokenFromRequest(t *testing.T) {
	cases := []struct {
		header, value, want string
	}{
		{"Authorization", "Bearer abc.def.ghi", "abc.def.ghi"},
		{"Authorization", "bearer   abc", "abc"},
		{"Authorization", "Basic dXNlcjpwYXNz", ""},
		{"X-Stack-Access-Token", "abc.def", "abc.def"},
		{"", "", ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if c.header != "" {
			r.Header.Set(c.header, c.value)
		}
		if got := TokenFromRequest(r); got != c.want {
			t.Errorf("%s: %q -> %q, want %q", c.header, c.value, got, c.want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.e30.AAAA"} {
		f.Add(s)
	}
	signer, err := NewDevSigner(testIssuer, testAudience)
	if err != nil {
		f.Fatal(err)
	}
	jwks, _ := signer.JWKS()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(jwks) }))
	defer srv.Close()
	v, err := NewVerifier(context.Background(), VerifierOptions{JWKSURL: srv.URL, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(context.Background(), tok)
		if err == nil {
			t.Fatalf("a fuzzed token verified: %q -> %+v", tok, c)
		}
	})
}
