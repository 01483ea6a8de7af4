package retention_test

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/retention"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

type org struct{ id, unit, sensor string }

func newOrg(t *testing.T, db *store.DB, name, plan string) org {
	t.Helper()
	ctx := context.Background()
	var o org
	var site, area string
	q := func(dst *string, sql string, args ...any) {
		if err := testenv.Pool(db).QueryRow(ctx, sql, args...).Scan(dst); err != nil {
			t.Fatalf("%v: %s", err, sql)
		}
	}
	q(&o.id, `INSERT INTO organizations (name, slug, plan) VALUES ($1, $1, $2) RETURNING id`, name, plan)
	q(&site, `INSERT INTO sites (organization_id, name) VALUES ($1, 'Main') RETURNING id`, o.id)
	q(&area, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Kitchen') RETURNING id`, o.id, site)
	q(&o.unit, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, hysteresis_c, status_since)
		VALUES ($1, $2, $3, 'Walk-in', 0, 5, 0.5, now()) RETURNING id`, o.id, site, area)
	q(&o.sensor, `INSERT INTO sensors (organization_id, unit_id, dev_eui) VALUES ($1, $2, upper(substr(md5($3), 1, 16))) RETURNING id`, o.id, o.unit, name)
	return o
}

func insertReading(t *testing.T, db *store.DB, o org, at time.Time, c float64) {
	t.Helper()
	if _, err := testenv.Pool(db).Exec(context.Background(), `INSERT INTO sensor_readings (organization_id, unit_id, sensor_id, recorded_at, temperature_c, source)
		VALUES ($1, $2, $3, $4, $5, 'ttn')`, o.id, o.unit, o.sensor, at, c); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, db *store.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := testenv.Pool(db).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func partitionExists(t *testing.T, db *store.DB, month time.Time) bool {
	t.Helper()
	parts, err := db.ReadingPartitions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.Month.Equal(month) {
			return true
		}
	}
	return false
}

// newRetention is a fresh database with monthly partitions back 30
// months, as years of operation leave them, the retention service on the
// test bucket, its clock, and the month 28 months ago (past starter's 24
// months, within HACCP's 60).
func newRetention(t *testing.T) (*store.DB, *objects.Bucket, retention.Service, time.Time, time.Time) {
	t.Helper()
	db, _ := testenv.OpenDB(t)
	cfg := config.Storage{Endpoint: testenv.Require(t, "MINIO_ENDPOINT"), AccessKey: testenv.Require(t, "MINIO_ROOT_USER"),
		SecretKey: testenv.Require(t, "MINIO_ROOT_PASSWORD"), Region: "us-east-1"}
	files := objects.Open(cfg, testenv.Require(t, "MINIO_BUCKET_ASSETS"))
	now := time.Now().UTC()
	svc := retention.Service{DB: db, Files: files, Now: func() time.Time { return now }}
	if _, err := testenv.Pool(db).Exec(context.Background(), `SELECT ensure_sensor_readings_partitions(30, 1)`); err != nil {
		t.Fatal(err)
	}
	return db, files, svc, now, time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -28, 0)
}

func TestRetentionArchivesRollsUpAndDropsPartitions(t *testing.T) {
	db, files, svc, now, month := newRetention(t)
	ctx := context.Background()
	starter, haccp := newOrg(t, db, "starter-org", "starter"), newOrg(t, db, "haccp-org", "haccp")
	t.Cleanup(func() {
		for _, o := range []org{starter, haccp} {
			_, _ = files.DeletePrefix(context.Background(), objects.ArchivePrefix+o.id+"/")
		}
	})
	// Three hours of readings 28 months ago (past starter's 24, within
	// HACCP's 60), and one this month.
	temps := []float64{2.5, 3.25, 4, 3.75}
	for h := 0; h < 3; h++ {
		for i, c := range temps {
			insertReading(t, db, starter, month.Add(time.Duration(h)*time.Hour+time.Duration(i)*15*time.Minute), c+float64(h))
		}
	}
	insertReading(t, db, haccp, month.Add(time.Hour), 1.5)
	insertReading(t, db, starter, now.Add(-time.Hour), 3)
	before, err := db.ReadingBuckets(ctx, store.ReadingRange{OrgID: starter.id, UnitID: starter.unit, From: month, To: month.AddDate(0, 1, 0)}, time.Hour, "UTC")
	if err != nil || len(before) != 3 {
		t.Fatalf("buckets before: %v %v", before, err)
	}

	// One step per run (the sweeper's minute): the empty partitions older
	// than any retention go, and the starter's month is archived.
	runAll := func() int {
		steps := 0
		for {
			n, err := svc.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return steps
			}
			if steps++; steps > 50 {
				t.Fatal("retention never settles")
			}
		}
	}
	runAll()
	for m := month.AddDate(0, -2, 0); m.After(month.AddDate(0, -5, 0)); m = m.AddDate(0, -1, 0) {
		if partitionExists(t, db, m) {
			t.Errorf("the empty partition of %s past every retention was kept", m.Format("2006-01"))
		}
	}
	if !partitionExists(t, db, month) || !partitionExists(t, db, month.AddDate(0, 6, 0)) {
		t.Fatal("a partition with readings someone keeps, or within retention, was dropped")
	}
	// The archive: a gzipped CSV of exactly the starter's month.
	get, err := files.PresignGet(ctx, retention.ArchiveKey(starter.id, month), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(get.URL)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("archive download: %v %v", res, err)
	}
	gz, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(gz).ReadAll()
	res.Body.Close()
	if err != nil || len(records) != 1+12 {
		t.Fatalf("archive holds %d records (%v), want a header and 12 readings", len(records), err)
	}
	orgCol := -1
	for i, h := range records[0] {
		if h == "organization_id" {
			orgCol = i
		}
	}
	for _, r := range records[1:] {
		if r[orgCol] != starter.id {
			t.Fatalf("the archive holds another organisation's reading: %v", r)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM readings_archives WHERE organization_id = $1 AND month = $2 AND rows = 12`, starter.id, month); n != 1 {
		t.Errorf("readings_archives rows: %d", n)
	}
	// Raw rows of that month gone, the recent one and HACCP's kept.
	if n := count(t, db, `SELECT count(*) FROM sensor_readings WHERE organization_id = $1`, starter.id); n != 1 {
		t.Errorf("starter keeps %d raw readings, want the recent 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM sensor_readings WHERE organization_id = $1`, haccp.id); n != 1 {
		t.Errorf("HACCP lost readings within its retention")
	}
	// The chart over the archived month reads the rollups: same buckets.
	unit, err := db.ReadingUnit(ctx, starter.id, starter.unit)
	if err != nil || !unit.RawFrom.Equal(month.AddDate(0, 1, 0)) {
		t.Fatalf("RawFrom %v (%v), want %v", unit.RawFrom, err, month.AddDate(0, 1, 0))
	}
	after, err := db.ReadingBuckets(ctx, store.ReadingRange{OrgID: starter.id, UnitID: starter.unit, From: month, To: month.AddDate(0, 1, 0), RawFrom: unit.RawFrom}, time.Hour, "UTC")
	if err != nil || len(after) != len(before) {
		t.Fatalf("buckets after: %v %v", after, err)
	}
	for i := range before {
		b, a := before[i], after[i]
		if !a.BucketStart.Equal(b.BucketStart) || a.MinC != b.MinC || a.MaxC != b.MaxC || a.AvgC != b.AvgC || a.Count != b.Count {
			t.Errorf("bucket %d: %+v from rollups, %+v from raw readings", i, a, b)
		}
	}
	day, err := db.ReadingBuckets(ctx, store.ReadingRange{OrgID: starter.id, UnitID: starter.unit, From: month, To: month.AddDate(0, 1, 0), RawFrom: unit.RawFrom}, 24*time.Hour, "UTC")
	if err != nil || len(day) != 1 || day[0].Count != 12 || day[0].MinC != 2.5 || day[0].MaxC != 6 {
		t.Errorf("a day from hourly rollups: %+v %v", day, err)
	}

	// HACCP keeps the month: nothing more to do, the partition stays.
	if n, err := svc.Run(ctx); err != nil || n != 0 || !partitionExists(t, db, month) {
		t.Fatalf("with HACCP's month kept: %d, %v (partition kept: %v)", n, err, partitionExists(t, db, month))
	}
	// Once nobody keeps it: archived, then the empty partition dropped.
	if _, err := testenv.Pool(db).Exec(ctx, `UPDATE organizations SET plan = 'starter' WHERE id = $1`, haccp.id); err != nil {
		t.Fatal(err)
	}
	if steps := runAll(); steps != 2 || count(t, db, `SELECT count(*) FROM readings_archives WHERE organization_id = $1`, haccp.id) != 1 {
		t.Fatalf("archiving the second organisation and dropping the partition took %d steps", steps)
	}
	if partitionExists(t, db, month) || partitionExists(t, db, month.AddDate(0, -1, 0)) {
		t.Error("the emptied partition past retention was kept")
	}
	if !partitionExists(t, db, time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("the current month's partition went too")
	}
	if n := count(t, db, `SELECT count(*) FROM sensor_readings WHERE organization_id = $1`, starter.id); n != 1 {
		t.Errorf("starter's recent reading went: %d", n)
	}
}

func TestCutoffKeepsWholeMonths(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	if got := retention.Cutoff("starter", now); !got.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("starter cutoff %v: December 2026 and the 23 months before it are kept", got)
	}
	if got := retention.Cutoff("haccp", now); !got.Equal(time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("haccp cutoff %v", got)
	}
}

// An organisation an origin import is still writing keeps its months past
// retention (and the partitions holding them) until it is live; then they
// are archived like any other's.
func TestRetentionIgnoresAnImportingOrganisation(t *testing.T) {
	db, files, svc, _, month := newRetention(t)
	ctx := context.Background()
	imported := newOrg(t, db, "imported-org", "starter")
	t.Cleanup(func() { _, _ = files.DeletePrefix(context.Background(), objects.ArchivePrefix+imported.id+"/") })
	insertReading(t, db, imported, month.Add(time.Hour), 3)
	if _, err := testenv.Pool(db).Exec(ctx, `UPDATE organizations SET import_state = 'importing' WHERE id = $1`, imported.id); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ { // every partition the runs can reach
		if _, err := svc.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM sensor_readings WHERE organization_id = $1`, imported.id); n != 1 || !partitionExists(t, db, month) {
		t.Fatalf("retention archived an importing organisation's month (%d readings left)", n)
	}
	if _, err := testenv.Pool(db).Exec(ctx, `UPDATE organizations SET import_state = NULL WHERE id = $1`, imported.id); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if _, err := svc.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM sensor_readings WHERE organization_id = $1`, imported.id); n != 0 {
		t.Fatalf("once live, %d readings past retention stay", n)
	}
}
