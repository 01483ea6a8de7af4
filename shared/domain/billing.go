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
	// Flag explains a restriction or a warning: "", past_due (grace period
	// running), trial_expired, inactive.
	Flag string `json:"flag"`
}

// UTC puts every time of the status in UTC.
func (b *BillingStatus) UTC() {
	for _, t := range []*time.Time{b.TrialEndsAt, b.CurrentPeriodEnd} {
		if t != nil {
			*t = t.UTC()
		}
	}
}

// InGoodStanding reports whether a subscription gives write access at now,
// ignoring the past_due grace period (no period end): the rule is
// Entitlement's, stated once.
func InGoodStanding(status string, trialEndsAt *time.Time, now time.Time) bool {
	ok, _ := Entitlement(status, trialEndsAt, nil, now)
	return ok
}
