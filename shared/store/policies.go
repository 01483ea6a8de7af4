package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/apperr"
)

// NotificationPolicy says who is paged, how and when, for an organisation,
// a site or a unit, and one alert type or all (alert_type null).
type NotificationPolicy struct {
	ID              string          `json:"id"`
	SiteID          *string         `json:"site_id"`
	UnitID          *string         `json:"unit_id"`
	AlertType       *string         `json:"alert_type"`
	Name            *string         `json:"name"`
	Steps           []alerting.Step `json:"steps"`
	NotifyOnResolve bool            `json:"notify_on_resolve"`
	QuietHoursStart *string         `json:"quiet_hours_start"` // "HH:MM", the site's local time
	QuietHoursEnd   *string         `json:"quiet_hours_end"`
	Enabled         bool            `json:"enabled"`
	// Warnings name the contacts of the steps that may not be paged as
	// written (unverified, outside the SMS countries); the api fills it.
	Warnings  []PolicyWarning `json:"warnings"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// PolicyWarning is one contact of a policy that may not be paged.
type PolicyWarning struct {
	ContactID string `json:"contact_id"`
	Channel   string `json:"channel"`
	Message   string `json:"message"`
}

// PolicyFilter selects one page of policies, ordered by (created_at, id).
type PolicyFilter struct {
	SiteID, UnitID string
	UpdatedSince   time.Time
	AfterCreated   time.Time
	AfterID        string
	Limit          int
}

const policyCols = `p.id, p.site_id, p.unit_id, p.alert_type, p.name, p.steps, p.notify_on_resolve,
	to_char(p.quiet_hours_start, 'HH24:MI'), to_char(p.quiet_hours_end, 'HH24:MI'), p.enabled, p.created_at, p.updated_at`

func scanPolicy(row pgx.Row) (NotificationPolicy, error) {
	var p NotificationPolicy
	var steps []byte
	err := row.Scan(&p.ID, &p.SiteID, &p.UnitID, &p.AlertType, &p.Name, &steps, &p.NotifyOnResolve,
		&p.QuietHoursStart, &p.QuietHoursEnd, &p.Enabled, &p.CreatedAt, &p.UpdatedAt)
	if err == nil {
		err = json.Unmarshal(steps, &p.Steps)
	}
	if p.Steps == nil {
		p.Steps = []alerting.Step{}
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, err
}

// ListPolicies lists the organisation's notification policies.
func (db *DB) ListPolicies(ctx context.Context, orgID string, f PolicyFilter) (_ []NotificationPolicy, err error) {
	defer wrap(&err, "store.ListPolicies")
	var q hierQuery
	q.where("p.organization_id = ?", orgID)
	if f.SiteID != "" {
		q.where("p.site_id = ?", f.SiteID)
	}
	if f.UnitID != "" {
		q.where("p.unit_id = ?", f.UnitID)
	}
	if !f.UpdatedSince.IsZero() {
		q.where("p.updated_at > ?", f.UpdatedSince)
	}
	if f.AfterID != "" {
		q.where("(p.created_at, p.id) > (?::timestamptz, ?::uuid)", f.AfterCreated, f.AfterID)
	}
	q.args = append(q.args, f.Limit)
	sql := `SELECT ` + policyCols + ` FROM notification_policies p WHERE ` + strings.Join(q.conds, " AND ") +
		` ORDER BY p.created_at, p.id LIMIT $` + strconv.Itoa(len(q.args))
	rows, err := db.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NotificationPolicy, error) { return scanPolicy(r) })
	return out, Classify(err)
}

// GetPolicy returns one policy of the organisation.
func (db *DB) GetPolicy(ctx context.Context, orgID, id string) (_ NotificationPolicy, err error) {
	defer wrap(&err, "store.GetPolicy")
	p, err := scanPolicy(db.pool.QueryRow(ctx, `SELECT `+policyCols+` FROM notification_policies p
		WHERE p.id = $1 AND p.organization_id = $2`, id, orgID))
	return p, hierNotFound(err, "notification policy")
}

// CreatePolicy inserts a policy whose shape the caller validated; the
// references (scope, contacts) are checked here, in the transaction.
func (db *DB) CreatePolicy(ctx context.Context, orgID string, in NotificationPolicy) (_ NotificationPolicy, err error) {
	defer wrap(&err, "store.CreatePolicy")
	var out NotificationPolicy
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := checkPolicyRefs(ctx, tx, orgID, in, nil); err != nil {
			return err
		}
		steps, _ := json.Marshal(in.Steps)
		var err error
		out, err = scanPolicy(tx.QueryRow(ctx, `INSERT INTO notification_policies AS p (organization_id, site_id, unit_id,
				alert_type, name, steps, notify_on_resolve, quiet_hours_start, quiet_hours_end, enabled)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::time, $9::time, $10) RETURNING `+policyCols,
			orgID, in.SiteID, in.UnitID, in.AlertType, in.Name, steps, in.NotifyOnResolve, in.QuietHoursStart, in.QuietHoursEnd, in.Enabled))
		return policyConflict(err)
	})
	return out, Classify(err)
}

// UpdatePolicy applies apply to a policy under its row lock, re-checks its
// references and saves it. apply validates the shape.
func (db *DB) UpdatePolicy(ctx context.Context, orgID, id string, apply func(*NotificationPolicy) error) (_ NotificationPolicy, err error) {
	defer wrap(&err, "store.UpdatePolicy")
	var out NotificationPolicy
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		p, err := scanPolicy(tx.QueryRow(ctx, `SELECT `+policyCols+` FROM notification_policies p
			WHERE p.id = $1 AND p.organization_id = $2 FOR UPDATE`, id, orgID))
		if err != nil {
			return hierNotFound(err, "notification policy")
		}
		before := p
		if err := apply(&p); err != nil {
			return err
		}
		if err := checkPolicyRefs(ctx, tx, orgID, p, &before); err != nil {
			return err
		}
		steps, _ := json.Marshal(p.Steps)
		out, err = scanPolicy(tx.QueryRow(ctx, `UPDATE notification_policies AS p SET site_id = $3, unit_id = $4,
				alert_type = $5, name = $6, steps = $7, notify_on_resolve = $8, quiet_hours_start = $9::time,
				quiet_hours_end = $10::time, enabled = $11, updated_at = now()
			WHERE p.id = $1 AND p.organization_id = $2 RETURNING `+policyCols,
			id, orgID, p.SiteID, p.UnitID, p.AlertType, p.Name, steps, p.NotifyOnResolve, p.QuietHoursStart, p.QuietHoursEnd, p.Enabled))
		return policyConflict(err)
	})
	return out, Classify(err)
}

// DeletePolicy deletes a policy (alerts already open keep the
// notifications already queued; their later steps find the next policy).
func (db *DB) DeletePolicy(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeletePolicy")
	return execChanged(ctx, db, apperr.New(apperr.NotFound, "notification policy not found"), `DELETE FROM notification_policies WHERE id = $1 AND organization_id = $2`, id, orgID)
}

// checkPolicyRefs checks that the scope is a live site or unit of the
// organisation and that every step names active contacts of it. On an
// update only what changed is checked (before is the stored policy): a
// contact deactivated since must not block, say, disabling the policy (the
// senders skip inactive contacts anyway).
func checkPolicyRefs(ctx context.Context, tx pgx.Tx, orgID string, p NotificationPolicy, before *NotificationPolicy) error {
	had := map[string]bool{}
	if before != nil {
		if eqPtr(before.SiteID, p.SiteID) {
			p.SiteID = nil
		}
		if eqPtr(before.UnitID, p.UnitID) {
			p.UnitID = nil
		}
		for _, s := range before.Steps {
			for _, id := range s.ContactIDs {
				had[id] = true
			}
		}
	}
	var fe []apperr.FieldError
	exists := func(sql, id string) (bool, error) {
		var ok bool
		err := tx.QueryRow(ctx, sql, id, orgID).Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}
	if p.SiteID != nil {
		ok, err := exists(`SELECT true FROM sites WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL`, *p.SiteID)
		if err != nil {
			return err
		}
		if !ok {
			fe = append(fe, apperr.FieldError{Field: "site_id", Message: "no such site in this organization"})
		}
	}
	if p.UnitID != nil {
		ok, err := exists(`SELECT true FROM units WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL`, *p.UnitID)
		if err != nil {
			return err
		}
		if !ok {
			fe = append(fe, apperr.FieldError{Field: "unit_id", Message: "no such unit in this organization"})
		}
	}
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ContactIDs...)
	}
	rows, err := tx.Query(ctx, `SELECT id::text FROM escalation_contacts WHERE organization_id = $1 AND is_active AND id = ANY($2::uuid[])`, orgID, ids)
	if err != nil {
		return err
	}
	active, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, id := range active {
		known[id] = true
	}
	for i, s := range p.Steps {
		for j, id := range s.ContactIDs {
			if !known[id] && !had[id] {
				fe = append(fe, apperr.FieldError{Field: "steps[" + strconv.Itoa(i) + "].contact_ids[" + strconv.Itoa(j) + "]",
					Message: "must be an active contact of this organization"})
			}
		}
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	return nil
}

func policyConflict(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "notification_policies_scope_key" {
		return apperr.New(apperr.Conflict, "a policy for this scope and alert type already exists")
	}
	return err
}

func eqPtr(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
