package domain

import (
	"testing"
	"time"
)

func TestEntitlement(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	day := 24 * time.Hour
	cases := []struct {
		name      string
		status    string
		trialEnds *time.Time
		periodEnd *time.Time
		wantWrite bool
		wantFlag  string
	}{
		{"trial running", "trial", at(3 * day), nil, true, FlagNone},
		{"trial without end date", "trial", nil, nil, true, FlagNone},
		{"trial ends exactly now", "trial", at(0), nil, false, FlagTrialExpired},
		{"trial expired", "trial", at(-time.Second), nil, false, FlagTrialExpired},
		{"active", "active", nil, at(20 * day), true, FlagNone},
		// An active subscription whose period end is stale (a missed renewal
		// event) keeps access: Stripe, not our clock, decides it lapsed.
		{"active with stale period", "active", nil, at(-30 * day), true, FlagNone},
		{"past_due before period end", "past_due", nil, at(day), true, FlagPastDue},
		{"past_due within grace", "past_due", nil, at(-6 * day), true, FlagPastDue},
		{"past_due grace ends exactly now", "past_due", nil, at(-7 * day), false, FlagInactive},
		{"past_due after grace", "past_due", nil, at(-8 * day), false, FlagInactive},
		{"past_due without period end", "past_due", nil, nil, true, FlagPastDue},
		{"canceled", "canceled", nil, at(10 * day), false, FlagInactive},
		{"paused", "paused", nil, nil, false, FlagInactive},
		{"incomplete", "incomplete", nil, nil, false, FlagInactive},
		// Origin bug §7.10: unknown statuses mapped to active. Never here.
		{"unknown status", "incomplete_expired", at(day), at(day), false, FlagInactive},
		{"trialing is not our spelling", "trialing", at(day), nil, false, FlagInactive},
		{"empty status", "", nil, nil, false, FlagInactive},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, f := Entitlement(c.status, c.trialEnds, c.periodEnd, now)
			if w != c.wantWrite || f != c.wantFlag {
				t.Errorf("Entitlement(%q) = %v, %q; want %v, %q", c.status, w, f, c.wantWrite, c.wantFlag)
			}
		})
	}
}
