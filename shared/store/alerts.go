package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// alertSelect reads domain.Alert (scanAlert's order). Every use adds
// "WHERE a.organization_id = ...": the joins are tenant-consistent by the
// composite keys, the filter is what scopes the query.
const alertSelect = `SELECT a.id, a.unit_id, u.name, u.site_id, si.name, u.area_id, ar.name, a.sensor_id, a.type, a.severity, a.status,
	a.title, a.message, a.temperature_c::float8, a.limit_c::float8, a.details, a.triggered_at,
	a.acknowledged_at, a.acknowledged_by, ack.display_name, a.acknowledged_note,
	a.resolved_at, a.resolved_by, res.display_name, a.resolved_note, a.resolution,
	a.escalation_step, a.next_escalation_at,
	CASE WHEN a.status <> 'resolved' THEN a.ack_code END,
	a.created_at, a.updated_at, o.temp_unit,
	CASE WHEN a.status <> 'resolved' THEN (SELECT coalesce(ended_early_at, ends_at) FROM active_unit_silence(a.unit_id, now())) END
FROM alerts a
JOIN units u ON u.id = a.unit_id AND u.organization_id = a.organization_id
JOIN sites si ON si.id = u.site_id AND si.organization_id = a.organization_id
JOIN areas ar ON ar.id = u.area_id AND ar.organization_id = a.organization_id
JOIN organizations o ON o.id = a.organization_id
LEFT JOIN users ack ON ack.id = a.acknowledged_by
LEFT JOIN users res ON res.id = a.resolved_by`

func scanAlert(row pgx.Row) (domain.Alert, error) {
	var a domain.Alert
	var unit domain.TempUnit
	err := row.Scan(&a.ID, &a.UnitID, &a.UnitName, &a.SiteID, &a.SiteName, &a.AreaID, &a.AreaName, &a.SensorID, &a.Type, &a.Severity, &a.Status,
		&a.Title, &a.Message, &a.TemperatureC, &a.LimitC, &a.Details, &a.TriggeredAt,
		&a.AcknowledgedAt, &a.AcknowledgedBy, &a.AcknowledgedByName, &a.AcknowledgedNote,
		&a.ResolvedAt, &a.ResolvedBy, &a.ResolvedByName, &a.ResolvedNote, &a.Resolution,
		&a.EscalationStep, &a.NextEscalationAt, &a.AckCode, &a.CreatedAt, &a.UpdatedAt, &unit, &a.SilencedUntil)
	a.UTC()
	a.SetDisplayUnit(unit)
	return a, err
}

// AlertFilter selects alerts for ListAlerts. Empty fields do not filter.
type AlertFilter struct {
	UnitID, SiteID, AreaID string
	// Statuses are any of open (not resolved), active, acknowledged and
	// resolved; Severities any of the alert severities.
	Statuses, Severities []string
	Type                 string
	// From and To bound triggered_at (inclusive, exclusive).
	From, To     time.Time
	UpdatedSince time.Time
	// Limit rows after the (AfterTime, AfterID) position, newest first.
	Limit     int
	AfterTime time.Time
	AfterID   string
}

// ListAlerts returns up to f.Limit alerts of the organisation, newest first
// (triggered_at DESC, id DESC).
func (db *DB) ListAlerts(ctx context.Context, orgID string, f AlertFilter) (_ []domain.Alert, err error) {
	defer wrap(&err, "store.ListAlerts")
	where := []string{"a.organization_id = $1"}
	args := []any{orgID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.UnitID != "" {
		add("a.unit_id = $%d", f.UnitID)
	}
	if f.SiteID != "" {
		add("u.site_id = $%d", f.SiteID)
	}
	if f.AreaID != "" {
		add("u.area_id = $%d", f.AreaID)
	}
	switch statuses := f.Statuses; {
	case len(statuses) == 0:
	case len(statuses) == 1 && statuses[0] == "open":
		// Matches alerts_org_open_idx's predicate, so the planner can use it.
		where = append(where, "a.status <> 'resolved'")
	case slices.Contains(statuses, "open") && !slices.Contains(statuses, "resolved"):
		where = append(where, "a.status <> 'resolved'") // open covers active and acknowledged
	case slices.Contains(statuses, "open"):
		// open and resolved: every status
	default:
		add("a.status = ANY($%d)", statuses)
	}
	if f.Type != "" {
		add("a.type = $%d", f.Type)
	}
	if len(f.Severities) > 0 {
		add("a.severity = ANY($%d)", f.Severities)
	}
	if !f.From.IsZero() {
		add("a.triggered_at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("a.triggered_at < $%d", f.To)
	}
	if !f.UpdatedSince.IsZero() {
		add("a.updated_at > $%d", f.UpdatedSince)
	}
	if f.AfterID != "" {
		args = append(args, f.AfterTime, f.AfterID)
		where = append(where, fmt.Sprintf("(a.triggered_at, a.id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, f.Limit)
	sql := alertSelect + "\nWHERE " + strings.Join(where, " AND ") +
		fmt.Sprintf("\nORDER BY a.triggered_at DESC, a.id DESC LIMIT $%d", len(args))
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Alert, error) { return scanAlert(row) })
	return out, Classify(err)
}

// Alert returns one alert of the organisation.
func (db *DB) Alert(ctx context.Context, orgID, alertID string) (_ domain.Alert, err error) {
	defer wrap(&err, "store.Alert")
	return alertIn(ctx, db.pool, orgID, alertID)
}

type alertRowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func alertIn(ctx context.Context, q alertRowQuerier, orgID, alertID string) (domain.Alert, error) {
	a, err := scanAlert(q.QueryRow(ctx, alertSelect+"\nWHERE a.organization_id = $1 AND a.id = $2", orgID, alertID))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, apperr.New(apperr.NotFound, "alert not found")
	}
	return a, Classify(err)
}

// AlertEvents returns an alert's timeline, oldest first.
func (db *DB) AlertEvents(ctx context.Context, orgID, alertID string) (_ []domain.AlertEvent, err error) {
	defer wrap(&err, "store.AlertEvents")
	rows, err := db.pool.Query(ctx, `SELECT e.id, e.kind, e.actor_user_id, usr.display_name, e.note, e.data, e.at
		FROM alert_events e LEFT JOIN users usr ON usr.id = e.actor_user_id
		WHERE e.organization_id = $1 AND e.alert_id = $2 ORDER BY e.at, e.id`, orgID, alertID)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.AlertEvent, error) {
		var e domain.AlertEvent
		err := row.Scan(&e.ID, &e.Kind, &e.ActorUserID, &e.ActorName, &e.Note, &e.Data, &e.At)
		e.At = e.At.UTC()
		return e, err
	})
	if out == nil {
		out = []domain.AlertEvent{}
	}
	return out, Classify(err)
}

// AcknowledgeAlert marks an active alert acknowledged by userID and stops its
// escalation (the alert stays open). Only an active alert can be
// acknowledged: anything else is a Conflict.
func (db *DB) AcknowledgeAlert(ctx context.Context, orgID, alertID, userID, note string) (_ domain.Alert, err error) {
	defer wrap(&err, "store.AcknowledgeAlert")
	var out domain.Alert
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM alerts WHERE organization_id = $1 AND id = $2 FOR UPDATE`,
			orgID, alertID).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "alert not found")
		}
		if err != nil {
			return err
		}
		switch status {
		case domain.AlertAcknowledged:
			return apperr.New(apperr.Conflict, "the alert is already acknowledged")
		case domain.AlertResolved:
			return apperr.New(apperr.Conflict, "the alert is resolved")
		}
		if _, err := tx.Exec(ctx, `UPDATE alerts SET status = 'acknowledged', acknowledged_by = $3, acknowledged_at = now(),
			acknowledged_note = nullif($4, ''), next_escalation_at = NULL, updated_at = now()
			WHERE organization_id = $1 AND id = $2`, orgID, alertID, userID, note); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alert_events (organization_id, alert_id, kind, actor_user_id, note)
			VALUES ($1, $2, 'acknowledged', $3, nullif($4, ''))`, orgID, alertID, userID, note); err != nil {
			return err
		}
		out, err = alertIn(ctx, tx, orgID, alertID)
		return err
	})
	return out, err
}

// ResolveAlert closes an open alert by hand, recording the corrective
// actions taken in the same transaction. check decides, with the row
// locked, whether this note (and these actions) suffice given the unit's
// current state (see domain.CheckResolve); its error is returned as is and
// nothing is written.
func (db *DB) ResolveAlert(ctx context.Context, orgID, alertID, userID, note string, actions []CorrectiveActionInput,
	check func(alertType string, u domain.UnitCondition) error) (_ domain.Alert, err error) {
	defer wrap(&err, "store.ResolveAlert")
	var out domain.Alert
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var status, typ, unitID string
		var unit domain.UnitCondition
		err := tx.QueryRow(ctx, `SELECT a.status, a.type, a.unit_id, u.status, u.door_open
			FROM alerts a JOIN units u ON u.id = a.unit_id AND u.organization_id = a.organization_id
			WHERE a.organization_id = $1 AND a.id = $2 FOR UPDATE OF a`, orgID, alertID).
			Scan(&status, &typ, &unitID, &unit.Status, &unit.DoorOpen)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "alert not found")
		}
		if err != nil {
			return err
		}
		if status == domain.AlertResolved {
			return apperr.New(apperr.Conflict, "the alert is already resolved")
		}
		if err := check(typ, unit); err != nil {
			return err
		}
		cleared, _ := domain.AlertConditionCleared(typ, unit)
		if _, err := tx.Exec(ctx, `UPDATE alerts SET status = 'resolved', resolution = 'manual', resolved_by = $3,
			resolved_at = now(), resolved_note = nullif($4, ''), next_escalation_at = NULL, updated_at = now()
			WHERE organization_id = $1 AND id = $2`, orgID, alertID, userID, note); err != nil {
			return err
		}
		// The unit state at resolve time is kept for auditors: it shows
		// whether the alert was closed on a cleared condition or on a note.
		if _, err := tx.Exec(ctx, `INSERT INTO alert_events (organization_id, alert_id, kind, actor_user_id, note, data)
			VALUES ($1, $2, 'resolved', $3, nullif($4, ''),
				jsonb_build_object('resolution', 'manual', 'unit_status', $5::text, 'door_open', $6::boolean, 'condition_cleared', $7::boolean))`,
			orgID, alertID, userID, note, unit.Status, unit.DoorOpen, cleared); err != nil {
			return err
		}
		if err := insertCorrectiveActions(ctx, tx, orgID, alertID, unitID, userID, actions); err != nil {
			return err
		}
		out, err = alertIn(ctx, tx, orgID, alertID)
		return err
	})
	return out, err
}
