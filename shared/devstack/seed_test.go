package devstack_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/stripe/stripe-go/v76"

	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/devstack"
	"github.com/frostguard/functions/shared/testenv"
)

func TestSeedIsCompleteAndIdempotent(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	dir := t.TempDir()
	secrets, err := devstack.LoadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	env := devstack.Environment(map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/db"}, secrets, "http://127.0.0.1:3000")
	ctx := context.Background()
	first, err := devstack.Seed(ctx, db, secrets, devstack.SeedOptions{BaseURL: "http://127.0.0.1:3000", Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	second, err := devstack.Seed(ctx, db, secrets, devstack.SeedOptions{BaseURL: "http://127.0.0.1:3000", Environment: env})
	if err != nil {
		t.Fatalf("reseeding: %v", err)
	}
	counts := map[string]int{}
	for _, table := range []string{"organizations", "users", "memberships", "sites", "areas", "units", "sensors",
		"network_connections", "escalation_contacts", "notification_policies", "subscriptions"} {
		var n int
		if err := testenv.Pool(db).QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	want := map[string]int{"organizations": 2, "users": 3, "memberships": 3, "sites": 2, "areas": 2, "units": 2,
		"sensors": 1, "network_connections": 2, "escalation_contacts": 1, "notification_policies": 1, "subscriptions": 2}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %d rows, want %d", k, counts[k], v)
		}
	}

	// Only the newest TTN secret is valid: it is the one in seed.json.
	var stored []byte
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT secret_hash FROM network_connections WHERE application_id = $1`, devstack.TTNApplicationID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256([]byte(second.TTNWebhookSecret)); string(h[:]) != string(stored) || first.TTNWebhookSecret == second.TTNWebhookSecret {
		t.Error("the stored hash does not match the secret written to seed.json")
	}

	// Every token verifies against the dev JWKS, with the configured issuer and audience.
	jwks, err := secrets.Signer.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(jwks)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"token": second.Token, "viewer": second.ViewerToken, "other": second.OtherToken} {
		parsed, err := jwt.ParseString(tok, jwt.WithKeySet(set, jwsInferAlg()), jwt.WithIssuer(devstack.Issuer), jwt.WithAudience(devstack.ProjectID), jwt.WithValidate(true))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if parsed.Subject() == "" {
			t.Errorf("%s has no subject", name)
		}
	}

	// seed.json carries every key docs/ARCHITECTURE.md "Local development" and the README list.
	path := filepath.Join(dir, "seed.json")
	if err := second.Write(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"base_url", "token", "viewer_token", "other_token", "org_id", "site_id", "unit_id",
		"sensor_dev_eui", "ttn_application_id", "ttn_webhook_secret", "chirpstack_webhook_secret", "stripe_webhook_secret", "stripe_prices", "telnyx_private_key"} {
		if v, ok := m[k]; !ok || v == "" {
			t.Errorf("seed.json lacks %q", k)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("seed.json mode %v: it holds tokens", fi.Mode().Perm())
	}
}

func TestSecretsPersistAndFeedEveryFunction(t *testing.T) {
	dir := t.TempDir()
	a, err := devstack.LoadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := devstack.LoadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.StripeWebhookSecret != b.StripeWebhookSecret || a.TelnyxPrivateKey != b.TelnyxPrivateKey {
		t.Fatal("secrets changed between loads")
	}
	env := devstack.Environment(map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/db", "STRIPE_WEBHOOK_SECRET": "whsec_mine"}, a, "http://127.0.0.1:3000")
	if env["STRIPE_WEBHOOK_SECRET"] != "whsec_mine" {
		t.Error("a developer's own setting must win over the dev default")
	}
	for name, cfg := range map[string]config.Config{"api": &config.API{}, "telnyx": &config.TelnyxWebhook{}, "stripe": &config.StripeWebhook{}} {
		if err := config.Parse(cfg, env); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// jwsInferAlg lets verification pick the algorithm from the key: the dev
// JWKS, like Stack Auth's, carries no "alg".
func jwsInferAlg() jws.WithKeySetSuboption { return jws.WithInferAlgorithmFromKey(true) }

// The dev stack's checkout must work against stripe-mock, which refuses keys
// that do not look like real test keys.
func TestDevCheckoutWorksAgainstStripeMock(t *testing.T) {
	mock := testenv.Require(t, "STRIPE_MOCK_URL")
	secrets, err := devstack.LoadSecrets(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := devstack.Environment(map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/db", "STRIPE_MOCK_URL": mock}, secrets, "http://127.0.0.1:3000")
	var cfg config.Stripe
	if err := config.Parse(&cfg, env); err != nil {
		t.Fatal(err)
	}
	sc, err := billing.NewStripe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Customers.New(&stripe.CustomerParams{Email: stripe.String("owner@demo-bistro.test")}); err != nil {
		t.Fatalf("stripe-mock refused the dev key: %v", err)
	}
}
