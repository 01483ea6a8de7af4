package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel fallback: an alarm message that failed for good, or was skipped
// because its contact opted out of the channel, carries fallback_due (set
// in the same transaction as the failure, so no crash loses it). The
// dispatcher takes such rows (ClaimFallbacks), the caller decides the next
// channel and renders it (paging.Fallback), and the new row, the alert's
// history line and the cleared mark are written in one transaction.

// fallbackDueSQL is the SQL condition under which a failing row of the
// notifications table (unqualified columns) is marked for a fallback: an
// alarm message to a contact. Every write that fails or skips a row for good
// uses it.
const fallbackDueSQL = `(kind = 'alert' AND contact_id IS NOT NULL)`

// FallbackFacts is a failed alarm message with its contact and alert, read
// under the row's lock.
type FallbackFacts struct {
	ID, OrgID, AlertID         string
	Step                       int
	Channel, Recipient         string
	Status, Reason             string // failed or skipped, and why
	Contact                    Contact
	ContactActive, VoiceOptOut bool
	AlertStatus                string
	// Used: the channels the same step already pages this contact on
	// (whatever became of them), this row's included.
	Used []string
	// The alarm, as its messages say it.
	Type, Severity, AckCode                string
	SiteName, UnitName, TimeZone, TempUnit string
	TriggeredAt                            time.Time
	TemperatureC, LimitC                   *float64
}

// FallbackWrite is what the caller decided for one failed row.
type FallbackWrite struct {
	Row *OutboxRow // the contact's next channel (nil: none)
	// Note is the alert history line ('fallback' event); empty: none (the
	// alert is no longer active, nothing to say).
	Note string
	Data map[string]any
}

const fallbackFactsSQL = `SELECT n.id, n.organization_id, n.alert_id, n.escalation_step, n.channel, n.recipient, n.status,
	coalesce(n.last_error, ''), coalesce(ct.id::text, ''), coalesce(ct.name, ''), coalesce(ct.phone, ''),
	coalesce(lower(ct.email), ''), coalesce(ct.is_active, false), coalesce(ct.voice_opt_out, false), a.status,
	array(SELECT DISTINCT m.channel FROM notifications m WHERE m.alert_id = n.alert_id AND m.kind = 'alert'
		AND m.escalation_step = n.escalation_step AND m.contact_id = n.contact_id ORDER BY 1),
	a.type, a.severity, a.ack_code, si.name, u.name, coalesce(si.timezone, o.timezone), o.temp_unit, a.triggered_at,
	a.temperature_c::float8, a.limit_c::float8
FROM notifications n
JOIN alerts a ON a.id = n.alert_id AND a.organization_id = n.organization_id
JOIN units u ON u.id = a.unit_id AND u.organization_id = a.organization_id
JOIN sites si ON si.id = u.site_id AND si.organization_id = u.organization_id
JOIN organizations o ON o.id = n.organization_id
LEFT JOIN escalation_contacts ct ON ct.id = n.contact_id AND ct.organization_id = n.organization_id
WHERE n.fallback_due AND o.import_state IS NULL
ORDER BY n.updated_at, n.id
LIMIT $1
FOR UPDATE OF n SKIP LOCKED`

// ClaimFallbacks takes up to limit rows marked for a fallback, lets plan
// decide each, and writes the decisions, in one transaction. It returns how
// many new rows it queued (due at now).
func (db *DB) ClaimFallbacks(ctx context.Context, now time.Time, limit int, plan func(FallbackFacts) FallbackWrite) (_ int, err error) {
	defer wrap(&err, "store.ClaimFallbacks")
	queued := 0
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		queued = 0
		rows, err := tx.Query(ctx, fallbackFactsSQL, limit)
		if err != nil {
			return err
		}
		facts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FallbackFacts, error) {
			var f FallbackFacts
			err := r.Scan(&f.ID, &f.OrgID, &f.AlertID, &f.Step, &f.Channel, &f.Recipient, &f.Status, &f.Reason,
				&f.Contact.ID, &f.Contact.Name, &f.Contact.Phone, &f.Contact.Email, &f.ContactActive, &f.VoiceOptOut, &f.AlertStatus, &f.Used,
				&f.Type, &f.Severity, &f.AckCode, &f.SiteName, &f.UnitName, &f.TimeZone, &f.TempUnit, &f.TriggeredAt,
				&f.TemperatureC, &f.LimitC)
			return f, err
		})
		if err != nil {
			return err
		}
		for _, f := range facts {
			w := plan(f)
			n, err := writeFallback(ctx, tx, f, w, now)
			if err != nil {
				return err
			}
			queued += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}

// writeFallback queues the fallback row (once per step, channel and
// recipient, like every page), notes it in the alert's history and clears
// the mark.
func writeFallback(ctx context.Context, tx pgx.Tx, f FallbackFacts, w FallbackWrite, now time.Time) (int, error) {
	queued := 0
	data := map[string]any{"notification_id": f.ID, "contact_id": f.Contact.ID, "from_channel": f.Channel}
	for k, v := range w.Data {
		data[k] = v
	}
	if r := w.Row; r != nil {
		a := newOutboxArrays([]OutboxRow{*r})
		var id string
		err := tx.QueryRow(ctx, `INSERT INTO notifications (`+outboxInsertColumns+`, fallback_of, next_attempt_at)
			SELECT $1, $2, 'alert', $3, `+outboxRowValues("n.body")+`, $4, $5
			FROM `+outboxUnnest(6)+`
			ON CONFLICT ON CONSTRAINT notifications_once_per_step_key DO NOTHING
			RETURNING id`, append([]any{f.OrgID, f.AlertID, f.Step, f.ID, now}, a.args()...)...).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// A concurrent page of the same step took that channel already.
		case err != nil:
			return 0, err
		default:
			queued = 1
			data["fallback_id"] = id
		}
	}
	if w.Note != "" {
		b, _ := json.Marshal(data)
		if _, err := tx.Exec(ctx, `INSERT INTO alert_events (organization_id, alert_id, kind, note, data, at)
			VALUES ($1, $2, 'fallback', $3, $4, $5)`, f.OrgID, f.AlertID, w.Note, b, now); err != nil {
			return 0, err
		}
	}
	_, err := tx.Exec(ctx, `UPDATE notifications SET fallback_due = false WHERE id = $1`, f.ID)
	return queued, err
}
