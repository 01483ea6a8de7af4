package api

import (
	"net/http"
	"testing"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

type effectiveView struct {
	UnitID string                  `json:"unit_id"`
	Items  []store.EffectivePolicy `json:"items"`
}

// effectiveOf reads the unit's view and returns its line for alertType.
func (e *policyEnv) effectiveOf(t *testing.T, alertType string) store.EffectivePolicy {
	t.Helper()
	var v effectiveView
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s/notification-policies/effective", e.unit.UnitID), nil).must(t, 200).JSON(t, &v)
	if v.UnitID != e.unit.UnitID || len(v.Items) != len(domain.AlertTypes) {
		t.Fatalf("view %+v", v)
	}
	for _, it := range v.Items {
		if it.AlertType == alertType {
			return it
		}
	}
	t.Fatalf("no line for %s", alertType)
	return store.EffectivePolicy{}
}

// Issue 20: a unit's "effective policy" view says, for every alert type,
// which policy pages it and why, exactly as the opening of an alert picks
// it (effective_notification_policy): the unit's, then its site's, then the
// organisation's, a typed policy before an any-type one, disabled ones
// skipped.
func TestEffectivePolicyView(t *testing.T) {
	e := newPolicyEnv(t)
	if got := e.effectiveOf(t, domain.AlertTempExcursion); got.Policy != nil || got.Scope != "" {
		t.Fatalf("without policies: %+v", got)
	}
	create := func(body map[string]any) store.NotificationPolicy {
		t.Helper()
		body["steps"] = e.steps()
		var p store.NotificationPolicy
		e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), body).must(t, http.StatusCreated).JSON(t, &p)
		return p
	}
	org := create(map[string]any{"name": "Everyone"})
	got := e.effectiveOf(t, domain.AlertDoorOpen)
	if got.Policy == nil || got.Policy.ID != org.ID || got.Scope != "organization" || got.ForAlertType || got.Policy.Warnings == nil {
		t.Fatalf("organisation's any-type policy: %+v", got)
	}
	site := create(map[string]any{"site_id": e.unit.SiteID})
	if got := e.effectiveOf(t, domain.AlertDoorOpen); got.Policy.ID != site.ID || got.Scope != "site" {
		t.Fatalf("the site's policy must win: %+v", got)
	}
	// A typed policy of the organisation does not beat the site's any-type
	// one (the scope comes first), but a typed one of the site does.
	create(map[string]any{"alert_type": domain.AlertDoorOpen})
	if got := e.effectiveOf(t, domain.AlertDoorOpen); got.Policy.ID != site.ID {
		t.Fatalf("scope before type: %+v", got)
	}
	siteDoor := create(map[string]any{"site_id": e.unit.SiteID, "alert_type": domain.AlertDoorOpen})
	if got := e.effectiveOf(t, domain.AlertDoorOpen); got.Policy.ID != siteDoor.ID || !got.ForAlertType {
		t.Fatalf("the site's typed policy: %+v", got)
	}
	if got := e.effectiveOf(t, domain.AlertTempExcursion); got.Policy.ID != site.ID || got.ForAlertType {
		t.Fatalf("another type keeps the site's any-type policy: %+v", got)
	}
	// A disabled unit policy is skipped; enabled, it wins.
	unit := create(map[string]any{"unit_id": e.unit.UnitID, "enabled": false})
	if got := e.effectiveOf(t, domain.AlertTempExcursion); got.Policy.ID != site.ID {
		t.Fatalf("a disabled policy governs: %+v", got)
	}
	e.h.do(e.admin, http.MethodPatch, e.path("/notification-policies/%s", unit.ID), map[string]any{"enabled": true}).must(t, 200)
	if got := e.effectiveOf(t, domain.AlertTempExcursion); got.Policy.ID != unit.ID || got.Scope != "unit" {
		t.Fatalf("the unit's own policy: %+v", got)
	}
	// The view is the paging's own choice: the same function picks the
	// steps an opening alert is paged with.
	var picked string
	e.h.queryRow([]any{&picked}, `SELECT id::text FROM effective_notification_policy($1, $2, $3)`, e.org, e.unit.UnitID,
		domain.AlertDoorOpen)
	if got := e.effectiveOf(t, domain.AlertDoorOpen); got.Policy.ID != picked {
		t.Fatalf("view %s, paging %s", got.Policy.ID, picked)
	}
	e.h.do(e.other, http.MethodGet, e.otherPath("/units/%s/notification-policies/effective", e.unit.UnitID), nil).
		must(t, http.StatusNotFound)
}
