package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
)

// RealtimeConnection is one open connection of the live channel.
type RealtimeConnection struct {
	ID        string
	UserID    string
	OrgID     string
	ExpiresAt time.Time
	// WholeOrganization, else only events of SiteIDs and UnitIDs.
	WholeOrganization bool
	SiteIDs           []string
	UnitIDs           []string
}

var errConnectionGone = apperr.New(apperr.NotFound, "connection not found")

// SaveRealtimeConnection records a connection that passed the handshake,
// watching its whole organisation. A reused id (API Gateway never reuses
// one; the local server's ids are random) replaces the old row.
func (db *DB) SaveRealtimeConnection(ctx context.Context, c RealtimeConnection) (err error) {
	defer wrap(&err, "store.SaveRealtimeConnection")
	_, err = db.pool.Exec(ctx, `INSERT INTO realtime_connections (id, user_id, organization_id, expires_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, organization_id = EXCLUDED.organization_id,
			expires_at = EXCLUDED.expires_at, whole_organization = true, site_ids = '{}', unit_ids = '{}', connected_at = now()`,
		c.ID, c.UserID, c.OrgID, c.ExpiresAt)
	if err != nil {
		return Classify(err)
	}
	return nil
}

// RealtimeConnection returns an unexpired connection (NotFound otherwise).
func (db *DB) RealtimeConnection(ctx context.Context, id string) (_ RealtimeConnection, err error) {
	defer wrap(&err, "store.RealtimeConnection")
	var c RealtimeConnection
	err = db.pool.QueryRow(ctx, `SELECT id, user_id, organization_id, expires_at, whole_organization, site_ids::text[], unit_ids::text[]
		FROM realtime_connections WHERE id = $1 AND expires_at > now()`, id).
		Scan(&c.ID, &c.UserID, &c.OrgID, &c.ExpiresAt, &c.WholeOrganization, &c.SiteIDs, &c.UnitIDs)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errConnectionGone
	}
	if err != nil {
		return c, Classify(err)
	}
	return c, nil
}

// SetRealtimeSubscriptions replaces what a connection watches.
func (db *DB) SetRealtimeSubscriptions(ctx context.Context, c RealtimeConnection) (err error) {
	defer wrap(&err, "store.SetRealtimeSubscriptions")
	if c.SiteIDs == nil {
		c.SiteIDs = []string{}
	}
	if c.UnitIDs == nil {
		c.UnitIDs = []string{}
	}
	tag, err := db.pool.Exec(ctx, `UPDATE realtime_connections SET whole_organization = $2, site_ids = $3::uuid[], unit_ids = $4::uuid[]
		WHERE id = $1 AND expires_at > now()`, c.ID, c.WholeOrganization, c.SiteIDs, c.UnitIDs)
	if err != nil {
		return Classify(err)
	}
	if tag.RowsAffected() == 0 {
		return errConnectionGone
	}
	return nil
}

// DeleteRealtimeConnections forgets connections ($disconnect, or the
// management API answered 410 Gone).
func (db *DB) DeleteRealtimeConnections(ctx context.Context, ids ...string) (err error) {
	defer wrap(&err, "store.DeleteRealtimeConnections")
	if len(ids) == 0 {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM realtime_connections WHERE id = ANY($1)`, ids); err != nil {
		return Classify(err)
	}
	return nil
}

// RealtimeAudience returns the unexpired connections of the organisation
// that watch an event about unitID (its site from the unit row) or, with
// unitID empty, about the organisation as a whole, and deletes the
// organisation's expired ones on the way. Only connections of users who
// are still active members count: a member removed while connected
// receives nothing more (RoleIn's rule, hidden organisations included).
func (db *DB) RealtimeAudience(ctx context.Context, orgID, unitID string) (_ []string, err error) {
	defer wrap(&err, "store.RealtimeAudience")
	var unit *string
	if unitID != "" {
		unit = &unitID
	}
	rows, err := db.pool.Query(ctx, `WITH expired AS (
			DELETE FROM realtime_connections WHERE organization_id = $1 AND expires_at <= now()
		), unit AS (
			SELECT id, site_id FROM units WHERE organization_id = $1 AND id = $2::uuid
		)
		SELECT c.id FROM realtime_connections c LEFT JOIN unit u ON true
		WHERE c.organization_id = $1 AND c.expires_at > now()
			AND (c.whole_organization OR u.site_id = ANY(c.site_ids) OR u.id = ANY(c.unit_ids))
			AND EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = c.organization_id AND m.user_id = c.user_id
				AND m.status = 'active')
			AND c.organization_id NOT IN `+hiddenOrgs+`
		ORDER BY c.id`, orgID, unit)
	if err != nil {
		return nil, Classify(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, Classify(err)
	}
	return ids, nil
}

// LatestAlertID is the id of the unit's newest alert of alertType (and
// sensorID for the sensor-scoped types): the alert a just-committed
// judgement opened or resolved. Empty when there is none.
func (db *DB) LatestAlertID(ctx context.Context, orgID, unitID, alertType, sensorID string) (_ string, err error) {
	defer wrap(&err, "store.LatestAlertID")
	var sensor *string
	if sensorID != "" {
		sensor = &sensorID
	}
	var id string
	err = db.pool.QueryRow(ctx, `SELECT id FROM alerts WHERE organization_id = $1 AND unit_id = $2 AND type = $3
		AND sensor_id IS NOT DISTINCT FROM $4::uuid ORDER BY triggered_at DESC, id LIMIT 1`, orgID, unitID, alertType, sensor).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", Classify(err)
	}
	return id, nil
}

// ClaimReadingsBatch takes the unit's batch slot when its last batch is at
// least every old (or there was none): ok, and since, the time of the
// previous batch (zero for the first). Concurrent webhooks race on the row
// lock; one wins.
func (db *DB) ClaimReadingsBatch(ctx context.Context, orgID, unitID string, every time.Duration) (since time.Time, ok bool, err error) {
	defer wrap(&err, "store.ClaimReadingsBatch")
	var prev *time.Time
	err = db.pool.QueryRow(ctx, `WITH prev AS (SELECT sent_at FROM realtime_reading_batches WHERE unit_id = $2)
		INSERT INTO realtime_reading_batches (unit_id, organization_id, sent_at) VALUES ($2, $1, now())
		ON CONFLICT (unit_id) DO UPDATE SET sent_at = now()
			WHERE realtime_reading_batches.sent_at <= now() - make_interval(secs => $3)
		RETURNING (SELECT sent_at FROM prev)`, orgID, unitID, every.Seconds()).Scan(&prev)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, Classify(err)
	}
	if prev != nil {
		since = *prev
	}
	return since, true, nil
}

// BatchReading is one reading of a live batch.
type BatchReading struct {
	SensorID       string
	RecordedAt     time.Time
	TemperatureC   *float64
	HumidityPct    *float64
	BatteryPercent *int
	DoorOpen       *bool
}

// ReadingsStoredSince returns the unit's readings stored after since (at
// most a minute ago: a first batch is not the unit's history), by when they
// were stored, so a late reading is in the next batch; oldest first, at most
// limit (the newest ones). Readings more than a day late are left to the
// charts (the partitions scanned stay few).
func (db *DB) ReadingsStoredSince(ctx context.Context, orgID, unitID string, since time.Time, limit int) (_ []BatchReading, err error) {
	defer wrap(&err, "store.ReadingsStoredSince")
	rows, err := db.pool.Query(ctx, `SELECT * FROM (
			SELECT sensor_id::text, recorded_at, temperature_c::float8, humidity::float8, battery_percent, door_open
			FROM sensor_readings WHERE organization_id = $1 AND unit_id = $2
				AND received_at > greatest($3, now() - interval '1 minute')
				AND recorded_at > greatest($3, now() - interval '1 minute') - interval '1 day'
			ORDER BY received_at DESC, recorded_at DESC LIMIT $4) r ORDER BY recorded_at`, orgID, unitID, since, limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BatchReading, error) {
		var b BatchReading
		var sensor *string
		err := r.Scan(&sensor, &b.RecordedAt, &b.TemperatureC, &b.HumidityPct, &b.BatteryPercent, &b.DoorOpen)
		if sensor != nil {
			b.SensorID = *sensor
		}
		return b, err
	})
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}
