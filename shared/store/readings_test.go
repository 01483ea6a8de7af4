package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// TestReadingBucketsMatchTheLocalClock: the local bucket starts computed in
// Go (domain.LocalBucketStarts, binned by date_bin or width_bucket) give
// the same days and hours as PostgreSQL's date_trunc in the zone — the
// query they replaced — across the EU and US DST changes and in half-hour
// zones. Hours repeated when the clocks go back are left out: date_trunc
// folds the second into the first's start (a bucket that begins after its
// own readings), where two buckets are right.
func TestReadingBucketsMatchTheLocalClock(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	var orgID, unitID string
	err := testenv.Pool(db).QueryRow(ctx, `WITH o AS (INSERT INTO organizations (name, slug) VALUES ('Z', 'z') RETURNING id),
		s AS (INSERT INTO sites (organization_id, name) SELECT id, 'S' FROM o RETURNING id, organization_id),
		a AS (INSERT INTO areas (organization_id, site_id, name) SELECT organization_id, id, 'A' FROM s RETURNING id, site_id, organization_id)
		INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		SELECT organization_id, site_id, id, 'U', 0, 5 FROM a RETURNING organization_id, id`).Scan(&orgID, &unitID)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	if _, err := testenv.Pool(db).Exec(ctx, `SELECT ensure_sensor_readings_partitions(3, 3)`); err != nil {
		t.Fatal(err)
	}
	// a reading every 7 minutes (never on a bucket edge for long)
	if _, err := testenv.Pool(db).Exec(ctx, `INSERT INTO sensor_readings (organization_id, unit_id, recorded_at, received_at, temperature_c, source)
		SELECT $1, $2, t, t, (extract(epoch FROM t)::bigint % 1000) / 100.0, 'ttn'
		FROM generate_series($3::timestamptz, $4::timestamptz - interval '1 second', interval '7 minutes') t`, orgID, unitID, from, to); err != nil {
		t.Fatal(err)
	}
	type bucket struct {
		start            time.Time
		minC, avgC, maxC float64
		n                int
	}
	for _, zone := range []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "America/St_Johns", "Australia/Adelaide"} {
		for _, w := range []time.Duration{time.Hour, 24 * time.Hour} {
			// a range that does not start on a bucket edge
			rg := store.ReadingRange{OrgID: orgID, UnitID: unitID, From: from.Add(17 * time.Minute), To: to.Add(-3 * time.Hour)}
			got, err := db.ReadingBuckets(ctx, rg, w, zone)
			if err != nil {
				t.Fatal(err)
			}
			unit := map[time.Duration]string{time.Hour: "hour", 24 * time.Hour: "day"}[w]
			rows, err := testenv.Pool(db).Query(ctx, `SELECT date_trunc($5, recorded_at, $6) AS b, min(temperature_c)::float8,
					round(avg(temperature_c), 2)::float8, max(temperature_c)::float8, count(*)
				FROM sensor_readings WHERE organization_id = $1 AND unit_id = $2 AND recorded_at >= $3 AND recorded_at < $4
				GROUP BY b ORDER BY b`, orgID, unitID, rg.From, rg.To, unit, zone)
			if err != nil {
				t.Fatal(err)
			}
			var want []bucket
			for rows.Next() {
				var b bucket
				if err := rows.Scan(&b.start, &b.minC, &b.avgC, &b.maxC, &b.n); err != nil {
					t.Fatal(err)
				}
				want = append(want, b)
			}
			if rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			byStart := map[time.Time]bucket{}
			for _, b := range want {
				byStart[b.start.UTC()] = b
			}
			loc, _ := time.LoadLocation(zone)
			compared := 0
			for _, g := range got {
				if w == time.Hour && repeatedHour(g.BucketStart, loc) {
					continue
				}
				b, ok := byStart[g.BucketStart]
				if !ok || b.n != g.Count || b.minC != g.MinC || b.maxC != g.MaxC || b.avgC != g.AvgC {
					t.Errorf("%s %s: bucket %s = %d readings %v..%v avg %v, date_trunc says %+v (found %v)", zone, unit,
						g.BucketStart.Format(time.RFC3339), g.Count, g.MinC, g.MaxC, g.AvgC, b, ok)
				}
				compared++
			}
			if min := len(want) - 4; compared < min || len(got) < len(want) {
				t.Errorf("%s %s: %d buckets (%d compared), date_trunc made %d", zone, unit, len(got), compared, len(want))
			}
		}
	}
}

// repeatedHour: the local hour starting at s happens twice (clocks back).
func repeatedHour(s time.Time, loc *time.Location) bool {
	l := s.In(loc)
	for _, d := range []time.Duration{-time.Hour, time.Hour} {
		o := s.Add(d).In(loc)
		if o.Hour() == l.Hour() && o.Day() == l.Day() {
			return true
		}
	}
	return false
}
