package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
)

// EscalationContact is someone notification policies page (a row of
// escalation_contacts).
type EscalationContact struct {
	ID       string  `json:"id"`
	UserID   *string `json:"user_id"`
	Name     string  `json:"name"`
	Phone    *string `json:"phone"` // E.164
	Email    *string `json:"email"`
	Priority int     `json:"priority"`
	IsActive bool    `json:"is_active"`
	// PhoneVerified and EmailVerified: the current phone or address was
	// confirmed with a one-time code (a change clears it). A non-paying
	// organisation pages only verified destinations.
	PhoneVerified bool `json:"phone_verified"`
	EmailVerified bool `json:"email_verified"`
	// VoiceOptOut: the contact does not take calls (voice pages to them are
	// skipped; SMS and e-mail still go).
	VoiceOptOut bool `json:"voice_opt_out"`
	// PhoneCountry is the phone's country (ISO 3166-1 alpha-2), null when
	// unknown; Warnings say why a destination may not be paged (the api
	// fills both).
	PhoneCountry *string   `json:"phone_country"`
	Warnings     []string  `json:"warnings"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ContactFilter selects one page of contacts, ordered by (created_at, id).
type ContactFilter struct {
	Active       *bool
	UpdatedSince time.Time
	AfterCreated time.Time
	AfterID      string
	Limit        int
}

const contactCols = `c.id, c.user_id, c.name, c.phone, c.email, c.priority, c.is_active,
	c.phone_verified_at IS NOT NULL, c.email_verified_at IS NOT NULL, c.voice_opt_out, c.created_at, c.updated_at`

func scanContact(row pgx.Row) (EscalationContact, error) {
	var c EscalationContact
	err := row.Scan(&c.ID, &c.UserID, &c.Name, &c.Phone, &c.Email, &c.Priority, &c.IsActive,
		&c.PhoneVerified, &c.EmailVerified, &c.VoiceOptOut, &c.CreatedAt, &c.UpdatedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// ListContacts lists the organisation's escalation contacts.
func (db *DB) ListContacts(ctx context.Context, orgID string, f ContactFilter) (_ []EscalationContact, err error) {
	defer wrap(&err, "store.ListContacts")
	var q hierQuery
	q.where("c.organization_id = ?", orgID)
	if f.Active != nil {
		q.where("c.is_active = ?", *f.Active)
	}
	if !f.UpdatedSince.IsZero() {
		q.where("c.updated_at > ?", f.UpdatedSince)
	}
	if f.AfterID != "" {
		q.where("(c.created_at, c.id) > (?::timestamptz, ?::uuid)", f.AfterCreated, f.AfterID)
	}
	q.args = append(q.args, f.Limit)
	sql := `SELECT ` + contactCols + ` FROM escalation_contacts c WHERE ` + strings.Join(q.conds, " AND ") +
		` ORDER BY c.created_at, c.id LIMIT $` + strconv.Itoa(len(q.args))
	rows, err := db.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EscalationContact, error) { return scanContact(r) })
	return out, Classify(err)
}

// GetContact returns one contact of the organisation (active or not).
func (db *DB) GetContact(ctx context.Context, orgID, id string) (_ EscalationContact, err error) {
	defer wrap(&err, "store.GetContact")
	c, err := scanContact(db.pool.QueryRow(ctx, `SELECT `+contactCols+` FROM escalation_contacts c
		WHERE c.id = $1 AND c.organization_id = $2`, id, orgID))
	return c, hierNotFound(err, "contact")
}

// CreateContact inserts a contact. A user_id must name an active member of
// the organisation (checked in the same statement: a field error, no row).
func (db *DB) CreateContact(ctx context.Context, orgID string, in EscalationContact) (_ EscalationContact, err error) {
	defer wrap(&err, "store.CreateContact")
	var out EscalationContact
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := checkMember(ctx, tx, orgID, in.UserID); err != nil {
			return err
		}
		var err error
		out, err = scanContact(tx.QueryRow(ctx, `INSERT INTO escalation_contacts AS c (organization_id, user_id, name, phone, email, priority, is_active, voice_opt_out)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+contactCols,
			orgID, in.UserID, in.Name, in.Phone, in.Email, in.Priority, in.IsActive, in.VoiceOptOut))
		return err
	})
	return out, Classify(err)
}

// UpdateContact applies apply to a contact under its row lock and saves it.
// apply validates; its error aborts before anything is written.
func (db *DB) UpdateContact(ctx context.Context, orgID, id string, apply func(*EscalationContact) error) (_ EscalationContact, err error) {
	defer wrap(&err, "store.UpdateContact")
	var out EscalationContact
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		c, err := scanContact(tx.QueryRow(ctx, `SELECT `+contactCols+` FROM escalation_contacts c
			WHERE c.id = $1 AND c.organization_id = $2 FOR UPDATE`, id, orgID))
		if err != nil {
			return hierNotFound(err, "contact")
		}
		before := c.UserID
		if err := apply(&c); err != nil {
			return err
		}
		if c.UserID != nil && (before == nil || *before != *c.UserID) {
			if err := checkMember(ctx, tx, orgID, c.UserID); err != nil {
				return err
			}
		}
		// A changed phone or address is no longer verified (SET reads the
		// old row).
		out, err = scanContact(tx.QueryRow(ctx, `UPDATE escalation_contacts AS c SET user_id = $3, name = $4, phone = $5,
				email = $6, priority = $7, is_active = $8, voice_opt_out = $9, updated_at = now(),
				phone_verified_at = CASE WHEN c.phone IS NOT DISTINCT FROM $5 THEN c.phone_verified_at END,
				email_verified_at = CASE WHEN lower(c.email) IS NOT DISTINCT FROM lower($6) THEN c.email_verified_at END
			WHERE c.id = $1 AND c.organization_id = $2 RETURNING `+contactCols,
			id, orgID, c.UserID, c.Name, c.Phone, c.Email, c.Priority, c.IsActive, c.VoiceOptOut))
		return err
	})
	return out, Classify(err)
}

// DeactivateContact sets is_active = false. Contacts are never deleted:
// policies name them inside jsonb and the notification log points at them.
func (db *DB) DeactivateContact(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeactivateContact")
	return execChanged(ctx, db, apperr.New(apperr.NotFound, "contact not found"), `UPDATE escalation_contacts SET is_active = false,
			updated_at = CASE WHEN is_active THEN now() ELSE updated_at END
		WHERE id = $1 AND organization_id = $2`, id, orgID)
}

func checkMember(ctx context.Context, tx pgx.Tx, orgID string, userID *string) error {
	if userID == nil {
		return nil
	}
	var ok bool
	err := tx.QueryRow(ctx, `SELECT true FROM memberships WHERE organization_id = $1 AND user_id = $2 AND status = 'active'`,
		orgID, *userID).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.Validation(apperr.FieldError{Field: "user_id", Message: "must be an active member of the organization"})
	}
	return err
}

// SMSOptOut is a phone number that texted STOP, with the organisation's
// contacts that use it.
type SMSOptOut struct {
	Phone      string        `json:"phone"`
	OptedOutAt time.Time     `json:"opted_out_at"`
	Source     string        `json:"source"`
	Contacts   []ContactName `json:"contacts"`
}

// ContactName names a contact.
type ContactName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ListSMSOptOuts lists the opted-out numbers among the organisation's
// contacts, newest first. sms_opt_outs is global (one shared sender): only
// numbers of this org's contacts are shown, so the list says nothing about
// other tenants. It is bounded by the number of contacts.
func (db *DB) ListSMSOptOuts(ctx context.Context, orgID string) (_ []SMSOptOut, err error) {
	defer wrap(&err, "store.ListSMSOptOuts")
	rows, err := db.pool.Query(ctx, `SELECT o.phone, o.opted_out_at, o.source,
			json_agg(json_build_object('id', c.id, 'name', c.name) ORDER BY c.name, c.id)
		FROM sms_opt_outs o JOIN escalation_contacts c ON c.phone = o.phone AND c.organization_id = $1
		GROUP BY o.phone, o.opted_out_at, o.source
		ORDER BY o.opted_out_at DESC, o.phone`, orgID)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SMSOptOut, error) {
		var o SMSOptOut
		err := r.Scan(&o.Phone, &o.OptedOutAt, &o.Source, &o.Contacts)
		o.OptedOutAt = o.OptedOutAt.UTC()
		return o, err
	})
	return out, Classify(err)
}
