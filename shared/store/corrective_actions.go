package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// CorrectiveActionInput is one action to record (core temperature in °C).
type CorrectiveActionInput struct {
	Action           string
	CoreTemperatureC *float64
	MovedToUnitID    string // "" when none
	Note             string
}

// AddCorrectiveActions records actions taken about an alert of the
// organisation (open or resolved) by userID, and returns all of the
// alert's actions. A moved_to unit must be a live unit of the organisation
// other than the alert's (else 404 / 400).
func (db *DB) AddCorrectiveActions(ctx context.Context, orgID, alertID, userID string, in []CorrectiveActionInput) (_ []domain.CorrectiveAction, err error) {
	defer wrap(&err, "store.AddCorrectiveActions")
	out, err := txValue(ctx, db, func(tx pgx.Tx) ([]domain.CorrectiveAction, error) {
		var unitID string
		err := tx.QueryRow(ctx, `SELECT unit_id FROM alerts WHERE organization_id = $1 AND id = $2 FOR UPDATE`, orgID, alertID).Scan(&unitID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, apperr.New(apperr.NotFound, "alert not found")
		}
		if err != nil {
			return nil, err
		}
		if err := insertCorrectiveActions(ctx, tx, orgID, alertID, unitID, userID, in); err != nil {
			return nil, err
		}
		m, err := correctiveActionsOf(ctx, tx, orgID, []string{alertID})
		return m[alertID], err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CorrectiveActions returns an alert's recorded actions, oldest first.
func (db *DB) CorrectiveActions(ctx context.Context, orgID, alertID string) (_ []domain.CorrectiveAction, err error) {
	defer wrap(&err, "store.CorrectiveActions")
	m, err := correctiveActionsOf(ctx, db.pool, orgID, []string{alertID})
	if err != nil {
		return nil, Classify(err)
	}
	if m[alertID] == nil {
		return []domain.CorrectiveAction{}, nil
	}
	return m[alertID], nil
}

// insertCorrectiveActions writes actions of the alert (of unit unitID) in
// tx, checking each moved_to unit.
func insertCorrectiveActions(ctx context.Context, tx pgx.Tx, orgID, alertID, unitID, userID string, in []CorrectiveActionInput) error {
	for i, c := range in {
		if c.MovedToUnitID != "" {
			var live bool
			err := tx.QueryRow(ctx, `SELECT deleted_at IS NULL FROM units WHERE organization_id = $1 AND id = $2`, orgID, c.MovedToUnitID).Scan(&live)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && !live) {
				return apperr.New(apperr.NotFound, "unit not found")
			}
			if err != nil {
				return err
			}
			if c.MovedToUnitID == unitID {
				return apperr.Validation(apperr.FieldError{Field: fmt.Sprintf("corrective_actions[%d].moved_to_unit_id", i),
					Message: "must be another unit than the alert's"})
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO corrective_actions (organization_id, alert_id, action, core_temperature_c,
				moved_to_unit_id, note, recorded_by)
			VALUES ($1, $2, $3, $4, nullif($5, '')::uuid, nullif($6, ''), $7)`,
			orgID, alertID, c.Action, c.CoreTemperatureC, c.MovedToUnitID, c.Note, userID); err != nil {
			return err
		}
	}
	return nil
}

// rowsQuerier runs a query (the pool or a transaction).
type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// correctiveActionsOf returns the actions of the alerts, by alert id,
// oldest first, with the organisation's display unit.
func correctiveActionsOf(ctx context.Context, q rowsQuerier, orgID string, alertIDs []string) (map[string][]domain.CorrectiveAction, error) {
	rows, err := q.Query(ctx, `SELECT c.id, c.alert_id, c.action, c.core_temperature_c::float8, c.moved_to_unit_id::text, mu.name,
			c.note, c.recorded_by::text, COALESCE(NULLIF(usr.display_name, ''), usr.email), c.recorded_at, o.temp_unit
		FROM corrective_actions c
		JOIN organizations o ON o.id = c.organization_id
		LEFT JOIN units mu ON mu.id = c.moved_to_unit_id AND mu.organization_id = c.organization_id
		LEFT JOIN users usr ON usr.id = c.recorded_by
		WHERE c.organization_id = $1 AND c.alert_id = ANY($2::uuid[])
		ORDER BY c.recorded_at, c.seq`, orgID, alertIDs)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.CorrectiveAction, error) {
		var c domain.CorrectiveAction
		var tu domain.TempUnit
		err := r.Scan(&c.ID, &c.AlertID, &c.Action, &c.CoreTemperatureC, &c.MovedToUnitID, &c.MovedToUnitName, &c.Note,
			&c.RecordedByUserID, &c.RecordedBy, &c.RecordedAt, &tu)
		c.RecordedAt = c.RecordedAt.UTC()
		c.SetDisplayUnit(tu)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]domain.CorrectiveAction, len(alertIDs))
	for _, c := range list {
		out[c.AlertID] = append(out[c.AlertID], c)
	}
	return out, nil
}
