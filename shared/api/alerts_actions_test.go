package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

// alertActors is an organisation with one member of every role and a unit.
type alertActors struct {
	org   string
	unit  unitFixture
	roles map[access.Role]*testUser
}

func (h *harness) alertActors() alertActors {
	h.t.Helper()
	a := alertActors{roles: map[access.Role]*testUser{}}
	owner := h.user("owner")
	a.org = h.org("Alpha", owner)
	a.roles[access.Owner] = owner
	for _, role := range []access.Role{access.Admin, access.Manager, access.Staff, access.Viewer, access.Inspector} {
		u := h.user(string(role))
		h.member(a.org, u, role)
		a.roles[role] = u
	}
	a.unit = h.unit(a.org)
	return a
}

func TestAlertAcknowledge(t *testing.T) {
	h := newHarness(t)
	a := h.alertActors()
	staff := a.roles[access.Staff]
	id := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{})

	for _, role := range []access.Role{access.Viewer, access.Inspector} {
		if r := h.do(a.roles[role], http.MethodPost, alertPath(a.org, id, "acknowledge"), nil).must(t, 403); r.ErrorCode() != "FORBIDDEN" {
			t.Errorf("%s: code %s", role, r.ErrorCode())
		}
	}
	// Validation happens before any write.
	h.do(staff, http.MethodPost, alertPath(a.org, id, "acknowledge"), map[string]any{"note": strings.Repeat("x", 2001)}).must(t, 400)
	h.do(staff, http.MethodPost, alertPath(a.org, id, "acknowledge"), map[string]any{"notes": "typo"}).must(t, 400)
	h.do(staff, http.MethodPost, alertPath(a.org, id, "acknowledge"), `{"note": 5}`).must(t, 400)

	before := time.Now().Add(-time.Second)
	var got domain.Alert
	h.do(staff, http.MethodPost, alertPath(a.org, id, "acknowledge"), map[string]any{"note": "  checking the door  "}).must(t, 200).JSON(t, &got)
	if got.Status != "acknowledged" || got.AcknowledgedBy == nil || *got.AcknowledgedBy != staff.ID ||
		got.AcknowledgedNote == nil || *got.AcknowledgedNote != "checking the door" ||
		got.AcknowledgedAt == nil || got.AcknowledgedAt.Before(before) || got.NextEscalationAt != nil || got.AckCode == nil {
		t.Fatalf("acknowledged alert = %+v", got)
	}
	var nextEsc *time.Time
	var events int
	var actor, note string
	h.queryRow([]any{&nextEsc}, `SELECT next_escalation_at FROM alerts WHERE id = $1`, id)
	h.queryRow([]any{&events, &actor, &note}, `SELECT count(*), min(actor_user_id::text), min(note) FROM alert_events WHERE alert_id = $1 AND kind = 'acknowledged'`, id)
	if nextEsc != nil || events != 1 || actor != staff.ID || note != "checking the door" {
		t.Errorf("next_escalation_at %v, %d events by %s (%q)", nextEsc, events, actor, note)
	}

	// Twice: 409, and nothing more is written.
	if r := h.do(a.roles[access.Manager], http.MethodPost, alertPath(a.org, id, "acknowledge"), nil).must(t, 409); r.ErrorCode() != "CONFLICT" {
		t.Errorf("code %s", r.ErrorCode())
	}
	h.queryRow([]any{&events}, `SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'acknowledged'`, id)
	if events != 1 {
		t.Errorf("%d acknowledged events after a refused second acknowledge", events)
	}

	// No body at all is no note; a resolved alert cannot be acknowledged.
	other := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{Type: domain.AlertDoorOpen})
	h.do(staff, http.MethodPost, alertPath(a.org, other, "acknowledge"), nil).must(t, 200).JSON(t, &got)
	if got.AcknowledgedNote != nil {
		t.Errorf("note %q from an empty body", *got.AcknowledgedNote)
	}
	resolved := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{Status: domain.AlertResolved})
	h.do(staff, http.MethodPost, alertPath(a.org, resolved, "acknowledge"), nil).must(t, 409)
	h.do(staff, http.MethodPost, alertPath(a.org, "00000000-0000-4000-8000-000000000000", "acknowledge"), nil).must(t, 404)
}

func TestAlertResolve(t *testing.T) {
	h := newHarness(t)
	a := h.alertActors()
	manager := a.roles[access.Manager]
	h.exec(`UPDATE units SET status = 'alarm_active' WHERE id = $1`, a.unit.UnitID)
	id := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{Status: domain.AlertAcknowledged})

	for _, role := range []access.Role{access.Staff, access.Viewer, access.Inspector} {
		h.do(a.roles[role], http.MethodPost, alertPath(a.org, id, "resolve"), map[string]any{"note": "done"}).must(t, 403)
	}
	// The unit is still in alarm: a corrective-action note is required.
	for _, body := range []any{nil, map[string]any{}, map[string]any{"note": "   "}, map[string]any{"note": nil}} {
		r := h.do(manager, http.MethodPost, alertPath(a.org, id, "resolve"), body).must(t, 400)
		if !strings.Contains(string(r.Body), `"field":"note"`) || !strings.Contains(string(r.Body), "corrective-action note") {
			t.Errorf("body %v: %s", body, r.Body)
		}
	}
	h.do(manager, http.MethodPost, alertPath(a.org, id, "resolve"), map[string]any{"note": strings.Repeat("x", 2001)}).must(t, 400)
	var status string
	h.queryRow([]any{&status}, `SELECT status FROM alerts WHERE id = $1`, id)
	if status != "acknowledged" {
		t.Fatalf("a refused resolve changed the alert: %s", status)
	}

	var got domain.Alert
	h.do(manager, http.MethodPost, alertPath(a.org, id, "resolve"), map[string]any{"note": "stock moved to the walk-in"}).must(t, 200).JSON(t, &got)
	if got.Status != "resolved" || got.Resolution == nil || *got.Resolution != "manual" || got.ResolvedBy == nil ||
		*got.ResolvedBy != manager.ID || got.ResolvedAt == nil || got.ResolvedNote == nil ||
		*got.ResolvedNote != "stock moved to the walk-in" || got.NextEscalationAt != nil || got.AckCode != nil {
		t.Fatalf("resolved alert = %+v", got)
	}
	var cleared bool
	var unitStatus string
	h.queryRow([]any{&cleared, &unitStatus}, `SELECT (data->>'condition_cleared')::boolean, data->>'unit_status'
		FROM alert_events WHERE alert_id = $1 AND kind = 'resolved' AND actor_user_id = $2`, id, manager.ID)
	if cleared || unitStatus != "alarm_active" {
		t.Errorf("resolved event: cleared %v, unit %s", cleared, unitStatus)
	}
	if r := h.do(a.roles[access.Owner], http.MethodPost, alertPath(a.org, id, "resolve"), map[string]any{"note": "again"}).must(t, 409); r.ErrorCode() != "CONFLICT" {
		t.Errorf("code %s", r.ErrorCode())
	}

	// Once the unit is back to ok, no note is needed (and the unit is left alone).
	h.exec(`UPDATE units SET status = 'ok' WHERE id = $1`, a.unit.UnitID)
	second := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{})
	h.do(a.roles[access.Admin], http.MethodPost, alertPath(a.org, second, "resolve"), nil).must(t, 200).JSON(t, &got)
	if got.Status != "resolved" || got.ResolvedNote != nil {
		t.Errorf("resolved without note = %+v", got)
	}

	// Types the unit state cannot verify always need a note.
	battery := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{Type: domain.AlertLowBattery})
	h.do(manager, http.MethodPost, alertPath(a.org, battery, "resolve"), nil).must(t, 400)
	h.do(manager, http.MethodPost, alertPath(a.org, battery, "resolve"), map[string]any{"note": "battery replaced"}).must(t, 200)

	// A door alert resolves without a note once the door is closed.
	h.exec(`UPDATE units SET door_open = true WHERE id = $1`, a.unit.UnitID)
	door := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{Type: domain.AlertDoorOpen})
	h.do(manager, http.MethodPost, alertPath(a.org, door, "resolve"), nil).must(t, 400)
	h.exec(`UPDATE units SET door_open = false WHERE id = $1`, a.unit.UnitID)
	h.do(manager, http.MethodPost, alertPath(a.org, door, "resolve"), nil).must(t, 200)
	h.do(manager, http.MethodPost, alertPath(a.org, "not-an-id", "resolve"), nil).must(t, 404)
}
