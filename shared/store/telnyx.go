package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// TelnyxEventKey identifies one Telnyx webhook event for deduplication
// (telnyx_events). Every method below inserts it in the same transaction as
// the change the event causes: a duplicate changes nothing, and a failed
// change leaves no row, so Telnyx's retry is processed.
type TelnyxEventKey struct {
	ID, Type   string
	OccurredAt time.Time // zero = unknown
}

// telnyxRecordEvent inserts the event row; false means it was already there
// (a concurrent copy waits on the unique key until the first commits).
func telnyxRecordEvent(ctx context.Context, tx pgx.Tx, ev TelnyxEventKey) (bool, error) {
	var occurred *time.Time
	if !ev.OccurredAt.IsZero() {
		occurred = &ev.OccurredAt
	}
	tag, err := tx.Exec(ctx, `INSERT INTO telnyx_events (event_id, event_type, occurred_at)
		VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING`, ev.ID, ev.Type, occurred)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// RecordTelnyxEvent only records the event (events with no effect in the
// database, such as HELP). false = duplicate.
func (db *DB) RecordTelnyxEvent(ctx context.Context, ev TelnyxEventKey) (fresh bool, err error) {
	defer wrap(&err, "store.RecordTelnyxEvent")
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		fresh, err = telnyxRecordEvent(ctx, tx, ev)
		return err
	})
	return fresh, err
}

// DeliveryReceipt is a Telnyx receipt applied to the outbox row whose
// provider_message_id is MessageID.
type DeliveryReceipt struct {
	MessageID string
	// Outcome: sent, delivered, failed, or unconfirmed (finalized without
	// confirmation: the row becomes at least sent and keeps Error as reason).
	Outcome string
	At      time.Time // when it happened (Telnyx's time)
	Error   string    // failed / unconfirmed: provider error text
}

// ReceiptResult says what a receipt did.
type ReceiptResult struct {
	Duplicate bool   // the event was already processed
	Found     bool   // a notification has this provider message id
	Changed   bool   // the row moved (or gained its unconfirmed reason)
	Status    string // the row's status afterwards
}

// Which statuses each outcome may move a row from. Statuses only move
// forward: pending < sending < sent < delivered | failed; skipped, delivered
// and failed are final, so a late message.sent after finalized, or a second
// finalized, changes nothing.
const (
	receiptSentSQL = `UPDATE notifications SET status = 'sent', sent_at = coalesce(sent_at, $2), updated_at = now()
		WHERE id = $1 AND status IN ('pending', 'sending')`
	receiptDeliveredSQL = `UPDATE notifications SET status = 'delivered', delivered_at = $2,
		sent_at = coalesce(sent_at, $2), updated_at = now()
		WHERE id = $1 AND status IN ('pending', 'sending', 'sent')`
	receiptFailedSQL = `UPDATE notifications SET status = 'failed', failed_at = $2, last_error = $3, updated_at = now(),
		fallback_due = ` + fallbackDueSQL + `
		WHERE id = $1 AND status IN ('pending', 'sending', 'sent')`
	receiptUnconfirmedSQL = `UPDATE notifications SET status = 'sent', sent_at = coalesce(sent_at, $2),
		last_error = $3, updated_at = now()
		WHERE id = $1 AND status IN ('pending', 'sending', 'sent')`
)

// ApplyTelnyxReceipt records the event and applies the receipt to its
// notification, in one transaction. An unknown message id is not an error
// (Found false): the event is recorded and the receipt held until the
// dispatcher stores that id (MarkOutboxSent applies it then).
func (db *DB) ApplyTelnyxReceipt(ctx context.Context, ev TelnyxEventKey, r DeliveryReceipt) (_ ReceiptResult, err error) {
	defer wrap(&err, "store.ApplyTelnyxReceipt")
	var res ReceiptResult
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		res = ReceiptResult{}
		fresh, err := telnyxRecordEvent(ctx, tx, ev)
		if err != nil || !fresh {
			res.Duplicate = !fresh
			return err
		}
		// Lock the row: a dispatcher finishing its send and two receipts for
		// the same message serialise here.
		var id string
		err = tx.QueryRow(ctx, `SELECT id, status FROM notifications WHERE provider_message_id = $1 FOR UPDATE`,
			r.MessageID).Scan(&id, &res.Status)
		if errors.Is(err, pgx.ErrNoRows) {
			// Telnyx can be faster than the dispatcher's write of the id.
			return holdEarlyReceipt(ctx, tx, r)
		}
		if err != nil {
			return err
		}
		res.Found = true
		res.Changed, res.Status, err = applyReceipt(ctx, tx, id, res.Status, r)
		return err
	})
	return res, err
}

// applyReceipt moves notification id (now in status) as receipt r says,
// forward only.
func applyReceipt(ctx context.Context, tx pgx.Tx, id, status string, r DeliveryReceipt) (changed bool, after string, err error) {
	var sql string
	args := []any{id, r.At}
	switch r.Outcome {
	case "sent":
		sql = receiptSentSQL
	case "delivered":
		sql = receiptDeliveredSQL
	case "failed":
		sql, args = receiptFailedSQL, append(args, r.Error)
	case "unconfirmed":
		sql, args = receiptUnconfirmedSQL, append(args, r.Error)
	default:
		return false, status, nil
	}
	err = tx.QueryRow(ctx, sql+` RETURNING status`, args...).Scan(&after)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, status, nil
	}
	if err != nil {
		return false, status, err
	}
	return true, after, nil
}

// holdEarlyReceipt keeps a receipt for a message id no notification carries
// yet; of several, the furthest outcome (then the latest) is kept.
func holdEarlyReceipt(ctx context.Context, tx pgx.Tx, r DeliveryReceipt) error {
	_, err := tx.Exec(ctx, `INSERT INTO telnyx_early_receipts (provider_message_id, outcome, occurred_at, error)
		VALUES ($1, $2, $3, nullif($4, ''))
		ON CONFLICT (provider_message_id) DO UPDATE SET outcome = excluded.outcome,
			occurred_at = excluded.occurred_at, error = excluded.error, received_at = now()
		WHERE (excluded.outcome IN ('delivered', 'failed')) > (telnyx_early_receipts.outcome IN ('delivered', 'failed'))
			OR ((excluded.outcome IN ('delivered', 'failed')) = (telnyx_early_receipts.outcome IN ('delivered', 'failed'))
				AND excluded.occurred_at > telnyx_early_receipts.occurred_at)`,
		r.MessageID, r.Outcome, r.At, r.Error)
	return err
}

// applyEarlyReceipt applies (and removes) the receipt held for providerID
// to notification id, which has just been marked sent.
func applyEarlyReceipt(ctx context.Context, tx pgx.Tx, id, providerID string) error {
	r := DeliveryReceipt{MessageID: providerID}
	var errText *string
	err := tx.QueryRow(ctx, `DELETE FROM telnyx_early_receipts WHERE provider_message_id = $1
		RETURNING outcome, occurred_at, error`, providerID).Scan(&r.Outcome, &r.At, &errText)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if errText != nil {
		r.Error = *errText
	}
	_, _, err = applyReceipt(ctx, tx, id, "sent", r)
	return err
}

// SetSMSOptOut records (optOut) or removes an opt-out of phone (E.164) with
// the event. An opt-out keeps its first time; source becomes inbound_sms.
func (db *DB) SetSMSOptOut(ctx context.Context, ev TelnyxEventKey, phone string, optOut bool, at time.Time) (fresh bool, err error) {
	defer wrap(&err, "store.SetSMSOptOut")
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if fresh, err = telnyxRecordEvent(ctx, tx, ev); err != nil || !fresh {
			return err
		}
		action := "sms.opted_in"
		if optOut {
			action = "sms.opted_out"
			_, err = tx.Exec(ctx, `INSERT INTO sms_opt_outs (phone, opted_out_at, source) VALUES ($1, $2, 'inbound_sms')
				ON CONFLICT (phone) DO UPDATE SET source = 'inbound_sms'`, phone, at)
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM sms_opt_outs WHERE phone = $1`, phone)
		}
		if err != nil {
			return err
		}
		// The list is global (one shared sender); the change is audited in
		// each organisation where the number is a contact (actor provider).
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (organization_id, actor_type, action, entity_type, entity_id, after, at)
			SELECT organization_id, 'provider', $2, 'contact', id, jsonb_build_object('phone', phone, 'event_id', $4::text), $3
			FROM escalation_contacts WHERE phone = $1`, phone, action, at, ev.ID)
		return err
	})
	return fresh, err
}

// SMSAck is what an "ACK <code>" text did.
type SMSAck struct {
	Duplicate bool
	// Outcome: acknowledged, already_acknowledged, unknown_code (the sender
	// is a contact but no open alert of their organisations has the code),
	// not_contact (the phone is no active escalation contact anywhere), or
	// ambiguous (the code matches open alerts in several of the sender's
	// organisations: none is acknowledged, silencing the wrong alarm is worse).
	Outcome        string
	OrganizationID string
	AlertID        string
	ContactID      string
	ContactName    string
	// OptedOut: the phone is on the opt-out list (do not reply).
	OptedOut bool
}

// The limit on wrong ACK codes per phone: AckFailureLimit failures within
// AckFailureWindow, then silence until the window moves on.
const (
	AckFailureLimit  = 5
	AckFailureWindow = time.Hour
)

// AcknowledgeAlertBySMS acknowledges the open alert with ackCode of an
// organisation in which phone is an active escalation contact, exactly as
// AcknowledgeAlert does (acknowledged_by is the contact's linked user, if
// any), with note(contactName) as acknowledged_note and an 'acknowledged'
// alert event {channel: sms, contact_id}. Recorded with the event. Only a
// phone the alert paged may acknowledge it, and a phone past
// AckFailureLimit wrong codes in the hour is "throttled".
func (db *DB) AcknowledgeAlertBySMS(ctx context.Context, ev TelnyxEventKey, phone, ackCode string, at time.Time,
	note func(contactName string) string) (_ SMSAck, err error) {
	defer wrap(&err, "store.AcknowledgeAlertBySMS")
	var out SMSAck
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		out = SMSAck{}
		fresh, err := telnyxRecordEvent(ctx, tx, ev)
		if err != nil || !fresh {
			out.Duplicate = !fresh
			return err
		}
		var contacts int
		if err := tx.QueryRow(ctx, `SELECT count(*), EXISTS (SELECT 1 FROM sms_opt_outs WHERE phone = $1)
			FROM escalation_contacts WHERE phone = $1 AND is_active`, phone).Scan(&contacts, &out.OptedOut); err != nil {
			return err
		}
		if contacts == 0 {
			out.Outcome = "not_contact"
			return nil
		}
		// Codes are short: a phone that failed AckFailureLimit times in the
		// last hour is not heard (nor answered) for the rest of it.
		var failures int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM sms_ack_failures WHERE phone = $1 AND at > $2`,
			phone, at.Add(-AckFailureWindow)).Scan(&failures); err != nil {
			return err
		}
		if failures >= AckFailureLimit {
			out.Outcome = "throttled"
			return nil
		}
		countFailure := func(outcome string) error {
			out.Outcome = outcome
			_, err := tx.Exec(ctx, `INSERT INTO sms_ack_failures (phone, at) VALUES ($1, $2)`, phone, at)
			return err
		}
		// One contact per organisation (the same number may be entered twice:
		// the most senior entry speaks for it). Lock the alerts: a concurrent
		// ACK or api acknowledge then sees the new status.
		rows, err := tx.Query(ctx, `WITH c AS (
				SELECT DISTINCT ON (organization_id) id, organization_id, name, user_id
				FROM escalation_contacts WHERE phone = $1 AND is_active
				ORDER BY organization_id, priority, created_at, id)
			SELECT a.id, a.organization_id, a.status, c.id, c.name, c.user_id
			FROM c JOIN alerts a ON a.organization_id = c.organization_id
			WHERE a.ack_code = $2 AND a.status <> 'resolved' AND a.organization_id NOT IN `+hiddenOrgs+`
			-- only from a phone the alert paged (a code is no key to
			-- someone else's alarm)
			AND EXISTS (SELECT 1 FROM notifications n WHERE n.alert_id = a.id AND n.kind = 'alert'
				AND n.status IN ('sent', 'delivered', 'sending')
				AND (n.recipient = $1 OR n.contact_id IN (SELECT id FROM escalation_contacts pc
					WHERE pc.organization_id = a.organization_id AND pc.phone = $1)))
			FOR UPDATE OF a`, phone, ackCode)
		if err != nil {
			return err
		}
		type match struct {
			alertID, orgID, status, contactID, name string
			userID                                  *string
		}
		var ms []match
		for rows.Next() {
			var m match
			if err := rows.Scan(&m.alertID, &m.orgID, &m.status, &m.contactID, &m.name, &m.userID); err != nil {
				rows.Close()
				return err
			}
			ms = append(ms, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		switch {
		case len(ms) == 0:
			return countFailure("unknown_code")
		case len(ms) > 1:
			return countFailure("ambiguous")
		}
		m := ms[0]
		out.OrganizationID, out.AlertID, out.ContactID, out.ContactName = m.orgID, m.alertID, m.contactID, m.name
		if m.status != "active" {
			out.Outcome = "already_acknowledged"
			return nil
		}
		out.Outcome = "acknowledged"
		return acknowledgeByContact(ctx, tx, contactAck{OrgID: m.orgID, AlertID: m.alertID, ContactID: m.contactID,
			UserID: m.userID, Channel: "sms", Note: note(m.name), EventID: ev.ID, At: at})
	})
	return out, err
}

// contactAck is an escalation contact acknowledging an alert from a page:
// "ACK <code>" by SMS, or key 1 on a call.
type contactAck struct {
	OrgID, AlertID, ContactID string
	UserID                    *string // the contact's linked user, if any
	Channel                   string  // sms, voice
	Note                      string
	EventID                   string // the Telnyx event that carried it
	At                        time.Time
}

// acknowledgeByContact acknowledges an active alert (locked by the caller)
// for a contact, in the caller's transaction, exactly as the api's
// acknowledge does: acknowledged_by is the contact's linked user, the
// escalation stops, an 'acknowledged' alert event {channel, contact_id} and
// an audit line (actor provider, or that user). Every page a contact
// answers acknowledges through here.
func acknowledgeByContact(ctx context.Context, tx pgx.Tx, a contactAck) error {
	if _, err := tx.Exec(ctx, `UPDATE alerts SET status = 'acknowledged', acknowledged_by = $3, acknowledged_at = $4,
		acknowledged_note = $5, next_escalation_at = NULL, updated_at = now()
		WHERE organization_id = $1 AND id = $2`, a.OrgID, a.AlertID, a.UserID, a.At, a.Note); err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]string{"channel": a.Channel, "contact_id": a.ContactID})
	if _, err := tx.Exec(ctx, `INSERT INTO alert_events (organization_id, alert_id, kind, actor_user_id, note, data, at)
		VALUES ($1, $2, 'acknowledged', $3, $4, $5, $6)`, a.OrgID, a.AlertID, a.UserID, a.Note, data, a.At); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (organization_id, actor_user_id, actor_type, action, entity_type, entity_id, before, after, at)
		VALUES ($1, $3, CASE WHEN $3::uuid IS NULL THEN 'provider' ELSE 'user' END, $7, 'alert', $2,
			'{"status":"active"}', jsonb_build_object('status', 'acknowledged', 'contact_id', nullif($4::text, ''), 'event_id', $5::text), $6)`,
		a.OrgID, a.AlertID, a.UserID, a.ContactID, a.EventID, a.At, "alert.acknowledged_by_"+a.Channel)
	return err
}
