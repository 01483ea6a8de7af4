// Package testenv gives tests the real services that `make test` starts
// (scripts/stack.sh): PostgreSQL, Redis, the S3 server, stripe-mock and the
// Lambda Runtime Interface Emulator. Outside `make test` a test that needs a
// missing service is skipped; under `make test` (FROSTGUARD_REQUIRE_SERVICES=1)
// it fails, so CI can never pass by skipping.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/store/migrations"
)

// Require returns the value of the environment variable naming a service,
// skipping (or, under make test, failing) the test when it is not set.
func Require(t testing.TB, variable string) string {
	t.Helper()
	v := os.Getenv(variable)
	if v == "" {
		if os.Getenv("FROSTGUARD_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s is not set: `make test` should have started the service", variable)
		}
		t.Skipf("%s is not set; run `make test` to start the local services", variable)
	}
	return v
}

// NewDatabase creates an empty database on the test server, applies the
// migrations and drops it when the test ends. Each test gets its own, so
// tests run in parallel without seeing each other's rows.
func NewDatabase(t testing.TB) string {
	t.Helper()
	dsn := NewEmptyDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := migrations.Migrate(ctx, dsn); err != nil {
		t.Fatalf("migrating %s: %v", dsn, err)
	}
	return dsn
}

// NewEmptyDatabase creates a database without any schema, dropped when the
// test ends.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	admin := Require(t, "DATABASE_URL")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("dropping %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// OpenDB is NewDatabase with an open pool, closed at the end of the test.
func OpenDB(t testing.TB) (*store.DB, string) {
	t.Helper()
	dsn := NewDatabase(t)
	db, err := store.Open(dsn, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db, dsn
}

// Environment is a complete function environment for tests: every required
// variable set, nothing connects at build time.
func Environment(overrides map[string]string) map[string]string {
	env := map[string]string{
		"DATABASE_URL":          "postgres://frostguard@127.0.0.1:1/frostguard?sslmode=disable",
		"STACK_AUTH_PROJECT_ID": "test-project",
		"STRIPE_WEBHOOK_SECRET": "whsec_test",
		// base64 of 32 zero bytes is a syntactically valid Ed25519 key
		"TELNYX_PUBLIC_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"LOG_LEVEL":         "error",
	}
	for k, v := range overrides {
		env[k] = v
	}
	return env
}

// NewSubject returns a fresh Stack Auth user id (a random version-4 UUID):
// the verifier accepts no other kind of subject.
func NewSubject() string { return domain.NewID() }
