package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/jackc/pgx/v5"
)

// ManualLogInput is a new hand reading (°C).
type ManualLogInput struct {
	OrgID, UnitID, UserID string
	TemperatureC          float64
	RecordedAt            time.Time
	Note                  string
	CorrectiveAction      string
}

// ManualLogWrites is the alert engine's decision on a manual log. It is
// written without notifications: paging from hand readings is not wired.
type ManualLogWrites struct {
	// UnitState: only Status, StatusSince and InBandCount are written; a
	// hand reading is not a sensor check-in (last_reading_at, last_temp_c
	// and the door stay the sensor's).
	UnitState    *UnitStateRow
	Opens        []AlertOpenRow // Notifications are ignored
	Resolves     []AlertResolveRow
	Events       []AlertEventRow
	StatusChange *StatusChangeRow
}

// ManualLogJudge decides, under the unit's row lock, what a manual log does
// to the unit. u.LastReadingAt is the newest of the unit's last sensor
// reading and last manual log, so an older hand reading never moves state.
type ManualLogJudge func(u UnitAlerting, open []OpenAlertRef, logID string) ManualLogWrites

// CreateManualLog stores a hand reading and applies judge's decision in one
// transaction: the unit is locked FOR UPDATE, like an uplink locks it, so a
// manual log and a concurrent uplink of the same unit are judged one after
// the other.
func (db *DB) CreateManualLog(ctx context.Context, in ManualLogInput, judge ManualLogJudge) (domain.ManualLog, error) {
	var out domain.ManualLog
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var u UnitAlerting
		err := tx.QueryRow(ctx, `SELECT u.id, u.site_id, u.name, si.name, coalesce(si.timezone, o.timezone), o.temp_unit,
				u.temp_min_c::float8, u.temp_max_c::float8, u.hysteresis_c::float8, u.confirm_seconds, u.door_confirm_seconds,
				u.status, u.status_since, u.in_band_count,
				CASE WHEN u.last_reading_at IS NULL AND u.last_manual_log_at IS NULL THEN NULL
					ELSE greatest(u.last_reading_at, u.last_manual_log_at) END,
				u.door_open, u.door_changed_at
			FROM units u
				JOIN sites si ON si.id = u.site_id AND si.organization_id = u.organization_id
				JOIN organizations o ON o.id = u.organization_id
			WHERE u.organization_id = $1 AND u.id = $2 AND u.deleted_at IS NULL
			FOR UPDATE OF u`, in.OrgID, in.UnitID).Scan(&u.ID, &u.SiteID, &u.Name, &u.SiteName, &u.TimeZone, &u.TempUnit,
			&u.MinC, &u.MaxC, &u.HysteresisC, &u.ConfirmSeconds, &u.DoorConfirmSeconds,
			&u.Status, &u.StatusSince, &u.InBandCount, &u.LastReadingAt, &u.DoorOpen, &u.DoorChangedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "unit not found")
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT type, coalesce(sensor_id::text, '') FROM alerts
			WHERE organization_id = $1 AND unit_id = $2 AND status <> 'resolved'`, in.OrgID, in.UnitID)
		if err != nil {
			return err
		}
		open, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OpenAlertRef, error) {
			var a OpenAlertRef
			return a, r.Scan(&a.Type, &a.SensorID)
		})
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

		w := judge(u, open, out.ID)
		return writeManualLogDecision(ctx, tx, in, out.ID, w)
	})
	return out, Classify(err)
}

func writeManualLogDecision(ctx context.Context, tx pgx.Tx, in ManualLogInput, logID string, w ManualLogWrites) error {
	b := &pgx.Batch{}
	var status *string
	var since *time.Time
	var inBand *int
	if s := w.UnitState; s != nil {
		status, since, inBand = &s.Status, &s.StatusSince, &s.InBandCount
	}
	b.Queue(`UPDATE units SET last_manual_log_at = greatest(last_manual_log_at, $3),
			status = coalesce($4, status), status_since = coalesce($5, status_since),
			in_band_count = coalesce($6, in_band_count), updated_at = now()
		WHERE organization_id = $1 AND id = $2`, in.OrgID, in.UnitID, in.RecordedAt, status, since, inBand)
	target := UplinkTarget{OrgID: in.OrgID, Unit: &UnitAlerting{ID: in.UnitID}}
	for _, o := range w.Opens {
		o.Notifications = nil // nobody is paged for a hand reading (not wired yet)
		queueOpenAlert(b, target, o)
	}
	for _, r := range w.Resolves {
		// queueResolveAlert without its "back to normal" notifications.
		b.Queue(`WITH r AS (
				UPDATE alerts SET status = 'resolved', resolution = 'auto', resolved_at = $4, resolved_note = $5,
					next_escalation_at = NULL, updated_at = now()
				WHERE organization_id = $1 AND unit_id = $2 AND type = $3 AND status <> 'resolved'
					AND sensor_id IS NOT DISTINCT FROM $6::uuid
				RETURNING id, organization_id)
			INSERT INTO alert_events (organization_id, alert_id, kind, actor_user_id, note, at)
			SELECT organization_id, id, 'auto_resolved', $7, $5, $4 FROM r`,
			in.OrgID, in.UnitID, r.Type, r.At, r.Reason, nullable(r.SensorID), nullable(in.UserID))
	}
	for _, e := range w.Events {
		data, _ := json.Marshal(e.Data)
		b.Queue(`INSERT INTO alert_events (organization_id, alert_id, kind, actor_user_id, note, data, at)
			SELECT organization_id, id, $4, $8, nullif($5, ''), $6, $7 FROM alerts
			WHERE organization_id = $1 AND unit_id = $2 AND type = $3 AND status <> 'resolved'
			ORDER BY triggered_at DESC LIMIT 1`, in.OrgID, in.UnitID, e.AlertType, e.Kind, e.Note, data, e.At, nullable(in.UserID))
	}
	if c := w.StatusChange; c != nil {
		before, _ := json.Marshal(map[string]any{"status": c.From})
		after, _ := json.Marshal(map[string]any{"status": c.To, "reading_at": c.At, "temperature_c": c.TemperatureC,
			"source": "manual_log", "manual_log_id": logID})
		// The engine's status change, caused by a person's hand reading:
		// recorded as theirs.
		b.Queue(`INSERT INTO audit_log (organization_id, actor_user_id, actor_type, action, entity_type, entity_id, before, after, at)
			VALUES ($1, $2, $3, 'unit.status_changed', 'unit', $4, $5, $6, $7)`,
			in.OrgID, nullable(in.UserID), actorType(in.UserID), in.UnitID, before, after, c.At)
	}
	return tx.SendBatch(ctx, b).Close()
}

func actorType(userID string) string {
	if userID == "" {
		return "system"
	}
	return "user"
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
func (db *DB) ManualLogs(ctx context.Context, f ManualLogFilter) ([]domain.ManualLog, error) {
	var unit string
	err := db.Pool.QueryRow(ctx, `SELECT o.temp_unit FROM units u JOIN organizations o ON o.id = u.organization_id
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
	rows, err := db.Pool.Query(ctx, `SELECT l.id, l.unit_id, l.temperature_c::float8, l.recorded_at, l.notes, l.corrective_action,
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
