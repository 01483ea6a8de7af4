package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// dashboardLatestAlerts is how many open alerts the dashboard lists.
const dashboardLatestAlerts = 10

// Dashboard returns the organisation at a glance. Its queries (the
// organisation's display unit, the units, the open-alert count and the
// newest open alerts) go in one batch: one round trip whatever the number of
// units. Counts by status are derived from the units in Go rather than
// queried again.
func (db *DB) Dashboard(ctx context.Context, orgID string) (_ domain.Dashboard, err error) {
	defer wrap(&err, "store.Dashboard")
	d := domain.Dashboard{Units: []domain.DashboardUnit{}, CountsByStatus: map[domain.UnitStatus]int{},
		OpenAlerts: domain.DashboardAlerts{Latest: []domain.Alert{}}}
	for _, s := range domain.UnitStatuses {
		d.CountsByStatus[s] = 0
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT temp_unit FROM organizations WHERE id = $1`, orgID).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&d.TempUnit)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "organization not found")
		}
		return err
	})
	// A unit is live when neither it nor its area or site is soft-deleted.
	// Open alerts are counted per unit in one grouped pass over the partial
	// index of open alerts, not one sub-query per unit.
	b.Queue(`SELECT u.id, u.name, u.type, u.site_id, s.name, u.area_id, ar.name, u.status, u.status_since,
			u.last_reading_at, u.last_temp_c::float8, u.door_open, u.temp_min_c::float8, u.temp_max_c::float8,
			coalesce(oa.n, 0)
		FROM units u
		JOIN sites s ON s.id = u.site_id AND s.organization_id = u.organization_id
		JOIN areas ar ON ar.id = u.area_id AND ar.organization_id = u.organization_id
		LEFT JOIN (SELECT unit_id, count(*) AS n FROM alerts
			WHERE organization_id = $1 AND status <> 'resolved' GROUP BY unit_id) oa ON oa.unit_id = u.id
		WHERE u.organization_id = $1 AND u.deleted_at IS NULL AND s.deleted_at IS NULL AND ar.deleted_at IS NULL
		ORDER BY s.name, s.id, ar.sort_order, ar.name, ar.id, u.sort_order, u.name, u.id`, orgID).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var u domain.DashboardUnit
				if err := rows.Scan(&u.ID, &u.Name, &u.Type, &u.SiteID, &u.SiteName, &u.AreaID, &u.AreaName,
					&u.Status, &u.StatusSince, &u.LastReadingAt, &u.LastTempC, &u.DoorOpen,
					&u.TempMinC, &u.TempMaxC, &u.OpenAlertCount); err != nil {
					return err
				}
				d.Units = append(d.Units, u)
			}
			return rows.Err()
		})
	// Open alerts of deleted units are history, not work: the dashboard
	// leaves them out (the alert list still has them).
	b.Queue(`SELECT count(*) FROM alerts a JOIN units u ON u.id = a.unit_id AND u.organization_id = a.organization_id
		WHERE a.organization_id = $1 AND a.status <> 'resolved' AND u.deleted_at IS NULL`, orgID).
		QueryRow(func(row pgx.Row) error { return row.Scan(&d.OpenAlerts.Count) })
	b.Queue(alertSelect+`
		WHERE a.organization_id = $1 AND a.status <> 'resolved' AND u.deleted_at IS NULL
		ORDER BY a.triggered_at DESC, a.id DESC LIMIT $2`, orgID, dashboardLatestAlerts).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				a, err := scanAlert(rows)
				if err != nil {
					return err
				}
				d.OpenAlerts.Latest = append(d.OpenAlerts.Latest, a)
			}
			return rows.Err()
		})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return d, Classify(err)
	}
	for i := range d.Units {
		d.Units[i].InUnit(d.TempUnit)
		d.CountsByStatus[d.Units[i].Status]++
	}
	return d, nil
}
