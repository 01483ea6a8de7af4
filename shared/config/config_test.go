package config

import (
	"log/slog"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
)

func full() map[string]string {
	return map[string]string{
		"DATABASE_URL":          "postgres://u:p@127.0.0.1:5432/db?sslmode=disable",
		"STACK_AUTH_PROJECT_ID": "proj",
		"STRIPE_WEBHOOK_SECRET": "whsec_x",
		"TELNYX_PUBLIC_KEY":     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	}
}

func without(env map[string]string, keys ...string) map[string]string {
	for _, k := range keys {
		delete(env, k)
	}
	return env
}

func with(env map[string]string, kv ...string) map[string]string {
	for i := 0; i < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func TestEveryFunctionConfigParsesAFullEnvironment(t *testing.T) {
	for name, cfg := range map[string]Config{
		"api": &API{}, "stripe-checkout": &StripeCheckout{}, "stripe-webhook": &StripeWebhook{},
		"telnyx-webhook": &TelnyxWebhook{}, "ttn-webhook": &TTNWebhook{}, "chirpstack-webhook": &ChirpStackWebhook{}, "alert-sweeper": &AlertSweeper{},
	} {
		if err := Parse(cfg, full()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	var c API
	if err := Parse(&c, full()); err != nil {
		t.Fatal(err)
	}
	if c.MaxBodyBytes != 1<<20 || c.DBMaxConns != 4 || c.LogLevel != slog.LevelInfo || c.FrontendURL != "http://localhost:5173" {
		t.Errorf("defaults not applied: %+v", c.Common)
	}
	if got := c.JWKS(); got != "https://api.stack-auth.com/api/v1/projects/proj/.well-known/jwks.json" {
		t.Errorf("JWKS() = %q", got)
	}
	if got := c.ExpectedIssuer(); got != "https://api.stack-auth.com/api/v1/projects/proj" {
		t.Errorf("ExpectedIssuer() = %q", got)
	}
}

func TestErrorsNameEveryVariable(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		env  map[string]string
		want []string // every fragment must appear
	}{
		{"all missing at once", &TelnyxWebhook{}, map[string]string{},
			[]string{"DATABASE_URL is required", "TELNYX_PUBLIC_KEY is required"}},
		{"empty required", &StripeWebhook{}, with(full(), "STRIPE_WEBHOOK_SECRET", ""),
			[]string{"STRIPE_WEBHOOK_SECRET is required but empty"}},
		{"malformed database url", &API{}, with(full(), "DATABASE_URL", "mysql://x"),
			[]string{"DATABASE_URL must be a postgres:// URL"}},
		{"relative url", &API{}, with(full(), "FRONTEND_URL", "localhost:5173/app"),
			[]string{"FRONTEND_URL must be an absolute URL"}},
		{"bad ed25519 key", &TelnyxWebhook{}, with(full(), "TELNYX_PUBLIC_KEY", "bm90LWEta2V5"),
			[]string{"TELNYX_PUBLIC_KEY must be a base64-encoded 32-byte Ed25519 public key"}},
		{"not a number", &API{}, with(full(), "MAX_BODY_BYTES", "lots"),
			[]string{"MAX_BODY_BYTES is not a valid int64"}},
		{"bad log level", &API{}, with(full(), "LOG_LEVEL", "loud"),
			[]string{"LOG_LEVEL is not a valid"}},
		{"missing and malformed together", &API{}, with(without(full(), "STACK_AUTH_PROJECT_ID"), "REDIS_URL", "::"),
			[]string{"STACK_AUTH_PROJECT_ID is required", "REDIS_URL must be an absolute URL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Parse(tc.cfg, tc.env)
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestSecretsNeverAppearInErrors(t *testing.T) {
	env := with(full(), "DATABASE_URL", "mysql://admin:hunter2@db/x")
	err := Parse(&API{}, env)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the value: %v", err)
	}
}

// TestREADMEDocumentsEveryVariable keeps the README's configuration table
// honest: every variable a function reads must be listed there.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []any{API{}, StripeCheckout{}, StripeWebhook{}, TelnyxWebhook{}, TTNWebhook{}, ChirpStackWebhook{}, AlertSweeper{}} {
		for _, key := range fieldKeys(reflect.TypeOf(cfg)) {
			if !strings.Contains(string(readme), "`"+key+"`") {
				t.Errorf("README.md does not document %s", key)
			}
		}
	}
}

func TestDatabaseHostReplacesTheHostOfTheURL(t *testing.T) {
	for _, tc := range []struct{ url, host, want string }{
		{"postgres://u:p%40ss@db.internal:5433/fg?sslmode=require", "proxy.rds.amazonaws.com",
			"postgres://u:p%40ss@proxy.rds.amazonaws.com:5433/fg?default_query_exec_mode=exec&sslmode=require"},
		{"postgres://u:p@db/fg", "proxy:6432", "postgres://u:p@proxy:6432/fg?default_query_exec_mode=exec"},
		{"postgres://u:p@db/fg", "", "postgres://u:p@db/fg"},
	} {
		var cfg Migrate
		if err := Parse(&cfg, map[string]string{"DATABASE_URL": tc.url, "DATABASE_HOST": tc.host}); err != nil {
			t.Fatal(err)
		}
		if cfg.DatabaseURL != tc.want {
			t.Errorf("%s with DATABASE_HOST=%s: %s, want %s", tc.url, tc.host, cfg.DatabaseURL, tc.want)
		}
	}
	var cfg API
	err := Parse(&cfg, map[string]string{"DATABASE_URL": "postgres://u@db/fg", "DATABASE_HOST": "evil/x@y", "STACK_AUTH_PROJECT_ID": "p"})
	if err == nil || !strings.Contains(err.Error(), "DATABASE_HOST") {
		t.Errorf("a malformed DATABASE_HOST: %v", err)
	}
}

// With STAGE=prod, the settings meant for development and single-tenant
// installs are refused unless an explicit ALLOW_ variable says so.
func TestProductionRefusesOverridesUnlessAllowed(t *testing.T) {
	prod := func() map[string]string { return with(full(), "STAGE", "prod") } // with changes its map
	cases := []struct {
		name  string
		cfg   func() Config
		env   map[string]string
		allow string
		want  string
	}{
		{"global TTN secret", func() Config { return &TTNWebhook{} }, with(prod(), "TTN_WEBHOOK_SECRET", "s3cret-global"),
			"ALLOW_GLOBAL_TTN_WEBHOOK", "TTN_WEBHOOK_SECRET must not be set with STAGE=prod"},
		{"JWKS override", func() Config { return &API{} }, with(prod(), "STACK_AUTH_JWKS_URL", "https://keys.example/jwks.json"),
			"ALLOW_STACK_AUTH_OVERRIDE", "STACK_AUTH_JWKS_URL must not be set with STAGE=prod"},
		{"issuer override", func() Config { return &StripeCheckout{} }, with(prod(), "STACK_AUTH_ISSUER", "https://issuer.example"),
			"ALLOW_STACK_AUTH_OVERRIDE", "STACK_AUTH_ISSUER must not be set with STAGE=prod"},
		{"issuer override (reports)", func() Config { return &Reports{} }, with(prod(), "STACK_AUTH_ISSUER", "https://issuer.example"),
			"ALLOW_STACK_AUTH_OVERRIDE", "STACK_AUTH_ISSUER must not be set with STAGE=prod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Parse(tc.cfg(), tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.allow) {
				t.Fatalf("STAGE=prod: %v", err)
			}
			if err := Parse(tc.cfg(), with(maps.Clone(tc.env), tc.allow, "true")); err != nil {
				t.Errorf("with %s=true: %v", tc.allow, err)
			}
			if err := Parse(tc.cfg(), with(maps.Clone(tc.env), "STAGE", "dev")); err != nil {
				t.Errorf("STAGE=dev: %v", err)
			}
		})
	}
}
