package originimport

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/originimport/origintest"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// BenchmarkImportReadings imports one organisation of bulkUnits units with
// bulkReadings readings each (5 minutes apart, °C, each from its unit's
// sensor) from an origin on the same server into an empty FrostGuard, and
// reports the readings copy's rows/s (origin read, the temperature rule,
// COPY through the partitions with their indexes and foreign keys,
// checkpoints) and the whole import's. IMPORT_BENCH_READINGS overrides the
// readings per unit (default 25,000: 500,000 rows).
func BenchmarkImportReadings(b *testing.B) {
	const bulkUnits = 20
	perUnit := 25000
	if v, err := strconv.Atoi(os.Getenv("IMPORT_BENCH_READINGS")); err == nil && v > 0 {
		perUnit = v
	}
	workers := 0
	if v, err := strconv.Atoi(os.Getenv("IMPORT_BENCH_WORKERS")); err == nil {
		workers = v
	}
	ctx := context.Background()
	origin := origintest.New(b, origintest.Live)
	now := time.Now().UTC()
	if err := origintest.Fill(ctx, origin, origintest.Options{Now: now, Readings: perUnit, BulkUnits: bulkUnits}); err != nil {
		b.Fatal(err)
	}
	o, err := OpenOrigin(ctx, origin)
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close(ctx)
	var rows, copySeconds, total float64
	for b.Loop() {
		b.StopTimer()
		pool, err := store.OpenPool(testenv.NewDatabase(b), 4)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		rep, err := Run(ctx, pool, o, Options{Orgs: []string{origintest.ID("bulk")}, Workers: workers})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0).Seconds()
		b.StopTimer()
		pool.Close()
		r := rep.Organizations[0]
		if r.Status != "imported" || r.Readings.Copied != int64(bulkUnits*perUnit) {
			b.Fatalf("%s %s: %d readings copied", r.Status, r.Error, r.Readings.Copied)
		}
		rows += float64(r.Readings.Copied)
		copySeconds += r.Readings.Seconds
		b.StartTimer()
	}
	b.ReportMetric(rows/copySeconds, "rows/s")
	b.ReportMetric(rows/total, "import-rows/s")
	b.ReportMetric(rows/float64(b.N), "rows/op")
}
