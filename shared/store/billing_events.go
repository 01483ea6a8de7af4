package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// StripeEventKey identifies one Stripe event. Every method below records it
// in stripe_events in the same transaction as the change the event causes:
// a duplicate changes nothing, a concurrent duplicate waits on the primary
// key until the first copy commits and then sees it, and a failed change
// leaves no row, so Stripe's retry is processed.
type StripeEventKey struct {
	ID, Type string
	Created  time.Time // the event's own creation time: the ordering key
}

// What applying a Stripe event did (BillingResult.Outcome).
const (
	BillingApplied        = "applied"         // the subscription changed
	BillingDuplicate      = "duplicate"       // the event id was already recorded
	BillingRecorded       = "recorded"        // recorded, nothing to change (unknown type, audit only)
	BillingStale          = "stale"           // older than the last event applied: recorded, ignored
	BillingUnchanged      = "unchanged"       // the event does not apply to the current state
	BillingNoOrganization = "no_organization" // names no organisation or subscription we know
	BillingConflict       = "conflict"        // the subscription belongs to another organisation
)

// BillingResult says what a Stripe event did.
type BillingResult struct {
	Outcome        string
	OrganizationID string
	// before is the subscription as it was, for the audit line of an
	// applied change.
	before json.RawMessage
}

// subscriptionAudit is what the audit trail keeps of a subscription.
const subscriptionAudit = `jsonb_build_object('status', status, 'plan', plan, 'stripe_subscription_id', stripe_subscription_id,
	'current_period_end', current_period_end, 'cancel_at_period_end', cancel_at_period_end, 'canceled_at', canceled_at,
	'trial_ends_at', trial_ends_at)`

// subscriptionBefore reads the organisation's subscription before a change.
func subscriptionBefore(ctx context.Context, tx pgx.Tx, org string) (json.RawMessage, error) {
	var b json.RawMessage
	err := tx.QueryRow(ctx, `SELECT `+subscriptionAudit+` FROM subscriptions WHERE organization_id = $1`, org).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

// liveStatuses are the subscription statuses that give access (the SQL
// form of domain.InGoodStanding, trial end aside).
const liveStatuses = `('trial', 'active', 'past_due')`

func stripeRecordEvent(ctx context.Context, tx pgx.Tx, ev StripeEventKey) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO stripe_events (event_id, type, created)
		VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING`, ev.ID, ev.Type, ev.Created)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// stripeTx runs apply in one transaction after recording the event; a
// duplicate returns BillingDuplicate without calling apply.
func (db *DB) stripeTx(ctx context.Context, ev StripeEventKey, apply func(pgx.Tx) (BillingResult, error)) (BillingResult, error) {
	var res BillingResult
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		fresh, err := stripeRecordEvent(ctx, tx, ev)
		if err != nil {
			return err
		}
		if !fresh {
			res = BillingResult{Outcome: BillingDuplicate}
			return nil
		}
		if res, err = apply(tx); err != nil || res.Outcome != BillingApplied {
			return err
		}
		// The change and its audit line commit together (actor provider).
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (organization_id, actor_type, action, entity_type, entity_id, before, after, at)
			SELECT organization_id, 'provider', 'billing.' || $2, 'subscription', id, $3,
				`+subscriptionAudit+` || jsonb_build_object('event_id', $4::text), $5
			FROM subscriptions WHERE organization_id = $1`, res.OrganizationID, ev.Type, nullJSON(res.before), ev.ID, ev.Created)
		return err
	})
	if err != nil {
		return BillingResult{}, err
	}
	return res, nil
}

// RecordStripeEvent only records the event (types we do not act on).
func (db *DB) RecordStripeEvent(ctx context.Context, ev StripeEventKey) (_ BillingResult, err error) {
	defer wrap(&err, "store.RecordStripeEvent")
	return db.stripeTx(ctx, ev, func(pgx.Tx) (BillingResult, error) {
		return BillingResult{Outcome: BillingRecorded}, nil
	})
}

// BillingLookup names the organisation an event is about, most specific
// first: our id from the object's metadata, the subscription id, the
// customer id. Ids that are not UUIDs must be "" (the caller checks).
type BillingLookup struct {
	OrganizationID, SubscriptionID, CustomerID string
}

// billingOrg finds the organisation; "" when none matches. conflict: the
// metadata names one organisation while another already holds the
// subscription id (stripe_subscription_id is unique, so applying it would
// fail on every retry).
func billingOrg(ctx context.Context, tx pgx.Tx, l BillingLookup) (org string, conflict bool, err error) {
	var bySub string
	if l.SubscriptionID != "" {
		err = tx.QueryRow(ctx, `SELECT organization_id::text FROM subscriptions WHERE stripe_subscription_id = $1`,
			l.SubscriptionID).Scan(&bySub)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return "", false, err
		}
	}
	if l.OrganizationID != "" {
		err = tx.QueryRow(ctx, `SELECT id::text FROM organizations WHERE id = $1`, l.OrganizationID).Scan(&org)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return "", false, err
		}
		if org != "" {
			return org, bySub != "" && bySub != org, nil
		}
	}
	if bySub != "" {
		return bySub, false, nil
	}
	if l.CustomerID != "" {
		// The organisation's own customer first (unique), then a
		// subscription row that recorded it.
		err = tx.QueryRow(ctx, `SELECT id::text FROM organizations WHERE stripe_customer_id = $1
			UNION ALL
			(SELECT organization_id::text FROM subscriptions WHERE stripe_customer_id = $1 ORDER BY updated_at DESC)
			LIMIT 1`, l.CustomerID).Scan(&org)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return "", false, err
		}
	}
	return org, false, nil
}

// ensureSubscriptionRow creates the organisation's subscription row if it
// has none (organisations made before billing rows existed).
func ensureSubscriptionRow(ctx context.Context, tx pgx.Tx, org string) error {
	_, err := tx.Exec(ctx, `INSERT INTO subscriptions (organization_id, plan, status, trial_ends_at)
		SELECT id, plan, 'trial', trial_ends_at FROM organizations WHERE id = $1
		ON CONFLICT (organization_id) DO NOTHING`, org)
	return err
}

// setOrgCustomer stores the Stripe customer on the organisation, unless
// another organisation holds it (the column is unique: failing here would
// fail every retry of the event).
func setOrgCustomer(ctx context.Context, tx pgx.Tx, org, customer string) error {
	if customer == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE organizations SET stripe_customer_id = $2, updated_at = now()
		WHERE id = $1 AND stripe_customer_id IS DISTINCT FROM $2
		AND NOT EXISTS (SELECT 1 FROM organizations o WHERE o.stripe_customer_id = $2 AND o.id <> $1)`, org, customer)
	return err
}

func setOrgPlan(ctx context.Context, tx pgx.Tx, org, plan string, limit int) error {
	if plan == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE organizations SET plan = $2, sensor_limit = $3, updated_at = now()
		WHERE id = $1 AND (plan <> $2 OR sensor_limit <> $3)`, org, plan, limit)
	return err
}

// SubscriptionChange is a subscription's state as a customer.subscription.*
// event carries it, already mapped to our vocabulary.
type SubscriptionChange struct {
	BillingLookup
	Status string // ours (billing.MapStatus)
	// Plan and SensorLimit come from PriceID; Plan "" (an unknown price)
	// leaves the plan, the limit and stripe_price_id as they are.
	PriceID, Plan           string
	SensorLimit             int
	PeriodStart, PeriodEnd  *time.Time // nil keeps the stored value
	CancelAtPeriodEnd       bool
	CanceledAt, TrialEndsAt *time.Time
}

// ApplyStripeSubscription applies a subscription's state to its
// organisation: the subscription row, and the organisation's plan and sensor
// limit, together. Only if the event is not older than the last one applied
// (ties apply: created has one-second resolution), and never a dead
// subscription over another, live one (an old subscription's late
// incomplete_expired must not cancel the one that replaced it).
func (db *DB) ApplyStripeSubscription(ctx context.Context, ev StripeEventKey, c SubscriptionChange) (_ BillingResult, err error) {
	defer wrap(&err, "store.ApplyStripeSubscription")
	return db.stripeTx(ctx, ev, func(tx pgx.Tx) (BillingResult, error) {
		org, conflict, err := billingOrg(ctx, tx, c.BillingLookup)
		switch {
		case err != nil:
			return BillingResult{}, err
		case org == "":
			return BillingResult{Outcome: BillingNoOrganization}, nil
		case conflict:
			return BillingResult{Outcome: BillingConflict, OrganizationID: org}, nil
		}
		if err := ensureSubscriptionRow(ctx, tx, org); err != nil {
			return BillingResult{}, err
		}
		before, err := subscriptionBefore(ctx, tx, org)
		if err != nil {
			return BillingResult{}, err
		}
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET
				stripe_subscription_id = $2,
				stripe_customer_id = coalesce(nullif($3, ''), stripe_customer_id),
				status = $4,
				stripe_price_id = CASE WHEN $6 <> '' THEN $5 ELSE stripe_price_id END,
				plan = coalesce(nullif($6, ''), plan),
				current_period_start = coalesce($7, current_period_start),
				current_period_end = coalesce($8, current_period_end),
				cancel_at_period_end = $9,
				canceled_at = $10,
				trial_ends_at = coalesce($11, trial_ends_at),
				last_event_created = $12, last_event_id = $13, updated_at = now()
			WHERE organization_id = $1
			AND (last_event_created IS NULL OR last_event_created <= $12)
			AND (stripe_subscription_id IS NULL OR stripe_subscription_id = $2
				OR $4 IN `+liveStatuses+` OR status NOT IN `+liveStatuses+`)`,
			org, c.SubscriptionID, c.CustomerID, c.Status, c.PriceID, c.Plan,
			c.PeriodStart, c.PeriodEnd, c.CancelAtPeriodEnd, c.CanceledAt, c.TrialEndsAt, ev.Created, ev.ID)
		if err != nil {
			return BillingResult{}, err
		}
		if tag.RowsAffected() == 0 {
			return BillingResult{Outcome: staleOrUnchanged(ctx, tx, org, ev.Created), OrganizationID: org}, nil
		}
		if err := setOrgCustomer(ctx, tx, org, c.CustomerID); err != nil {
			return BillingResult{}, err
		}
		if err := setOrgPlan(ctx, tx, org, c.Plan, c.SensorLimit); err != nil {
			return BillingResult{}, err
		}
		return BillingResult{Outcome: BillingApplied, OrganizationID: org, before: before}, nil
	})
}

// staleOrUnchanged tells why an ordered UPDATE matched nothing, for the log
// and the answer. A read error just makes the answer less precise.
func staleOrUnchanged(ctx context.Context, tx pgx.Tx, org string, created time.Time) string {
	var stale bool
	if err := tx.QueryRow(ctx, `SELECT coalesce(last_event_created > $2, false) FROM subscriptions WHERE organization_id = $1`,
		org, created).Scan(&stale); err == nil && stale {
		return BillingStale
	}
	return BillingUnchanged
}

// CheckoutCompletion is a completed Checkout Session in subscription mode.
type CheckoutCompletion struct {
	OrganizationID, CustomerID, SubscriptionID string
	// Plan from the session's metadata ("" = none or unknown) and its limit.
	Plan        string
	SensorLimit int
	// Paid: the first invoice is paid, so the subscription is active.
	Paid bool
}

// ApplyStripeCheckout stores the customer on the organisation and links the
// new subscription to it. The subscription events are the authority on
// status and plan; the session only fills the gap until the first of them
// arrives (they can come before or after it), so it applies plan and status
// only while no event of this subscription has been applied, never over
// another live subscription, and it does not move last_event_created.
func (db *DB) ApplyStripeCheckout(ctx context.Context, ev StripeEventKey, c CheckoutCompletion) (_ BillingResult, err error) {
	defer wrap(&err, "store.ApplyStripeCheckout")
	return db.stripeTx(ctx, ev, func(tx pgx.Tx) (BillingResult, error) {
		org, conflict, err := billingOrg(ctx, tx, BillingLookup{OrganizationID: c.OrganizationID, SubscriptionID: c.SubscriptionID})
		switch {
		case err != nil:
			return BillingResult{}, err
		case org == "" || org != c.OrganizationID:
			// The session must name the organisation itself: our checkout
			// always sets client_reference_id.
			return BillingResult{Outcome: BillingNoOrganization}, nil
		case conflict:
			return BillingResult{Outcome: BillingConflict, OrganizationID: org}, nil
		}
		if err := ensureSubscriptionRow(ctx, tx, org); err != nil {
			return BillingResult{}, err
		}
		before, err := subscriptionBefore(ctx, tx, org)
		if err != nil {
			return BillingResult{}, err
		}
		if err := setOrgCustomer(ctx, tx, org, c.CustomerID); err != nil {
			return BillingResult{}, err
		}
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET
				stripe_subscription_id = $2,
				stripe_customer_id = coalesce(nullif($3, ''), stripe_customer_id),
				plan = coalesce(nullif($4, ''), plan),
				status = CASE WHEN $5 THEN 'active' ELSE status END,
				canceled_at = NULL, cancel_at_period_end = false, updated_at = now()
			WHERE organization_id = $1
			AND (stripe_subscription_id IS NULL OR (stripe_subscription_id <> $2 AND status NOT IN `+liveStatuses+`))`,
			org, c.SubscriptionID, c.CustomerID, c.Plan, c.Paid)
		if err != nil {
			return BillingResult{}, err
		}
		if tag.RowsAffected() == 0 {
			// Already linked (its events came first) or another live
			// subscription: only record the customer where missing.
			_, err := tx.Exec(ctx, `UPDATE subscriptions SET stripe_customer_id = $2, updated_at = now()
				WHERE organization_id = $1 AND stripe_customer_id IS NULL AND $2 <> ''`, org, c.CustomerID)
			return BillingResult{Outcome: BillingUnchanged, OrganizationID: org}, err
		}
		if err := setOrgPlan(ctx, tx, org, c.Plan, c.SensorLimit); err != nil {
			return BillingResult{}, err
		}
		return BillingResult{Outcome: BillingApplied, OrganizationID: org, before: before}, nil
	})
}

// ApplyStripeInvoice applies invoice.paid (paid: past_due becomes active)
// or invoice.payment_failed (active or trial becomes past_due) to the
// subscription the invoice belongs to, in event order like the
// subscription events. A failed first invoice of an incomplete subscription
// does not become past_due: that would grant access nobody paid for.
func (db *DB) ApplyStripeInvoice(ctx context.Context, ev StripeEventKey, subscriptionID string, paid bool) (_ BillingResult, err error) {
	defer wrap(&err, "store.ApplyStripeInvoice")
	from, to := `('active', 'trial')`, "past_due"
	if paid {
		from, to = `('past_due')`, "active"
	}
	return db.stripeTx(ctx, ev, func(tx pgx.Tx) (BillingResult, error) {
		var org string
		err := tx.QueryRow(ctx, `SELECT organization_id::text FROM subscriptions WHERE stripe_subscription_id = $1 FOR UPDATE`,
			subscriptionID).Scan(&org)
		if errors.Is(err, pgx.ErrNoRows) {
			return BillingResult{Outcome: BillingNoOrganization}, nil
		}
		if err != nil {
			return BillingResult{}, err
		}
		before, err := subscriptionBefore(ctx, tx, org)
		if err != nil {
			return BillingResult{}, err
		}
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET status = $2, last_event_created = $3, last_event_id = $4, updated_at = now()
			WHERE stripe_subscription_id = $1 AND status IN `+from+`
			AND (last_event_created IS NULL OR last_event_created <= $3)`, subscriptionID, to, ev.Created, ev.ID)
		if err != nil {
			return BillingResult{}, err
		}
		if tag.RowsAffected() == 0 {
			return BillingResult{Outcome: staleOrUnchanged(ctx, tx, org, ev.Created), OrganizationID: org}, nil
		}
		return BillingResult{Outcome: BillingApplied, OrganizationID: org, before: before}, nil
	})
}

// RecordTrialWillEnd records customer.subscription.trial_will_end in the
// organisation's audit log (actor provider). Telling the owners by email
// needs an outbox kind for billing mail, which does not exist yet.
func (db *DB) RecordTrialWillEnd(ctx context.Context, ev StripeEventKey, l BillingLookup, trialEnd *time.Time) (_ BillingResult, err error) {
	defer wrap(&err, "store.RecordTrialWillEnd")
	return db.stripeTx(ctx, ev, func(tx pgx.Tx) (BillingResult, error) {
		org, _, err := billingOrg(ctx, tx, l)
		if err != nil {
			return BillingResult{}, err
		}
		if org == "" {
			return BillingResult{Outcome: BillingNoOrganization}, nil
		}
		after, _ := json.Marshal(map[string]any{"event_id": ev.ID, "stripe_subscription_id": l.SubscriptionID, "trial_end": trialEnd})
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (organization_id, actor_type, action, entity_type, entity_id, after, at)
			VALUES ($1, 'provider', 'billing.trial_will_end', 'subscription',
				(SELECT id FROM subscriptions WHERE organization_id = $1), $2, $3)`, org, after, ev.Created)
		if err != nil {
			return BillingResult{}, err
		}
		return BillingResult{Outcome: BillingRecorded, OrganizationID: org}, nil
	})
}
