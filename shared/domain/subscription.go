package domain

import "time"

// PlanSensorLimit is how many sensors a purchasable plan may have assigned;
// ok is false for any other name (enterprise is set by hand). Billing and
// the origin import apply it.
func PlanSensorLimit(plan string) (limit int, ok bool) {
	limit, ok = planSensorLimits[plan]
	return limit, ok
}

var planSensorLimits = map[string]int{"starter": 5, "pro": 25, "haccp": 100}

// PastDueGrace is how long a past_due subscription keeps full access after
// its current period ended. Stripe retries a failed renewal over about a
// week (smart retries); cutting writes before the retries are over would
// punish a card that is merely being re-tried.
const PastDueGrace = 7 * 24 * time.Hour

// Entitlement flags, shown next to the status so the UI can explain why an
// organisation is read-only (or about to become so).
const (
	// FlagNone: full access, nothing to say.
	FlagNone = ""
	// FlagPastDue: a payment failed; full access until the grace period ends.
	FlagPastDue = "past_due"
	// FlagTrialExpired: the trial ended without a paid subscription.
	FlagTrialExpired = "trial_expired"
	// FlagInactive: canceled, paused, incomplete, past_due beyond the grace
	// period, or a status this code does not know.
	FlagInactive = "inactive"
)

// Entitlement decides whether an organisation whose subscription is in
// status may write at now, and the flag explaining it. Reads are never
// restricted by billing: a lapsed customer must still see (and export) its
// temperature records.
//
//   - trial: full access until trialEndsAt (a trial without an end date has
//     not ended, like InGoodStanding);
//   - active: full access;
//   - past_due: full access, flagged, until currentPeriodEnd + PastDueGrace
//     (without a period end there is nothing to count from, so access stays
//     and Stripe's own dunning ends it by canceling);
//   - anything else — canceled, paused, incomplete and statuses this code
//     does not know — is read-only: an unknown status never grants access.
func Entitlement(status string, trialEndsAt, currentPeriodEnd *time.Time, now time.Time) (canWrite bool, flag string) {
	switch status {
	case "active":
		return true, FlagNone
	case "trial":
		if trialEndsAt == nil || now.Before(*trialEndsAt) {
			return true, FlagNone
		}
		return false, FlagTrialExpired
	case "past_due":
		if currentPeriodEnd == nil || now.Before(currentPeriodEnd.Add(PastDueGrace)) {
			return true, FlagPastDue
		}
		return false, FlagInactive
	default:
		return false, FlagInactive
	}
}
