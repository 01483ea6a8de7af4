package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// unitFrom joins what a unit's JSON shows besides its own row: the names of
// its site and area and the organisation's display unit. Every join repeats
// the organisation, so no row of another tenant can ever be reached.
const unitFrom = ` FROM units u
	JOIN areas a ON a.id = u.area_id AND a.organization_id = u.organization_id
	JOIN sites s ON s.id = u.site_id AND s.organization_id = u.organization_id
	JOIN organizations o ON o.id = u.organization_id
	LEFT JOIN LATERAL active_unit_silence(u.id, now()) sl ON true`

const unitCols = `u.id, u.organization_id, u.site_id, u.area_id, s.name, a.name, u.name, u.description, u.type,
	u.sort_order, u.temp_min_c::float8, u.temp_max_c::float8, u.hysteresis_c::float8, u.confirm_seconds,
	u.door_confirm_seconds, u.checkin_interval_seconds, u.manual_log_interval_seconds, u.door_warn_minutes,
	u.door_critical_minutes, u.offline_multiplier, u.cooling_slope_c_per_hour::float8, u.cooling_readings, u.defrost_schedule, u.status, u.status_since,
	u.last_reading_at, u.last_temp_c::float8, u.last_temperature_at, u.door_open, u.door_changed_at, u.last_manual_log_at,
	u.created_at, u.updated_at, u.deleted_at, o.temp_unit, coalesce(sl.ended_early_at, sl.ends_at), sl.reason`

func scanUnit(row pgx.Row) (domain.Unit, error) {
	var u domain.Unit
	var tu domain.TempUnit
	err := row.Scan(&u.ID, &u.OrganizationID, &u.SiteID, &u.AreaID, &u.SiteName, &u.AreaName, &u.Name, &u.Description,
		&u.Type, &u.SortOrder, &u.TempMinC, &u.TempMaxC, &u.HysteresisC, &u.ConfirmSeconds, &u.DoorConfirmSeconds,
		&u.CheckinIntervalSeconds, &u.ManualLogIntervalSeconds, &u.DoorWarnMinutes, &u.DoorCriticalMinutes, &u.OfflineMultiplier,
		&u.CoolingSlopeCPerHour, &u.CoolingReadings, &u.DefrostSchedule, &u.Status, &u.StatusSince, &u.LastReadingAt,
		&u.LastTempC, &u.LastTemperatureAt, &u.DoorOpen, &u.DoorChangedAt, &u.LastManualLogAt, &u.CreatedAt, &u.UpdatedAt, &u.DeletedAt, &tu,
		&u.SilencedUntil, &u.SilenceReason)
	u.StatusSince, u.CreatedAt, u.UpdatedAt = u.StatusSince.UTC(), u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	u.LastReadingAt, u.DoorChangedAt = hierUTC(u.LastReadingAt), hierUTC(u.DoorChangedAt)
	u.LastTemperatureAt, u.SilencedUntil = hierUTC(u.LastTemperatureAt), hierUTC(u.SilencedUntil)
	if u.DefrostSchedule == nil {
		u.DefrostSchedule = []domain.DefrostWindow{}
	}
	u.LastManualLogAt, u.DeletedAt = hierUTC(u.LastManualLogAt), hierUTC(u.DeletedAt)
	u.SetDisplay(tu)
	return u, err
}

// ListUnits lists the organisation's units, filtered by site, area and status.
func (db *DB) ListUnits(ctx context.Context, orgID string, f HierarchyFilter) (_ []domain.Unit, err error) {
	defer wrap(&err, "store.ListUnits")
	var q hierQuery
	if f.SiteID != "" {
		q.where("u.site_id = ?", f.SiteID)
	}
	if f.AreaID != "" {
		q.where("u.area_id = ?", f.AreaID)
	}
	if f.Status != "" {
		q.where("u.status = ?", f.Status)
	}
	sql := q.list(`SELECT `+unitCols+unitFrom, "u", orgID, f)
	rows, err := db.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Unit, error) { return scanUnit(r) })
	return out, Classify(err)
}

// GetUnit returns a live unit of the organisation.
func (db *DB) GetUnit(ctx context.Context, orgID, id string) (_ domain.Unit, err error) {
	defer wrap(&err, "store.GetUnit")
	u, err := scanUnit(db.pool.QueryRow(ctx, `SELECT `+unitCols+unitFrom+`
		WHERE u.id = $1 AND u.organization_id = $2 AND u.deleted_at IS NULL`, id, orgID))
	return u, hierNotFound(err, "unit")
}

func getUnitTx(ctx context.Context, tx pgx.Tx, orgID, id string) (domain.Unit, error) {
	return scanUnit(tx.QueryRow(ctx, `SELECT `+unitCols+unitFrom+` WHERE u.id = $1 AND u.organization_id = $2`, id, orgID))
}

// hierLockArea share-locks a live area of the organisation and returns its
// site: a unit's site is always its area's.
func hierLockArea(ctx context.Context, tx pgx.Tx, orgID, areaID string) (siteID string, err error) {
	err = tx.QueryRow(ctx, `SELECT site_id FROM areas WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL FOR SHARE`,
		areaID, orgID).Scan(&siteID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", hierNoSuch("area_id", "area")
	}
	return siteID, err
}

// CreateUnit inserts a unit into a live area of the organisation (else a
// field error on area_id). in's configuration must already be validated.
func (db *DB) CreateUnit(ctx context.Context, orgID string, in domain.Unit) (_ domain.Unit, err error) {
	defer wrap(&err, "store.CreateUnit")
	var out domain.Unit
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := beginRuleChange(ctx, tx, orgID); err != nil {
			return err
		}
		siteID, err := hierLockArea(ctx, tx, orgID, in.AreaID)
		if err != nil {
			return err
		}
		var id string
		err = tx.QueryRow(ctx, `INSERT INTO units (organization_id, site_id, area_id, name, description, type, sort_order,
				temp_min_c, temp_max_c, hysteresis_c, confirm_seconds, door_confirm_seconds, checkin_interval_seconds,
				manual_log_interval_seconds, door_warn_minutes, door_critical_minutes, cooling_slope_c_per_hour,
				cooling_readings, defrost_schedule, offline_multiplier)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id`,
			orgID, siteID, in.AreaID, in.Name, in.Description, in.Type, in.SortOrder, in.TempMinC, in.TempMaxC,
			in.HysteresisC, in.ConfirmSeconds, in.DoorConfirmSeconds, in.CheckinIntervalSeconds,
			in.ManualLogIntervalSeconds, in.DoorWarnMinutes, in.DoorCriticalMinutes, in.CoolingSlopeCPerHour,
			in.CoolingReadings, defrostJSON(in.DefrostSchedule), in.OfflineMultiplier).Scan(&id)
		if err != nil {
			return err
		}
		// The values given became the unit's own rule (unit_own_alert_rule);
		// the others follow its site and organisation.
		if err := resolveUnits(ctx, tx, orgID, `u.id = $2`, id); err != nil {
			return err
		}
		out, err = getUnitTx(ctx, tx, orgID, id)
		return err
	})
	return out, Classify(err)
}

// UpdateUnit applies apply to a live unit under a row lock and saves its
// editable fields. apply merges and validates the patch against the stored
// values; its error aborts before anything is written. A changed AreaID
// moves the unit to that live area and its site.
func (db *DB) UpdateUnit(ctx context.Context, orgID, id string, apply func(*domain.Unit) error) (_ domain.Unit, err error) {
	defer wrap(&err, "store.UpdateUnit")
	var out domain.Unit
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := beginRuleChange(ctx, tx, orgID); err != nil {
			return err
		}
		u, err := scanUnit(tx.QueryRow(ctx, `SELECT `+unitCols+unitFrom+`
			WHERE u.id = $1 AND u.organization_id = $2 AND u.deleted_at IS NULL FOR UPDATE OF u`, id, orgID))
		if err != nil {
			return hierNotFound(err, "unit")
		}
		oldArea := u.AreaID
		if err := apply(&u); err != nil {
			return err
		}
		if u.AreaID != oldArea {
			if u.SiteID, err = hierLockArea(ctx, tx, orgID, u.AreaID); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE units SET site_id = $3, area_id = $4, name = $5, description = $6, type = $7,
				sort_order = $8, temp_min_c = $9, temp_max_c = $10, hysteresis_c = $11, confirm_seconds = $12,
				door_confirm_seconds = $13, checkin_interval_seconds = $14, manual_log_interval_seconds = $15,
				door_warn_minutes = $16, door_critical_minutes = $17, cooling_slope_c_per_hour = $18, cooling_readings = $19,
				defrost_schedule = $20, offline_multiplier = $21, updated_at = now()
			WHERE id = $1 AND organization_id = $2`,
			id, orgID, u.SiteID, u.AreaID, u.Name, u.Description, u.Type, u.SortOrder, u.TempMinC, u.TempMaxC,
			u.HysteresisC, u.ConfirmSeconds, u.DoorConfirmSeconds, u.CheckinIntervalSeconds, u.ManualLogIntervalSeconds,
			u.DoorWarnMinutes, u.DoorCriticalMinutes, u.CoolingSlopeCPerHour, u.CoolingReadings, defrostJSON(u.DefrostSchedule),
			u.OfflineMultiplier)
		if err != nil {
			return err
		}
		// Changed values became the unit's own rule, a new type pinned the
		// inherited ones (unit_own_alert_rule); a new site brings its rule.
		if err := resolveUnits(ctx, tx, orgID, `u.id = $2`, id); err != nil {
			return err
		}
		out, err = getUnitTx(ctx, tx, orgID, id)
		return err
	})
	return out, Classify(err)
}

// defrostJSON is a schedule as units.defrost_schedule stores it ([] for none).
func defrostJSON(ws []domain.DefrostWindow) []byte {
	if ws == nil {
		ws = []domain.DefrostWindow{}
	}
	b, _ := json.Marshal(ws)
	return b
}

// DeleteUnit soft-deletes a live unit. Its sensors stay assigned, so that a
// restore brings the unit back as it was.
func (db *DB) DeleteUnit(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeleteUnit")
	return execChanged(ctx, db, apperr.New(apperr.NotFound, "unit not found"), `UPDATE units SET deleted_at = now(), updated_at = now()
		WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL`, id, orgID)
}

// RestoreUnit undeletes a unit whose area and site are live (Conflict
// otherwise: restore the parent first).
func (db *DB) RestoreUnit(ctx context.Context, orgID, id string) (_ domain.Unit, err error) {
	defer wrap(&err, "store.RestoreUnit")
	var out domain.Unit
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var deletedAt, areaDeletedAt, siteDeletedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT u.deleted_at, a.deleted_at, s.deleted_at FROM units u
			JOIN areas a ON a.id = u.area_id AND a.organization_id = u.organization_id
			JOIN sites s ON s.id = u.site_id AND s.organization_id = u.organization_id
			WHERE u.id = $1 AND u.organization_id = $2 FOR UPDATE OF u FOR SHARE OF a, s`, id, orgID).
			Scan(&deletedAt, &areaDeletedAt, &siteDeletedAt)
		if err != nil {
			return hierNotFound(err, "unit")
		}
		if deletedAt != nil {
			if areaDeletedAt != nil || siteDeletedAt != nil {
				return apperr.New(apperr.Conflict, "the unit's area or site is deleted: restore it first")
			}
			if _, err := tx.Exec(ctx, `UPDATE units SET deleted_at = NULL, updated_at = now()
				WHERE id = $1 AND organization_id = $2`, id, orgID); err != nil {
				return err
			}
		}
		out, err = getUnitTx(ctx, tx, orgID, id)
		return err
	})
	return out, Classify(err)
}
