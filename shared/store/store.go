// Package store is FrostGuard's PostgreSQL adapter: the pgx pool, the
// embedded migrations and (in later packages' files) the queries.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/tracing"
)

// DB is the connection pool. It is safe for concurrent use. The pool is
// unexported: every query goes through a method that names its errors.
// Tests reach the pool they built through testenv.pool; a bulk tool that
// needs raw connections (originimport's COPY) opens its pool with OpenPool
// and wraps it with New.
type DB struct {
	pool *pgxpool.Pool
}

// New wraps a pool built by OpenPool.
func New(pool *pgxpool.Pool) *DB { return &DB{pool: pool} }

// Open builds a pool without connecting: the first query connects. Lambda
// init must not open connections (a cold start that waits on the database
// is slow, and one that fails on it cannot even answer 503).
func Open(databaseURL string, maxConns int32) (*DB, error) {
	pool, err := OpenPool(databaseURL, maxConns)
	if err != nil {
		return nil, err
	}
	return New(pool), nil
}

// OpenPool is Open's pool, configured alike (UTC, timeouts, tracing),
// without connecting.
func OpenPool(databaseURL string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message can echo the URL, password included: do not wrap it.
		return nil, errors.New("DATABASE_URL cannot be parsed as a PostgreSQL URL")
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	// Times are stored and compared in UTC; site time zones are applied
	// explicitly where text is shown to people.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// A subsegment per round trip in the invocation's X-Ray trace (nothing
	// when the request is not sampled, or outside Lambda).
	cfg.ConnConfig.Tracer = tracing.PGX{}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the database pool: %w", err)
	}
	return pool, nil
}

// Close releases every connection.
func (db *DB) Close() { db.pool.Close() }

// InTx runs fn in one transaction: committed if fn returns nil, rolled back
// otherwise. Errors come back classified (see Classify).
//
// When ctx carries a request's pending audit line (WithAudit) not written
// yet, the transaction also reads the entity's row before fn changes it and
// writes the line after fn: the change and its audit line commit together,
// or neither does.
func (db *DB) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	p, _ := ctx.Value(pendingAuditKey{}).(*PendingAudit)
	if p == nil || p.written {
		return Classify(pgx.BeginFunc(ctx, db.pool, fn))
	}
	wrote := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := p.readBefore(ctx, tx); err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		if p.rec.OrgID == "" {
			return nil // the organisation is not known yet (being created elsewhere)
		}
		wrote = true
		return insertAuditRecord(ctx, tx, p.rec)
	})
	if err == nil && wrote {
		p.written = true
	}
	return Classify(err)
}

// Classify maps database errors to application errors: anything that means
// "the database cannot be reached right now" becomes Unavailable (503, which
// webhook providers retry); errors that are already *apperr.Error pass through.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if IsUnavailable(err) {
		return apperr.Wrap(apperr.Unavailable, err, "the database is unavailable, retry later")
	}
	return err
}

// IsUnavailable reports whether err means the database could not be reached
// or is shutting down, as opposed to a query that is wrong.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources (too many connections, disk full)
			"57": // operator intervention (admin shutdown, cannot connect now)
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.SafeToRetry(err) ||
		// The server went away mid-query without an error message (a crash,
		// an immediate shutdown: its notice is only a warning): the read
		// ends early, and what was queued behind it finds the connection
		// closed. The transaction is lost or, if COMMIT got through, the
		// dedupe row makes the provider's retry a duplicate: retryable.
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed)
}

// txValue runs one write in a transaction (InTx), so that a request's
// pending audit line commits with it, and returns what fn returns.
func txValue[T any](ctx context.Context, db *DB, fn func(pgx.Tx) (T, error)) (T, error) {
	var v T
	err := db.InTx(ctx, func(tx pgx.Tx) (err error) {
		v, err = fn(tx)
		return err
	})
	return v, err
}

// execChanged runs one write statement in a transaction (InTx) and answers
// notFound when it changed no row: the transaction then rolls back, so a
// request's pending audit line is not written for a change that did not
// happen.
func execChanged(ctx context.Context, db *DB, notFound error, sql string, args ...any) error {
	return db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err == nil && tag.RowsAffected() == 0 {
			return notFound
		}
		return err
	})
}
