package store

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// EnsureUser returns the user with this Stack Auth subject, creating it on
// first sight and keeping its e-mail and name in step with the token (a
// name the user set in their profile stays theirs). It claims nothing:
// invitations are accepted explicitly, with a verified address
// (AcceptInvitation).
func (db *DB) EnsureUser(ctx context.Context, subject, email, name string) (_ domain.User, err error) {
	defer wrap(&err, "store.EnsureUser")
	var u domain.User
	var ownName bool
	err = db.pool.QueryRow(ctx, `SELECT id, subject, coalesce(email, ''), coalesce(display_name, ''), created_at, display_name_from_profile
		FROM users WHERE subject = $1`, subject).Scan(&u.ID, &u.Subject, &u.Email, &u.DisplayName, &u.CreatedAt, &ownName)
	switch {
	case err == nil:
		if ownName {
			name = ""
		}
		if (email != "" && email != u.Email) || (name != "" && name != u.DisplayName) {
			_, err = db.pool.Exec(ctx, `UPDATE users SET email = coalesce(nullif($2, ''), email),
				display_name = CASE WHEN display_name_from_profile THEN display_name ELSE coalesce(nullif($3, ''), display_name) END,
				updated_at = now() WHERE id = $1`, u.ID, email, name)
			if email != "" {
				u.Email = email
			}
			if name != "" {
				u.DisplayName = name
			}
		}
		return u, Classify(err)
	case !errors.Is(err, pgx.ErrNoRows):
		return u, Classify(err)
	}
	// ON CONFLICT: two first requests of a new user may race.
	err = db.pool.QueryRow(ctx, `INSERT INTO users (subject, email, display_name, last_login_at)
		VALUES ($1, nullif($2, ''), nullif($3, ''), now())
		ON CONFLICT (subject) DO UPDATE SET last_login_at = now()
		RETURNING id, subject, coalesce(email, ''), coalesce(display_name, ''), created_at`,
		subject, email, name).Scan(&u.ID, &u.Subject, &u.Email, &u.DisplayName, &u.CreatedAt)
	return u, Classify(err)
}

// Profile returns the user's profile.
func (db *DB) Profile(ctx context.Context, userID string) (_ domain.Profile, err error) {
	defer wrap(&err, "store.Profile")
	p, err := scanProfile(db.pool.QueryRow(ctx, `SELECT `+profileCols+` FROM users WHERE id = $1`, userID))
	if err != nil {
		return p, err
	}
	return p, nil
}

const profileCols = `coalesce(display_name, ''), phone, notification_preferences`

func scanProfile(r pgx.Row) (domain.Profile, error) {
	var p domain.Profile
	var prefs []byte
	err := r.Scan(&p.DisplayName, &p.Phone, &prefs)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "user not found")
	}
	if err != nil {
		return p, Classify(err)
	}
	return p, json.Unmarshal(prefs, &p.NotificationPreferences)
}

// ProfileChange is a PATCH of the user's profile: nil fields stay;
// ClearPhone removes the phone number.
type ProfileChange struct {
	DisplayName *string
	Phone       *string
	ClearPhone  bool
	Preferences *domain.NotificationPreferences
}

// UpdateProfile changes the user's own profile. A display name set here is
// kept: the sign-in provider's no longer replaces it.
func (db *DB) UpdateProfile(ctx context.Context, userID string, c ProfileChange) (_ domain.Profile, err error) {
	defer wrap(&err, "store.UpdateProfile")
	var prefs []byte
	if c.Preferences != nil {
		prefs, _ = json.Marshal(c.Preferences)
	}
	p, err := scanProfile(db.pool.QueryRow(ctx, `UPDATE users SET
			display_name = coalesce($2, display_name),
			display_name_from_profile = display_name_from_profile OR $2::text IS NOT NULL,
			phone = CASE WHEN $3 THEN NULL ELSE coalesce($4, phone) END,
			phone_verified_at = CASE WHEN $3 OR ($4::text IS NOT NULL AND $4 IS DISTINCT FROM phone) THEN NULL ELSE phone_verified_at END,
			notification_preferences = coalesce($5, notification_preferences),
			updated_at = now()
		WHERE id = $1 RETURNING `+profileCols, userID, c.DisplayName, c.ClearPhone, c.Phone, nullJSON(prefs)))
	if err != nil {
		return p, err
	}
	return p, nil
}

// Memberships lists the organisations the user belongs to.
func (db *DB) Memberships(ctx context.Context, userID string) (_ []domain.Membership, err error) {
	defer wrap(&err, "store.Memberships")
	rows, err := db.pool.Query(ctx, `SELECT m.organization_id, o.name, m.role FROM memberships m
		JOIN organizations o ON o.id = m.organization_id
		WHERE m.user_id = $1 AND m.status = 'active' AND m.organization_id NOT IN `+hiddenOrgs+`
		ORDER BY o.name, o.id`, userID)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Membership, error) {
		var m domain.Membership
		err := row.Scan(&m.OrganizationID, &m.OrganizationName, &m.Role)
		return m, err
	})
	return out, Classify(err)
}

// RoleIn returns the user's role in the organisation. Not being an active
// member is NotFound, never Forbidden: another tenant's ids must not even be
// confirmed to exist. An organisation an import is still writing is not
// found either.
func (db *DB) RoleIn(ctx context.Context, orgID, userID string) (_ access.Role, err error) {
	defer wrap(&err, "store.RoleIn")
	var role access.Role
	err = db.pool.QueryRow(ctx, `SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2 AND status = 'active'
		AND organization_id NOT IN `+hiddenOrgs, orgID, userID).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", apperr.New(apperr.NotFound, "organization not found")
	}
	return role, Classify(err)
}
