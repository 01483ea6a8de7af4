// Package origintest builds throwaway origin databases for tests: the
// origin's own schema (schema/, copied from its repositories, see
// schema/README.md) applied to a fresh database on the test PostgreSQL
// server, filled with generated organisations that carry the origin's known
// quirks. Tests of shared/originimport and of the api (the access sweep of an
// imported organisation) use it.
package origintest

import (
	"context"
	"crypto/md5"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/testenv"
)

//go:embed schema/*.sql
var schemaFiles embed.FS

// Schema says which of the schema files a new origin gets.
type Schema int

const (
	// Live is the schema of the running origin: the drizzle migrations, the
	// legacy notification_policies table and the drifted columns.
	Live Schema = iota
	// Drizzle is only what backend/drizzle creates.
	Drizzle
)

// New creates an empty origin database with the origin's schema on the test
// server and drops it when the test ends. It returns its URL.
func New(t testing.TB, schema Schema) string {
	t.Helper()
	dsn := testenv.NewEmptyDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Apply(ctx, dsn, schema); err != nil {
		t.Fatal(err)
	}
	return dsn
}

// Apply runs the schema files in name order, each as one simple-protocol
// batch (the drizzle files hold many statements and DO blocks).
func Apply(ctx context.Context, dsn string, schema Schema) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	names, err := fs.Glob(schemaFiles, "schema/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if schema == Drizzle && !isDrizzle(name) {
			continue
		}
		sql, err := schemaFiles.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("applying %s: %w", name, err)
		}
	}
	return nil
}

// isDrizzle: the files copied from backend/drizzle are numbered 0000-0999.
func isDrizzle(name string) bool {
	base := strings.TrimPrefix(name, "schema/")
	return len(base) > 4 && base[0] == '0'
}

// ID is the deterministic UUID the generator gives the named row, so that
// tests can name what they check ("bistro/unit/walkin").
func ID(name string) string {
	sum := md5.Sum([]byte("origintest:" + name))
	sum[6] = sum[6]&0x0f | 0x30 // version 3 (name-based, MD5)
	sum[8] = sum[8]&0x3f | 0x80
	h := hex.EncodeToString(sum[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
