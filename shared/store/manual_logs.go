package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// ManualLogInput is a new hand reading (°C).
type ManualLogInput struct {
	OrgID, UnitID, UserID string
	TemperatureC          float64
	RecordedAt            time.Time
	Note                  string
	CorrectiveAction      string
	Now                   time.Time // the clock (the unit's active silence); zero: time.Now
}

func (in ManualLogInput) now() time.Time {
	if in.Now.IsZero() {
		return time.Now()
	}
	return in.Now
}

// ManualLogJudge decides, under the unit's row lock, what a manual log does
// to the unit (shared/judge: the same path as an uplink). plans reads, in
// the same transaction, who an alert it opens pages.
type ManualLogJudge func(ctx context.Context, u UnitAlerting, open []OpenAlertRef, plans PlanReader, logID string) (Judgement, error)

// PlanReader reads the notification plan of an alert about to open, inside
// the reading's transaction.
type PlanReader interface {
	NotificationPlan(ctx context.Context, alertType string) (NotificationPlan, error)
}

// txPlans reads plans in a pgx transaction.
type txPlans struct {
	tx            pgx.Tx
	orgID, unitID string
}

func (p txPlans) NotificationPlan(ctx context.Context, alertType string) (NotificationPlan, error) {
	return readPlan(ctx, p.tx, p.orgID, p.unitID, alertType)
}

// CreateManualLog stores a hand reading and applies judge's decision in one
// transaction: the unit is read with the uplink's SELECT and locked FOR
// UPDATE, so a manual log and a concurrent uplink of the same unit are
// judged one after the other. The alerts it opens carry their first
// notifications (the outbox), which the sweeper's dispatch sends.
func (db *DB) CreateManualLog(ctx context.Context, in ManualLogInput, judge ManualLogJudge) (_ domain.ManualLog, err error) {
	defer wrap(&err, "store.CreateManualLog")
	var out domain.ManualLog
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var u UnitAlerting
		var recent []byte
		err := tx.QueryRow(ctx, unitAlertingSQL(`u.organization_id = $1 AND u.id = $2`, "$3", "$4", true), in.OrgID, in.UnitID, in.RecordedAt, in.now()).
			Scan(u.scanArgs(&recent)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "unit not found")
		}
		if err != nil {
			return err
		}
		if err := u.finish(recent); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, openAlertsSQL+`organization_id = $1 AND unit_id = $2`, in.OrgID, in.UnitID)
		if err != nil {
			return err
		}
		open, err := collectOpenAlerts(rows)
		if err != nil {
			return err
		}
		var author *string
		err = tx.QueryRow(ctx, `WITH l AS (
				INSERT INTO manual_temperature_logs (organization_id, unit_id, user_id, temperature_c, recorded_at, notes, corrective_action)
				VALUES ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''))
				RETURNING id, organization_id, unit_id, user_id, temperature_c::float8, recorded_at, notes, corrective_action, created_at)
			SELECT l.id, l.unit_id, l.temperature_c, l.recorded_at, l.notes, l.corrective_action, l.user_id::text,
				coalesce(us.display_name, us.email), l.created_at
			FROM l LEFT JOIN users us ON us.id = l.user_id`,
			in.OrgID, in.UnitID, nullable(in.UserID), in.TemperatureC, in.RecordedAt, in.Note, in.CorrectiveAction).Scan(
			&out.ID, &out.UnitID, &out.TemperatureC, &out.RecordedAt, &out.Note, &out.CorrectiveAction, &out.AuthorUserID,
			&author, &out.CreatedAt)
		if err != nil {
			return err
		}
		out.AuthorName = author
		out.TempUnit = domain.TempUnit(u.TempUnit)
		out.Temperature = domain.FromCelsius(out.TemperatureC, out.TempUnit)
		out.RecordedAt, out.CreatedAt = out.RecordedAt.UTC(), out.CreatedAt.UTC()

		w, err := judge(ctx, u, open, txPlans{tx: tx, orgID: in.OrgID, unitID: in.UnitID}, out.ID)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE units SET last_manual_log_at = greatest(last_manual_log_at, $3), updated_at = now()
			WHERE organization_id = $1 AND id = $2`, in.OrgID, in.UnitID, in.RecordedAt)
		queueJudgement(b, judgementScope{OrgID: in.OrgID, UnitID: in.UnitID, ActorUserID: in.UserID, ManualLogID: out.ID}, w, in.RecordedAt)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return out, Classify(err)
	}
	return out, nil
}

// ManualLogFilter selects a unit's manual logs, newest first.
type ManualLogFilter struct {
	OrgID, UnitID string
	From, To      time.Time // recorded_at in [From, To)
	AfterTime     time.Time
	AfterID       string
	Limit         int
}

// ManualLogs lists a live unit's manual logs (404 for an unknown,
// deleted or other tenant's unit).
func (db *DB) ManualLogs(ctx context.Context, f ManualLogFilter) (_ []domain.ManualLog, err error) {
	defer wrap(&err, "store.ManualLogs")
	var unit string
	err = db.pool.QueryRow(ctx, `SELECT o.temp_unit FROM units u JOIN organizations o ON o.id = u.organization_id
		WHERE u.organization_id = $1 AND u.id = $2 AND u.deleted_at IS NULL`, f.OrgID, f.UnitID).Scan(&unit)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "unit not found")
	}
	if err != nil {
		return nil, Classify(err)
	}
	where := []string{"l.organization_id = $1", "l.unit_id = $2"}
	args := []any{f.OrgID, f.UnitID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if !f.From.IsZero() {
		add("l.recorded_at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("l.recorded_at < $%d", f.To)
	}
	if f.AfterID != "" {
		args = append(args, f.AfterTime, f.AfterID)
		where = append(where, fmt.Sprintf("(l.recorded_at, l.id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, f.Limit)
	rows, err := db.pool.Query(ctx, `SELECT l.id, l.unit_id, l.temperature_c::float8, l.recorded_at, l.notes, l.corrective_action,
			l.user_id::text, coalesce(us.display_name, us.email), l.created_at
		FROM manual_temperature_logs l LEFT JOIN users us ON us.id = l.user_id
		WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(`
		ORDER BY l.recorded_at DESC, l.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, Classify(err)
	}
	tu := domain.TempUnit(unit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.ManualLog, error) {
		var l domain.ManualLog
		err := r.Scan(&l.ID, &l.UnitID, &l.TemperatureC, &l.RecordedAt, &l.Note, &l.CorrectiveAction,
			&l.AuthorUserID, &l.AuthorName, &l.CreatedAt)
		l.TempUnit, l.Temperature = tu, domain.FromCelsius(l.TemperatureC, tu)
		l.RecordedAt, l.CreatedAt = l.RecordedAt.UTC(), l.CreatedAt.UTC()
		return l, err
	})
	return out, Classify(err)
}
