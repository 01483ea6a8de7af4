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
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
	return Open(t, dsn, 8), dsn
}

// Open is a store over a pool of maxConns connections to dsn, closed at
// the end of the test; Pool reaches that pool.
func Open(t testing.TB, dsn string, maxConns int32) *store.DB {
	t.Helper()
	pool, err := store.OpenPool(dsn, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	db := store.New(pool)
	pools.Store(db, pool)
	t.Cleanup(func() {
		pools.Delete(db)
		pool.Close()
	})
	return db
}

// pools maps each store opened by Open to its pool.
var pools sync.Map

// Pool is the pgx pool under a store opened by OpenDB or Open, for tests
// that arrange rows or read what a flow wrote with their own SQL. store.DB
// does not expose its pool: only tests (through here) and bulk tools that
// open their own (store.OpenPool) run SQL outside the store's methods.
func Pool(db *store.DB) *pgxpool.Pool {
	pool, ok := pools.Load(db)
	if !ok {
		panic("testenv.Pool: the store was not opened by testenv.OpenDB or testenv.Open")
	}
	return pool.(*pgxpool.Pool)
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
