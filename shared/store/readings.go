package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// ReadingUnit is what a readings chart needs to know about its unit: the
// threshold band to draw and the organisation's display unit.
type ReadingUnit struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	SiteID   string  `json:"site_id"`
	TempUnit string  `json:"temp_unit"`
	TempMinC float64 `json:"temp_min_c"`
	TempMaxC float64 `json:"temp_max_c"`
	// TimeZone is the site's (else the organisation's) IANA zone: hourly
	// and daily buckets follow its clock.
	TimeZone string `json:"time_zone"`
	// RawFrom is where the organisation's raw readings begin when older
	// months were archived (retention): before it, charts read the hourly
	// rollups. Zero when nothing was archived.
	RawFrom time.Time `json:"-"`
}

// ReadingUnit returns a live unit of the organisation with its display unit.
func (db *DB) ReadingUnit(ctx context.Context, orgID, unitID string) (_ ReadingUnit, err error) {
	defer wrap(&err, "store.ReadingUnit")
	var u ReadingUnit
	var rawFrom *time.Time
	err = db.pool.QueryRow(ctx, `SELECT u.id, u.name, u.site_id, o.temp_unit, u.temp_min_c::float8, u.temp_max_c::float8,
			coalesce(nullif(s.timezone, ''), o.timezone),
			(SELECT max(month)::timestamp AT TIME ZONE 'UTC' + interval '1 month' FROM readings_archives a WHERE a.organization_id = o.id)
		FROM units u JOIN organizations o ON o.id = u.organization_id JOIN sites s ON s.id = u.site_id
		WHERE u.organization_id = $1 AND u.id = $2 AND u.deleted_at IS NULL`, orgID, unitID).
		Scan(&u.ID, &u.Name, &u.SiteID, &u.TempUnit, &u.TempMinC, &u.TempMaxC, &u.TimeZone, &rawFrom)
	if rawFrom != nil {
		u.RawFrom = rawFrom.UTC()
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return u, apperr.New(apperr.NotFound, "unit not found")
	}
	return u, Classify(err)
}

// ReadingRange selects a unit's readings (or, with SensorID and no
// UnitID, a sensor's, whatever unit it was in) recorded in [From, To). Both
// bounds are always given: sensor_readings is partitioned by recorded_at
// and the bounds are what prune the months that cannot match.
type ReadingRange struct {
	OrgID, UnitID string
	SensorID      string
	From, To      time.Time
	// RawFrom (ReadingUnit.RawFrom): buckets before it come from the hourly
	// rollups, at an hour's resolution.
	RawFrom time.Time
}

// readingCols are a raw reading's columns, as scanReading reads them.
const readingCols = `id, recorded_at, sensor_id, temperature_c::float8, humidity::float8, battery_percent,
	battery_voltage::float8, door_open, rssi, snr::float8, source`

func scanReading(r pgx.Row) (domain.Reading, error) {
	var x domain.Reading
	var battery, rssi *int16
	err := r.Scan(&x.ID, &x.RecordedAt, &x.SensorID, &x.TemperatureC, &x.Humidity, &battery, &x.BatteryVolts, &x.DoorOpen, &rssi, &x.SNR, &x.Source)
	x.RecordedAt = x.RecordedAt.UTC()
	x.BatteryPercent, x.RSSI = sensorInt(battery), sensorInt(rssi)
	return x, err
}

// Readings returns up to limit raw readings of the range, oldest first
// ((recorded_at, id) order), after the position (afterTime, afterID);
// afterID 0 starts at From.
func (db *DB) Readings(ctx context.Context, rg ReadingRange, afterTime time.Time, afterID int64, limit int) (_ []domain.Reading, err error) {
	defer wrap(&err, "store.Readings")
	from := rg.From
	var after *int64
	if afterID > 0 {
		after = &afterID
		// the cursor's time is also the index range's lower bound
		if afterTime.After(from) {
			from = afterTime
		}
	}
	// A unit's range reads (unit_id, recorded_at), a sensor's the unique
	// (sensor_id, recorded_at) index.
	owner, id := "unit_id", rg.UnitID
	if rg.UnitID == "" {
		owner, id = "sensor_id", rg.SensorID
	}
	rows, err := db.pool.Query(ctx, `SELECT `+readingCols+`
		FROM sensor_readings
		WHERE organization_id = $1 AND `+owner+` = $2 AND recorded_at >= $3 AND recorded_at < $4
		AND ($5::bigint IS NULL OR recorded_at > $6 OR (recorded_at = $6 AND id > $5))
		ORDER BY recorded_at, id LIMIT $7`,
		rg.OrgID, id, from, rg.To, after, afterTime, limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Reading, error) { return scanReading(r) })
	return out, Classify(err)
}

// LatestUnitReading is the newest raw reading of a live unit of the
// organisation recorded in [from, to) (nil when there is none): every
// field the sensor sent, not only the unit's last temperature.
func (db *DB) LatestUnitReading(ctx context.Context, orgID, unitID string, from, to time.Time) (_ *domain.Reading, err error) {
	defer wrap(&err, "store.LatestUnitReading")
	x, err := scanReading(db.pool.QueryRow(ctx, `SELECT `+readingCols+` FROM sensor_readings
		WHERE organization_id = $1 AND unit_id = $2 AND recorded_at >= $3 AND recorded_at < $4
		ORDER BY recorded_at DESC, id DESC LIMIT 1`, orgID, unitID, from, to))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, Classify(err)
	}
	return &x, nil
}

// ReadingBuckets aggregates the range's temperatures into buckets of width
// w, oldest first. Hours and days follow the clock of zone (an IANA name;
// domain.LocalBucketStarts): a day is the site's calendar day, 23 or 25
// hours long across a DST change, and an hour starts on the local hour in
// half-hour zones. Shorter buckets are aligned on domain.BucketOrigin.
// Empty buckets are omitted (a chart shows a gap).
//
// The local bucket starts are computed here, not per row in SQL: evenly
// spaced ones (every hour, and days without a DST change) bin with date_bin
// from the first start, as cheap as UTC buckets; the rest with width_bucket
// over the starts (a binary search per row).
func (db *DB) ReadingBuckets(ctx context.Context, rg ReadingRange, w time.Duration, zone string) (_ []domain.ReadingBucket, err error) {
	defer wrap(&err, "store.ReadingBuckets")
	bucket := `date_bin($5::interval, recorded_at, $6::timestamptz)`
	args := []any{rg.OrgID, rg.UnitID, rg.From, rg.To, fmt.Sprintf("%d seconds", int64(w/time.Second)), domain.BucketOrigin}
	if w == time.Hour || w == 24*time.Hour {
		starts := domain.LocalBucketStarts(rg.From, rg.To, w, domain.Location(zone))
		switch {
		case len(starts) == 0:
			return nil, nil
		case domain.Evenly(starts, w):
			args[5] = starts[0]
		default:
			// The bucket of a row is the last start at or before it.
			bucket = `($5::timestamptz[])[width_bucket(recorded_at, $5::timestamptz[])]`
			args = append(args[:4], starts)
		}
	}
	query := `SELECT ` + bucket + ` AS bucket,
		min(temperature_c)::float8, round(avg(temperature_c), 2)::float8, max(temperature_c)::float8, count(*)
		FROM sensor_readings
		WHERE organization_id = $1 AND unit_id = $2 AND recorded_at >= $3 AND recorded_at < $4
		AND temperature_c IS NOT NULL
		GROUP BY bucket ORDER BY bucket`
	if !rg.RawFrom.IsZero() && rg.From.Before(rg.RawFrom) {
		// Part of the range is past retention: its raw rows are gone and
		// the hourly rollups stand in for them (each hour bucketed at its
		// start). Only then: the chart's hot path stays one index-only scan.
		query = `WITH src AS (
			SELECT recorded_at, temperature_c AS min_c, temperature_c AS max_c, temperature_c AS sum_c, 1::bigint AS n
			FROM sensor_readings
			WHERE organization_id = $1 AND unit_id = $2 AND recorded_at >= $3 AND recorded_at < $4 AND temperature_c IS NOT NULL
			UNION ALL
			SELECT hour, min_c, max_c, sum_c, count FROM sensor_readings_hourly
			WHERE organization_id = $1 AND unit_id = $2 AND hour >= $3 AND hour < $4)
		SELECT ` + bucket + ` AS bucket, min(min_c)::float8, round(sum(sum_c) / sum(n), 2)::float8, max(max_c)::float8, sum(n)
		FROM src GROUP BY bucket ORDER BY bucket`
	}
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.ReadingBucket, error) {
		var b domain.ReadingBucket
		err := r.Scan(&b.BucketStart, &b.MinC, &b.AvgC, &b.MaxC, &b.Count)
		b.BucketStart = b.BucketStart.UTC()
		return b, err
	})
	return out, Classify(err)
}

// LatestFilter selects units for LatestReadings, in (created_at, id) order
// after the cursor position (AfterID "" = from the start).
type LatestFilter struct {
	SiteID       string
	UpdatedSince time.Time
	AfterTime    time.Time
	AfterID      string
	Limit        int
}

// LatestReadings returns the newest processed reading of every live unit of
// the organisation, from the unit rows that ingest keeps current: no scan
// of sensor_readings.
func (db *DB) LatestReadings(ctx context.Context, orgID string, f LatestFilter) (_ []domain.LatestReading, err error) {
	defer wrap(&err, "store.LatestReadings")
	rows, err := db.pool.Query(ctx, `SELECT u.id, u.name, u.site_id, u.area_id, u.status, u.last_reading_at,
		u.last_temp_c::float8, u.door_open, u.created_at
		FROM units u
		WHERE u.organization_id = $1 AND u.deleted_at IS NULL
		AND ($2::uuid IS NULL OR u.site_id = $2)
		AND ($3::timestamptz IS NULL OR u.updated_at > $3 OR u.last_reading_at > $3)
		AND ($4::uuid IS NULL OR (u.created_at, u.id) > ($5, $4))
		ORDER BY u.created_at, u.id LIMIT $6`,
		orgID, sensorNullString(f.SiteID), sensorNullTime(f.UpdatedSince), sensorNullString(f.AfterID), f.AfterTime, f.Limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.LatestReading, error) {
		var x domain.LatestReading
		err := r.Scan(&x.UnitID, &x.UnitName, &x.SiteID, &x.AreaID, &x.Status, &x.LastReadingAt, &x.LastTempC, &x.DoorOpen, &x.CreatedAt)
		x.LastReadingAt = sensorUTC(x.LastReadingAt)
		x.CreatedAt = x.CreatedAt.UTC()
		return x, err
	})
	return out, Classify(err)
}
