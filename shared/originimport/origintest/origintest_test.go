package origintest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The schema files apply, the generator fills them, and the quirks are
// there (a smoke test of the fixture the importer's tests rely on).
func TestFill(t *testing.T) {
	ctx := context.Background()
	dsn := New(t, Live)
	if err := Fill(ctx, dsn, Options{Now: time.Now(), Readings: 300}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM sensor_readings WHERE unit_id = $1`, ID("bistro/unit/walkin")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 300+4 {
		t.Fatalf("%d walk-in readings", n)
	}
	if err := Apply(ctx, New(t, Drizzle), Drizzle); err == nil {
		t.Fatal("applying the schema twice should fail")
	}
}
