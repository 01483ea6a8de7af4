package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Voice pages: a call's events (Telnyx Call Control webhooks) move its
// notification row. The row is found by the ids the call carries in its
// client_state (set when it was dialled), so an event that overtakes the
// dispatcher's write of the call id still finds it.

// Notification kinds the call flow tells apart.
const (
	KindAlert = "alert"
	KindTest  = "test"
)

// CallRef names the notification a call event is about.
type CallRef struct {
	OrgID, NotificationID string
	CallControlID         string // the event's call
}

// CallFacts is a voice notification as the call flow needs it, read under
// the row's lock.
type CallFacts struct {
	ID, OrgID, Kind, Status, CallState string
	Recipient                          string
	AlertID, AlertStatus               string // "" for a test call
	ContactID, ContactName             string
	ContactUserID                      *string
	RedialsLeft                        int
	Body                               string // the text queued with the row (a test call says it)
	OrgName                            string
	// The alarm, as a call says it (alert calls).
	SiteName, UnitName, TimeZone, TempUnit string
	AlertType, Severity                    string
	TemperatureC, LimitC, CurrentC         *float64
	TriggeredAt                            time.Time
}

// CallUpdate is what one call event writes. Empty fields change nothing.
type CallUpdate struct {
	State  string // the new call_state (forward only: the caller decides from the locked row)
	Status string // the notification's new status: delivered, failed
	Reason string // last_error
	At     time.Time
	// Acknowledge the row's alert for its contact (key 1), with this note.
	Acknowledge bool
	AckNote     string
	// Redial: place the call again after the row's redial delay, while
	// its redials last and the alert is still active.
	Redial bool
	// Event, when set, is added to the alert's history (its kind and note).
	Event, EventNote string
	// Fallback: nobody heard the alarm; unless a redial was placed, the
	// contact is paged on their next channel.
	Fallback bool
}

// CallResult says what an event did.
type CallResult struct {
	Duplicate bool
	Found     bool
	Facts     CallFacts
	// AckOutcome (Acknowledge only): acknowledged, already_acknowledged,
	// resolved.
	AckOutcome string
	// RedialAt is when the next call goes (zero: none).
	RedialAt time.Time
	// Fallback: the row was marked for its contact's next channel.
	Fallback bool
}

const callFactsSQL = `SELECT n.id, n.organization_id, n.kind, n.status, n.call_state, n.recipient,
	coalesce(n.alert_id::text, ''), coalesce(a.status, ''), coalesce(n.contact_id::text, ''), coalesce(ct.name, ''), ct.user_id,
	n.redials_left, n.body, o.name, coalesce(si.name, ''), coalesce(u.name, ''), coalesce(si.timezone, o.timezone), o.temp_unit,
	coalesce(a.type, ''), coalesce(a.severity, ''), a.temperature_c::float8, a.limit_c::float8, u.last_temp_c::float8,
	coalesce(a.triggered_at, n.created_at), coalesce(n.provider_message_id, '')
FROM notifications n JOIN organizations o ON o.id = n.organization_id
LEFT JOIN alerts a ON a.id = n.alert_id AND a.organization_id = n.organization_id
LEFT JOIN units u ON u.id = a.unit_id AND u.organization_id = a.organization_id
LEFT JOIN sites si ON si.id = u.site_id AND si.organization_id = u.organization_id
LEFT JOIN escalation_contacts ct ON ct.id = n.contact_id AND ct.organization_id = n.organization_id
WHERE n.id = $1 AND n.organization_id = $2 AND n.channel = 'voice' AND o.import_state IS NULL
FOR UPDATE OF n`

// ApplyCallEvent records the event and, for a call of ours, lets decide
// choose the update from the row as it stands (locked), then writes it, in
// one transaction. An event whose client_state names no voice row of that
// organisation, or whose call is not the row's, is recorded and not Found.
func (db *DB) ApplyCallEvent(ctx context.Context, ev TelnyxEventKey, ref CallRef, decide func(CallFacts) CallUpdate) (_ CallResult, err error) {
	defer wrap(&err, "store.ApplyCallEvent")
	var res CallResult
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		res = CallResult{}
		fresh, err := telnyxRecordEvent(ctx, tx, ev)
		if err != nil || !fresh {
			res.Duplicate = !fresh
			return err
		}
		if ref.OrgID == "" || ref.NotificationID == "" {
			return nil
		}
		f := &res.Facts
		var providerID string
		err = tx.QueryRow(ctx, callFactsSQL, ref.NotificationID, ref.OrgID).Scan(&f.ID, &f.OrgID, &f.Kind, &f.Status, &f.CallState,
			&f.Recipient, &f.AlertID, &f.AlertStatus, &f.ContactID, &f.ContactName, &f.ContactUserID, &f.RedialsLeft, &f.Body,
			&f.OrgName, &f.SiteName, &f.UnitName, &f.TimeZone, &f.TempUnit, &f.AlertType, &f.Severity, &f.TemperatureC,
			&f.LimitC, &f.CurrentC, &f.TriggeredAt, &providerID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if providerID != "" && providerID != ref.CallControlID {
			return nil // another call than the one this row placed
		}
		res.Found = true
		u := decide(*f)
		if u.Acknowledge && f.AlertID != "" {
			if res.AckOutcome, err = acknowledgeFromCall(ctx, tx, *f, u, ev.ID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE notifications SET call_state = coalesce(nullif($2, ''), call_state),
				status = coalesce(nullif($3, ''), status), last_error = coalesce(nullif($4, ''), last_error),
				provider_message_id = coalesce(provider_message_id, nullif($5, '')),
				sent_at = coalesce(sent_at, CASE WHEN $3 <> '' THEN $6::timestamptz END),
				delivered_at = CASE WHEN $3 = 'delivered' THEN $6 ELSE delivered_at END,
				failed_at = CASE WHEN $3 = 'failed' THEN $6 ELSE failed_at END, updated_at = now()
			WHERE id = $1`, f.ID, u.State, u.Status, u.Reason, ref.CallControlID, u.At); err != nil {
			return err
		}
		if u.Redial {
			err := tx.QueryRow(ctx, `INSERT INTO notifications (organization_id, alert_id, kind, escalation_step, contact_id,
					recipient, channel, subject, body, call_state, redial, redials_left, redial_after_seconds, next_attempt_at)
				SELECT n.organization_id, n.alert_id, n.kind, n.escalation_step, n.contact_id, n.recipient, 'voice', n.subject, n.body,
					'queued', n.redial + 1, n.redials_left - 1, n.redial_after_seconds, $2::timestamptz + make_interval(secs => n.redial_after_seconds)
				FROM notifications n JOIN alerts a ON a.id = n.alert_id AND a.organization_id = n.organization_id
				WHERE n.id = $1 AND n.kind = 'alert' AND n.redials_left > 0 AND a.status = 'active'
				ON CONFLICT ON CONSTRAINT notifications_once_per_step_key DO NOTHING
				RETURNING next_attempt_at`, f.ID, u.At).Scan(&res.RedialAt)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if u.Fallback && res.RedialAt.IsZero() {
			// Nobody heard the alarm and no call follows: the contact's
			// next channel.
			res.Fallback = true
			if _, err := tx.Exec(ctx, `UPDATE notifications SET fallback_due = `+fallbackDueSQL+` WHERE id = $1`, f.ID); err != nil {
				return err
			}
		}
		if u.Event != "" && f.AlertID != "" {
			data := map[string]any{"channel": "voice", "notification_id": f.ID, "contact_id": f.ContactID, "call_state": u.State}
			note := u.EventNote
			if !res.RedialAt.IsZero() {
				data["redial_at"] = res.RedialAt.UTC()
				note += fmt.Sprintf("; calling again in %d minutes", int(res.RedialAt.Sub(u.At).Round(time.Minute)/time.Minute))
			}
			b, _ := json.Marshal(data)
			if _, err := tx.Exec(ctx, `INSERT INTO alert_events (organization_id, alert_id, kind, note, data, at)
				VALUES ($1, $2, $3, $4, $5, $6)`, f.OrgID, f.AlertID, u.Event, note, b, u.At); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, nil
}

// acknowledgeFromCall acknowledges the call's alert for its contact (key 1
// on the call), through the same write as "ACK <code>" by SMS.
func acknowledgeFromCall(ctx context.Context, tx pgx.Tx, f CallFacts, u CallUpdate, eventID string) (string, error) {
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM alerts WHERE id = $1 AND organization_id = $2 FOR UPDATE`,
		f.AlertID, f.OrgID).Scan(&status); err != nil {
		return "", err
	}
	switch status {
	case "acknowledged":
		return "already_acknowledged", nil
	case "resolved":
		return "resolved", nil
	}
	return "acknowledged", acknowledgeByContact(ctx, tx, contactAck{OrgID: f.OrgID, AlertID: f.AlertID, ContactID: f.ContactID,
		UserID: f.ContactUserID, Channel: "voice", Note: u.AckNote, EventID: eventID, At: u.At})
}
