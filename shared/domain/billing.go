package domain

import "time"

// BillingStatus is an organisation's plan, subscription and sensor usage.
type BillingStatus struct {
	Plan              string     `json:"plan"`
	Status            string     `json:"status"`
	TrialEndsAt       *time.Time `json:"trial_ends_at"`
	CurrentPeriodEnd  *time.Time `json:"current_period_end"`
	CancelAtPeriodEnd bool       `json:"cancel_at_period_end"`
	SensorLimit       int        `json:"sensor_limit"`
	SensorsUsed       int        `json:"sensors_used"`
	CanManage         bool       `json:"can_manage"`
	InGoodStanding    bool       `json:"in_good_standing"`
}

// UTC puts every time of the status in UTC.
func (b *BillingStatus) UTC() {
	for _, t := range []*time.Time{b.TrialEndsAt, b.CurrentPeriodEnd} {
		if t != nil {
			*t = t.UTC()
		}
	}
}

// InGoodStanding reports whether a subscription gives full access at now:
// a trial that has not ended (a trial without an end date has not), or an
// active or past_due subscription (past_due keeps access during Stripe's
// retries; the UI shows a banner).
func InGoodStanding(status string, trialEndsAt *time.Time, now time.Time) bool {
	switch status {
	case "active", "past_due":
		return true
	case "trial":
		return trialEndsAt == nil || now.Before(*trialEndsAt)
	default:
		return false
	}
}
