package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// An invitation is a pending membership (user_id NULL, invited_email set)
// until the invited person accepts it with a verified e-mail address; it is
// never claimed at sign-in, and it lapses after domain.InvitationTTL. Its
// e-mail is an outbox row (kind 'invitation') written in the transaction
// that creates or resends it, so the dispatcher sends it with the same
// senders, retries and limits as every other message.

// InvitationMail renders an invitation's e-mail from what the transaction
// read (the organisation's name, the inviter's).
type InvitationMail func(domain.InvitationFacts) (subject, body string)

// NewInvitation is POST .../members.
type NewInvitation struct {
	ID        string // chosen by the caller (domain.NewID): the e-mail links to it
	Email     string // as typed; stored lower-cased
	Role      access.Role
	InviterID string
	Now       time.Time
}

// InviteMember creates a pending invitation and queues its e-mail, whether
// or not the address has an account (the answer is the same). An address
// that is already a member of the organisation, or already invited and not
// expired, is a Conflict on email; an expired invitation of the address is
// renewed (new role, new expiry, new e-mail).
func (db *DB) InviteMember(ctx context.Context, orgID string, in NewInvitation, mail InvitationMail) (_ domain.OrgMember, err error) {
	defer wrap(&err, "store.InviteMember")
	var m domain.OrgMember
	email := strings.ToLower(in.Email)
	expires := in.Now.Add(domain.InvitationTTL)
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var member bool
		var pendingID string
		var pendingExpires time.Time
		err := tx.QueryRow(ctx, `SELECT
				EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
					WHERE m.organization_id = $1 AND m.status = 'active' AND lower(u.email) = $2),
				coalesce((SELECT id::text FROM memberships WHERE organization_id = $1 AND status = 'pending' AND lower(invited_email) = $2), ''),
				coalesce((SELECT invite_expires_at FROM memberships WHERE organization_id = $1 AND status = 'pending' AND lower(invited_email) = $2), 'epoch')`,
			orgID, email).Scan(&member, &pendingID, &pendingExpires)
		switch {
		case err != nil:
			return err
		case member:
			return emailConflict("is already a member")
		case pendingID != "" && pendingExpires.After(in.Now):
			return emailConflict("has already been invited")
		}
		id := in.ID
		if pendingID != "" {
			id = pendingID
			if _, err := tx.Exec(ctx, `UPDATE memberships SET role = $3, invited_by = $4, invited_at = $5, invite_sent_at = $5,
					invite_expires_at = $6, updated_at = now()
				WHERE organization_id = $1 AND id = $2`, orgID, id, in.Role, in.InviterID, in.Now, expires); err != nil {
				return err
			}
		} else {
			// ON CONFLICT: a concurrent invitation of the same address.
			tag, err := tx.Exec(ctx, `INSERT INTO memberships
					(id, organization_id, invited_email, role, status, invited_by, invited_at, invite_sent_at, invite_expires_at)
				VALUES ($1, $2, $3, $4, 'pending', $5, $6, $6, $7)
				ON CONFLICT (organization_id, lower(invited_email)) WHERE status = 'pending' DO NOTHING`,
				id, orgID, email, in.Role, in.InviterID, in.Now, expires)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return emailConflict("has already been invited")
			}
		}
		if err := queueInvitationMail(ctx, tx, orgID, id, mail); err != nil {
			return err
		}
		m, err = scanMember(tx.QueryRow(ctx, memberSelect+` WHERE m.organization_id = $1 AND m.id = $2`, orgID, id))
		return err
	})
	if err != nil {
		return m, err
	}
	return m, nil
}

// queueInvitationMail writes the e-mail of a pending invitation to the
// outbox, rendered from the row as it now is.
func queueInvitationMail(ctx context.Context, tx pgx.Tx, orgID, id string, mail InvitationMail) error {
	f := domain.InvitationFacts{ID: id}
	var email string
	err := tx.QueryRow(ctx, `SELECT o.name, coalesce(u.display_name, u.email, ''), m.role, m.invite_expires_at, m.invited_email
		FROM memberships m JOIN organizations o ON o.id = m.organization_id LEFT JOIN users u ON u.id = m.invited_by
		WHERE m.organization_id = $1 AND m.id = $2`, orgID, id).
		Scan(&f.OrganizationName, &f.InviterName, &f.Role, &f.ExpiresAt, &email)
	if err != nil {
		return err
	}
	subject, body := mail(f)
	_, err = tx.Exec(ctx, `INSERT INTO notifications (organization_id, kind, recipient, channel, subject, body)
		VALUES ($1, 'invitation', $2, 'email', $3, $4)`, orgID, email, subject, body)
	return err
}

const orgInvitationColumns = `m.id, m.invited_email, m.role, coalesce(u.display_name, u.email), m.invited_at, m.invite_sent_at,
	m.invite_expires_at, m.invite_expires_at <= now(), m.created_at`

func scanOrgInvitation(row pgx.Row) (domain.OrgInvitation, error) {
	var i domain.OrgInvitation
	err := row.Scan(&i.ID, &i.Email, &i.Role, &i.InvitedBy, &i.InvitedAt, &i.LastSentAt, &i.ExpiresAt, &i.Expired, &i.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return i, apperr.New(apperr.NotFound, "invitation not found")
	}
	i.InvitedAt, i.LastSentAt, i.ExpiresAt, i.CreatedAt = i.InvitedAt.UTC(), i.LastSentAt.UTC(), i.ExpiresAt.UTC(), i.CreatedAt.UTC()
	return i, Classify(err)
}

// OrgInvitations lists the organisation's pending invitations, expired ones
// included (flagged), oldest first after the cursor (AfterID "" = first page).
func (db *DB) OrgInvitations(ctx context.Context, orgID string, afterTime time.Time, afterID string, limit int) (_ []domain.OrgInvitation, err error) {
	defer wrap(&err, "store.OrgInvitations")
	var after *string
	if afterID != "" {
		after = &afterID
	}
	rows, err := db.pool.Query(ctx, `SELECT `+orgInvitationColumns+`
		FROM memberships m LEFT JOIN users u ON u.id = m.invited_by
		WHERE m.organization_id = $1 AND m.status = 'pending'
		AND ($3::uuid IS NULL OR (m.created_at, m.id) > ($2, $3::uuid))
		ORDER BY m.created_at, m.id LIMIT $4`, orgID, afterTime, after, limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.OrgInvitation, error) { return scanOrgInvitation(r) })
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// InvitationCheck decides, with the organisation locked, whether an actor
// whose role is actor may act on an invitation for the role target.
type InvitationCheck func(actor, target access.Role) error

// ResendInvitation queues a new e-mail for a pending invitation and starts
// its 7 days again; resending an unexpired one within
// domain.InvitationResendInterval of its last e-mail is RateLimited.
func (db *DB) ResendInvitation(ctx context.Context, orgID, actorID, id string, now time.Time, check InvitationCheck, mail InvitationMail) (_ domain.OrgInvitation, err error) {
	defer wrap(&err, "store.ResendInvitation")
	var out domain.OrgInvitation
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		target, err := lockInvitation(ctx, tx, orgID, actorID, id, check)
		if err != nil {
			return err
		}
		if !target.Expired && target.LastSentAt.After(now.Add(-domain.InvitationResendInterval)) {
			return apperr.New(apperr.RateLimited, "this invitation was sent less than a minute ago: wait before sending it again")
		}
		if _, err := tx.Exec(ctx, `UPDATE memberships SET invite_sent_at = $3, invite_expires_at = $4, updated_at = now()
			WHERE organization_id = $1 AND id = $2`, orgID, id, now, now.Add(domain.InvitationTTL)); err != nil {
			return err
		}
		if err := queueInvitationMail(ctx, tx, orgID, id, mail); err != nil {
			return err
		}
		out, err = scanOrgInvitation(tx.QueryRow(ctx, `SELECT `+orgInvitationColumns+`
			FROM memberships m LEFT JOIN users u ON u.id = m.invited_by WHERE m.organization_id = $1 AND m.id = $2`, orgID, id))
		return err
	})
	if err != nil {
		return out, err
	}
	return out, nil
}

// RevokeInvitation deletes a pending invitation (a membership is not one:
// NotFound).
func (db *DB) RevokeInvitation(ctx context.Context, orgID, actorID, id string, check InvitationCheck) (err error) {
	defer wrap(&err, "store.RevokeInvitation")
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockInvitation(ctx, tx, orgID, actorID, id, check); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM memberships WHERE organization_id = $1 AND id = $2 AND status = 'pending'`, orgID, id)
		return err
	})
	if err != nil {
		return err
	}
	return nil
}

// lockInvitation locks the organisation's membership changes (as
// lockMembership does) and reads a pending invitation of it; a membership
// is not an invitation (NotFound).
func lockInvitation(ctx context.Context, tx pgx.Tx, orgID, actorID, id string, check InvitationCheck) (domain.OrgInvitation, error) {
	actor, err := lockMembers(ctx, tx, orgID, actorID)
	if err != nil {
		return domain.OrgInvitation{}, err
	}
	inv, err := scanOrgInvitation(tx.QueryRow(ctx, `SELECT `+orgInvitationColumns+`
		FROM memberships m LEFT JOIN users u ON u.id = m.invited_by
		WHERE m.organization_id = $1 AND m.id = $2 AND m.status = 'pending'`, orgID, id))
	if err != nil {
		return inv, err
	}
	return inv, check(actor, inv.Role)
}

// UserInvitations lists the pending, unexpired invitations sent to email
// (the caller has checked that the address is the user's, verified).
func (db *DB) UserInvitations(ctx context.Context, email string) (_ []domain.Invitation, err error) {
	defer wrap(&err, "store.UserInvitations")
	rows, err := db.pool.Query(ctx, `SELECT m.id, m.organization_id, o.name, m.role, coalesce(u.display_name, u.email, ''),
			m.invited_at, m.invite_expires_at
		FROM memberships m JOIN organizations o ON o.id = m.organization_id LEFT JOIN users u ON u.id = m.invited_by
		WHERE m.status = 'pending' AND lower(m.invited_email) = lower($1) AND m.invite_expires_at > now()
		AND m.organization_id NOT IN `+hiddenOrgs+`
		ORDER BY m.invited_at, m.id`, email)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Invitation, error) {
		var i domain.Invitation
		err := r.Scan(&i.ID, &i.OrganizationID, &i.OrganizationName, &i.Role, &i.InvitedBy, &i.InvitedAt, &i.ExpiresAt)
		i.InvitedAt, i.ExpiresAt = i.InvitedAt.UTC(), i.ExpiresAt.UTC()
		return i, err
	})
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// lockOwnInvitation locks the pending invitation id sent to email: another
// address's invitation (or none) is NotFound, whatever the caller knows.
func lockOwnInvitation(ctx context.Context, tx pgx.Tx, id, email string) (orgID string, role access.Role, expires time.Time, err error) {
	err = tx.QueryRow(ctx, `SELECT m.organization_id, m.role, m.invite_expires_at FROM memberships m
		WHERE m.id = $1 AND m.status = 'pending' AND lower(m.invited_email) = lower($2)
		AND m.organization_id NOT IN `+hiddenOrgs+`
		FOR UPDATE`, id, email).Scan(&orgID, &role, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", time.Time{}, apperr.New(apperr.NotFound, "invitation not found")
	}
	return orgID, role, expires, err
}

// AcceptInvitation makes the user a member as invited, audited in the same
// transaction. The caller has checked that email is the user's verified
// address. An expired invitation is a Conflict; so is one to an
// organisation the user already belongs to.
func (db *DB) AcceptInvitation(ctx context.Context, userID, email, id string, now time.Time) (_ domain.Membership, err error) {
	defer wrap(&err, "store.AcceptInvitation")
	var out domain.Membership
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		orgID, role, expires, err := lockOwnInvitation(ctx, tx, id, email)
		if err != nil {
			return err
		}
		if !expires.After(now) {
			return apperr.New(apperr.Conflict, "this invitation has expired: ask the organization for a new one")
		}
		var member bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2)`,
			orgID, userID).Scan(&member); err != nil {
			return err
		}
		if member {
			return apperr.New(apperr.Conflict, "you are already a member of this organization: decline the invitation")
		}
		err = tx.QueryRow(ctx, `WITH a AS (UPDATE memberships SET user_id = $2, status = 'active', accepted_at = $3, updated_at = now()
				WHERE id = $1 RETURNING organization_id, role)
			SELECT a.organization_id, o.name, a.role FROM a JOIN organizations o ON o.id = a.organization_id`, id, userID, now).
			Scan(&out.OrganizationID, &out.OrganizationName, &out.Role)
		if err != nil {
			return err
		}
		return insertAuditEvent(ctx, tx, AuditEvent{OrgID: orgID, ActorUserID: userID, Action: "invitation.accepted",
			EntityType: "invitation", EntityID: id, Before: map[string]any{"status": "pending"},
			After: map[string]any{"status": "active", "role": role}})
	})
	if err != nil {
		return out, err
	}
	return out, nil
}

// DeclineInvitation deletes the invitation, audited in the same transaction.
// The caller has checked that email is the user's verified address.
func (db *DB) DeclineInvitation(ctx context.Context, userID, email, id string) (err error) {
	defer wrap(&err, "store.DeclineInvitation")
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		orgID, role, _, err := lockOwnInvitation(ctx, tx, id, email)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE id = $1`, id); err != nil {
			return err
		}
		return insertAuditEvent(ctx, tx, AuditEvent{OrgID: orgID, ActorUserID: userID, Action: "invitation.declined",
			EntityType: "invitation", EntityID: id, Before: map[string]any{"status": "pending", "role": role}})
	})
	if err != nil {
		return err
	}
	return nil
}
