package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// The readings benchmark: one unit's last 30 days at 5-minute spacing
// (8,640 readings) bucketed to 1 h, served through the real handler (JWT,
// membership, query, JSON) from a sensor_readings table of 10 million rows
// spread over 1,000 other units of 10 organisations and the same two months,
// loaded in time order as ingest would write them. Target: p50 <= 15 ms.
//
//	go test -run '^$' -bench UnitReadings -benchtime 200x ./shared/api/
//
// FROSTGUARD_BENCH_READINGS overrides the total row count (a quick trial).

const (
	benchOrgs         = 10
	benchUnitsPerOrg  = 100
	benchDays         = 60
	benchTargetDays   = 30
	benchTargetStep   = 5 * time.Minute
	benchDefaultTotal = 10_000_000
	// benchZone is the target unit's site's clock: not UTC, and not whole
	// hours from it (hours start at :30 UTC).
	benchZone = "Asia/Kolkata"
)

// readingsBench is the loaded database and a signed-in owner of the
// target unit's organisation.
type readingsBench struct {
	handler http.Handler
	db      *store.DB
	token   string
	orgID   string
	unitID  string
	now     time.Time
	total   int64
}

func BenchmarkUnitReadings30DaysHourly(b *testing.B) {
	quietLogs(b)
	// loaded once, shared by the sub-benchmarks (the parent function runs
	// once when it has sub-benchmarks)
	rb := newReadingsBench(b)
	from := rb.now.Add(-benchTargetDays * 24 * time.Hour)
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {rb.now.Format(time.RFC3339)}, "bucket": {"1h"}}
	if os.Getenv("FROSTGUARD_BENCH_EXPLAIN") != "" {
		rb.explain(b, from)
	}
	b.Run("handler", func(b *testing.B) {
		rb.measure(b, "/api/v1/orgs/"+rb.orgID+"/units/"+rb.unitID+"/readings?"+q.Encode())
	})
	q.Set("bucket", "1d")
	b.Run("handler-1d", func(b *testing.B) {
		rb.measure(b, "/api/v1/orgs/"+rb.orgID+"/units/"+rb.unitID+"/readings?"+q.Encode())
	})
	for _, w := range []time.Duration{time.Hour, 24 * time.Hour} {
		b.Run("site-clock-vs-utc-"+map[time.Duration]string{time.Hour: "1h", 24 * time.Hour: "1d"}[w], func(b *testing.B) {
			rb.compareWithUTC(b, from, w)
		})
	}
}

// compareWithUTC times the chart's query in the site's clock
// (store.ReadingBuckets) against the same buckets in UTC (date_bin, what
// the chart did before buckets followed the site's clock), alternating the
// two in one loop so that both see the same machine. The target: local
// within 10 % of UTC (issue 18).
func (rb *readingsBench) compareWithUTC(b *testing.B, from time.Time, w time.Duration) {
	ctx := context.Background()
	rg := store.ReadingRange{OrgID: rb.orgID, UnitID: rb.unitID, From: from, To: rb.now}
	utc := func() {
		rows, err := testenv.Pool(rb.db).Query(ctx, `SELECT date_bin($5::interval, recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
			min(temperature_c)::float8, round(avg(temperature_c), 2)::float8, max(temperature_c)::float8, count(*)
			FROM sensor_readings
			WHERE organization_id = $1 AND unit_id = $2 AND recorded_at >= $3 AND recorded_at < $4 AND temperature_c IS NOT NULL
			GROUP BY bucket ORDER BY bucket`, rg.OrgID, rg.UnitID, rg.From, rg.To, fmt.Sprintf("%d seconds", int64(w/time.Second)))
		if err != nil {
			b.Fatal(err)
		}
		// scanned as ReadingBuckets scans
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.ReadingBucket, error) {
			var x domain.ReadingBucket
			err := r.Scan(&x.BucketStart, &x.MinC, &x.AvgC, &x.MaxC, &x.Count)
			x.BucketStart = x.BucketStart.UTC()
			return x, err
		})
		if err != nil || len(got) == 0 {
			b.Fatalf("UTC buckets: %d, %v", len(got), err)
		}
	}
	local := func() {
		if got, err := rb.db.ReadingBuckets(ctx, rg, w, benchZone); err != nil || len(got) == 0 {
			b.Fatalf("local buckets: %d, %v", len(got), err)
		}
	}
	var tookUTC, tookLocal []time.Duration
	timed := func(f func(), into *[]time.Duration) {
		start := time.Now()
		f()
		*into = append(*into, time.Since(start))
	}
	i := 0
	for b.Loop() {
		// each goes first every other time
		if i++; i%2 == 0 {
			timed(utc, &tookUTC)
			timed(local, &tookLocal)
		} else {
			timed(local, &tookLocal)
			timed(utc, &tookUTC)
		}
	}
	p50 := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[(len(s)-1)/2].Microseconds()) / 1000
	}
	b.ReportMetric(p50(tookUTC), "utc-p50-ms")
	b.ReportMetric(p50(tookLocal), "local-p50-ms")
	b.ReportMetric(p50(tookLocal)/p50(tookUTC), "local/utc")
}

// measure requests path b.N times and reports the latency percentiles.
func (rb *readingsBench) measure(b *testing.B, path string) {
	first := rb.get(b, path, true)
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		rb.get(b, path, false)
		took = append(took, time.Since(start))
	}
	b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
	testenv.ReportLatencies(b, took, 0.50, 0.99)
	b.ReportMetric(float64(rb.total), "table-rows")
}

// get sends one request; check verifies the answer (once, outside the loop).
func (rb *readingsBench) get(b *testing.B, path string, check bool) time.Duration {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+rb.token)
	rec := httptest.NewRecorder()
	start := time.Now()
	rb.handler.ServeHTTP(rec, req)
	took := time.Since(start)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if check {
		var resp bucketedReadings
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, it := range resp.Items {
			n += it.Count
		}
		if want := int(benchTargetDays * 24 * time.Hour / benchTargetStep); n != want {
			b.Fatalf("the buckets count %d readings, want %d", n, want)
		}
	}
	return took
}

func newReadingsBench(b *testing.B) *readingsBench {
	b.Helper()
	total := int64(benchDefaultTotal)
	if v := os.Getenv("FROSTGUARD_BENCH_READINGS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 100_000 {
			b.Fatalf("FROSTGUARD_BENCH_READINGS=%q: want a row count of at least 100000", v)
		}
		total = n
	}
	db, dsn := testenv.OpenDB(b)
	ctx := context.Background()
	signer, v := newTestVerifier(b)
	srv := New(db, v)
	mux := http.NewServeMux()
	srv.Register(mux)
	rb := &readingsBench{handler: web.Standard(mux, web.Options{Function: "api"}), db: db, now: time.Now().UTC().Truncate(time.Second), total: total}
	token, err := signer.Mint(auth.Identity{Subject: benchSubject, Email: "bench@example.test", Name: "Bench"}, 24*time.Hour)
	rb.token = token
	if err != nil {
		b.Fatal(err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	started := time.Now()
	rb.orgID, rb.unitID = loadReadings(b, conn, rb.now, total)
	b.Logf("loaded %d readings in %s", total, time.Since(started).Round(time.Second))
	// the owner, as the first request of a real session would create them
	u, err := db.EnsureUser(ctx, benchSubject, "bench@example.test", "Bench")
	if err != nil {
		b.Fatal(err)
	}
	benchExec(b, conn, `INSERT INTO memberships (organization_id, user_id, role, status, accepted_at) VALUES ($1, $2, 'owner', 'active', now())`,
		rb.orgID, u.ID)
	return rb
}

// loadReadings creates the organisations and units and fills
// sensor_readings with total rows over the last benchDays days, day by day
// in time order (as ingest writes them, so that a unit's rows are spread
// over the heap as in production). It returns the target org and unit.
func loadReadings(b *testing.B, conn *pgx.Conn, now time.Time, total int64) (orgID, unitID string) {
	b.Helper()
	benchExec(b, conn, `SELECT ensure_sensor_readings_partitions(3, 1)`)
	benchExec(b, conn, `INSERT INTO organizations (name, slug) SELECT 'Bench ' || i, 'bench-' || i FROM generate_series(1, $1) i`, benchOrgs)
	benchExec(b, conn, `INSERT INTO sites (organization_id, name, timezone) SELECT id, 'Site', $1 FROM organizations`, benchZone)
	benchExec(b, conn, `INSERT INTO areas (organization_id, site_id, name) SELECT organization_id, id, 'Area' FROM sites`)
	benchExec(b, conn, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		SELECT a.organization_id, a.site_id, a.id, 'Unit ' || i, 0, 5 FROM areas a, generate_series(1, $1) i`, benchUnitsPerOrg)
	if err := conn.QueryRow(context.Background(), `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		SELECT organization_id, site_id, id, 'Target', 0, 5 FROM areas a
		WHERE organization_id = (SELECT id FROM organizations WHERE slug = 'bench-1') RETURNING organization_id, id`).Scan(&orgID, &unitID); err != nil {
		b.Fatal(err)
	}
	benchExec(b, conn, `CREATE TEMP TABLE bench_units AS
		SELECT organization_id, id, (row_number() OVER (ORDER BY id))::int AS n FROM units WHERE id <> $1`, unitID)

	// Bulk load: skip the per-row FK triggers (the ids come from the rows
	// just created) and the commit flush; indexes are maintained as usual.
	benchExec(b, conn, `SET session_replication_role = replica`)
	benchExec(b, conn, `SET synchronous_commit = off`)
	targetRows := int64(benchTargetDays * 24 * time.Hour / benchTargetStep)
	others := int64(benchOrgs * benchUnitsPerOrg)
	perUnit := (total - targetRows) / others
	span := int64(benchDays * 24 * 3600)
	step := float64(span) / float64(perUnit) // seconds between two readings of a unit
	start := now.Add(-time.Duration(span) * time.Second)
	targetStart := now.Add(-benchTargetDays * 24 * time.Hour)
	for d := int64(0); d < benchDays; d++ {
		k0 := int64(math.Ceil(float64(d*86400) / step))
		k1 := min(int64(math.Ceil(float64((d+1)*86400)/step)), perUnit)
		dayStart := start.Add(time.Duration(d) * 24 * time.Hour)
		// the target unit's readings of this day, by their index j
		j0 := max(int64(math.Ceil(float64(dayStart.Sub(targetStart))/float64(benchTargetStep))), 0)
		j1 := min(int64(math.Ceil(float64(dayStart.Add(24*time.Hour).Sub(targetStart))/float64(benchTargetStep))), targetRows)
		benchExec(b, conn, `INSERT INTO sensor_readings
			(organization_id, unit_id, recorded_at, received_at, temperature_c, battery_percent, rssi, snr, source)
			SELECT organization_id, unit_id, recorded_at, recorded_at, temperature_c, 90, -97, 7.25, 'ttn' FROM (
				SELECT u.organization_id, u.id AS unit_id,
					$1::timestamptz + make_interval(secs => k * $2 + (u.n % 97)) AS recorded_at,
					round((3 + 2 * sin(k / 40.0 + u.n))::numeric, 2) AS temperature_c
				FROM bench_units u, generate_series($3::bigint, $4::bigint - 1) k
				UNION ALL
				SELECT $5::uuid, $6::uuid, $7::timestamptz + j * interval '5 minutes', round((2.5 + 2 * sin(j / 12.0))::numeric, 2)
				FROM generate_series($8::bigint, $9::bigint - 1) j
			) x ORDER BY recorded_at`,
			start, step, k0, k1, orgID, unitID, targetStart, j0, j1)
	}
	benchExec(b, conn, `SET session_replication_role = DEFAULT`)
	var n int64
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM sensor_readings`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	var inDefault int64
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM sensor_readings_default`).Scan(&inDefault); err != nil {
		b.Fatal(err)
	}
	if n < total*99/100 || inDefault != 0 {
		b.Fatalf("loaded %d rows (%d in the default partition), want about %d in monthly partitions", n, inDefault, total)
	}
	// what autovacuum would have done by now on a table of this age
	benchExec(b, conn, `VACUUM (ANALYZE) sensor_readings`)
	return orgID, unitID
}

// explain logs the plan of the bucketed query (FROSTGUARD_BENCH_EXPLAIN=1).
func (rb *readingsBench) explain(b *testing.B, from time.Time) {
	for range 3 { // the last run is the warm one
		rows, err := testenv.Pool(rb.db).Query(context.Background(), `EXPLAIN (ANALYZE, BUFFERS) SELECT date_bin('1 hour'::interval, recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
			min(temperature_c)::float8, round(avg(temperature_c), 2)::float8, max(temperature_c)::float8, count(*)
			FROM sensor_readings
			WHERE organization_id = $1 AND unit_id = $2 AND recorded_at >= $3 AND recorded_at < $4 AND temperature_c IS NOT NULL
			GROUP BY bucket ORDER BY bucket`, rb.orgID, rb.unitID, from, rb.now)
		if err != nil {
			b.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + strings.Join(lines, "\n"))
	}
}

func benchExec(b *testing.B, conn *pgx.Conn, sql string, args ...any) {
	b.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		b.Fatalf("%v\n%s", err, sql)
	}
}
