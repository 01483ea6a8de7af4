package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

func TestBillingStatus(t *testing.T) {
	h := newHarness(t)
	a := h.alertActors()
	// Three registered sensors count, installed or not; an unregistered one does not.
	h.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui, deleted_at) VALUES
		($1, $2, 'A000000000000001', NULL), ($1, $2, 'A000000000000002', NULL),
		($1, NULL, 'A000000000000003', NULL), ($1, $2, 'A000000000000004', now())`, a.org, a.unit.UnitID)
	// Another organisation's sensors never count.
	bob := h.user("bob")
	orgB := h.org("Beta", bob)
	uB := h.unit(orgB)
	h.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui) VALUES ($1, $2, 'B000000000000001')`, orgB, uB.UnitID)

	var b domain.BillingStatus
	h.do(a.roles[access.Viewer], http.MethodGet, "/api/v1/orgs/"+a.org+"/billing", nil).must(t, 200).JSON(t, &b)
	if b.Plan != "starter" || b.Status != "trial" || b.TrialEndsAt == nil || b.TrialEndsAt.Before(time.Now().Add(13*24*time.Hour)) ||
		b.CurrentPeriodEnd != nil || b.CancelAtPeriodEnd || b.SensorLimit != 5 || b.SensorsUsed != 3 || b.CanManage || !b.InGoodStanding {
		t.Errorf("billing = %+v", b)
	}
	for role, can := range map[access.Role]bool{access.Owner: true, access.Admin: true, access.Manager: false,
		access.Staff: false, access.Viewer: false, access.Inspector: false} {
		var b domain.BillingStatus
		h.do(a.roles[role], http.MethodGet, "/api/v1/orgs/"+a.org+"/billing", nil).must(t, 200).JSON(t, &b)
		if b.CanManage != can {
			t.Errorf("%s: can_manage %v", role, b.CanManage)
		}
	}

	// An expired trial is not in good standing; an active subscription is.
	h.exec(`UPDATE subscriptions SET trial_ends_at = now() - interval '1 day' WHERE organization_id = $1`, a.org)
	h.do(a.roles[access.Owner], http.MethodGet, "/api/v1/orgs/"+a.org+"/billing", nil).must(t, 200).JSON(t, &b)
	if b.InGoodStanding {
		t.Error("an expired trial is in good standing")
	}
	end := time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second)
	h.exec(`UPDATE subscriptions SET status = 'active', plan = 'pro', current_period_end = $2, cancel_at_period_end = true WHERE organization_id = $1`, a.org, end)
	h.exec(`UPDATE organizations SET plan = 'pro', sensor_limit = 25 WHERE id = $1`, a.org)
	h.do(a.roles[access.Owner], http.MethodGet, "/api/v1/orgs/"+a.org+"/billing", nil).must(t, 200).JSON(t, &b)
	if b.Plan != "pro" || b.Status != "active" || b.CurrentPeriodEnd == nil || !b.CurrentPeriodEnd.Equal(end) ||
		b.CurrentPeriodEnd.Location() != time.UTC || !b.CancelAtPeriodEnd || b.SensorLimit != 25 || !b.CanManage || !b.InGoodStanding {
		t.Errorf("active billing = %+v", b)
	}
	h.exec(`UPDATE subscriptions SET status = 'canceled' WHERE organization_id = $1`, a.org)
	h.do(a.roles[access.Owner], http.MethodGet, "/api/v1/orgs/"+a.org+"/billing", nil).must(t, 200).JSON(t, &b)
	if b.InGoodStanding || b.Status != "canceled" {
		t.Errorf("canceled billing = %+v", b)
	}

	h.do(bob, http.MethodGet, "/api/v1/orgs/"+a.org+"/billing", nil).must(t, 404)
	h.do(bob, http.MethodGet, "/api/v1/orgs/"+orgB+"/billing", nil).must(t, 200).JSON(t, &b)
	if b.SensorsUsed != 1 {
		t.Errorf("org B uses %d sensors", b.SensorsUsed)
	}
}
