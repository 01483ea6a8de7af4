package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
)

// PlatformOrganization is one organisation as the service's operators see
// it (issue 20): plan, usage and health, and whether it is suspended.
type PlatformOrganization struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	CreatedAt          time.Time  `json:"created_at"`
	Plan               string     `json:"plan"`
	SubscriptionStatus string     `json:"subscription_status"`
	SuspendedAt        *time.Time `json:"suspended_at"`
	SuspendedReason    *string    `json:"suspended_reason"`
	Members            int        `json:"members"`
	Sites              int        `json:"sites"`
	Units              int        `json:"units"`
	Sensors            int        `json:"sensors"`
	// Health: open alerts (critical ones apart), units not reporting
	// (offline or monitoring interrupted), and the newest reading.
	OpenAlerts     int        `json:"open_alerts"`
	CriticalAlerts int        `json:"critical_alerts"`
	UnitsSilent    int        `json:"units_silent"`
	LastReadingAt  *time.Time `json:"last_reading_at"`
}

const platformOrgSQL = `SELECT o.id, o.name, o.created_at, coalesce(s.plan, 'starter'), coalesce(s.status, 'trial'),
		o.suspended_at, o.suspended_reason,
		(SELECT count(*) FROM memberships m WHERE m.organization_id = o.id AND m.status = 'active'),
		(SELECT count(*) FROM sites x WHERE x.organization_id = o.id AND x.deleted_at IS NULL),
		u.units, u.silent, u.last_reading_at,
		(SELECT count(*) FROM sensors x WHERE x.organization_id = o.id AND x.deleted_at IS NULL),
		a.open, a.critical
	FROM organizations o
	LEFT JOIN subscriptions s ON s.organization_id = o.id
	CROSS JOIN LATERAL (SELECT count(*) AS units,
			count(*) FILTER (WHERE x.status IN ('offline', 'monitoring_interrupted')) AS silent,
			max(x.last_reading_at) AS last_reading_at
		FROM units x WHERE x.organization_id = o.id AND x.deleted_at IS NULL) u
	CROSS JOIN LATERAL (SELECT count(*) AS open, count(*) FILTER (WHERE x.severity = 'critical') AS critical
		FROM alerts x WHERE x.organization_id = o.id AND x.status <> 'resolved') a`

func scanPlatformOrg(row pgx.Row) (PlatformOrganization, error) {
	var p PlatformOrganization
	err := row.Scan(&p.ID, &p.Name, &p.CreatedAt, &p.Plan, &p.SubscriptionStatus, &p.SuspendedAt, &p.SuspendedReason,
		&p.Members, &p.Sites, &p.Units, &p.UnitsSilent, &p.LastReadingAt, &p.Sensors, &p.OpenAlerts, &p.CriticalAlerts)
	p.CreatedAt = p.CreatedAt.UTC()
	p.SuspendedAt, p.LastReadingAt = hierUTC(p.SuspendedAt), hierUTC(p.LastReadingAt)
	return p, err
}

// PlatformOrganizations lists every organisation (oldest first, after the
// keyset of the previous page), for the service's operators.
func (db *DB) PlatformOrganizations(ctx context.Context, afterCreated time.Time, afterID string, limit int) (_ []PlatformOrganization, err error) {
	defer wrap(&err, "store.PlatformOrganizations")
	sql := platformOrgSQL + ` WHERE o.import_state IS NULL`
	args := []any{limit}
	if afterID != "" {
		sql += ` AND (o.created_at, o.id) > ($2, $3::uuid)`
		args = append(args, afterCreated, afterID)
	}
	rows, err := db.pool.Query(ctx, sql+` ORDER BY o.created_at, o.id LIMIT $1`, args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PlatformOrganization, error) { return scanPlatformOrg(r) })
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// PlatformSupportView returns one organisation for an operator's support
// view and records the look in its audit trail (actor_type platform_admin:
// the organisation's owners see who looked, and when).
func (db *DB) PlatformSupportView(ctx context.Context, orgID, operatorUserID string) (_ PlatformOrganization, err error) {
	defer wrap(&err, "store.PlatformSupportView")
	var out PlatformOrganization
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanPlatformOrg(tx.QueryRow(ctx, platformOrgSQL+` WHERE o.id = $1`, orgID))
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "organization not found")
		}
		if err != nil {
			return err
		}
		return insertAuditEvent(ctx, tx, AuditEvent{OrgID: orgID, ActorUserID: operatorUserID, ActorType: "platform_admin",
			Action: "platform: support view", EntityType: "organization", EntityID: orgID})
	})
	if err != nil {
		return PlatformOrganization{}, Classify(err)
	}
	return out, nil
}

// SetSuspension suspends an organisation (reason non-empty) or reactivates
// it (reason empty), recording the operator's action in its audit trail.
// Suspending a suspended organisation, or reactivating an active one, is a
// Conflict.
func (db *DB) SetSuspension(ctx context.Context, orgID, operatorUserID, reason string) (_ PlatformOrganization, err error) {
	defer wrap(&err, "store.SetSuspension")
	var out PlatformOrganization
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var suspended bool
		err := tx.QueryRow(ctx, `SELECT suspended_at IS NOT NULL FROM organizations WHERE id = $1 FOR UPDATE`, orgID).Scan(&suspended)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "organization not found")
		}
		if err != nil {
			return err
		}
		action := "platform: suspend"
		switch {
		case reason != "" && suspended:
			return apperr.New(apperr.Conflict, "the organization is already suspended")
		case reason == "" && !suspended:
			return apperr.New(apperr.Conflict, "the organization is not suspended")
		case reason == "":
			action = "platform: reactivate"
		}
		if _, err := tx.Exec(ctx, `UPDATE organizations SET suspended_at = CASE WHEN $2 = '' THEN NULL ELSE now() END,
				suspended_reason = nullif($2, ''), updated_at = now()
			WHERE id = $1`, orgID, reason); err != nil {
			return err
		}
		var after any
		if reason != "" {
			after = map[string]string{"reason": reason}
		}
		if err := insertAuditEvent(ctx, tx, AuditEvent{OrgID: orgID, ActorUserID: operatorUserID, ActorType: "platform_admin",
			Action: action, EntityType: "organization", EntityID: orgID, After: after}); err != nil {
			return err
		}
		out, err = scanPlatformOrg(tx.QueryRow(ctx, platformOrgSQL+` WHERE o.id = $1`, orgID))
		return err
	})
	if err != nil {
		return PlatformOrganization{}, Classify(err)
	}
	return out, nil
}
