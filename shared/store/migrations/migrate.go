// Package migrations holds the embedded, versioned SQL schema and applies it
// with goose. It is a package of its own so that only the migrate function
// and the developer tool carry goose, not the functions that serve users.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/frostguard/functions/shared/store"
)

//go:embed *.sql
var sqlFiles embed.FS

// MigrationResult describes one applied migration.
type MigrationResult struct {
	Version int64
	Source  string
}

// Migrate applies every pending migration. It takes a PostgreSQL session
// lock, so two concurrent runs (two deploys, two test packages) serialise
// instead of failing. The functions never call it at cold start: the
// migrate function does, during a deploy (shared/deploy), and so does
// `frostguard migrate`.
func Migrate(ctx context.Context, databaseURL string) ([]MigrationResult, error) {
	return withProvider(databaseURL, func(p *goose.Provider) ([]MigrationResult, error) {
		res, err := p.Up(ctx)
		// The migrations before a failed one are applied and stay applied
		// (each runs in its own transaction): report them.
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			res = partial.Applied
		}
		return results(res), err
	})
}

// MigrateDownTo rolls back to version (0 = empty schema). Used by tests that
// prove every migration can be undone.
func MigrateDownTo(ctx context.Context, databaseURL string, version int64) ([]MigrationResult, error) {
	return withProvider(databaseURL, func(p *goose.Provider) ([]MigrationResult, error) {
		res, err := p.DownTo(ctx, version)
		return results(res), err
	})
}

// SchemaVersion is the newest migration version embedded in this binary.
func SchemaVersion() (int64, error) {
	files, err := fs.Glob(sqlFiles, "*.sql")
	if err != nil || len(files) == 0 {
		return 0, errors.New("no embedded migrations")
	}
	var v int64
	_, err = fmt.Sscanf(files[len(files)-1], "%d_", &v)
	return v, err
}

func withProvider(databaseURL string, fn func(*goose.Provider) ([]MigrationResult, error)) ([]MigrationResult, error) {
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, errors.New("DATABASE_URL cannot be parsed as a PostgreSQL URL")
	}
	defer db.Close()
	// Poll the lock every second for up to five minutes: a deploy waiting
	// on another deploy's migration should wait, not fail.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	// Out of order is allowed: each issue numbers its migrations in its own
	// range (issue 16: 00160..), so a release can bring 00160 to a database
	// that already has 00220. They are independent by construction.
	p, err := goose.NewProvider(goose.DialectPostgres, db, sqlFiles, goose.WithSessionLocker(locker),
		goose.WithAllowOutofOrder(true))
	if err != nil {
		return nil, err
	}
	out, err := fn(p)
	if err != nil {
		return out, store.Classify(fmt.Errorf("migrating: %w", err))
	}
	return out, nil
}

func results(in []*goose.MigrationResult) []MigrationResult {
	out := make([]MigrationResult, 0, len(in))
	for _, r := range in {
		out = append(out, MigrationResult{Version: r.Source.Version, Source: r.Source.Path})
	}
	return out
}

// stdlib registers the "pgx" database/sql driver goose uses.
var _ = stdlib.GetDefaultDriver
