// Package devstack is the Docker-free local stack's glue: dev-only secrets,
// the environment every function reads in dev, and the demo seed. Nothing
// here runs in a deployed function.
package devstack

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/catalog"
)

// Dev identity settings: tokens minted by the dev signer carry these.
const (
	ProjectID = "frostguard-dev"
	Issuer    = "http://127.0.0.1/frostguard-dev"
)

// Secrets are the dev stack's generated secrets, kept in Dir so that tokens,
// webhook secrets and keys survive a restart of `make dev`.
type Secrets struct {
	StripeWebhookSecret string `json:"stripe_webhook_secret"`
	// TelnyxPrivateKey is a base64 Ed25519 seed; its public half is the
	// TELNYX_PUBLIC_KEY the telnyx-webhook verifies with.
	TelnyxPrivateKey string          `json:"telnyx_private_key"`
	Signer           *auth.DevSigner `json:"-"`
}

// TelnyxPublicKey is the base64 public key matching TelnyxPrivateKey.
func (s Secrets) TelnyxPublicKey() string {
	seed, _ := base64.StdEncoding.DecodeString(s.TelnyxPrivateKey)
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	return base64.StdEncoding.EncodeToString(pub)
}

// LoadSecrets reads dir/secrets.json and dir/signing-key.json, creating them
// on first use.
func LoadSecrets(dir string) (Secrets, error) {
	var s Secrets
	path := filepath.Join(dir, "secrets.json")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil {
			return s, err
		}
	case errors.Is(err, os.ErrNotExist):
		seed := make([]byte, ed25519.SeedSize)
		_, _ = rand.Read(seed)
		s.TelnyxPrivateKey = base64.StdEncoding.EncodeToString(seed)
		s.StripeWebhookSecret = "whsec_" + randomHex(24)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return s, err
		}
		b, _ = json.MarshalIndent(s, "", "  ")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return s, err
		}
	default:
		return s, err
	}
	s.Signer, err = auth.LoadOrCreateDevSigner(filepath.Join(dir, "signing-key.json"), Issuer, ProjectID)
	return s, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Environment completes environ with the dev defaults every function needs,
// without overriding anything already set: a developer's own STRIPE_SECRET_KEY
// or TELNYX_API_KEY wins.
func Environment(environ map[string]string, s Secrets, baseURL string) map[string]string {
	out := make(map[string]string, len(environ)+12)
	for k, v := range environ {
		out[k] = v
	}
	def := func(k, v string) {
		if out[k] == "" {
			out[k] = v
		}
	}
	def("STAGE", "dev")
	def("STACK_AUTH_PROJECT_ID", ProjectID)
	def("STACK_AUTH_ISSUER", Issuer)
	def("STACK_AUTH_JWKS_URL", baseURL+"/.well-known/jwks.json")
	def("STRIPE_WEBHOOK_SECRET", s.StripeWebhookSecret)
	def("TELNYX_PUBLIC_KEY", s.TelnyxPublicKey())
	if mock := out["STRIPE_MOCK_URL"]; mock != "" {
		def("STRIPE_API_BASE", mock)
		// stripe-mock accepts only keys that look real: sk_test_ + letters/digits.
		def("STRIPE_SECRET_KEY", "sk_test_FrostGuardDevOnly")
	}
	def("DB_MAX_CONNS", "16")
	// Live events: the publishers post to the local server's management
	// API, which writes to the /ws connections (shared/realtime.Local).
	def("REALTIME_MANAGEMENT_ENDPOINT", baseURL+catalog.LocalManagementPath)
	return out
}
