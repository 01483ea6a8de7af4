package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// BillingStatus returns the organisation's plan, subscription and sensor
// usage. CanManage and InGoodStanding are the caller's to fill: they depend
// on the reader and the clock.
func (db *DB) BillingStatus(ctx context.Context, orgID string) (_ domain.BillingStatus, err error) {
	defer wrap(&err, "store.BillingStatus")
	var b domain.BillingStatus
	// The plan and limit are the organisation's effective entitlement (billing
	// writes them with the subscription); an organisation created before its
	// subscription row reads as a trial ending at organizations.trial_ends_at.
	// Sensors count against the limit when registered and installed in a
	// live unit, the same rule the sensor routes enforce.
	err = db.pool.QueryRow(ctx, `SELECT o.plan, coalesce(s.status, 'trial'), coalesce(s.trial_ends_at, o.trial_ends_at),
			s.current_period_end, coalesce(s.cancel_at_period_end, false), o.sensor_limit,
			`+registeredSensors("o.id")+`
		FROM organizations o LEFT JOIN subscriptions s ON s.organization_id = o.id
		WHERE o.id = $1`, orgID).
		Scan(&b.Plan, &b.Status, &b.TrialEndsAt, &b.CurrentPeriodEnd, &b.CancelAtPeriodEnd, &b.SensorLimit, &b.SensorsUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, apperr.New(apperr.NotFound, "organization not found")
	}
	b.UTC()
	return b, Classify(err)
}
