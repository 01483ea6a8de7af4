package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

func manualLogPath(org, unit string) string {
	return "/api/v1/orgs/" + org + "/units/" + unit + "/manual-logs"
}

func TestManualLogCreateAndList(t *testing.T) {
	h := newHarness(t)
	owner, staff, viewer, inspector, other := h.user("owner"), h.user("staff"), h.user("viewer"), h.user("inspector"), h.user("other")
	org := h.org("Alpha", owner)
	h.member(org, staff, access.Staff)
	h.member(org, viewer, access.Viewer)
	h.member(org, inspector, access.Inspector)
	u := h.unit(org)
	path := manualLogPath(org, u.UnitID)

	// °C, recorded now (default).
	var c domain.ManualLogResult
	h.do(staff, http.MethodPost, path, map[string]any{"temperature": 3.456, "temp_unit": "C", "note": " walk-in check "}).
		must(t, 201).JSON(t, &c)
	if c.Log.TemperatureC != 3.46 || c.Log.Temperature != 3.46 || c.Log.TempUnit != "C" || c.Log.Note == nil || *c.Log.Note != "walk-in check" ||
		c.Log.AuthorUserID == nil || *c.Log.AuthorUserID != staff.ID || c.Log.AuthorName == nil || *c.Log.AuthorName != "staff" ||
		c.UnitStatus != domain.UnitOK || c.Late || len(c.AlertsOpened) != 0 || c.Log.UnitID != u.UnitID {
		t.Fatalf("created %+v", c)
	}
	if d := time.Since(c.Log.RecordedAt); d < 0 || d > time.Minute {
		t.Fatalf("recorded_at %v", c.Log.RecordedAt)
	}

	// °F: 41 °F is 5 °C; an org displaying °F shows it back in °F.
	h.exec(`UPDATE organizations SET temp_unit = 'F' WHERE id = $1`, org)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	var f domain.ManualLogResult
	h.do(owner, http.MethodPost, path, map[string]any{"temperature": 41, "temp_unit": "F", "recorded_at": at.Format(time.RFC3339),
		"corrective_action": "door closed"}).must(t, 201).JSON(t, &f)
	if f.Log.TemperatureC != 5 || f.Log.Temperature != 41 || f.Log.TempUnit != "F" || !f.Log.RecordedAt.Equal(at) ||
		f.Log.CorrectiveAction == nil || *f.Log.CorrectiveAction != "door closed" || f.Log.Note != nil {
		t.Fatalf("created %+v", f)
	}
	var storedC float64
	var lastManual time.Time
	h.queryRow([]any{&storedC}, `SELECT temperature_c::float8 FROM manual_temperature_logs WHERE id = $1`, f.Log.ID)
	h.queryRow([]any{&lastManual}, `SELECT last_manual_log_at FROM units WHERE id = $1`, u.UnitID)
	if storedC != 5 || !lastManual.Equal(c.Log.RecordedAt) { // an older log does not move last_manual_log_at back
		t.Fatalf("stored %v, last_manual_log_at %v (want %v)", storedC, lastManual, c.Log.RecordedAt)
	}
	var readings int
	h.queryRow([]any{&readings}, `SELECT count(*) FROM sensor_readings WHERE unit_id = $1`, u.UnitID)
	if readings != 0 {
		t.Fatalf("%d sensor_readings rows", readings)
	}

	// List: newest first, display in °F, paginated; viewers and inspectors read.
	var list List[domain.ManualLog]
	h.do(viewer, http.MethodGet, path, nil).must(t, 200).JSON(t, &list)
	if len(list.Items) != 2 || list.Items[0].ID != c.Log.ID || list.Items[1].ID != f.Log.ID || list.Items[0].TempUnit != "F" ||
		list.Items[0].Temperature != 38.23 || list.Items[0].AuthorName == nil || *list.Items[0].AuthorName != "staff" || list.NextCursor != "" {
		t.Fatalf("list %+v", list)
	}
	var p1, p2 List[domain.ManualLog]
	h.do(inspector, http.MethodGet, path+"?limit=1", nil).must(t, 200).JSON(t, &p1)
	h.do(inspector, http.MethodGet, path+"?limit=1&cursor="+p1.NextCursor, nil).must(t, 200).JSON(t, &p2)
	if len(p1.Items) != 1 || p1.NextCursor == "" || len(p2.Items) != 1 || p2.Items[0].ID != f.Log.ID || p2.NextCursor != "" {
		t.Fatalf("pages %+v %+v", p1, p2)
	}
	var ranged List[domain.ManualLog]
	h.do(viewer, http.MethodGet, path+"?from="+at.Add(-time.Minute).Format(time.RFC3339)+"&to="+at.Add(time.Minute).Format(time.RFC3339), nil).
		must(t, 200).JSON(t, &ranged)
	if len(ranged.Items) != 1 || ranged.Items[0].ID != f.Log.ID {
		t.Fatalf("ranged %+v", ranged)
	}
	h.do(viewer, http.MethodGet, path+"?from=yesterday", nil).must(t, 400)
	h.do(viewer, http.MethodGet, path+"?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", nil).must(t, 400)

	// Roles and tenancy.
	body := map[string]any{"temperature": 3, "temp_unit": "C"}
	h.do(viewer, http.MethodPost, path, body).must(t, 403)
	h.do(inspector, http.MethodPost, path, body).must(t, 403)
	h.do(nil, http.MethodPost, path, body).must(t, 401)
	h.org("Beta", other)
	h.do(other, http.MethodPost, path, body).must(t, 404)
	h.do(other, http.MethodGet, path, nil).must(t, 404)
	otherOrg := h.org("Gamma", other)
	otherUnit := h.unit(otherOrg)
	h.do(staff, http.MethodPost, manualLogPath(org, otherUnit.UnitID), body).must(t, 404) // another tenant's unit
	h.do(staff, http.MethodGet, manualLogPath(org, otherUnit.UnitID), nil).must(t, 404)
	h.do(other, http.MethodGet, manualLogPath(org, otherUnit.UnitID), nil).must(t, 404)
	h.do(staff, http.MethodPost, manualLogPath(org, "not-a-uuid"), body).must(t, 404)
	h.exec(`UPDATE units SET deleted_at = now() WHERE id = $1`, u.UnitID)
	h.do(staff, http.MethodPost, path, body).must(t, 404)
	h.do(staff, http.MethodGet, path, nil).must(t, 404)
}

func TestManualLogValidation(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	u := h.unit(org)
	path := manualLogPath(org, u.UnitID)
	now := time.Now().UTC()
	cases := []struct {
		name   string
		body   any
		fields []string
	}{
		{"missing temperature", map[string]any{"temp_unit": "C"}, []string{"temperature"}},
		{"missing unit", map[string]any{"temperature": 3}, []string{"temp_unit"}},
		{"bad unit", map[string]any{"temperature": 3, "temp_unit": "K"}, []string{"temp_unit"}},
		{"implausible", map[string]any{"temperature": 400, "temp_unit": "C"}, []string{"temperature"}},
		{"implausible F", map[string]any{"temperature": -200, "temp_unit": "F"}, []string{"temperature"}},
		{"future", map[string]any{"temperature": 3, "temp_unit": "C", "recorded_at": now.Add(10 * time.Minute).Format(time.RFC3339)}, []string{"recorded_at"}},
		{"too old", map[string]any{"temperature": 3, "temp_unit": "C", "recorded_at": now.Add(-8 * 24 * time.Hour).Format(time.RFC3339)}, []string{"recorded_at"}},
		{"not a time", map[string]any{"temperature": 3, "temp_unit": "C", "recorded_at": "today"}, []string{"recorded_at"}},
		{"long note", map[string]any{"temperature": 3, "temp_unit": "C", "note": strings.Repeat("é", 2001)}, []string{"note"}},
		{"long corrective action", map[string]any{"temperature": 3, "temp_unit": "C", "corrective_action": strings.Repeat("x", 2001)}, []string{"corrective_action"}},
		{"everything", map[string]any{"temp_unit": "X", "recorded_at": "x", "note": strings.Repeat("x", 2001)}, []string{"temperature", "temp_unit", "recorded_at", "note"}},
		{"unknown field", map[string]any{"temperature": 3, "temp_unit": "C", "author": "me"}, nil},
		{"string temperature", `{"temperature": "3", "temp_unit": "C"}`, nil},
		{"not JSON", `{`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do(owner, http.MethodPost, path, tc.body).must(t, 400)
			var e struct {
				Error struct {
					Details []struct{ Field string } `json:"details"`
				} `json:"error"`
			}
			res.JSON(t, &e)
			got := map[string]bool{}
			for _, d := range e.Error.Details {
				got[d.Field] = true
			}
			for _, f := range tc.fields {
				if !got[f] {
					t.Fatalf("no error for %s: %s", f, res.Body)
				}
			}
			if len(tc.fields) > 0 && len(got) != len(tc.fields) {
				t.Fatalf("errors %v, want %v", got, tc.fields)
			}
		})
	}
	// Edges that pass: 2 minutes of clock skew, a note of exactly 2000 characters.
	h.do(owner, http.MethodPost, path, map[string]any{"temperature": 3, "temp_unit": "C",
		"recorded_at": now.Add(time.Minute).Format(time.RFC3339Nano), "note": strings.Repeat("é", 2000)}).must(t, 201)
	var n int
	h.queryRow([]any{&n}, `SELECT count(*) FROM manual_temperature_logs`)
	if n != 1 {
		t.Fatalf("%d logs stored", n)
	}
}

// A warm hand reading is judged like a sensor reading: ok -> excursion; a
// second one past the confirm time (600 s) -> alarm_active with one
// temp_excursion alert, paged through the unit's policy exactly like a
// sensor alarm (issue 14: manual-log alarms paged nobody); recovery sends
// "back to normal" to the same people.
func TestManualLogDrivesAlertEngine(t *testing.T) {
	h := newHarness(t)
	owner, staff := h.user("owner"), h.user("staff")
	org := h.org("Alpha", owner)
	h.member(org, staff, access.Staff)
	u := h.unit(org) // 0..5 °C, confirm 600 s
	// A contact and an org-wide policy that would page at once for a sensor reading.
	var contact string
	h.queryRow([]any{&contact}, `INSERT INTO escalation_contacts (organization_id, name, phone, email) VALUES ($1, 'Ops', '+15551230000', 'ops@example.test') RETURNING id`, org)
	h.exec(`INSERT INTO notification_policies (organization_id, steps) VALUES ($1, jsonb_build_array(jsonb_build_object('after_minutes', 0, 'channels', jsonb_build_array('sms', 'email'), 'contact_ids', jsonb_build_array($2::text))))`, org, contact)
	path := manualLogPath(org, u.UnitID)
	t0 := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)

	var r1 domain.ManualLogResult
	h.do(staff, http.MethodPost, path, map[string]any{"temperature": 9, "temp_unit": "C", "recorded_at": t0.Format(time.RFC3339)}).
		must(t, 201).JSON(t, &r1)
	if r1.UnitStatus != domain.UnitExcursion || !r1.UnitStatusSince.Equal(t0) || len(r1.AlertsOpened) != 0 || r1.Late {
		t.Fatalf("first %+v", r1)
	}
	var status string
	var since time.Time
	var lastReading *time.Time
	h.queryRow([]any{&status, &since, &lastReading}, `SELECT status, status_since, last_reading_at FROM units WHERE id = $1`, u.UnitID)
	if status != "excursion" || !since.Equal(t0) || lastReading != nil {
		t.Fatalf("unit %s since %v last_reading_at %v", status, since, lastReading)
	}
	var audits int
	h.queryRow([]any{&audits}, `SELECT count(*) FROM audit_log WHERE action = 'unit.status_changed' AND entity_id = $1 AND actor_user_id = $2
		AND after->>'source' = 'manual_log' AND after->>'manual_log_id' = $3`, u.UnitID, staff.ID, r1.Log.ID)
	if audits != 1 {
		t.Fatalf("%d status change audit rows", audits)
	}

	// An older log (before the first) is late: stored, state unchanged.
	var late domain.ManualLogResult
	h.do(staff, http.MethodPost, path, map[string]any{"temperature": 20, "temp_unit": "C", "recorded_at": t0.Add(-time.Minute).Format(time.RFC3339)}).
		must(t, 201).JSON(t, &late)
	if !late.Late || late.UnitStatus != domain.UnitExcursion || len(late.AlertsOpened) != 0 {
		t.Fatalf("late %+v", late)
	}

	t1 := t0.Add(11 * time.Minute)
	var r2 domain.ManualLogResult
	h.do(staff, http.MethodPost, path, map[string]any{"temperature": 48.2, "temp_unit": "F", "recorded_at": t1.Format(time.RFC3339)}).
		must(t, 201).JSON(t, &r2)
	if r2.UnitStatus != domain.UnitAlarmActive || len(r2.AlertsOpened) != 1 || r2.AlertsOpened[0] != "temp_excursion" {
		t.Fatalf("second %+v", r2)
	}
	var alerts, notifications, opened int
	var triggered time.Time
	var temp float64
	h.queryRow([]any{&alerts}, `SELECT count(*) FROM alerts WHERE unit_id = $1`, u.UnitID)
	h.queryRow([]any{&triggered, &temp}, `SELECT triggered_at, temperature_c::float8 FROM alerts WHERE unit_id = $1 AND type = 'temp_excursion' AND status = 'active' AND severity = 'critical'`, u.UnitID)
	h.queryRow([]any{&notifications}, `SELECT count(*) FROM notifications`)
	h.queryRow([]any{&opened}, `SELECT count(*) FROM alert_events WHERE kind = 'opened' AND data->>'source' = 'manual_log'`)
	if alerts != 1 || !triggered.Equal(t1) || temp != 9 || notifications != 2 || opened != 1 {
		t.Fatalf("alerts %d triggered %v temp %v notifications %d opened events %d", alerts, triggered, temp, notifications, opened)
	}
	var step int
	var ackCode, sms string
	h.queryRow([]any{&step, &ackCode}, `SELECT escalation_step, ack_code FROM alerts WHERE unit_id = $1`, u.UnitID)
	h.queryRow([]any{&sms}, `SELECT body FROM notifications WHERE channel = 'sms' AND kind = 'alert' AND escalation_step = 0 AND status = 'pending'`)
	if step != 1 || !strings.Contains(sms, "ACK "+ackCode) || !strings.Contains(sms, "CRITICAL") {
		t.Fatalf("escalation step %d, sms %q (ack %s)", step, sms, ackCode)
	}

	// Two in-band logs of someone who may resolve alerts resolve it (auto,
	// "back to normal" to whoever was paged).
	for i, temp := range []float64{3, 2.5} {
		var r domain.ManualLogResult
		h.do(owner, http.MethodPost, path, map[string]any{"temperature": temp, "temp_unit": "C",
			"recorded_at": t1.Add(time.Duration(i+1) * time.Minute).Format(time.RFC3339)}).must(t, 201).JSON(t, &r)
		want := domain.UnitRestoring
		if i == 1 {
			want = domain.UnitOK
			if len(r.AlertsResolved) != 1 || r.AlertsResolved[0] != "temp_excursion" {
				t.Fatalf("resolve %+v", r)
			}
		}
		if r.UnitStatus != want {
			t.Fatalf("log %d: %+v", i, r)
		}
	}
	var resolution string
	h.queryRow([]any{&resolution}, `SELECT resolution FROM alerts WHERE unit_id = $1 AND status = 'resolved'`, u.UnitID)
	h.queryRow([]any{&notifications}, `SELECT count(*) FROM notifications`)
	var resolved int
	h.queryRow([]any{&resolved}, `SELECT count(*) FROM notifications WHERE kind = 'resolved'`)
	if resolution != "auto" || notifications != 4 || resolved != 2 {
		t.Fatalf("resolution %q, %d notifications (%d back to normal)", resolution, notifications, resolved)
	}
}

// A hand reading does not stand in for a silent sensor: it never resolves
// monitoring_interrupted.
func TestManualLogKeepsMonitoringInterrupted(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	u := h.unit(org)
	h.exec(`UPDATE units SET status = 'monitoring_interrupted' WHERE id = $1`, u.UnitID)
	h.exec(`INSERT INTO alerts (organization_id, unit_id, type, severity, title, triggered_at) VALUES ($1, $2, 'monitoring_interrupted', 'warning', 'No readings', now() - interval '1 hour')`, org, u.UnitID)
	var r domain.ManualLogResult
	h.do(owner, http.MethodPost, manualLogPath(org, u.UnitID), map[string]any{"temperature": 3, "temp_unit": "C"}).must(t, 201).JSON(t, &r)
	if r.UnitStatus != domain.UnitRestoring || len(r.AlertsResolved) != 0 {
		t.Fatalf("%+v", r)
	}
	var open int
	h.queryRow([]any{&open}, `SELECT count(*) FROM alerts WHERE unit_id = $1 AND status <> 'resolved'`, u.UnitID)
	if open != 1 {
		t.Fatalf("%d open alerts", open)
	}
}

// Manual logs feed the engine, but a resolution they cause needs the
// resolve permission: two in-range logs by staff bring the unit back to ok
// and leave the alert open, marked "back in range", for someone who may
// resolve it (with a note).
func TestManualLogResolutionNeedsTheResolvePermission(t *testing.T) {
	h := newHarness(t)
	owner, staff := h.user("owner"), h.user("staff")
	org := h.org("Alpha", owner)
	h.member(org, staff, access.Staff)
	u := h.unit(org)
	path := manualLogPath(org, u.UnitID)
	t0 := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	for i, c := range []float64{9, 9} {
		h.do(staff, http.MethodPost, path, map[string]any{"temperature": c, "temp_unit": "C",
			"recorded_at": t0.Add(time.Duration(i) * 11 * time.Minute).Format(time.RFC3339)}).must(t, 201)
	}
	var alertID string
	h.queryRow([]any{&alertID}, `SELECT id FROM alerts WHERE unit_id = $1 AND status = 'active'`, u.UnitID)
	var last domain.ManualLogResult
	for i, c := range []float64{3, 2.5} {
		h.do(staff, http.MethodPost, path, map[string]any{"temperature": c, "temp_unit": "C",
			"recorded_at": t0.Add(time.Duration(12+i) * time.Minute).Format(time.RFC3339)}).must(t, 201).JSON(t, &last)
	}
	if len(last.AlertsResolved) != 0 {
		t.Fatalf("staff's logs resolved %v", last.AlertsResolved)
	}
	var status string
	var marked int
	h.queryRow([]any{&status}, `SELECT status FROM alerts WHERE id = $1`, alertID)
	h.queryRow([]any{&marked}, `SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'back_in_range'`, alertID)
	if status != "active" || marked != 1 {
		t.Fatalf("alert %s, %d back-in-range events", status, marked)
	}
	// Resolving stays the resolve route's, with its note.
	h.do(staff, http.MethodPost, "/api/v1/orgs/"+org+"/alerts/"+alertID+"/resolve", map[string]any{"note": "x"}).must(t, http.StatusForbidden)
}
