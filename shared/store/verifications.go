package store

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// VerificationStarted is a code on its way.
type VerificationStarted struct {
	Channel   string    `json:"channel"`
	SentTo    string    `json:"sent_to"` // masked
	ExpiresAt time.Time `json:"expires_at"`
}

// StartContactVerification replaces the contact's code for channel with a
// new one and queues its message (kind 'verification') in the same
// transaction. The contact must be active and have that destination; a new
// code within domain.VerificationResendInterval of the last is RateLimited.
func (db *DB) StartContactVerification(ctx context.Context, orgID, contactID, channel, code string, now time.Time) (_ VerificationStarted, err error) {
	defer wrap(&err, "store.StartContactVerification")
	out := VerificationStarted{Channel: channel, ExpiresAt: now.Add(domain.VerificationTTL)}
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var dest *string
		var orgName string
		err := tx.QueryRow(ctx, `SELECT CASE WHEN $3 = 'sms' THEN c.phone ELSE lower(c.email) END, o.name
			FROM escalation_contacts c JOIN organizations o ON o.id = c.organization_id
			WHERE c.id = $1 AND c.organization_id = $2 AND c.is_active FOR UPDATE OF c`, contactID, orgID, channel).Scan(&dest, &orgName)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "contact not found")
		}
		if err != nil {
			return err
		}
		if dest == nil {
			return apperr.Validation(apperr.FieldError{Field: "channel", Message: "the contact has no " + map[string]string{"sms": "phone number", "email": "e-mail address"}[channel]})
		}
		var last time.Time
		err = tx.QueryRow(ctx, `SELECT created_at FROM contact_verifications WHERE contact_id = $1 AND channel = $2`, contactID, channel).Scan(&last)
		switch {
		case err == nil && last.After(now.Add(-domain.VerificationResendInterval)):
			return apperr.New(apperr.RateLimited, "a code was sent less than a minute ago: wait before asking for another")
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		id := domain.NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO contact_verifications (id, organization_id, contact_id, channel, destination, code_hash, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT ON CONSTRAINT contact_verifications_one_per_channel DO UPDATE SET id = EXCLUDED.id,
				destination = EXCLUDED.destination, code_hash = EXCLUDED.code_hash, attempts = 0,
				expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at`,
			id, orgID, contactID, channel, *dest, domain.VerificationHash(id, code), out.ExpiresAt, now); err != nil {
			return err
		}
		subject, body := domain.VerificationMessage(orgName, code, channel)
		if _, err := tx.Exec(ctx, `INSERT INTO notifications (organization_id, kind, contact_id, recipient, channel, subject, body)
			VALUES ($1, 'verification', $2, $3, $4, nullif($5, ''), $6)`, orgID, contactID, *dest, channel, subject, body); err != nil {
			return err
		}
		out.SentTo = maskDestination(channel, *dest)
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, nil
}

func maskDestination(channel, dest string) string {
	if channel == "sms" {
		return domain.MaskPhone(dest)
	}
	if at := strings.LastIndexByte(dest, '@'); at > 0 {
		return dest[:1] + "***" + dest[at:]
	}
	return "***"
}

// errWrongCode is answered after the failed attempt was counted (committed).
var errWrongCode = apperr.Validation(apperr.FieldError{Field: "code", Message: "is not the code that was sent"})

// ConfirmContactVerification checks a code: the right one, in time, within
// domain.VerificationMaxAttempts tries, for the destination the contact
// still has, marks that destination verified. A wrong code counts an
// attempt (committed) and is a field error on code; too many attempts or an
// expired code is a Conflict (ask for a new one).
func (db *DB) ConfirmContactVerification(ctx context.Context, orgID, contactID, channel, code string, now time.Time) (_ EscalationContact, err error) {
	defer wrap(&err, "store.ConfirmContactVerification")
	var out EscalationContact
	wrong := false
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var id, dest string
		var hash []byte
		var attempts int
		var expires time.Time
		var found bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM escalation_contacts WHERE id = $1 AND organization_id = $2)`,
			contactID, orgID).Scan(&found); err != nil {
			return err
		}
		if !found {
			return apperr.New(apperr.NotFound, "contact not found")
		}
		err := tx.QueryRow(ctx, `SELECT v.id, v.destination, v.code_hash, v.attempts, v.expires_at FROM contact_verifications v
			WHERE v.contact_id = $1 AND v.organization_id = $2 AND v.channel = $3 FOR UPDATE`, contactID, orgID, channel).
			Scan(&id, &dest, &hash, &attempts, &expires)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return apperr.New(apperr.Conflict, "no code was sent for this channel: ask for one first")
		case err != nil:
			return err
		case !expires.After(now):
			return apperr.New(apperr.Conflict, "the code has expired: ask for a new one")
		case attempts >= domain.VerificationMaxAttempts:
			return apperr.New(apperr.Conflict, "too many wrong codes: ask for a new one")
		}
		if subtle.ConstantTimeCompare(domain.VerificationHash(id, code), hash) != 1 {
			wrong = true
			_, err := tx.Exec(ctx, `UPDATE contact_verifications SET attempts = attempts + 1 WHERE id = $1`, id)
			return err
		}
		column := map[string]string{"sms": "phone", "email": "email"}[channel]
		out, err = scanContact(tx.QueryRow(ctx, `UPDATE escalation_contacts AS c SET `+column+`_verified_at = $4, updated_at = now()
			WHERE c.id = $1 AND c.organization_id = $2 AND lower(c.`+column+`) = lower($3) RETURNING `+contactCols,
			contactID, orgID, dest, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.Conflict, "the contact's %s changed since the code was sent: ask for a new one", column)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM contact_verifications WHERE id = $1`, id)
		return err
	})
	if err == nil && wrong {
		err = errWrongCode
	}
	if err != nil {
		return out, err
	}
	return out, nil
}

// OrgSMSCountries returns the organisation's configured SMS countries (nil:
// the default), the effective ones (configured, else its sites') and
// whether it does not pay (the dispatcher then enforces them and pages only
// verified contacts).
func (db *DB) OrgSMSCountries(ctx context.Context, orgID string) (configured, effective []string, trial bool, err error) {
	defer wrap(&err, "store.OrgSMSCountries")
	err = db.pool.QueryRow(ctx, `SELECT o.sms_allowed_countries, `+effectiveSMSCountries+`, `+orgDoesNotPay+`
		FROM organizations o WHERE o.id = $1`, orgID).Scan(&configured, &effective, &trial)
	if err != nil {
		return nil, nil, false, Classify(err)
	}
	return configured, effective, trial, nil
}

// ContactsByID returns the organisation's contacts among ids (active or
// not), keyed by id.
func (db *DB) ContactsByID(ctx context.Context, orgID string, ids []string) (_ map[string]EscalationContact, err error) {
	defer wrap(&err, "store.ContactsByID")
	rows, err := db.pool.Query(ctx, `SELECT `+contactCols+` FROM escalation_contacts c
		WHERE c.organization_id = $1 AND c.id::text = ANY($2)`, orgID, ids)
	if err != nil {
		return nil, Classify(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EscalationContact, error) { return scanContact(r) })
	if err != nil {
		return nil, Classify(err)
	}
	out := make(map[string]EscalationContact, len(list))
	for _, c := range list {
		out[c.ID] = c
	}
	return out, nil
}
