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

const silenceCols = `s.id, s.unit_id, s.reason, s.note, s.starts_at, s.ends_at, s.ended_early_at,
	s.starts_at <= $%d AND coalesce(s.ended_early_at, s.ends_at) > $%d, s.created_by, us.display_name, s.ended_by, s.created_at`

func scanSilence(row pgx.Row) (domain.UnitSilence, error) {
	var s domain.UnitSilence
	err := row.Scan(&s.ID, &s.UnitID, &s.Reason, &s.Note, &s.StartsAt, &s.EndsAt, &s.EndedEarlyAt, &s.Active,
		&s.CreatedBy, &s.CreatedByName, &s.EndedBy, &s.CreatedAt)
	s.UTC()
	return s, err
}

// silenceSelect selects silences (s) with their author; now is the
// placeholder number of the clock.
func silenceSelect(now int) string {
	return `SELECT ` + fmt.Sprintf(silenceCols, now, now) + ` FROM unit_silences s LEFT JOIN users us ON us.id = s.created_by `
}

// lockLiveUnit locks a live unit of the organisation (NotFound otherwise).
func lockLiveUnit(ctx context.Context, tx pgx.Tx, orgID, unitID string) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM units WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`,
		orgID, unitID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, "unit not found")
	}
	return err
}

// SilenceUnit silences a live unit's alarms from now until `until` (a
// bounded window, checked by the caller and the table). A unit has one
// active silence at a time: another is a Conflict (end it first).
func (db *DB) SilenceUnit(ctx context.Context, orgID, unitID, userID, reason, note string, now, until time.Time) (_ domain.UnitSilence, err error) {
	defer wrap(&err, "store.SilenceUnit")
	var out domain.UnitSilence
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockLiveUnit(ctx, tx, orgID, unitID); err != nil {
			return err
		}
		var active *time.Time
		if err := tx.QueryRow(ctx, `SELECT coalesce(ended_early_at, ends_at) FROM active_unit_silence($1, $2)`, unitID, now).
			Scan(&active); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if active != nil {
			return apperr.New(apperr.Conflict, "the unit is already silenced until %s: end that silence first",
				active.UTC().Format(time.RFC3339))
		}
		var id string
		if err := tx.QueryRow(ctx, `INSERT INTO unit_silences (organization_id, unit_id, reason, note, starts_at, ends_at, created_by)
			VALUES ($1, $2, $3, nullif($4, ''), $5, $6, $7) RETURNING id`,
			orgID, unitID, reason, note, now, until, nullable(userID)).Scan(&id); err != nil {
			return err
		}
		var err error
		out, err = scanSilence(tx.QueryRow(ctx, silenceSelect(2)+`WHERE s.id = $1`, id, now))
		return err
	})
	if err != nil {
		return out, Classify(err)
	}
	return out, nil
}

// EndUnitSilence ends a unit's active silence now (NotFound when it has
// none) and resumes its paging at once: alerts held by it page from now
// (their escalation is due now, and the messages waiting for its end are
// due now too).
func (db *DB) EndUnitSilence(ctx context.Context, orgID, unitID, userID string, now time.Time) (_ domain.UnitSilence, err error) {
	defer wrap(&err, "store.EndUnitSilence")
	var out domain.UnitSilence
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockLiveUnit(ctx, tx, orgID, unitID); err != nil {
			return err
		}
		var id string
		err := tx.QueryRow(ctx, `UPDATE unit_silences SET ended_early_at = $3, ended_by = $4
			WHERE id = (SELECT id FROM active_unit_silence($2, $3)) AND organization_id = $1 RETURNING id`,
			orgID, unitID, now, nullable(userID)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "the unit is not silenced")
		}
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE alerts SET paging_started_at = $3, updated_at = now()
			WHERE organization_id = $1 AND unit_id = $2 AND status <> 'resolved' AND paging_started_at > $3`, orgID, unitID, now)
		b.Queue(`UPDATE alerts SET next_escalation_at = $3, updated_at = now()
			WHERE organization_id = $1 AND unit_id = $2 AND status = 'active' AND next_escalation_at > $3`, orgID, unitID, now)
		b.Queue(`UPDATE notifications n SET next_attempt_at = $3, updated_at = now()
			FROM alerts a WHERE a.id = n.alert_id AND a.organization_id = $1 AND a.unit_id = $2
				AND n.status = 'pending' AND n.kind = 'alert' AND n.last_error = 'silenced' AND n.next_attempt_at > $3`,
			orgID, unitID, now)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		out, err = scanSilence(tx.QueryRow(ctx, silenceSelect(2)+`WHERE s.id = $1`, id, now))
		return err
	})
	if err != nil {
		return out, Classify(err)
	}
	return out, nil
}

// UnitSilences lists a live unit's silences, newest first (at most 100).
func (db *DB) UnitSilences(ctx context.Context, orgID, unitID string, now time.Time) (_ []domain.UnitSilence, err error) {
	defer wrap(&err, "store.UnitSilences")
	var unit string
	err = db.pool.QueryRow(ctx, `SELECT id FROM units WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`, orgID, unitID).Scan(&unit)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "unit not found")
	}
	if err != nil {
		return nil, Classify(err)
	}
	rows, err := db.pool.Query(ctx, silenceSelect(3)+`WHERE s.organization_id = $1 AND s.unit_id = $2
		ORDER BY s.starts_at DESC, s.id DESC LIMIT 100`, orgID, unitID, now)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.UnitSilence, error) { return scanSilence(r) })
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}
