package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// TrialPeriod is how long a new organisation's trial lasts.
const TrialPeriod = 14 * 24 * time.Hour

const orgColumns = `id, name, slug, timezone, temp_unit, compliance_mode, plan, sensor_limit, trial_ends_at, sms_allowed_countries,
	created_at, updated_at`

func scanOrganization(row pgx.Row) (domain.Organization, error) {
	var o domain.Organization
	err := row.Scan(&o.ID, &o.Name, &o.Slug, &o.Timezone, &o.TempUnit, &o.ComplianceMode, &o.Plan, &o.SensorLimit,
		&o.TrialEndsAt, &o.SMSAllowedCountries, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, apperr.New(apperr.NotFound, "organization not found")
	}
	o.TrialEndsAt = utcPtr(o.TrialEndsAt)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, Classify(err)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// CreateOrganization is onboarding: the organisation, its owner, its trial
// subscription and its TTN connection (a webhook secret, no application
// yet), all or nothing. The slug is made unique with a suffix.
func (db *DB) CreateOrganization(ctx context.Context, in domain.NewOrganization, ownerID string, secret domain.TTNSecret) (_ domain.Organization, err error) {
	defer wrap(&err, "store.CreateOrganization")
	var org domain.Organization
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		// ON CONFLICT DO NOTHING rather than catching the unique violation:
		// a failed statement would abort the whole transaction.
		for i := 1; ; i++ {
			slug, err := candidate(in.Slug, i, 63)
			if err != nil {
				return err
			}
			org, err = scanOrganization(tx.QueryRow(ctx, `INSERT INTO organizations
				(name, slug, timezone, temp_unit, plan, sensor_limit, trial_ends_at)
				VALUES ($1, $2, $3, $4, 'starter', 5, now() + $5::bigint * interval '1 second')
				ON CONFLICT (slug) DO NOTHING RETURNING `+orgColumns,
				in.Name, slug, in.Timezone, in.TempUnit, int64(TrialPeriod/time.Second)))
			if apperr.CodeOf(err) == apperr.NotFound {
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (organization_id, user_id, role, status, accepted_at)
			VALUES ($1, $2, $3, 'active', now())`, org.ID, ownerID, access.Owner); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO subscriptions (organization_id, plan, status, trial_ends_at)
			VALUES ($1, $2, 'trial', $3)`, org.ID, org.Plan, org.TrialEndsAt); err != nil {
			return err
		}
		auditOrganization(ctx, org.ID)
		// No application id: one is bound only after The Things Stack
		// confirmed a key's rights on it (SetTTNCredentials).
		_, err := tx.Exec(ctx, `INSERT INTO network_connections (organization_id, secret_hash, secret_last4) VALUES ($1, $2, $3)`,
			org.ID, secret.Hash[:], secret.Last4)
		return err
	})
	if err != nil {
		return org, err
	}
	return org, nil
}

// candidate is the i-th try at a unique identifier from base: base itself,
// then base-2, base-3..., then a random suffix, always within max characters.
func candidate(base string, i, max int) (string, error) {
	var suffix string
	switch {
	case i == 1:
	case i <= 5:
		suffix = fmt.Sprintf("-%d", i)
	case i <= 15:
		var b [3]byte
		_, _ = rand.Read(b[:])
		suffix = "-" + hex.EncodeToString(b[:])
	default:
		return "", errors.New("could not find a free identifier for " + base)
	}
	if len(base)+len(suffix) > max {
		base = strings.TrimRight(base[:max-len(suffix)], "-")
	}
	return base + suffix, nil
}

// Organization returns the organisation's settings.
func (db *DB) Organization(ctx context.Context, orgID string) (_ domain.Organization, err error) {
	defer wrap(&err, "store.Organization")
	return scanOrganization(db.pool.QueryRow(ctx, `SELECT `+orgColumns+` FROM organizations WHERE id = $1`, orgID))
}

// UpdateOrganization applies a validated patch.
func (db *DB) UpdateOrganization(ctx context.Context, orgID string, p domain.OrganizationPatch) (_ domain.Organization, err error) {
	defer wrap(&err, "store.UpdateOrganization")
	if p.Empty() {
		return db.Organization(ctx, orgID)
	}
	return txValue(ctx, db, func(tx pgx.Tx) (domain.Organization, error) {
		return scanOrganization(tx.QueryRow(ctx, `UPDATE organizations SET
		name = coalesce($2, name), timezone = coalesce($3, timezone), temp_unit = coalesce($4, temp_unit),
		compliance_mode = coalesce($5, compliance_mode),
		sms_allowed_countries = CASE WHEN $7 THEN NULL ELSE coalesce($6, sms_allowed_countries) END, updated_at = now()
		WHERE id = $1 RETURNING `+orgColumns, orgID, p.Name, p.Timezone, p.TempUnit, p.ComplianceMode, p.SMSCountries, p.ResetSMSCountries))
	})
}

const ttnColumns = `id, application_id, secret_last4, secret_rotated_at, last_uplink_at, is_active`

func scanTTNConnection(row pgx.Row) (domain.TTNConnection, error) {
	c := domain.TTNConnection{WebhookHeader: domain.TTNWebhookHeader}
	err := row.Scan(&c.ID, &c.ApplicationID, &c.SecretLast4, &c.SecretRotatedAt, &c.LastUplinkAt, &c.IsActive)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "ttn connection not found")
	}
	c.SecretRotatedAt = c.SecretRotatedAt.UTC()
	c.LastUplinkAt = utcPtr(c.LastUplinkAt)
	return c, Classify(err)
}

// The api shows one connection per organisation: the first one created
// (onboarding creates exactly one; the schema would allow more).
const firstTTNConnection = `SELECT id FROM network_connections WHERE organization_id = $1 AND kind = 'ttn' ORDER BY created_at, id LIMIT 1`

// TTNConnection returns the organisation's TTN connection.
func (db *DB) TTNConnection(ctx context.Context, orgID string) (_ domain.TTNConnection, err error) {
	defer wrap(&err, "store.TTNConnection")
	return scanTTNConnection(db.pool.QueryRow(ctx, `SELECT `+ttnColumns+` FROM network_connections
		WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)`, orgID))
}

// RotateTTNSecret replaces the connection's secret hash in one statement:
// from its commit on, the old secret no longer matches any connection.
func (db *DB) RotateTTNSecret(ctx context.Context, orgID string, secret domain.TTNSecret) (_ domain.TTNConnection, err error) {
	defer wrap(&err, "store.RotateTTNSecret")
	return txValue(ctx, db, func(tx pgx.Tx) (domain.TTNConnection, error) {
		return scanTTNConnection(tx.QueryRow(ctx, `UPDATE network_connections
		SET secret_hash = $2, secret_last4 = $3, secret_rotated_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)
		RETURNING `+ttnColumns, orgID, secret.Hash[:], secret.Last4))
	})
}

// hiddenOrgs is the set of organisations every function ignores: those an
// origin import is still writing (organizations.import_state, see
// shared/originimport). Queries that are not already scoped to one
// organisation a member reached exclude it as
// "organization_id NOT IN "+hiddenOrgs: a hashed subplan over a partial
// index that is empty outside an import.
const hiddenOrgs = `(SELECT id FROM organizations WHERE import_state IS NOT NULL)`
