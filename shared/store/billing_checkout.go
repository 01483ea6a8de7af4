package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
)

// CheckoutState is what the checkout needs to know about an organisation:
// its Stripe customer (if any) and the Stripe side of its subscription.
type CheckoutState struct {
	OrgName string
	// CustomerID is organizations.stripe_customer_id, falling back to the
	// subscription's customer (rows written by the webhook before the
	// organisation column existed).
	CustomerID     string
	SubscriptionID string
	Status         string
}

// CheckoutState reads the organisation's customer and subscription.
func (db *DB) CheckoutState(ctx context.Context, orgID string) (_ CheckoutState, err error) {
	defer wrap(&err, "store.CheckoutState")
	var c CheckoutState
	err = db.pool.QueryRow(ctx, `SELECT o.name, coalesce(o.stripe_customer_id, s.stripe_customer_id, ''),
			coalesce(s.stripe_subscription_id, ''), coalesce(s.status, 'trial')
		FROM organizations o LEFT JOIN subscriptions s ON s.organization_id = o.id
		WHERE o.id = $1`, orgID).Scan(&c.OrgName, &c.CustomerID, &c.SubscriptionID, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "organization not found")
	}
	return c, Classify(err)
}

// EnsureStripeCustomer returns the organisation's Stripe customer id,
// calling create (which creates the customer at Stripe) and storing its
// result when there is none yet.
//
// Two checkouts started at once (a double click, two admins) must not
// create two customers: the re-check and the creation run under a
// transaction-scoped advisory lock on the organisation, so the second caller
// waits and then finds the first one's customer. An advisory lock rather
// than SELECT ... FOR UPDATE, because the Stripe call happens while it is
// held and a row lock would also stall the webhook's updates of the
// organisation row. create should still use an idempotency key, so a retry
// after a lost response (the customer created, our commit failed) gets the
// same customer back.
//
// Linking the customer is audited (actor: the caller) in the same
// transaction.
func (db *DB) EnsureStripeCustomer(ctx context.Context, orgID, actorID string, create func(ctx context.Context) (string, error)) (_ string, err error) {
	defer wrap(&err, "store.EnsureStripeCustomer")
	var id string
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('stripe-customer:' || $1::text, 0))`, orgID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT coalesce(o.stripe_customer_id, s.stripe_customer_id, '')
			FROM organizations o LEFT JOIN subscriptions s ON s.organization_id = o.id
			WHERE o.id = $1`, orgID).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "organization not found")
		}
		if err != nil {
			return err
		}
		if id == "" {
			if id, err = create(ctx); err != nil {
				return err
			}
		}
		// Also copies a customer known only from the subscription row onto
		// the organisation, where the next checkout and the portal read it.
		tag, err := tx.Exec(ctx, `UPDATE organizations SET stripe_customer_id = $2, updated_at = now()
			WHERE id = $1 AND stripe_customer_id IS DISTINCT FROM $2`, orgID, id)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return insertAuditEvent(ctx, tx, AuditEvent{OrgID: orgID, ActorUserID: actorID, Action: "billing.customer_linked",
			EntityType: "organization", EntityID: orgID, After: map[string]any{"stripe_customer_id": id}})
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// WriteEntitlement is what the api's subscription enforcement needs about
// one caller in one organisation.
type WriteEntitlement struct {
	Role             access.Role
	Status           string
	TrialEndsAt      *time.Time
	CurrentPeriodEnd *time.Time
	// SuspendedReason is set while the service's operators have suspended
	// the organisation (its writes are refused whatever the subscription).
	SuspendedReason *string
}

// MemberEntitlement returns the caller's role in the organisation together
// with the organisation's subscription, in one query. ok is false when the
// user is not an active member: enforcement then stays out of the way and
// the route answers its own 404, so a 402 never reveals that an
// organisation exists. The status and trial end fall back like
// BillingStatus: an organisation without a subscription row is a trial
// ending at organizations.trial_ends_at.
func (db *DB) MemberEntitlement(ctx context.Context, orgID, userID string) (e WriteEntitlement, ok bool, err error) {
	defer wrap(&err, "store.MemberEntitlement")
	err = db.pool.QueryRow(ctx, `SELECT m.role, coalesce(s.status, 'trial'),
			coalesce(s.trial_ends_at, o.trial_ends_at), s.current_period_end, o.suspended_reason
		FROM memberships m
		JOIN organizations o ON o.id = m.organization_id
		LEFT JOIN subscriptions s ON s.organization_id = o.id
		WHERE m.organization_id = $1 AND m.user_id = $2 AND m.status = 'active' AND o.import_state IS NULL`, orgID, userID).
		Scan(&e.Role, &e.Status, &e.TrialEndsAt, &e.CurrentPeriodEnd, &e.SuspendedReason)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, Classify(err)
	}
	return e, true, nil
}
