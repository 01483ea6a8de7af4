package store

import "context"

// EnsureReadingPartitions creates the monthly sensor_readings partitions from
// monthsBack months ago through monthsAhead months ahead (UTC months) that
// do not exist yet, and returns how many it created. Idempotent.
func (db *DB) EnsureReadingPartitions(ctx context.Context, monthsBack, monthsAhead int) (_ int, err error) {
	defer wrap(&err, "store.EnsureReadingPartitions")
	var created int
	err = db.pool.QueryRow(ctx, `SELECT ensure_sensor_readings_partitions($1, $2)`, monthsBack, monthsAhead).Scan(&created)
	return created, Classify(err)
}
