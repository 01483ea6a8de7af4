package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/web"
)

// newEnforcedHarness is the api harness with the subscription enforcement
// wrapped around the router, as the api function wires it.
func newEnforcedHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	mux := http.NewServeMux()
	h.srv.Register(mux)
	mux.Handle("/", web.NotFound())
	h.h = web.Standard(h.srv.EnforceSubscriptions(mux), web.Options{Function: "api"})
	return h
}

func (h *harness) setSubscription(org, status string, trialEnds, periodEnd *time.Time) {
	h.t.Helper()
	h.exec(`UPDATE subscriptions SET status = $2, trial_ends_at = $3, current_period_end = $4 WHERE organization_id = $1`,
		org, status, trialEnds, periodEnd)
}

func ago(d time.Duration) *time.Time { t := time.Now().Add(-d); return &t }

func (h *harness) mustInactive(r response) {
	h.t.Helper()
	r.must(h.t, http.StatusPaymentRequired)
	if r.ErrorCode() != "SUBSCRIPTION_INACTIVE" {
		h.t.Fatalf("code %s: %s", r.ErrorCode(), r.Body)
	}
}

func TestEnforceSubscriptions(t *testing.T) {
	h := newEnforcedHarness(t)
	a := h.alertActors()
	owner, manager, viewer := a.roles[access.Owner], a.roles[access.Manager], a.roles[access.Viewer]
	sites := "/api/v1/orgs/" + a.org + "/sites"
	site := map[string]any{"name": "Kitchen"}
	day := 24 * time.Hour

	// A running trial writes.
	h.do(owner, http.MethodPost, sites, site).must(t, 201)

	// Expired trial: writes 402, reads 200, alarms can still be handled.
	h.setSubscription(a.org, "trial", ago(time.Minute), nil)
	h.mustInactive(h.do(owner, http.MethodPost, sites, site))
	h.mustInactive(h.do(owner, http.MethodPatch, "/api/v1/orgs/"+a.org, map[string]any{"name": "Renamed"}))
	h.mustInactive(h.do(manager, http.MethodPatch, "/api/v1/orgs/"+a.org+"/units/"+a.unit.UnitID, map[string]any{"temp_max_c": 6}))
	h.do(viewer, http.MethodGet, sites, nil).must(t, 200)
	h.do(viewer, http.MethodGet, "/api/v1/orgs/"+a.org+"/billing", nil).must(t, 200)
	ack := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{})
	h.do(a.roles[access.Staff], http.MethodPost, alertPath(a.org, ack, "acknowledge"), map[string]any{"note": "on it"}).must(t, 200)
	h.do(manager, http.MethodPost, alertPath(a.org, ack, "resolve"), map[string]any{"note": "fixed"}).must(t, 200)

	// Whoever may not write anyway hears what the route would have said: 403
	// for a role without the permission, 404 for another organisation (a
	// 402 would reveal that it exists), 401 without a token, 404 for an
	// unknown route.
	h.do(viewer, http.MethodPost, sites, site).must(t, 403)
	bob := h.user("bob")
	orgB := h.org("Beta", bob)
	if r := h.do(bob, http.MethodPost, sites, site).must(t, 404); r.ErrorCode() != "NOT_FOUND" {
		t.Errorf("stranger: %s", r.Body)
	}
	h.do(nil, http.MethodPost, sites, site).must(t, 401)
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+a.org+"/no-such-thing", site).must(t, 404)
	// Bob's own organisation is on a trial: unaffected by Alpha's.
	h.do(bob, http.MethodPost, "/api/v1/orgs/"+orgB+"/sites", site).must(t, 201)
	// Creating a new organisation is not org-scoped.
	h.do(owner, http.MethodPost, "/api/v1/orgs", map[string]any{"name": "Fresh Start"}).must(t, 201)

	// past_due: full access during the grace period, read-only after it.
	h.setSubscription(a.org, "past_due", nil, ago(6*day))
	h.do(owner, http.MethodPost, sites, site).must(t, 201)
	h.setSubscription(a.org, "past_due", nil, ago(8*day))
	h.mustInactive(h.do(owner, http.MethodPost, sites, site))

	// Active writes; canceled, paused and incomplete do not.
	h.setSubscription(a.org, "active", nil, ago(-30*day))
	h.do(owner, http.MethodPost, sites, site).must(t, 201)
	for _, status := range []string{"canceled", "paused", "incomplete"} {
		h.setSubscription(a.org, status, nil, ago(-30*day))
		h.mustInactive(h.do(owner, http.MethodPost, sites, site))
		h.do(owner, http.MethodGet, sites, nil).must(t, 200)
	}
	// Removing a member stays possible (offboarding).
	var memberID string
	h.queryRow([]any{&memberID}, `SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2`, a.org, viewer.ID)
	h.do(owner, http.MethodDelete, "/api/v1/orgs/"+a.org+"/members/"+memberID, nil).must(t, 204)
}

func TestEnforceWithoutSubscriptionRow(t *testing.T) {
	h := newEnforcedHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	// An organisation without a subscription row is a trial ending at
	// organizations.trial_ends_at, as the billing status reads it.
	h.exec(`DELETE FROM subscriptions WHERE organization_id = $1`, org)
	h.exec(`UPDATE organizations SET trial_ends_at = now() - interval '1 hour' WHERE id = $1`, org)
	h.mustInactive(h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/sites", map[string]any{"name": "Kitchen"}))
	h.exec(`UPDATE organizations SET trial_ends_at = now() + interval '1 hour' WHERE id = $1`, org)
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/sites", map[string]any{"name": "Kitchen"}).must(t, 201)
}

func TestWriteExempt(t *testing.T) {
	cases := []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/v1/orgs/{orgId}/billing/checkout", true},
		{"POST", "/api/v1/orgs/{orgId}/billing/portal", true},
		{"POST", "/api/v1/orgs/{orgId}/billing", true},
		{"POST", "/api/v1/orgs/{orgId}/exports", true},
		{"POST", "/api/v1/orgs/{orgId}/units/{unitId}/export", true},
		{"POST", "/api/v1/orgs/{orgId}/alerts/{alertId}/acknowledge", true},
		{"POST", "/api/v1/orgs/{orgId}/units/{unitId}/silence", true},
		{"DELETE", "/api/v1/orgs/{orgId}/units/{unitId}/silence", true},
		{"PATCH", "/api/v1/orgs/{orgId}/units/{unitId}", false},
		{"POST", "/api/v1/orgs/{orgId}/alerts/{alertId}/resolve", true},
		{"DELETE", "/api/v1/orgs/{orgId}/members/{memberId}", true},
		{"POST", "/api/v1/orgs/{orgId}/ttn-connection/rotate-secret", true},
		{"DELETE", "/api/v1/orgs/{orgId}/network-connections/chirpstack", true},
		{"PUT", "/api/v1/orgs/{orgId}/network-connections/chirpstack", false},
		{"PATCH", "/api/v1/orgs/{orgId}/members/{memberId}", false},
		{"POST", "/api/v1/orgs/{orgId}/members", false},
		{"POST", "/api/v1/orgs/{orgId}/alerts", false},
		{"POST", "/api/v1/orgs/{orgId}/sites", false},
		{"PATCH", "/api/v1/orgs/{orgId}", false},
		{"POST", "/api/v1/orgs/{orgId}/sensors", false},
		{"DELETE", "/api/v1/orgs/{orgId}/sites/{siteId}", false},
		{"POST", "/api/v1/orgs/{orgId}/sites/billing", false},
	}
	for _, c := range cases {
		if got := writeExempt(c.method, c.path); got != c.want {
			t.Errorf("writeExempt(%s %s) = %v", c.method, c.path, got)
		}
	}
}
