package api

import (
	"net/http"
	"testing"

	"github.com/frostguard/functions/shared/domain"
)

// Issue 14: a manager silences a unit's alarms for a bounded time with a
// reason; the unit and its open alerts show "silenced until", the silence
// is recorded (who, when, why), ended early on request, and audited.
func TestUnitSilences(t *testing.T) {
	e := newHierEnv(t)
	e.h.wireAsInProduction()
	u := e.h.unit(e.org)
	e.h.exec(`INSERT INTO alerts (organization_id, unit_id, type, severity, title, triggered_at) VALUES ($1, $2, 'temp_excursion', 'critical', 'Warm', now())`, e.org, u.UnitID)
	path := e.path("/units/%s/silence", u.UnitID)

	for name, body := range map[string]map[string]any{
		"too short":      {"minutes": 4, "reason": "cleaning"},
		"too long":       {"minutes": 721, "reason": "cleaning"},
		"no minutes":     {"reason": "cleaning"},
		"unknown reason": {"minutes": 30, "reason": "nap"},
		"no reason":      {"minutes": 30},
	} {
		if r := e.h.do(e.manager, http.MethodPost, path, body); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	e.h.do(e.staff, http.MethodPost, path, map[string]any{"minutes": 30, "reason": "cleaning"}).must(t, http.StatusForbidden)

	var s domain.UnitSilence
	e.h.do(e.manager, http.MethodPost, path, map[string]any{"minutes": 45, "reason": "cleaning", "note": " deep clean "}).
		must(t, http.StatusCreated).JSON(t, &s)
	if !s.Active || s.Reason != "cleaning" || s.Note == nil || *s.Note != "deep clean" || s.EndsAt.Sub(s.StartsAt).Minutes() != 45 ||
		s.CreatedBy == nil || *s.CreatedBy != e.manager.ID {
		t.Fatalf("silence %+v", s)
	}
	e.h.do(e.manager, http.MethodPost, path, map[string]any{"minutes": 10, "reason": "other"}).must(t, http.StatusConflict)

	unit := e.getUnit(t, u.UnitID)
	if unit.SilencedUntil == nil || !unit.SilencedUntil.Equal(s.EndsAt) || unit.SilenceReason == nil || *unit.SilenceReason != "cleaning" {
		t.Fatalf("unit %v %v", unit.SilencedUntil, unit.SilenceReason)
	}
	var alerts struct{ Items []domain.Alert }
	e.h.do(e.viewer, http.MethodGet, e.path("/alerts?unit_id=%s", u.UnitID), nil).must(t, 200).JSON(t, &alerts)
	if len(alerts.Items) != 1 || alerts.Items[0].SilencedUntil == nil || !alerts.Items[0].SilencedUntil.Equal(s.EndsAt) {
		t.Fatalf("alerts %+v", alerts.Items)
	}

	var ended domain.UnitSilence
	e.h.do(e.manager, http.MethodDelete, path, nil).must(t, 200).JSON(t, &ended)
	if ended.Active || ended.EndedEarlyAt == nil || ended.ID != s.ID {
		t.Fatalf("ended %+v", ended)
	}
	e.h.do(e.manager, http.MethodDelete, path, nil).must(t, http.StatusNotFound)
	if unit := e.getUnit(t, u.UnitID); unit.SilencedUntil != nil {
		t.Fatalf("still silenced until %v", unit.SilencedUntil)
	}
	var list struct{ Items []domain.UnitSilence }
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s/silences", u.UnitID), nil).must(t, 200).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].EndedBy == nil || *list.Items[0].EndedBy != e.manager.ID || list.Items[0].CreatedByName == nil {
		t.Fatalf("history %+v", list.Items)
	}
	var audits int
	e.h.queryRow([]any{&audits}, `SELECT count(*) FROM audit_log WHERE organization_id = $1 AND entity_type = 'unit' AND entity_id = $2
		AND action IN ('POST /api/v1/orgs/{orgId}/units/{unitId}/silence', 'DELETE /api/v1/orgs/{orgId}/units/{unitId}/silence')`, e.org, u.UnitID)
	if audits != 2 {
		t.Fatalf("%d audit rows for silencing and ending", audits)
	}
}
