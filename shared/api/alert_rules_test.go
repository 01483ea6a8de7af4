package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/alertrules"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

// unitRules reads a unit's effective rule view.
func (e *hierEnv) unitRules(t *testing.T, unitID string) store.UnitAlertRules {
	t.Helper()
	var out store.UnitAlertRules
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s/alert-rules/effective", unitID), nil).must(t, 200).JSON(t, &out)
	return out
}

// mustEffective asserts one field of a unit's effective rule: its value
// (as JSON decodes it) and its source scope and id.
func mustEffective(t *testing.T, r store.UnitAlertRules, field string, value any, scope alertrules.Scope, id string) {
	t.Helper()
	got := r.Effective[field]
	if got.Value != value || got.Source.Scope != scope || got.Source.ID != id {
		t.Errorf("%s = %v from %+v, want %v from %s %s", field, got.Value, got.Source, value, scope, id)
	}
}

// Issue 20: thresholds and timings set on the organisation, a site or a
// unit; every unit's effective rule resolved field by field, shown with
// its source, written where the engine and the sweeper read it, refused
// when it would leave a unit invalid, and every change in the scope's
// history.
func TestAlertRulesInheritance(t *testing.T) {
	e := newHierEnv(t)
	e.h.wireAsInProduction() // the audit middleware names the author of a unit's own changes
	siteA := e.createSite(t, map[string]any{"name": "Kitchen"})
	areaA := e.createArea(t, siteA.ID, "Back")
	siteB := e.createSite(t, map[string]any{"name": "Bar"})
	areaB := e.createArea(t, siteB.ID, "Front")
	u1 := e.createUnit(t, map[string]any{"area_id": areaA.ID, "name": "Reach-in"})
	u2 := e.createUnit(t, map[string]any{"area_id": areaA.ID, "name": "Dairy", "temp_max_c": 4})
	u3 := e.createUnit(t, map[string]any{"area_id": areaB.ID, "name": "Bottles"})

	// The organisation's rule: admins only.
	orgRule := map[string]any{"temp_max_c": 6, "door_warn_minutes": 8, "manual_log_interval_seconds": 14400, "offline_multiplier": 2}
	e.h.do(e.manager, http.MethodPatch, e.path("/alert-rules"), orgRule).must(t, http.StatusForbidden)
	var set store.AlertRule
	e.h.do(e.admin, http.MethodPatch, e.path("/alert-rules"), orgRule).must(t, 200).JSON(t, &set)
	if set.Scope != alertrules.ScopeOrganization || set.ScopeID != e.org || set.Rule.TempMaxC == nil || *set.Rule.TempMaxC != 6 ||
		set.Rule.HysteresisC != nil || set.UpdatedBy == nil || *set.UpdatedBy != e.admin.ID {
		t.Fatalf("organisation rule %+v", set)
	}
	for _, u := range []domain.Unit{u1, u3} {
		got := e.getUnit(t, u.ID)
		if got.TempMaxC != 6 || got.DoorWarnMinutes != 8 || got.ManualLogIntervalSeconds == nil || *got.ManualLogIntervalSeconds != 14400 ||
			got.TempMinC != 0 || got.DoorCriticalMinutes != 15 || got.OfflineMultiplier != 2 {
			t.Fatalf("%s under the organisation's rule: %+v", u.Name, got.UnitConfig)
		}
	}
	if got := e.getUnit(t, u2.ID); got.TempMaxC != 4 || got.DoorWarnMinutes != 8 {
		t.Fatalf("the unit's own maximum must win: %+v", got.UnitConfig)
	}

	// A site's rule overrides the organisation's for its units only.
	e.h.do(e.admin, http.MethodPatch, e.path("/sites/%s/alert-rules", siteA.ID), map[string]any{"temp_max_c": 7, "door_warn_minutes": 10}).
		must(t, 200)
	r1 := e.unitRules(t, u1.ID)
	mustEffective(t, r1, "temp_max_c", 7.0, alertrules.ScopeSite, siteA.ID)
	mustEffective(t, r1, "door_warn_minutes", 10.0, alertrules.ScopeSite, siteA.ID)
	mustEffective(t, r1, "manual_log_interval_seconds", 14400.0, alertrules.ScopeOrganization, e.org)
	mustEffective(t, r1, "temp_min_c", 0.0, alertrules.ScopeUnitType, "")
	mustEffective(t, r1, "door_critical_minutes", 15.0, alertrules.ScopeUnitType, "")
	if len(r1.Layers) != 3 || r1.Layers[1].Scope != alertrules.ScopeSite || r1.Layers[1].Rule.TempMaxC == nil {
		t.Fatalf("layers %+v", r1.Layers)
	}
	mustEffective(t, e.unitRules(t, u2.ID), "temp_max_c", 4.0, alertrules.ScopeUnit, u2.ID)
	mustEffective(t, e.unitRules(t, u3.ID), "temp_max_c", 6.0, alertrules.ScopeOrganization, e.org)

	// The engine judges with the effective rule: 6.5 °C is in range under
	// the site's 7 °C, out of range under the organisation's 6 °C.
	for _, c := range []struct {
		unit   domain.Unit
		inBand bool
	}{{u1, true}, {u3, false}} {
		e.h.do(e.staff, http.MethodPost, e.path("/units/%s/manual-logs", c.unit.ID), map[string]any{"temperature": 6.5, "temp_unit": "C"}).
			must(t, http.StatusCreated)
		if got := e.getUnit(t, c.unit.ID); (got.Status == domain.UnitOK) != c.inBand {
			t.Errorf("%s after 6.5 °C: status %s", c.unit.Name, got.Status)
		}
	}

	// A unit's own rule through the rules api: 0 stops the organisation's
	// manual-log requirement; only managers and above.
	e.h.do(e.staff, http.MethodPatch, e.path("/units/%s/alert-rules", u1.ID), map[string]any{"manual_log_interval_seconds": 0}).
		must(t, http.StatusForbidden)
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s/alert-rules", u1.ID), map[string]any{"manual_log_interval_seconds": 0}).
		must(t, 200)
	if got := e.getUnit(t, u1.ID); got.ManualLogIntervalSeconds != nil {
		t.Fatalf("manual logs still required every %d s", *got.ManualLogIntervalSeconds)
	}
	mustEffective(t, e.unitRules(t, u1.ID), "manual_log_interval_seconds", nil, alertrules.ScopeUnit, u1.ID)

	// A change that would leave a unit invalid is refused, naming the
	// unit, and nothing moves.
	r := e.h.do(e.admin, http.MethodPatch, e.path("/sites/%s/alert-rules", siteA.ID), map[string]any{"door_warn_minutes": 20})
	mustFieldError(t, r, "door_critical_minutes")
	if !strings.Contains(string(r.Body), "Reach-in") {
		t.Errorf("the refusal does not name the unit: %s", r.Body)
	}
	if got := e.getUnit(t, u1.ID); got.DoorWarnMinutes != 10 {
		t.Fatalf("door warning moved to %d", got.DoorWarnMinutes)
	}
	mustFieldError(t, e.h.do(e.admin, http.MethodPatch, e.path("/alert-rules"), map[string]any{"checkin_interval_seconds": 5}),
		"checkin_interval_seconds")
	mustFieldError(t, e.h.do(e.admin, http.MethodPatch, e.path("/alert-rules"), map[string]any{"temp_min_c": 3, "temp_max_c": 2}),
		"temp_min_c")
	e.h.do(e.admin, http.MethodPatch, e.path("/alert-rules"), map[string]any{"temp_max": 3}).must(t, http.StatusBadRequest)

	// What a unit's PATCH changes becomes the unit's own; clearing the
	// site's rule brings back the organisation's.
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", u1.ID), map[string]any{"temp_min_c": 1}).must(t, 200)
	e.h.do(e.admin, http.MethodDelete, e.path("/sites/%s/alert-rules", siteA.ID), nil).must(t, http.StatusNoContent)
	r1 = e.unitRules(t, u1.ID)
	mustEffective(t, r1, "temp_min_c", 1.0, alertrules.ScopeUnit, u1.ID)
	mustEffective(t, r1, "temp_max_c", 6.0, alertrules.ScopeOrganization, e.org)
	mustEffective(t, r1, "door_warn_minutes", 8.0, alertrules.ScopeOrganization, e.org)
	var siteRule store.AlertRule
	e.h.do(e.viewer, http.MethodGet, e.path("/sites/%s/alert-rules", siteA.ID), nil).must(t, 200).JSON(t, &siteRule)
	if !siteRule.Rule.Empty() || siteRule.UpdatedAt != nil {
		t.Fatalf("cleared site rule %+v", siteRule)
	}

	// A new type keeps the values the unit had (they were chosen for this
	// appliance): the inherited ones become its own.
	var moved domain.Unit
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", u3.ID), map[string]any{"type": "freezer"}).must(t, 200).JSON(t, &moved)
	if moved.TempMinC != 0 || moved.TempMaxC != 6 {
		t.Fatalf("a new type moved the band to %v..%v", moved.TempMinC, moved.TempMaxC)
	}
	mustEffective(t, e.unitRules(t, u3.ID), "temp_min_c", 0.0, alertrules.ScopeUnit, u3.ID)

	// Moving a unit to another site brings that site's rule.
	e.h.do(e.admin, http.MethodPatch, e.path("/sites/%s/alert-rules", siteB.ID), map[string]any{"hysteresis_c": 0.8}).must(t, 200)
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", u2.ID), map[string]any{"area_id": areaB.ID}).must(t, 200)
	mustEffective(t, e.unitRules(t, u2.ID), "hysteresis_c", 0.8, alertrules.ScopeSite, siteB.ID)

	// History per scope, newest first, with who changed what.
	type history struct{ Items []store.AlertRuleChange }
	var hs history
	e.h.do(e.viewer, http.MethodGet, e.path("/alert-rules/history?site_id=%s", siteA.ID), nil).must(t, 200).JSON(t, &hs)
	if len(hs.Items) != 2 || !hs.Items[0].After.Empty() || hs.Items[1].Before.Empty() == false ||
		hs.Items[1].After.DoorWarnMinutes == nil || *hs.Items[1].After.DoorWarnMinutes != 10 ||
		hs.Items[0].ChangedBy == nil || *hs.Items[0].ChangedBy != e.admin.ID || hs.Items[0].Source != "alert_rules" {
		t.Fatalf("site history %+v", hs.Items)
	}
	var hu history
	e.h.do(e.viewer, http.MethodGet, e.path("/alert-rules/history?unit_id=%s&limit=1", u1.ID), nil).must(t, 200).JSON(t, &hu)
	if len(hu.Items) != 1 || hu.Items[0].Source != "unit" || hu.Items[0].After.TempMinC == nil || *hu.Items[0].After.TempMinC != 1 ||
		hu.Items[0].ChangedBy == nil || *hu.Items[0].ChangedBy != e.manager.ID {
		t.Fatalf("unit history %+v", hu.Items)
	}
	var ho history
	e.h.do(e.viewer, http.MethodGet, e.path("/alert-rules/history"), nil).must(t, 200).JSON(t, &ho)
	if len(ho.Items) != 1 || ho.Items[0].Scope != alertrules.ScopeOrganization {
		t.Fatalf("organisation history %+v", ho.Items)
	}
	mustFieldError(t, e.h.do(e.viewer, http.MethodGet, e.path("/alert-rules/history?site_id=%s&unit_id=%s", siteA.ID, u1.ID), nil),
		"unit_id")

	// Every change is also a line of the audit trail.
	var audited int
	e.h.queryRow([]any{&audited}, `SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action LIKE '% /api/v1/orgs/{orgId}%/alert-rules'`, e.org)
	if audited != 5 {
		t.Errorf("%d audit lines of rule changes, want 5", audited)
	}

	// Another tenant's site or unit is not found.
	e.h.do(e.other, http.MethodGet, e.otherPath("/sites/%s/alert-rules", siteA.ID), nil).must(t, http.StatusNotFound)
	e.h.do(e.other, http.MethodPatch, e.otherPath("/units/%s/alert-rules", u1.ID), map[string]any{"confirm_seconds": 60}).
		must(t, http.StatusNotFound)
}
