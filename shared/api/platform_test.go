package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/store"
)

// Issue 20: the service's operators (an allow-list of subjects, no
// organisation role) list every organisation with its plan, usage and
// health, open an audited support view, and suspend one: its writes are
// refused (alarm handling stays open) until they reactivate it; each action
// is in the organisation's audit trail for its owners.
func TestPlatformAdmin(t *testing.T) {
	e := newHierEnv(t)
	e.h.wireAsInProduction() // the subscription (and suspension) enforcement wraps the routes
	operator := e.h.user("operator")
	e.h.srv.PlatformAdmins = []string{operator.Subject}
	u := e.h.unit(e.org)
	e.h.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui) VALUES ($1, $2, 'A84041000181C0DF')`, e.org, u.UnitID)
	var alertID string
	e.h.queryRow([]any{&alertID}, `INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, triggered_at)
		VALUES ($1, $2, 'temp_excursion', 'critical', 'active', 'Too warm', now()) RETURNING id`, e.org, u.UnitID)
	e.h.exec(`UPDATE units SET status = 'offline' WHERE id = $1`, u.UnitID)

	// Members, owners included, are no operators.
	e.h.do(e.owner, http.MethodGet, "/api/v1/platform/organizations", nil).must(t, http.StatusForbidden)

	var list struct{ Items []store.PlatformOrganization }
	e.h.do(operator, http.MethodGet, "/api/v1/platform/organizations?limit=200", nil).must(t, 200).JSON(t, &list)
	var got *store.PlatformOrganization
	for i := range list.Items {
		if list.Items[i].ID == e.org {
			got = &list.Items[i]
		}
	}
	if got == nil || got.Plan == "" || got.SubscriptionStatus != "trial" || got.Units != 1 || got.Sensors != 1 || got.Sites != 1 ||
		got.Members != 6 || got.OpenAlerts != 1 || got.CriticalAlerts != 1 || got.UnitsSilent != 1 || got.SuspendedAt != nil {
		t.Fatalf("organisation %+v", got)
	}

	// The support view is audited, and the owners see it.
	e.h.do(operator, http.MethodGet, "/api/v1/platform/organizations/"+e.org, nil).must(t, 200)
	e.h.do(operator, http.MethodGet, "/api/v1/platform/organizations/7d1f0e4c-8d52-4a3f-9b1c-0e2d4f6a8b10", nil).must(t, http.StatusNotFound)
	var trail struct{ Items []store.AuditEntry }
	e.h.do(e.owner, http.MethodGet, e.path("/audit-log?action=platform:+support+view"), nil).must(t, 200).JSON(t, &trail)
	if len(trail.Items) != 1 || trail.Items[0].ActorType != "platform_admin" || trail.Items[0].ActorUserID == nil ||
		*trail.Items[0].ActorUserID != operator.ID {
		t.Fatalf("support view in the trail: %+v", trail.Items)
	}

	// Suspended: writes refused with the reason, alarm handling still open.
	mustFieldError(t, e.h.do(operator, http.MethodPost, "/api/v1/platform/organizations/"+e.org+"/suspend", map[string]any{"reason": " "}), "reason")
	var susp store.PlatformOrganization
	e.h.do(operator, http.MethodPost, "/api/v1/platform/organizations/"+e.org+"/suspend", map[string]any{"reason": "Chargeback"}).
		must(t, 200).JSON(t, &susp)
	if susp.SuspendedAt == nil || susp.SuspendedReason == nil || *susp.SuspendedReason != "Chargeback" {
		t.Fatalf("suspended %+v", susp)
	}
	e.h.do(operator, http.MethodPost, "/api/v1/platform/organizations/"+e.org+"/suspend", map[string]any{"reason": "again"}).
		must(t, http.StatusConflict)
	if r := e.h.do(e.owner, http.MethodPost, e.path("/sites"), map[string]any{"name": "New"}); r.Status != http.StatusForbidden ||
		!strings.Contains(string(r.Body), "Chargeback") {
		t.Fatalf("a write of a suspended organisation: %d %s", r.Status, r.Body)
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", u.UnitID), nil).must(t, 200)
	e.h.do(e.staff, http.MethodPost, e.path("/alerts/%s/acknowledge", alertID), map[string]any{}).must(t, 200)

	e.h.do(operator, http.MethodPost, "/api/v1/platform/organizations/"+e.org+"/reactivate", nil).must(t, 200)
	e.h.do(operator, http.MethodPost, "/api/v1/platform/organizations/"+e.org+"/reactivate", nil).must(t, http.StatusConflict)
	e.h.do(e.owner, http.MethodPost, e.path("/sites"), map[string]any{"name": "New"}).must(t, http.StatusCreated)
	var n int
	e.h.queryRow([]any{&n}, `SELECT count(*) FROM audit_log WHERE organization_id = $1 AND actor_type = 'platform_admin'
		AND action IN ('platform: suspend', 'platform: reactivate')`, e.org)
	if n != 2 {
		t.Fatalf("%d suspension lines in the trail, want 2", n)
	}
}
