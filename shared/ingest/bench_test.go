package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// benchConcurrency must match BenchmarkInsertCeiling's (shared/store):
// cmd/benchreport divides uplinks/s by inserts/s level by level.
var benchConcurrency = []int{1, 8, 32, 64}

// BenchmarkUplinks measures uplinks per second through the whole webhook
// (HTTP over loopback, JSON, secret check, decode, alert engine, one
// PostgreSQL transaction of two round trips) at concurrency 1, 8, 32 and 64.
// Each client sends for its own sensors, as a fleet does; no alert changes.
// Run by `make bench` with fsync on.
//
// The handler gets a pool of as many connections as there are clients:
// in production each concurrent delivery is its own Lambda instance with
// its own connection, and BenchmarkInsertCeiling (the physical limit these
// figures are divided by) also uses one connection per client.
func BenchmarkUplinks(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	b.Cleanup(func() { slog.SetDefault(prev) })
	const sensors = 256
	f := newFixture(b)
	devs := make([]string, sensors)
	for i := range devs {
		devs[i] = fmt.Sprintf("70B3D57E%08X", i)
		var unitID string
		f.row(&unitID, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
			SELECT organization_id, site_id, area_id, $2, 0, 5 FROM units WHERE id = $1 RETURNING id`, f.unitID, fmt.Sprintf("Unit %d", i))
		f.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui, model) VALUES ($1, $2, $3, 'LHT65')`, f.orgID, unitID, devs[i])
	}
	srv := httptest.NewServer(web.Standard(f.handler, web.Options{Function: "ttn-webhook"}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	base := time.Now().Add(-time.Hour)
	// The handler's clock is the real one: the fixture's is fixed in the
	// past, and uplinks "from the future" are clamped to it — every one of
	// a sensor's but the first then collided on (sensor_id, recorded_at),
	// and the benchmark measured mostly uplinks that stored nothing.
	f.handler.Now = time.Now
	// The setup's connections go, so that their row counters are flushed
	// before any run is measured.
	testenv.Pool(f.db).Reset()

	for _, conc := range benchConcurrency {
		b.Run(fmt.Sprintf("concurrency-%d", conc), func(b *testing.B) {
			trips := &countingTracer{}
			meter := testenv.StartWriteMeter(b, f.dsn)
			// Settings as store.Open; every round trip counted.
			pool := testenv.WarmPool(b, f.dsn, conc, trips)
			f.handler.DB = store.New(pool)
			perWorker := sensors / conc
			// Bodies are made before the clock starts: the client shares the
			// two cores with the server and PostgreSQL.
			bodies := make([]string, b.N)
			for i := range bodies {
				w := i % conc
				dev := devs[w*perWorker+(i/conc)%perWorker]
				n := seq.Add(1)
				bodies[i] = uplink{DevEUI: dev, At: base.Add(time.Duration(n) * time.Millisecond), FCnt: int(n), Decoded: temp(3)}.body()
			}
			lat := make([][]time.Duration, conc)
			var wg sync.WaitGroup
			var failed atomic.Int64
			trips.n.Store(0)
			meter.Begin(b)
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < conc; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < b.N; i += conc {
						req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/ttn", strings.NewReader(bodies[i]))
						req.Header.Set("X-Webhook-Secret", secret)
						t0 := time.Now()
						res, err := client.Do(req)
						if err != nil || res.StatusCode != 200 {
							failed.Add(1)
						}
						if res != nil {
							res.Body.Close()
						}
						lat[w] = append(lat[w], time.Since(t0))
					}
				}(w)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			meter.Stop()
			if failed.Load() > 0 {
				b.Fatalf("%d uplinks failed", failed.Load())
			}
			pool.Close()
			// WAL bytes, rows written and time idle in a transaction per
			// uplink, from PostgreSQL's counters (TestAnUplinkCosts... assert
			// the design for one uplink).
			meter.Report(b, b.N, "uplink")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "uplinks/s")
			testenv.ReportLatencies(b, slices.Concat(lat...), 0.50, 0.95, 0.99)
			// What TestAnUplinkCostsTwoRoundTrips asserts for one uplink,
			// measured here over the whole run: a regression shows in the
			// report even if someone loosens the test.
			b.ReportMetric(float64(trips.n.Load())/float64(b.N), "roundtrips/uplink")
		})
	}
}

// countingTracer counts round trips like roundTrips (alarm_test.go) does,
// one per query or batch, but safely from many goroutines.
type countingTracer struct{ n atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *countingTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *countingTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *countingTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
