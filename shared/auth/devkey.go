// Package auth verifies Stack Auth JWTs and, for development and tests,
// signs tokens with a local key whose public half is served as a JWKS.
package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// DevSigner signs tokens the way Stack Auth does (ES256, with a kid), for
// `make dev` and the tests. It never runs in a deployed function.
type DevSigner struct {
	private  jwk.Key
	Issuer   string
	Audience string // the Stack Auth project id
}

// NewDevSigner makes a signer with a fresh P-256 key.
func NewDevSigner(issuer, audience string) (*DevSigner, error) {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := jwk.FromRaw(raw)
	if err != nil {
		return nil, err
	}
	if err := jwk.AssignKeyID(key); err != nil {
		return nil, err
	}
	return &DevSigner{private: key, Issuer: issuer, Audience: audience}, nil
}

// LoadOrCreateDevSigner reads the signing key stored at path, or creates and
// stores one (mode 0600), so dev tokens survive restarts of `make dev`.
func LoadOrCreateDevSigner(path, issuer, audience string) (*DevSigner, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, perr := jwk.ParseKey(b)
		if perr != nil {
			return nil, fmt.Errorf("dev signing key %s: %w", path, perr)
		}
		return &DevSigner{private: key, Issuer: issuer, Audience: audience}, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s, err := NewDevSigner(issuer, audience)
	if err != nil {
		return nil, err
	}
	b, err = json.Marshal(s.private)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return s, os.WriteFile(path, b, 0o600)
}

// PrivateKey exposes the signing key (tests forge tokens with it).
func (s *DevSigner) PrivateKey() jwk.Key { return s.private }

// JWKS is the public key set to serve at the JWKS URL. Like Stack Auth's,
// it carries no "alg", which verification must cope with.
func (s *DevSigner) JWKS() ([]byte, error) {
	pub, err := jwk.PublicKeyOf(s.private)
	if err != nil {
		return nil, err
	}
	_ = pub.Remove(jwk.AlgorithmKey)
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, err
	}
	return json.Marshal(set)
}

// Identity is what a token says about its user.
type Identity struct {
	Subject string
	Email   string
	Name    string
	// EmailUnverified mints email_verified: false (an address the user has
	// not proved to receive mail at); the zero value is a verified one.
	EmailUnverified bool
}

// Mint signs an access token for id, valid for ttl.
func (s *DevSigner) Mint(id Identity, ttl time.Duration) (string, error) {
	now := time.Now()
	tok, err := jwt.NewBuilder().
		Issuer(s.Issuer).
		Audience([]string{s.Audience}).
		Subject(id.Subject).
		IssuedAt(now).
		NotBefore(now).
		Expiration(now.Add(ttl)).
		Claim("email", id.Email).
		Claim("email_verified", !id.EmailUnverified).
		Claim("name", id.Name).
		Claim("is_anonymous", false).
		Claim("role", "authenticated").
		Claim("project_id", s.Audience).
		Build()
	if err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, s.private))
	if err != nil {
		return "", err
	}
	return string(signed), nil
}
