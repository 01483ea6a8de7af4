package billing

import (
	"time"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/domain"
)

// The purchasable plans. "enterprise" exists in the schema but is set by
// hand, never by Stripe: no price maps to it.
const (
	PlanStarter = "starter"
	PlanPro     = "pro"
	PlanHACCP   = "haccp"
)

// Plans lists the purchasable plans, cheapest first.
var Plans = []string{PlanStarter, PlanPro, PlanHACCP}

// SensorLimit is the sensor limit of a purchasable plan; ok is false for any
// other name (domain.PlanSensorLimit).
func SensorLimit(plan string) (limit int, ok bool) { return domain.PlanSensorLimit(plan) }

// PriceForPlan is the configured Stripe price of a purchasable plan. The
// price always comes from configuration, never from a client.
func PriceForPlan(prices config.StripePrices, plan string) (priceID string, ok bool) {
	switch plan {
	case PlanStarter:
		priceID = prices.PriceStarter
	case PlanPro:
		priceID = prices.PricePro
	case PlanHACCP:
		priceID = prices.PriceHACCP
	}
	return priceID, priceID != ""
}

// PlanForPrice maps a subscription's price id back to our plan and sensor
// limit. An unknown price is not ok: the caller keeps the current plan
// rather than guessing one (the old system turned every unknown price into
// starter).
func PlanForPrice(prices config.StripePrices, priceID string) (plan string, limit int, ok bool) {
	if priceID == "" {
		return "", 0, false
	}
	for _, p := range Plans {
		if id, _ := PriceForPlan(prices, p); id == priceID {
			limit, _ := domain.PlanSensorLimit(p)
			return p, limit, true
		}
	}
	return "", 0, false
}

// Our subscription statuses (subscriptions.status). Only trial, active and
// past_due give access (domain.InGoodStanding).
const (
	StatusTrial      = "trial"
	StatusActive     = "active"
	StatusPastDue    = "past_due"
	StatusCanceled   = "canceled"
	StatusPaused     = "paused"
	StatusIncomplete = "incomplete"
)

// stripeStatuses maps every subscription status Stripe documents.
var stripeStatuses = map[string]string{
	"active":             StatusActive,
	"trialing":           StatusTrial,
	"past_due":           StatusPastDue,
	"unpaid":             StatusPastDue,
	"canceled":           StatusCanceled,
	"incomplete":         StatusIncomplete,
	"incomplete_expired": StatusCanceled,
	"paused":             StatusPaused,
}

// MapStatus maps a Stripe subscription status to ours. A status Stripe may
// add later is not ok and maps to incomplete, which gives no access: failing
// closed costs a customer a support ticket, failing open (the old system
// mapped unknown statuses to active) gives the product away.
func MapStatus(stripeStatus string) (status string, ok bool) {
	if s, ok := stripeStatuses[stripeStatus]; ok {
		return s, true
	}
	return StatusIncomplete, false
}

// ShouldApply is the ordering rule: an event changes a subscription only if
// it is not older than the last event applied to it. Stripe does not deliver
// in order, and its created has one-second resolution, so ties are applied
// (the store's UPDATE ... WHERE says the same in SQL).
func ShouldApply(lastCreated *time.Time, created time.Time) bool {
	return lastCreated == nil || !created.Before(*lastCreated)
}
