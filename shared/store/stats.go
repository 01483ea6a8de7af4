package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/report"
)

// OrganizationStats counts the organisation's live units by status and
// state (also per site), its open alerts by severity and status, its
// sensors (offline, low battery), sites and members: one round trip of
// grouped counts. Compliance is the caller's (the report's computation).
func (db *DB) OrganizationStats(ctx context.Context, orgID string, now time.Time) (_ domain.OrganizationStats, err error) {
	defer wrap(&err, "store.OrganizationStats")
	st := domain.OrganizationStats{Sites: []domain.SiteStats{},
		Units:  domain.UnitStats{ByStatus: map[domain.UnitStatus]int{}, ByState: map[string]int{}},
		Alerts: domain.AlertStats{OpenBySeverity: map[string]int{}, OpenByStatus: map[string]int{}}}
	for _, s := range domain.UnitStatuses {
		st.Units.ByStatus[s] = 0
	}
	for _, s := range domain.UnitStates {
		st.Units.ByState[s] = 0
	}
	for _, s := range domain.AlertSeverities {
		st.Alerts.OpenBySeverity[s] = 0
	}
	st.Alerts.OpenByStatus["active"], st.Alerts.OpenByStatus["acknowledged"] = 0, 0
	site := map[string]int{} // id -> index in st.Sites
	b := &pgx.Batch{}
	b.Queue(`SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1)`, orgID).QueryRow(func(row pgx.Row) error {
		var ok bool
		if err := row.Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "organization not found")
		}
		return nil
	})
	// Every live site, with its live units' statuses (none: one NULL row).
	b.Queue(`SELECT s.id, s.name, u.status, count(u.id)
		FROM sites s LEFT JOIN units u ON u.site_id = s.id AND u.organization_id = s.organization_id AND u.deleted_at IS NULL
			AND EXISTS (SELECT 1 FROM areas a WHERE a.id = u.area_id AND a.organization_id = u.organization_id AND a.deleted_at IS NULL)
		WHERE s.organization_id = $1 AND s.deleted_at IS NULL
		GROUP BY s.id, s.name, u.status ORDER BY s.name, s.id`, orgID).Query(func(rows pgx.Rows) error {
		var id, name string
		var status *string
		var n int
		_, err := pgx.ForEachRow(rows, []any{&id, &name, &status, &n}, func() error {
			i, seen := site[id]
			if !seen {
				i = len(st.Sites)
				site[id] = i
				st.Sites = append(st.Sites, domain.SiteStats{SiteID: id, SiteName: name})
			}
			s := &st.Sites[i]
			if status == nil {
				return nil
			}
			state := domain.StateOf(domain.UnitStatus(*status))
			st.Units.Total += n
			st.Units.ByStatus[domain.UnitStatus(*status)] += n
			st.Units.ByState[state] += n
			s.UnitCount += n
			s.WorstState = domain.WorseState(s.WorstState, state)
			st.WorstState = domain.WorseState(st.WorstState, state)
			return nil
		})
		return err
	})
	b.Queue(`SELECT u.site_id, a.severity, a.status, count(*)
		FROM alerts a JOIN units u ON u.id = a.unit_id AND u.organization_id = a.organization_id
		WHERE a.organization_id = $1 AND a.status <> 'resolved' AND u.deleted_at IS NULL
		GROUP BY 1, 2, 3`, orgID).Query(func(rows pgx.Rows) error {
		var siteID, severity, status string
		var n int
		_, err := pgx.ForEachRow(rows, []any{&siteID, &severity, &status, &n}, func() error {
			st.Alerts.Open += n
			st.Alerts.OpenBySeverity[severity] += n
			st.Alerts.OpenByStatus[status] += n
			if i, ok := site[siteID]; ok {
				st.Sites[i].OpenAlertCount += n
			}
			return nil
		})
		return err
	})
	b.Queue(`SELECT count(*),
			count(*) FILTER (WHERE u.id IS NOT NULL AND (s.last_seen_at IS NULL
				OR s.last_seen_at < $2::timestamptz - make_interval(secs => 2 * u.checkin_interval_seconds + 30))),
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM alerts a WHERE a.sensor_id = s.id AND a.organization_id = s.organization_id
				AND a.type = 'low_battery' AND a.status <> 'resolved'))
		FROM sensors s LEFT JOIN units u ON u.id = s.unit_id AND u.organization_id = s.organization_id AND u.deleted_at IS NULL
		WHERE s.organization_id = $1 AND s.deleted_at IS NULL`, orgID, now).QueryRow(func(row pgx.Row) error {
		return row.Scan(&st.Sensors.Total, &st.Sensors.Offline, &st.Sensors.LowBattery)
	})
	b.Queue(`SELECT (SELECT count(*) FROM sites WHERE organization_id = $1 AND deleted_at IS NULL),
			(SELECT count(*) FROM memberships WHERE organization_id = $1 AND status = 'active')`, orgID).
		QueryRow(func(row pgx.Row) error { return row.Scan(&st.SiteCount, &st.MemberCount) })
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return st, Classify(err)
	}
	return st, nil
}

// MonitoredReportUnits are the organisation's live units that have a live
// sensor, as the report computes them.
func (db *DB) MonitoredReportUnits(ctx context.Context, orgID string) (_ []report.Unit, err error) {
	defer wrap(&err, "store.MonitoredReportUnits")
	units, err := db.ReportUnits(ctx, orgID, ReportScope{})
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT unit_id::text FROM sensors
		WHERE organization_id = $1 AND deleted_at IS NULL AND unit_id IS NOT NULL`, orgID)
	if err != nil {
		return nil, Classify(err)
	}
	withSensor := map[string]bool{}
	var id string
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { withSensor[id] = true; return nil }); err != nil {
		return nil, Classify(err)
	}
	out := units[:0]
	for _, u := range units {
		if withSensor[u.ID] {
			out = append(out, u)
		}
	}
	return out, nil
}

// EachReportReadingOf streams the temperature readings of several units
// recorded in [from, to), unit by unit, each oldest first: one query for a
// whole organisation instead of one per unit.
func (db *DB) EachReportReadingOf(ctx context.Context, orgID string, unitIDs []string, from, to time.Time, fn func(unitID string, r report.Reading)) (err error) {
	defer wrap(&err, "store.EachReportReadingOf")
	if len(unitIDs) == 0 {
		return nil
	}
	rows, err := db.pool.Query(ctx, `SELECT unit_id::text, recorded_at, temperature_c::float8
		FROM sensor_readings
		WHERE organization_id = $1 AND unit_id = ANY($2) AND recorded_at >= $3 AND recorded_at < $4
		AND temperature_c IS NOT NULL
		ORDER BY unit_id, recorded_at, id`, orgID, unitIDs, from, to)
	if err != nil {
		return Classify(err)
	}
	defer rows.Close()
	var unit string
	var r report.Reading
	for rows.Next() {
		if err := rows.Scan(&unit, &r.At, &r.TempC); err != nil {
			return Classify(err)
		}
		fn(unit, r)
	}
	if err := rows.Err(); err != nil {
		return Classify(err)
	}
	return nil
}
