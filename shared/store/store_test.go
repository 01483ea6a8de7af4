package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/store/migrations"
	"github.com/frostguard/functions/shared/testenv"
)

func TestMigrationsGoDownAndUpAgain(t *testing.T) {
	db, dsn := testenv.OpenDB(t)
	ctx := context.Background()
	latest, err := migrations.SchemaVersion()
	if err != nil || latest < 2 {
		t.Fatalf("SchemaVersion = %d, %v", latest, err)
	}
	if res, err := migrations.Migrate(ctx, dsn); err != nil || len(res) != 0 {
		t.Fatalf("second Migrate applied %v, %v (must be a no-op)", res, err)
	}
	// Versions are not contiguous (each issue numbers its own range): count
	// the files.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v %v", files, err)
	}
	down, err := migrations.MigrateDownTo(ctx, dsn, 0)
	if err != nil || len(down) != len(files) || down[0].Version != latest {
		t.Fatalf("down: %v %v", down, err)
	}
	var tables int
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("after down-to 0: %d tables left (%v)", tables, err)
	}
	if up, err := migrations.Migrate(ctx, dsn); err != nil || len(up) != len(files) {
		t.Fatalf("up again: %v %v", up, err)
	}
}

func TestConcurrentMigrationsSerialise(t *testing.T) {
	dsn := testenv.NewDatabase(t)
	if _, err := migrations.MigrateDownTo(context.Background(), dsn, 0); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			_, err := migrations.Migrate(context.Background(), dsn)
			errs <- err
		}()
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
}

func TestReadingPartitionsAreCreatedAhead(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	if _, err := db.EnsureReadingPartitions(ctx, 0, 6); err != nil {
		t.Fatal(err)
	}
	again, err := db.EnsureReadingPartitions(ctx, 0, 6)
	if err != nil || again != 0 {
		t.Fatalf("second run created %d (%v): must be idempotent", again, err)
	}
	inSixMonths := time.Now().UTC().AddDate(0, 6, 0)
	want := "sensor_readings_" + inSixMonths.Format("y2006m01")
	var exists bool
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = $1)`, want).Scan(&exists); err != nil || !exists {
		t.Fatalf("partition %s missing (%v)", want, err)
	}
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	// Nothing listens on port 1: the pool is built (no I/O) and the first
	// query fails with a connection error, which must read as retryable.
	db, err := store.Open("postgres://u@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.InTx(context.Background(), func(tx pgx.Tx) error { return nil })
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("code %q for %v", apperr.CodeOf(err), err)
	}
}

func TestClassify(t *testing.T) {
	domain := apperr.New(apperr.Conflict, "taken")
	if got := store.Classify(domain); !errors.Is(got, domain) {
		t.Errorf("an application error must pass through, got %v", got)
	}
	if store.IsUnavailable(errors.New("syntax error")) {
		t.Error("a plain error is not unavailability")
	}
	if store.Classify(nil) != nil {
		t.Error("nil must stay nil")
	}
	// A server that crashes mid-query ends the read early or leaves the
	// connection closed under the next query: both are retryable 503s (the
	// faults suite crashes a real server; this pins the classification).
	for _, err := range []error{io.ErrUnexpectedEOF, fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), pgconn.ErrConnClosed} {
		if !store.IsUnavailable(err) || apperr.CodeOf(store.Classify(err)) != apperr.Unavailable {
			t.Errorf("%v: want unavailable", err)
		}
	}
}

func TestOpenDoesNotLeakThePassword(t *testing.T) {
	_, err := store.Open("postgres://u:hunter2@[::1:5432/x", 1)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}
