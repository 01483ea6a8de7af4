package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/report"
)

// ReportOrg is what a report's header needs about the organisation.
type ReportOrg struct {
	report.Organization
	TempUnit string
}

// ReportOrg returns the organisation's name, timezone and display unit.
func (db *DB) ReportOrg(ctx context.Context, orgID string) (_ ReportOrg, err error) {
	defer wrap(&err, "store.ReportOrg")
	var o ReportOrg
	err = db.pool.QueryRow(ctx, `SELECT id, name, timezone, temp_unit FROM organizations WHERE id = $1`, orgID).
		Scan(&o.ID, &o.Name, &o.TimeZone, &o.TempUnit)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, apperr.New(apperr.NotFound, "organization not found")
	}
	return o, Classify(err)
}

// ReportScope selects a report's units: all the organisation's, a site's
// (SiteID) or one (UnitID), within Sites when it is not nil (an inspector
// link's sites: a site or unit outside them is NotFound, as another
// organisation's is).
type ReportScope struct {
	SiteID, UnitID string
	Sites          []string
}

// ReportUnits returns the live units of the organisation in scope, ordered
// as a site is walked. A site or unit that is not a live one of the
// organisation (and of the scope's sites) is NotFound.
func (db *DB) ReportUnits(ctx context.Context, orgID string, sc ReportScope) (_ []report.Unit, err error) {
	defer wrap(&err, "store.ReportUnits")
	var sites any
	if sc.Sites != nil {
		sites = sc.Sites
	}
	if sc.SiteID != "" {
		var ok bool
		err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sites WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
			AND ($3::uuid[] IS NULL OR id = ANY($3)))`, orgID, sc.SiteID, sites).Scan(&ok)
		if err != nil {
			return nil, Classify(err)
		}
		if !ok {
			return nil, apperr.New(apperr.NotFound, "site not found")
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT u.id, u.name, s.id, s.name, a.name, COALESCE(NULLIF(s.timezone, ''), o.timezone),
		u.temp_min_c::float8, u.temp_max_c::float8, u.checkin_interval_seconds, coalesce(u.manual_log_interval_seconds, 0)
		FROM units u
		JOIN sites s ON s.id = u.site_id AND s.organization_id = u.organization_id
		JOIN areas a ON a.id = u.area_id AND a.organization_id = u.organization_id
		JOIN organizations o ON o.id = u.organization_id
		WHERE u.organization_id = $1 AND u.deleted_at IS NULL AND s.deleted_at IS NULL AND a.deleted_at IS NULL
		AND ($2::uuid IS NULL OR u.site_id = $2) AND ($3::uuid IS NULL OR u.id = $3) AND ($4::uuid[] IS NULL OR u.site_id = ANY($4))
		ORDER BY s.name, s.id, a.sort_order, a.name, a.id, u.sort_order, u.name, u.id`,
		orgID, sensorNullString(sc.SiteID), sensorNullString(sc.UnitID), sites)
	if err != nil {
		return nil, Classify(err)
	}
	units, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.Unit, error) {
		var u report.Unit
		var interval, manual int64
		err := r.Scan(&u.ID, &u.Name, &u.SiteID, &u.SiteName, &u.AreaName, &u.TimeZone, &u.TempMinC, &u.TempMaxC, &interval, &manual)
		u.CheckinInterval = time.Duration(interval) * time.Second
		u.ManualLogInterval = time.Duration(manual) * time.Second
		return u, err
	})
	if err != nil {
		return nil, Classify(err)
	}
	if sc.UnitID != "" && len(units) == 0 {
		return nil, apperr.New(apperr.NotFound, "unit not found")
	}
	return units, nil
}

// EachReportReading calls fn with a unit's temperature readings recorded
// in [from, to), oldest first, streaming (a year of 5-minute readings is
// 100,000 rows: they are never all held at once).
func (db *DB) EachReportReading(ctx context.Context, orgID, unitID string, from, to time.Time, fn func(report.Reading)) (err error) {
	defer wrap(&err, "store.EachReportReading")
	rows, err := db.pool.Query(ctx, `SELECT recorded_at, temperature_c::float8
		FROM sensor_readings
		WHERE organization_id = $1 AND unit_id = $2 AND recorded_at >= $3 AND recorded_at < $4
		AND temperature_c IS NOT NULL
		ORDER BY recorded_at, id`, orgID, unitID, from, to)
	if err != nil {
		return Classify(err)
	}
	defer rows.Close()
	var r report.Reading
	for rows.Next() {
		if err := rows.Scan(&r.At, &r.TempC); err != nil {
			return Classify(err)
		}
		fn(r)
	}
	return Classify(rows.Err())
}

// ReportAlerts returns the alerts of the units triggered in [from, to),
// with the display names of who acknowledged and resolved them.
func (db *DB) ReportAlerts(ctx context.Context, orgID string, unitIDs []string, from, to time.Time) (_ []report.Alert, err error) {
	defer wrap(&err, "store.ReportAlerts")
	rows, err := db.pool.Query(ctx, `SELECT a.id, a.unit_id, a.type, a.severity, a.status, a.title, a.triggered_at,
		a.temperature_c::float8, a.acknowledged_at, COALESCE(NULLIF(ack.display_name, ''), ack.email), a.acknowledged_note,
		a.resolved_at, COALESCE(NULLIF(res.display_name, ''), res.email), a.resolved_note, a.resolution
		FROM alerts a
		LEFT JOIN users ack ON ack.id = a.acknowledged_by
		LEFT JOIN users res ON res.id = a.resolved_by
		WHERE a.organization_id = $1 AND a.unit_id = ANY($2::uuid[]) AND a.triggered_at >= $3 AND a.triggered_at < $4
		ORDER BY a.triggered_at, a.id`, orgID, unitIDs, from, to)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.Alert, error) {
		var a report.Alert
		err := r.Scan(&a.ID, &a.UnitID, &a.Type, &a.Severity, &a.Status, &a.Title, &a.TriggeredAt, &a.TemperatureC,
			&a.AcknowledgedAt, &a.AcknowledgedBy, &a.AcknowledgedNote, &a.ResolvedAt, &a.ResolvedBy, &a.ResolvedNote, &a.Resolution)
		a.TriggeredAt = a.TriggeredAt.UTC()
		a.AcknowledgedAt, a.ResolvedAt = sensorUTC(a.AcknowledgedAt), sensorUTC(a.ResolvedAt)
		return a, err
	})
	if err != nil {
		return nil, Classify(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	for i, a := range out {
		ids[i] = a.ID
	}
	actions, err := correctiveActionsOf(ctx, db.pool, orgID, ids)
	if err != nil {
		return nil, Classify(err)
	}
	for i := range out {
		out[i].CorrectiveActions = actions[out[i].ID]
	}
	return out, nil
}

// ReportManualLogs returns the units' manual temperature logs read in
// [from, to), with the display name of who logged them.
func (db *DB) ReportManualLogs(ctx context.Context, orgID string, unitIDs []string, from, to time.Time) (_ []report.ManualLog, err error) {
	defer wrap(&err, "store.ReportManualLogs")
	rows, err := db.pool.Query(ctx, `SELECT m.id, m.unit_id, m.recorded_at, m.temperature_c::float8,
		COALESCE(NULLIF(u.display_name, ''), u.email), m.notes, m.corrective_action
		FROM manual_temperature_logs m
		LEFT JOIN users u ON u.id = m.user_id
		WHERE m.organization_id = $1 AND m.unit_id = ANY($2::uuid[]) AND m.recorded_at >= $3 AND m.recorded_at < $4
		ORDER BY m.recorded_at, m.id`, orgID, unitIDs, from, to)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.ManualLog, error) {
		var l report.ManualLog
		err := r.Scan(&l.ID, &l.UnitID, &l.RecordedAt, &l.TemperatureC, &l.By, &l.Notes, &l.CorrectiveAction)
		l.RecordedAt = l.RecordedAt.UTC()
		return l, err
	})
	return out, Classify(err)
}
