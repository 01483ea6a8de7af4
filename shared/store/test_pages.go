package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// Test pages: a manager sends a clearly marked test message to a contact on
// one channel to prove it reaches them; it is an outbox row of kind 'test'
// (the dispatcher sends it, never held by quiet hours; the notification log
// shows what became of it, with the provider's reason).

// Test page limits per contact: one a minute, five an hour (every channel
// together), so the route cannot be used to flood a phone.
const (
	TestPageInterval = time.Minute
	TestPagesPerHour = 5
)

// TestPageRender renders a test page for the organisation's and the
// contact's names: the e-mail subject ("" otherwise) and the body.
type TestPageRender func(orgName, contactName string) (subject, body string)

// QueueTestPage queues a test page to the contact on channel (sms, email,
// voice) and returns its log entry. A contact of another organisation, or
// deactivated, is NotFound; one without that phone or address a field
// error; a contact past its limits RateLimited.
func (db *DB) QueueTestPage(ctx context.Context, orgID, contactID, channel string, render TestPageRender, now time.Time) (_ domain.Notification, err error) {
	defer wrap(&err, "store.QueueTestPage")
	var n domain.Notification
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var dest *string
		var orgName, name string
		err := tx.QueryRow(ctx, `SELECT CASE WHEN $3 = 'email' THEN lower(c.email) ELSE c.phone END, o.name, c.name
			FROM escalation_contacts c JOIN organizations o ON o.id = c.organization_id
			WHERE c.id = $1 AND c.organization_id = $2 AND c.is_active FOR UPDATE OF c`, contactID, orgID, channel).Scan(&dest, &orgName, &name)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "contact not found")
		}
		if err != nil {
			return err
		}
		if dest == nil {
			what := "phone number"
			if channel == "email" {
				what = "e-mail address"
			}
			return apperr.Validation(apperr.FieldError{Field: "channel", Message: "the contact has no " + what})
		}
		// The contact's row lock serialises concurrent requests: the count
		// below cannot be raced past.
		var recent int
		var last *time.Time
		if err := tx.QueryRow(ctx, `SELECT count(*), max(created_at) FROM notifications
			WHERE organization_id = $1 AND contact_id = $2 AND kind = 'test' AND created_at > $3`,
			orgID, contactID, now.Add(-time.Hour)).Scan(&recent, &last); err != nil {
			return err
		}
		switch {
		case last != nil && last.After(now.Add(-TestPageInterval)):
			return apperr.New(apperr.RateLimited, "a test page was sent to this contact less than a minute ago: wait before sending another")
		case recent >= TestPagesPerHour:
			return apperr.New(apperr.RateLimited, "this contact received %d test pages in the last hour, the most allowed: try again later", recent)
		}
		subject, body := render(orgName, name)
		row := tx.QueryRow(ctx, `INSERT INTO notifications (organization_id, kind, contact_id, recipient, channel, subject, body,
				call_state, next_attempt_at, created_at, updated_at)
			VALUES ($1, 'test', $2, $3, $4, nullif($5, ''), $6, CASE WHEN $4 = 'voice' THEN 'queued' END, $7, $7, $7)
			RETURNING `+notificationLogColumns,
			orgID, contactID, *dest, channel, subject, body, now)
		if err := scanNotification(row, &n); err != nil {
			return err
		}
		n.UTC()
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, nil
}
