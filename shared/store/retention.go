package store

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/domain"
)

// ReadingPartition is one monthly partition of sensor_readings.
type ReadingPartition struct {
	Name  string
	Month time.Time // first instant of the month, UTC
}

var partitionName = regexp.MustCompile(`^sensor_readings_y(\d{4})m(\d{2})$`)

// ReadingPartitions lists the monthly partitions, oldest first (the
// default partition is not one of them).
func (db *DB) ReadingPartitions(ctx context.Context) (_ []ReadingPartition, err error) {
	defer wrap(&err, "store.ReadingPartitions")
	rows, err := db.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = 'sensor_readings' ORDER BY c.relname`)
	if err != nil {
		return nil, Classify(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, Classify(err)
	}
	var out []ReadingPartition
	for _, n := range names {
		m := partitionName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		month, err := time.Parse("2006-01", m[1]+"-"+m[2])
		if err != nil {
			continue
		}
		out = append(out, ReadingPartition{Name: n, Month: month})
	}
	return out, nil
}

// OrgPlan is an organisation and its plan.
type OrgPlan struct {
	OrgID, Plan string
}

// PartitionOrganizations lists the organisations with readings in p (an
// index probe per organisation, not a scan of the month). An organisation
// still being imported is not one of them: its readings are being copied,
// and archiving them now would break the import's counts (its months past
// retention are archived once it is live).
func (db *DB) PartitionOrganizations(ctx context.Context, p ReadingPartition) (_ []OrgPlan, err error) {
	defer wrap(&err, "store.PartitionOrganizations")
	rows, err := db.pool.Query(ctx, `SELECT o.id, o.plan FROM organizations o WHERE o.import_state IS NULL AND EXISTS (
			SELECT 1 FROM `+pgx.Identifier{p.Name}.Sanitize()+` r WHERE r.organization_id = o.id)
		ORDER BY o.id`)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrgPlan, error) {
		var o OrgPlan
		return o, r.Scan(&o.OrgID, &o.Plan)
	})
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// CopyMonthReadings writes an organisation's readings of one month as CSV
// with a header, in time order (COPY; every column).
func (db *DB) CopyMonthReadings(ctx context.Context, orgID string, month time.Time, w io.Writer) (_ int64, err error) {
	defer wrap(&err, "store.CopyMonthReadings")
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, Classify(err)
	}
	defer conn.Release()
	// COPY takes no parameters: the id is checked, the bounds are formatted.
	if !domain.IsUUID(orgID) {
		return 0, fmt.Errorf("%q is not a UUID", orgID)
	}
	from, to := month.UTC().Format(time.RFC3339), month.UTC().AddDate(0, 1, 0).Format(time.RFC3339)
	sql := fmt.Sprintf(`COPY (SELECT * FROM sensor_readings WHERE organization_id = '%s'
		AND recorded_at >= '%s' AND recorded_at < '%s' ORDER BY recorded_at, id) TO STDOUT WITH (FORMAT csv, HEADER)`,
		strings.ToLower(orgID), from, to)
	tag, err := conn.Conn().PgConn().CopyTo(ctx, w, sql)
	if err != nil {
		return 0, Classify(err)
	}
	return tag.RowsAffected(), nil
}

// RetireMonthReadings finishes the archiving of an organisation's month
// once its export is stored: in one transaction it rolls the month up per
// unit and hour into sensor_readings_hourly, records the archive, and
// deletes the month's raw rows. Run twice, it changes nothing the second
// time (the rollups are recomputed from the same rows, or there are none).
func (db *DB) RetireMonthReadings(ctx context.Context, orgID string, month time.Time, key string, rows, bytes int64) (err error) {
	defer wrap(&err, "store.RetireMonthReadings")
	from, to := month.UTC(), month.UTC().AddDate(0, 1, 0)
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sensor_readings_hourly (organization_id, unit_id, hour, min_c, max_c, sum_c, count)
			SELECT organization_id, unit_id, date_trunc('hour', recorded_at), min(temperature_c), max(temperature_c), sum(temperature_c), count(*)
			FROM sensor_readings
			WHERE organization_id = $1 AND recorded_at >= $2 AND recorded_at < $3 AND temperature_c IS NOT NULL
			GROUP BY organization_id, unit_id, date_trunc('hour', recorded_at)
			ON CONFLICT (unit_id, hour) DO UPDATE SET min_c = EXCLUDED.min_c, max_c = EXCLUDED.max_c,
				sum_c = EXCLUDED.sum_c, count = EXCLUDED.count`, orgID, from, to); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO readings_archives (organization_id, month, s3_key, rows, bytes)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (organization_id, month) DO UPDATE SET s3_key = EXCLUDED.s3_key, rows = EXCLUDED.rows,
				bytes = EXCLUDED.bytes, archived_at = now()`, orgID, from, key, rows, bytes); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM sensor_readings WHERE organization_id = $1 AND recorded_at >= $2 AND recorded_at < $3`, orgID, from, to)
		return err
	})
	if err != nil {
		return err
	}
	return nil
}

// DropEmptyPartition detaches and drops p if it holds no row. It reports
// whether it did. DETACH takes a short ACCESS EXCLUSIVE lock on
// sensor_readings (CONCURRENTLY is refused while a default partition
// exists): lock_timeout bounds the wait, and the next run retries.
func (db *DB) DropEmptyPartition(ctx context.Context, p ReadingPartition) (_ bool, err error) {
	defer wrap(&err, "store.DropEmptyPartition")
	dropped := false
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
			return err
		}
		var empty bool
		if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM `+pgx.Identifier{p.Name}.Sanitize()+`)`).Scan(&empty); err != nil || !empty {
			return err
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE sensor_readings DETACH PARTITION `+pgx.Identifier{p.Name}.Sanitize()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{p.Name}.Sanitize()); err != nil {
			return err
		}
		dropped = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("DropEmptyPartition %s: %w", p.Name, err)
	}
	return dropped, nil
}
