package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// EffectivePolicy is the policy that pages one alert type of a unit, and
// why: the SQL function effective_notification_policy, the one definition
// the opening of an alert and its "back to normal" use, picks it.
type EffectivePolicy struct {
	AlertType string `json:"alert_type"`
	// Policy is nil when no enabled policy reaches the unit for this type:
	// an alert opens and nobody is paged.
	Policy *NotificationPolicy `json:"policy"`
	// Scope is where the policy is set: unit, site or organization ("" for
	// none); ForAlertType says it names this alert type (else it is an
	// any-type policy).
	Scope        string `json:"scope"`
	ForAlertType bool   `json:"for_alert_type"`
	Reason       string `json:"reason"`
}

// EffectivePolicies returns, for every alert type, the policy that governs
// it on a live unit of the organisation and why.
func (db *DB) EffectivePolicies(ctx context.Context, orgID, unitID string) (_ []EffectivePolicy, err error) {
	defer wrap(&err, "store.EffectivePolicies")
	var live bool
	err = db.pool.QueryRow(ctx, `SELECT true FROM units WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`,
		orgID, unitID).Scan(&live)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, (apperr.New(apperr.NotFound, "unit not found"))
	}
	if err != nil {
		return nil, Classify(err)
	}
	rows, err := db.pool.Query(ctx, `SELECT t.kind, `+policyCols+`
		FROM unnest($3::text[]) AS t(kind)
		JOIN LATERAL effective_notification_policy($1, $2, t.kind) p ON true`, orgID, unitID, domain.AlertTypes)
	if err != nil {
		return nil, Classify(err)
	}
	found := map[string]NotificationPolicy{}
	for rows.Next() {
		var kind string
		p, err := scanPolicy(kindAndPolicy{rows, &kind})
		if err != nil {
			rows.Close()
			return nil, err
		}
		found[kind] = p
	}
	if err := rows.Err(); err != nil {
		return nil, Classify(err)
	}
	out := make([]EffectivePolicy, 0, len(domain.AlertTypes))
	for _, kind := range domain.AlertTypes {
		e := EffectivePolicy{AlertType: kind, Reason: "no enabled policy of the unit, its site or the organisation covers " +
			kind + ": an alert opens and nobody is paged"}
		if p, ok := found[kind]; ok {
			e.Policy = &p
			e.ForAlertType = p.AlertType != nil
			which := "for every alert type"
			if e.ForAlertType {
				which = "for " + kind
			}
			switch {
			case p.UnitID != nil:
				e.Scope, e.Reason = "unit", "the unit's own policy "+which
			case p.SiteID != nil:
				e.Scope, e.Reason = "site", "the site's policy "+which+" (the unit has none of its own)"
			default:
				e.Scope, e.Reason = "organization", "the organisation's policy "+which+" (neither the unit nor its site has one)"
			}
			if !e.ForAlertType {
				e.Reason += "; no policy at that level names " + kind
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// kindAndPolicy scans a row of an alert type followed by policyCols, so that
// scanPolicy reads the policy.
type kindAndPolicy struct {
	row  pgx.Row
	kind *string
}

func (k kindAndPolicy) Scan(dest ...any) error { return k.row.Scan(append([]any{k.kind}, dest...)...) }
