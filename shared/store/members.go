package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// memberColumns reads a membership m joined with its user u (none for a
// pending invitation).
const memberColumns = `m.id, m.user_id, coalesce(u.email, m.invited_email, ''), coalesce(u.display_name, ''),
	m.role, m.status, m.invited_at, m.accepted_at, CASE WHEN m.status = 'pending' THEN m.invite_expires_at END,
	m.created_at, m.updated_at`

const memberSelect = `SELECT ` + memberColumns + ` FROM memberships m LEFT JOIN users u ON u.id = m.user_id`

func scanMember(row pgx.Row) (domain.OrgMember, error) {
	var m domain.OrgMember
	err := row.Scan(&m.ID, &m.UserID, &m.Email, &m.DisplayName, &m.Role, &m.Status, &m.InvitedAt, &m.AcceptedAt,
		&m.ExpiresAt, &m.CreatedAt, &m.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, apperr.New(apperr.NotFound, "member not found")
	}
	m.InvitedAt, m.AcceptedAt, m.ExpiresAt = utcPtr(m.InvitedAt), utcPtr(m.AcceptedAt), utcPtr(m.ExpiresAt)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return m, Classify(err)
}

// MemberQuery selects a page of members, oldest first.
type MemberQuery struct {
	// AfterTime and AfterID: the position of the previous page's last item.
	AfterTime    time.Time
	AfterID      string
	UpdatedSince time.Time
	// Limit: at most Limit+1 rows come back (the extra one says "more").
	Limit int
}

// Members lists the organisation's active and pending memberships ordered
// by (created_at, id).
func (db *DB) Members(ctx context.Context, orgID string, q MemberQuery) (_ []domain.OrgMember, err error) {
	defer wrap(&err, "store.Members")
	var after, since *time.Time
	var afterID *string
	if q.AfterID != "" {
		after, afterID = &q.AfterTime, &q.AfterID
	}
	if !q.UpdatedSince.IsZero() {
		since = &q.UpdatedSince
	}
	rows, err := db.pool.Query(ctx, memberSelect+`
		WHERE m.organization_id = $1
		AND ($2::timestamptz IS NULL OR (m.created_at, m.id) > ($2, $3::uuid))
		AND ($4::timestamptz IS NULL OR m.updated_at > $4)
		ORDER BY m.created_at, m.id LIMIT $5`, orgID, after, afterID, since, q.Limit+1)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.OrgMember, error) { return scanMember(row) })
	return out, Classify(err)
}

// Member returns one membership of the organisation.
func (db *DB) Member(ctx context.Context, orgID, memberID string) (_ domain.OrgMember, err error) {
	defer wrap(&err, "store.Member")
	return scanMember(db.pool.QueryRow(ctx, memberSelect+` WHERE m.organization_id = $1 AND m.id = $2`, orgID, memberID))
}

func emailConflict(msg string) error {
	return &apperr.Error{Code: apperr.Conflict, Message: msg,
		Details: []apperr.FieldError{{Field: "email", Message: msg}}}
}

// MemberCheck decides, inside the locking transaction, whether an actor
// with this (freshly read) role may change or remove target.
type MemberCheck func(actor access.Role, target domain.OrgMember) error

// lockMembership serialises membership changes of one organisation and
// returns the actor's current role and the target membership. The lock is
// the organisation row: two concurrent demotions of the last two owners
// would each count two owners without it. NO KEY UPDATE is enough to
// serialise them and, unlike UPDATE, does not block inserts of rows that
// reference the organisation.
func lockMembership(ctx context.Context, tx pgx.Tx, orgID, actorID, memberID string, check MemberCheck) (domain.OrgMember, error) {
	actor, err := lockMembers(ctx, tx, orgID, actorID)
	if err != nil {
		return domain.OrgMember{}, err
	}
	target, err := scanMember(tx.QueryRow(ctx, memberSelect+` WHERE m.organization_id = $1 AND m.id = $2`, orgID, memberID))
	if err != nil {
		return target, err
	}
	return target, check(actor, target)
}

// lockMembers takes the organisation's membership lock and returns the
// actor's current role.
func lockMembers(ctx context.Context, tx pgx.Tx, orgID, actorID string) (access.Role, error) {
	var actor access.Role
	err := tx.QueryRow(ctx, `SELECT m.role FROM organizations o
		JOIN memberships m ON m.organization_id = o.id AND m.user_id = $2 AND m.status = 'active'
		WHERE o.id = $1 FOR NO KEY UPDATE OF o`, orgID, actorID).Scan(&actor)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", apperr.New(apperr.NotFound, "organization not found")
	}
	return actor, err
}

// errLastOwner: an organisation without an owner could never again manage
// billing or promote anyone.
func errLastOwner() error {
	return apperr.New(apperr.Conflict, "an organisation needs at least one owner")
}

// ensureAnotherOwner fails when target is the organisation's last active
// owner. The caller holds the organisation lock.
func ensureAnotherOwner(ctx context.Context, tx pgx.Tx, orgID string, target domain.OrgMember) error {
	if target.Role != access.Owner || target.Status != domain.MemberActive {
		return nil
	}
	var owners int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM memberships
		WHERE organization_id = $1 AND role = 'owner' AND status = 'active'`, orgID).Scan(&owners); err != nil {
		return err
	}
	if owners < 2 {
		return errLastOwner()
	}
	return nil
}

// SetMemberRole changes a membership's role after check allows it, keeping
// at least one owner.
func (db *DB) SetMemberRole(ctx context.Context, orgID, actorID, memberID string, role access.Role, check MemberCheck) (_ domain.OrgMember, err error) {
	defer wrap(&err, "store.SetMemberRole")
	var m domain.OrgMember
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		target, err := lockMembership(ctx, tx, orgID, actorID, memberID, check)
		if err != nil {
			return err
		}
		if target.Role == role {
			m = target
			return nil
		}
		if role != access.Owner {
			if err := ensureAnotherOwner(ctx, tx, orgID, target); err != nil {
				return err
			}
		}
		m, err = scanMember(tx.QueryRow(ctx, `WITH u AS (UPDATE memberships SET role = $3, updated_at = now()
			WHERE organization_id = $1 AND id = $2 RETURNING *)
			SELECT `+memberColumns+` FROM u m LEFT JOIN users u ON u.id = m.user_id`, orgID, memberID, role))
		return err
	})
	return m, err
}

// RemoveMember deletes a membership (or withdraws an invitation) after
// check allows it, keeping at least one owner.
func (db *DB) RemoveMember(ctx context.Context, orgID, actorID, memberID string, check MemberCheck) (err error) {
	defer wrap(&err, "store.RemoveMember")
	return db.InTx(ctx, func(tx pgx.Tx) error {
		target, err := lockMembership(ctx, tx, orgID, actorID, memberID, check)
		if err != nil {
			return err
		}
		if err := ensureAnotherOwner(ctx, tx, orgID, target); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM memberships WHERE organization_id = $1 AND id = $2`, orgID, memberID)
		return err
	})
}
