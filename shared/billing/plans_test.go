package billing_test

import (
	"testing"
	"time"

	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/domain"
)

func TestPlanForPrice(t *testing.T) {
	cases := []struct {
		price, plan string
		limit       int
		ok          bool
	}{
		{testPrices.PriceStarter, "starter", 5, true},
		{testPrices.PricePro, "pro", 25, true},
		{testPrices.PriceHACCP, "haccp", 100, true},
		{"price_unknown", "", 0, false}, // never a guessed starter
		{"", "", 0, false},
	}
	for _, tc := range cases {
		plan, limit, ok := billing.PlanForPrice(testPrices, tc.price)
		if plan != tc.plan || limit != tc.limit || ok != tc.ok {
			t.Errorf("PlanForPrice(%q) = %q %d %v", tc.price, plan, limit, ok)
		}
	}
	// An unset price in the configuration matches nothing, not "".
	if _, _, ok := billing.PlanForPrice(testPrices, ""); ok {
		t.Error("empty price matched")
	}
	for _, p := range billing.Plans {
		price, ok := billing.PriceForPlan(testPrices, p)
		back, limit, ok2 := billing.PlanForPrice(testPrices, price)
		want, _ := billing.SensorLimit(p)
		if !ok || !ok2 || back != p || limit != want {
			t.Errorf("round trip of %s: %s %s %d", p, price, back, limit)
		}
	}
	if _, ok := billing.PriceForPlan(testPrices, "enterprise"); ok {
		t.Error("enterprise is not purchasable")
	}
	if _, ok := billing.SensorLimit("enterprise"); ok {
		t.Error("enterprise has no fixed limit")
	}
}

func TestMapStatus(t *testing.T) {
	now := time.Now()
	cases := []struct {
		stripe, ours string
		ok, access   bool
	}{
		{"active", "active", true, true},
		{"trialing", "trial", true, true},
		{"past_due", "past_due", true, true},
		{"unpaid", "past_due", true, true},
		{"canceled", "canceled", true, false},
		{"incomplete", "incomplete", true, false},
		{"incomplete_expired", "canceled", true, false},
		{"paused", "paused", true, false},
		// The old system mapped these to active.
		{"", "incomplete", false, false},
		{"suspended", "incomplete", false, false},
		{"ACTIVE", "incomplete", false, false},
	}
	for _, tc := range cases {
		got, ok := billing.MapStatus(tc.stripe)
		if got != tc.ours || ok != tc.ok {
			t.Errorf("MapStatus(%q) = %q %v", tc.stripe, got, ok)
		}
		if access := domain.InGoodStanding(got, nil, now); access != tc.access {
			t.Errorf("%q gives access %v", tc.stripe, access)
		}
	}
}

func TestShouldApply(t *testing.T) {
	last := time.Unix(1767225600, 0)
	cases := []struct {
		name    string
		last    *time.Time
		created time.Time
		want    bool
	}{
		{"first event", nil, last, true},
		{"newer", &last, last.Add(time.Second), true},
		{"same second", &last, last, true},
		{"older", &last, last.Add(-time.Second), false},
	}
	for _, tc := range cases {
		if got := billing.ShouldApply(tc.last, tc.created); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
