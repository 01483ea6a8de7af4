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

// Purge deletes for good a site, area or unit that was deleted (soft):
// the row, everything under it and every record of its units. HACCP
// records are kept for the plan's retention (domain.ReadingsRetentionMonths):
// while a unit under it holds a reading, manual log or alert younger than
// that, the purge is refused (Conflict, saying from when it is allowed), so
// a mistake (a unit created in the wrong site, never used) goes at once and
// a real history only once the law no longer asks for it. A live row is a
// Conflict too: delete it first (restorable), purge after.
func (db *DB) Purge(ctx context.Context, orgID, entity, id string, now time.Time) (err error) {
	defer wrap(&err, "store.Purge")
	var table, scope string
	switch entity {
	case EntitySite:
		table, scope = "sites", "u.site_id = $2"
	case EntityArea:
		table, scope = "areas", "u.area_id = $2"
	case EntityUnit:
		table, scope = "units", "u.id = $2"
	default:
		return fmt.Errorf("cannot purge a %q", entity)
	}
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var deleted bool
		var plan string
		err := tx.QueryRow(ctx, `SELECT t.deleted_at IS NOT NULL, o.plan FROM `+table+` t
			JOIN organizations o ON o.id = t.organization_id
			WHERE t.organization_id = $1 AND t.id = $2 FOR UPDATE OF t`, orgID, id).Scan(&deleted, &plan)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "%s not found", entity)
		}
		if err != nil {
			return err
		}
		if !deleted {
			return apperr.New(apperr.Conflict, "the %s is not deleted: delete it first (it can be restored until purged)", entity)
		}
		// The newest HACCP record of every unit under it, deleted units
		// included (units are locked first: no reading lands meanwhile).
		var newest *time.Time
		err = tx.QueryRow(ctx, `WITH scope AS (
				SELECT u.id FROM units u WHERE u.organization_id = $1 AND `+scope+` FOR UPDATE)
			SELECT greatest(
				(SELECT max(r.recorded_at) FROM sensor_readings r WHERE r.organization_id = $1 AND r.unit_id IN (SELECT id FROM scope)),
				(SELECT max(m.recorded_at) FROM manual_temperature_logs m WHERE m.organization_id = $1 AND m.unit_id IN (SELECT id FROM scope)),
				(SELECT max(greatest(a.triggered_at, a.resolved_at)) FROM alerts a WHERE a.organization_id = $1 AND a.unit_id IN (SELECT id FROM scope)))`,
			orgID, id).Scan(&newest)
		if err != nil {
			return err
		}
		if newest != nil {
			until := newest.AddDate(0, domain.ReadingsRetentionMonths(plan), 0)
			if until.After(now) {
				return apperr.New(apperr.Conflict, "the %s holds HACCP records kept until %s (the plan keeps them %d months): it can be purged after that",
					entity, until.UTC().Format(time.DateOnly), domain.ReadingsRetentionMonths(plan))
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM dashboard_layouts l WHERE l.organization_id = $1 AND (l.entity_id = $2
			OR l.entity_id IN (SELECT u.id FROM units u WHERE u.organization_id = $1 AND `+scope+`))`, orgID, id); err != nil {
			return err
		}
		// Everything under the row goes with it (ON DELETE CASCADE).
		_, err = tx.Exec(ctx, `DELETE FROM `+table+` WHERE organization_id = $1 AND id = $2`, orgID, id)
		return err
	})
	if err != nil {
		return Classify(err)
	}
	return nil
}
