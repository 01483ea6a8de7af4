package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/domain"
)

// NotificationFilter selects rows of the notification log. Empty fields do
// not filter.
type NotificationFilter struct {
	AlertID, ContactID, Kind, Status, Channel string
	UpdatedSince                              time.Time
	// Limit rows after the (AfterTime, AfterID) position, newest first.
	Limit     int
	AfterTime time.Time
	AfterID   string
}

// ListNotifications returns the organisation's notification log, newest
// first (created_at DESC, id DESC). Recipients are returned in full; masking
// is the caller's decision (it depends on the reader's role).
func (db *DB) ListNotifications(ctx context.Context, orgID string, f NotificationFilter) (_ []domain.Notification, err error) {
	defer wrap(&err, "store.ListNotifications")
	where := []string{"organization_id = $1"}
	args := []any{orgID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.AlertID != "" {
		add("alert_id = $%d", f.AlertID)
	}
	if f.ContactID != "" {
		add("contact_id = $%d", f.ContactID)
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.Channel != "" {
		add("channel = $%d", f.Channel)
	}
	if !f.UpdatedSince.IsZero() {
		add("updated_at > $%d", f.UpdatedSince)
	}
	if f.AfterID != "" {
		args = append(args, f.AfterTime, f.AfterID)
		where = append(where, fmt.Sprintf("(created_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, f.Limit)
	sql := `SELECT ` + notificationLogColumns + `
		FROM notifications WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT $%d", len(args))
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Notification, error) {
		var n domain.Notification
		err := scanNotification(row, &n)
		n.UTC()
		return n, err
	})
	return out, Classify(err)
}

// notificationLogColumns are a log entry's columns, in scanNotification's
// order.
const notificationLogColumns = `id, alert_id, kind, escalation_step, contact_id, channel, recipient, status, call_state, redial,
	attempts, last_error, provider, fallback_of, sent_at, delivered_at, failed_at, created_at, updated_at`

// scanNotification reads one log entry (notificationLogColumns).
func scanNotification(row pgx.Row, n *domain.Notification) error {
	return row.Scan(&n.ID, &n.AlertID, &n.Kind, &n.EscalationStep, &n.ContactID, &n.Channel, &n.Recipient, &n.Status, &n.CallState, &n.Redial,
		&n.Attempts, &n.LastError, &n.Provider, &n.FallbackOf, &n.SentAt, &n.DeliveredAt, &n.FailedAt, &n.CreatedAt, &n.UpdatedAt)
}
