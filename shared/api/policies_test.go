package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/store"
)

type policyEnv struct {
	*hierEnv
	unit       unitFixture
	alice, bob string
}

func newPolicyEnv(t *testing.T) *policyEnv {
	e := &policyEnv{hierEnv: newHierEnv(t)}
	e.unit = e.h.unit(e.org)
	e.alice = e.createContact(t, map[string]any{"name": "Alice", "phone": "+15555550101"}).ID
	e.bob = e.createContact(t, map[string]any{"name": "Bob", "email": "bob@example.test"}).ID
	return e
}

func (e *policyEnv) steps(extra ...map[string]any) []map[string]any {
	s := []map[string]any{{"after_minutes": 0, "channels": []string{"sms"}, "contact_ids": []string{e.alice}}}
	return append(s, extra...)
}

func TestPoliciesCRUD(t *testing.T) {
	e := newPolicyEnv(t)
	var p store.NotificationPolicy
	e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), map[string]any{
		"name": "Night shift",
		"steps": e.steps(map[string]any{"after_minutes": 15, "channels": []string{"sms", "email", "sms"},
			"contact_ids": []string{e.alice, strings.ToUpper(e.bob)}, "repeat": true}),
		"quiet_hours_start": "22:00", "quiet_hours_end": "07:00",
	}).must(t, http.StatusCreated).JSON(t, &p)
	if p.SiteID != nil || p.UnitID != nil || p.AlertType != nil || !p.Enabled || !p.NotifyOnResolve ||
		len(p.Steps) != 2 || !p.Steps[1].Repeat || len(p.Steps[1].Channels) != 2 || p.Steps[1].ContactIDs[1] != e.bob ||
		*p.QuietHoursStart != "22:00" || *p.QuietHoursEnd != "07:00" {
		t.Fatalf("created %+v", p)
	}
	// One per scope and type: a second org-wide any-type policy conflicts;
	// a typed one and a unit one do not.
	e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), map[string]any{"steps": e.steps()}).must(t, http.StatusConflict)
	var typed, unit store.NotificationPolicy
	e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), map[string]any{"alert_type": "door_open", "steps": e.steps()}).
		must(t, http.StatusCreated).JSON(t, &typed)
	e.h.do(e.owner, http.MethodPost, e.path("/notification-policies"), map[string]any{"unit_id": e.unit.UnitID, "steps": e.steps(), "enabled": false}).
		must(t, http.StatusCreated).JSON(t, &unit)
	if unit.Enabled || *unit.UnitID != e.unit.UnitID {
		t.Fatalf("unit policy %+v", unit)
	}
	e.h.do(e.admin, http.MethodPatch, e.path("/notification-policies/%s", typed.ID), map[string]any{"alert_type": nil}).must(t, http.StatusConflict)

	var patched store.NotificationPolicy
	e.h.do(e.admin, http.MethodPatch, e.path("/notification-policies/%s", p.ID), map[string]any{
		"quiet_hours_start": nil, "quiet_hours_end": nil, "notify_on_resolve": false, "site_id": e.unit.SiteID,
	}).must(t, http.StatusOK).JSON(t, &patched)
	if patched.QuietHoursStart != nil || patched.NotifyOnResolve || *patched.SiteID != e.unit.SiteID || len(patched.Steps) != 2 {
		t.Fatalf("patched %+v", patched)
	}

	// A contact deactivated since does not block other edits.
	e.h.do(e.manager, http.MethodDelete, e.path("/contacts/%s", e.bob), nil).must(t, http.StatusNoContent)
	e.h.do(e.admin, http.MethodPatch, e.path("/notification-policies/%s", p.ID), map[string]any{"enabled": false}).must(t, http.StatusOK)

	var list List[store.NotificationPolicy]
	e.h.do(e.viewer, http.MethodGet, e.path("/notification-policies"), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 3 {
		t.Fatalf("%d policies", len(list.Items))
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/notification-policies?unit_id=%s", e.unit.UnitID), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != unit.ID {
		t.Fatalf("unit filter: %+v", list.Items)
	}
	e.h.do(e.admin, http.MethodDelete, e.path("/notification-policies/%s", p.ID), nil).must(t, http.StatusNoContent)
	e.h.do(e.admin, http.MethodGet, e.path("/notification-policies/%s", p.ID), nil).must(t, http.StatusNotFound)
	e.h.do(e.admin, http.MethodDelete, e.path("/notification-policies/%s", p.ID), nil).must(t, http.StatusNotFound)
}

func TestPoliciesValidation(t *testing.T) {
	e := newPolicyEnv(t)
	otherUnit := e.h.unit(e.otherOrg)
	var otherContact string
	e.h.queryRow([]any{&otherContact}, `INSERT INTO escalation_contacts (organization_id, name, email) VALUES ($1, 'X', 'x@example.test') RETURNING id`, e.otherOrg)
	var inactive string
	e.h.queryRow([]any{&inactive}, `INSERT INTO escalation_contacts (organization_id, name, email, is_active) VALUES ($1, 'Gone', 'g@example.test', false) RETURNING id`, e.org)
	step := func(after any, channels []string, contacts ...string) map[string]any {
		return map[string]any{"after_minutes": after, "channels": channels, "contact_ids": contacts}
	}
	sms := []string{"sms"}
	rep := func(m map[string]any) map[string]any { m["repeat"] = true; return m }
	eleven := make([]map[string]any, 11)
	for i := range eleven {
		eleven[i] = step(i, sms, e.alice)
	}
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no steps", map[string]any{}, "steps"},
		{"empty steps", map[string]any{"steps": []any{}}, "steps"},
		{"too many steps", map[string]any{"steps": eleven}, "steps"},
		{"after missing", map[string]any{"steps": []any{map[string]any{"channels": sms, "contact_ids": []string{e.alice}}}}, "steps[0].after_minutes"},
		{"after negative", map[string]any{"steps": []any{step(-1, sms, e.alice)}}, "steps[0].after_minutes"},
		{"after over a day", map[string]any{"steps": []any{step(1441, sms, e.alice)}}, "steps[0].after_minutes"},
		{"decreasing", map[string]any{"steps": []any{step(10, sms, e.alice), step(5, sms, e.alice)}}, "steps[1].after_minutes"},
		{"no channel", map[string]any{"steps": []any{step(0, nil, e.alice)}}, "steps[0].channels"},
		{"bad channel", map[string]any{"steps": []any{step(0, []string{"pager"}, e.alice)}}, "steps[0].channels"},
		{"no contact", map[string]any{"steps": []any{step(0, sms)}}, "steps[0].contact_ids"},
		{"contact not a uuid", map[string]any{"steps": []any{step(0, sms, "alice")}}, "steps[0].contact_ids"},
		{"other tenant's contact", map[string]any{"steps": []any{step(0, sms, otherContact)}}, "steps[0].contact_ids[0]"},
		{"inactive contact", map[string]any{"steps": []any{step(0, sms, e.alice, inactive)}}, "steps[0].contact_ids[1]"},
		{"repeat not last", map[string]any{"steps": []any{rep(step(0, sms, e.alice)), step(5, sms, e.alice)}}, "steps[0].repeat"},
		{"repeat without interval", map[string]any{"steps": []any{step(5, sms, e.alice), rep(step(5, sms, e.alice))}}, "steps[1].repeat"},
		{"both scopes", map[string]any{"site_id": e.unit.SiteID, "unit_id": e.unit.UnitID, "steps": e.steps()}, "unit_id"},
		{"other tenant's unit", map[string]any{"unit_id": otherUnit.UnitID, "steps": e.steps()}, "unit_id"},
		{"unknown site", map[string]any{"site_id": otherUnit.SiteID, "steps": e.steps()}, "site_id"},
		{"site not a uuid", map[string]any{"site_id": "main", "steps": e.steps()}, "site_id"},
		{"bad alert type", map[string]any{"alert_type": "fire", "steps": e.steps()}, "alert_type"},
		{"quiet start only", map[string]any{"quiet_hours_start": "22:00", "steps": e.steps()}, "quiet_hours_end"},
		{"quiet bad clock", map[string]any{"quiet_hours_start": "24:00", "quiet_hours_end": "07:00", "steps": e.steps()}, "quiet_hours_start"},
		{"quiet empty window", map[string]any{"quiet_hours_start": "07:00", "quiet_hours_end": "07:00", "steps": e.steps()}, "quiet_hours_end"},
		{"enabled null", map[string]any{"enabled": nil, "steps": e.steps()}, "enabled"},
		{"unknown field", map[string]any{"escalate": true, "steps": e.steps()}, ""},
		{"unknown step field", map[string]any{"steps": []any{map[string]any{"after_minutes": 0, "channels": sms, "contact_ids": []string{e.alice}, "delay": 1}}}, "steps[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustFieldError(t, e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), c.body), c.field)
		})
	}
	if n := rowCount(e.h, `SELECT count(*) FROM notification_policies`); n != 0 {
		t.Fatalf("%d policies written by invalid requests", n)
	}
}

func TestPoliciesAccess(t *testing.T) {
	e := newPolicyEnv(t)
	var p store.NotificationPolicy
	e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), map[string]any{"steps": e.steps()}).must(t, http.StatusCreated).JSON(t, &p)
	body := map[string]any{"enabled": false}
	for _, u := range []*testUser{e.manager, e.staff, e.viewer, e.inspector} {
		e.h.do(u, http.MethodPost, e.path("/notification-policies"), map[string]any{"alert_type": "door_open", "steps": e.steps()}).must(t, http.StatusForbidden)
		e.h.do(u, http.MethodPatch, e.path("/notification-policies/%s", p.ID), body).must(t, http.StatusForbidden)
		e.h.do(u, http.MethodDelete, e.path("/notification-policies/%s", p.ID), nil).must(t, http.StatusForbidden)
		e.h.do(u, http.MethodGet, e.path("/notification-policies/%s", p.ID), nil).must(t, http.StatusOK)
	}
	e.h.do(nil, http.MethodGet, e.path("/notification-policies"), nil).must(t, http.StatusUnauthorized)
	e.h.do(e.other, http.MethodGet, e.otherPath("/notification-policies/%s", p.ID), nil).must(t, http.StatusNotFound)
	e.h.do(e.other, http.MethodPatch, e.otherPath("/notification-policies/%s", p.ID), body).must(t, http.StatusNotFound)
	e.h.do(e.other, http.MethodDelete, e.otherPath("/notification-policies/%s", p.ID), nil).must(t, http.StatusNotFound)
	e.h.do(e.other, http.MethodGet, e.path("/notification-policies"), nil).must(t, http.StatusNotFound)
}

// TestPoliciesVoiceSteps: a step may call; it then reads with its redial
// settings (the defaults when not given), bounded, and only a calling step
// takes them; a contact who takes no calls is warned about on the policy.
func TestPoliciesVoiceSteps(t *testing.T) {
	e := newPolicyEnv(t)
	var p store.NotificationPolicy
	e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), map[string]any{"steps": []map[string]any{
		{"after_minutes": 0, "channels": []string{"sms", "voice"}, "contact_ids": []string{e.alice}},
		{"after_minutes": 10, "channels": []string{"voice"}, "contact_ids": []string{e.alice}, "voice_retries": 0, "voice_retry_minutes": 10},
	}}).must(t, http.StatusCreated).JSON(t, &p)
	if s := p.Steps[0]; s.VoiceRetries == nil || *s.VoiceRetries != 2 || s.VoiceRetryMinutes == nil || *s.VoiceRetryMinutes != 3 {
		t.Fatalf("defaults: %+v", s)
	}
	if s := p.Steps[1]; *s.VoiceRetries != 0 || *s.VoiceRetryMinutes != 10 {
		t.Fatalf("explicit: %+v", s)
	}
	var warned store.NotificationPolicy
	e.h.do(e.manager, http.MethodPatch, e.path("/contacts/%s", e.alice), map[string]any{"voice_opt_out": true}).must(t, http.StatusOK)
	e.h.do(e.viewer, http.MethodGet, e.path("/notification-policies/%s", p.ID), nil).must(t, http.StatusOK).JSON(t, &warned)
	found := false
	for _, w := range warned.Warnings {
		found = found || (w.Channel == "voice" && strings.Contains(w.Message, "does not take calls"))
	}
	if !found {
		t.Fatalf("no voice warning: %+v", warned.Warnings)
	}
	step := func(extra map[string]any) map[string]any {
		s := map[string]any{"after_minutes": 0, "channels": []string{"voice"}, "contact_ids": []string{e.alice}}
		for k, v := range extra {
			s[k] = v
		}
		return map[string]any{"alert_type": "door_open", "steps": []any{s}}
	}
	for name, c := range map[string]struct {
		body  map[string]any
		field string
	}{
		"too many retries":      {step(map[string]any{"voice_retries": 6}), "steps[0].voice_retries"},
		"negative retries":      {step(map[string]any{"voice_retries": -1}), "steps[0].voice_retries"},
		"retry at once":         {step(map[string]any{"voice_retry_minutes": 0}), "steps[0].voice_retry_minutes"},
		"retry after two hours": {step(map[string]any{"voice_retry_minutes": 120}), "steps[0].voice_retry_minutes"},
		"retries without voice": {step(map[string]any{"channels": []string{"sms"}, "voice_retries": 1}), "steps[0].voice_retries"},
	} {
		t.Run(name, func(t *testing.T) {
			mustFieldError(t, e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), c.body), c.field)
		})
	}
}
