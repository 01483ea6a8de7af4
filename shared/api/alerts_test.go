package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/testenv"
)

// alertSpec is an alert fixture. Zero fields take defaults: temp_excursion,
// warning, active, triggered an hour ago.
type alertSpec struct {
	Type, Severity, Status string
	TriggeredAt            time.Time
}

// fixtureAlert inserts an alert the way the engine would (CHECKs and the
// one-open-per-(unit, type) index apply) and returns its id.
func (h *harness) fixtureAlert(orgID, unitID string, s alertSpec) string {
	h.t.Helper()
	if s.Type == "" {
		s.Type = domain.AlertTempExcursion
	}
	if s.Severity == "" {
		s.Severity = "warning"
	}
	if s.Status == "" {
		s.Status = domain.AlertActive
	}
	if s.TriggeredAt.IsZero() {
		s.TriggeredAt = time.Now().Add(-time.Hour)
	}
	var id string
	h.queryRow([]any{&id}, `INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, message,
			triggered_at, temperature_c, limit_c, next_escalation_at,
			acknowledged_at, resolved_at, resolution)
		VALUES ($1, $2, $3, $4, $5, 'Too warm', 'Cooler is at 9.5 °C', $6, 9.5, 5, now() + interval '5 minutes',
			CASE WHEN $5 = 'acknowledged' THEN now() END,
			CASE WHEN $5 = 'resolved' THEN now() END,
			CASE WHEN $5 = 'resolved' THEN 'auto' END)
		RETURNING id`, orgID, unitID, s.Type, s.Severity, s.Status, s.TriggeredAt)
	h.exec(`INSERT INTO alert_events (organization_id, alert_id, kind, at) VALUES ($1, $2, 'triggered', $3)`, orgID, id, s.TriggeredAt)
	return id
}

func alertIDs(items []domain.Alert) []string {
	out := make([]string, len(items))
	for i, a := range items {
		out[i] = a.ID
	}
	return out
}

func TestAlertsListFilters(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	u1, u2 := h.unit(org), h.unit(org)
	now := time.Now().UTC().Truncate(time.Second)
	a1 := h.fixtureAlert(org, u1.UnitID, alertSpec{Severity: "critical", TriggeredAt: now.Add(-1 * time.Hour)})
	a2 := h.fixtureAlert(org, u1.UnitID, alertSpec{Type: domain.AlertDoorOpen, Status: domain.AlertAcknowledged, TriggeredAt: now.Add(-2 * time.Hour)})
	a3 := h.fixtureAlert(org, u2.UnitID, alertSpec{Status: domain.AlertResolved, TriggeredAt: now.Add(-3 * time.Hour)})
	a4 := h.fixtureAlert(org, u2.UnitID, alertSpec{Type: domain.AlertLowBattery, Severity: "info", TriggeredAt: now.Add(-4 * time.Hour)})
	a5 := h.fixtureAlert(org, u1.UnitID, alertSpec{Severity: "critical", Status: domain.AlertResolved, TriggeredAt: now.Add(-30 * time.Hour)})
	// Only a3 changed recently: updated_since must find it alone.
	h.exec(`UPDATE alerts SET updated_at = now() - interval '10 days' WHERE organization_id = $1`, org)
	h.exec(`UPDATE alerts SET updated_at = now() WHERE id = $1`, a3)
	ts := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{a1, a2, a3, a4, a5}},
		{"status=open", []string{a1, a2, a4}},
		{"status=active", []string{a1, a4}},
		{"status=acknowledged", []string{a2}},
		{"status=resolved", []string{a3, a5}},
		{"type=door_open", []string{a2}},
		{"type=temp_excursion", []string{a1, a3, a5}},
		{"severity=critical", []string{a1, a5}},
		{"unit_id=" + u2.UnitID, []string{a3, a4}},
		{"site_id=" + u1.SiteID, []string{a1, a2, a5}},
		{"unit_id=" + u1.UnitID + "&status=open", []string{a1, a2}},
		{"from=" + ts(now.Add(-5*time.Hour)), []string{a1, a2, a3, a4}},
		{"to=" + ts(now.Add(-150*time.Minute)), []string{a3, a4, a5}},
		{"from=" + ts(now.Add(-5*time.Hour)) + "&to=" + ts(now.Add(-2*time.Hour)), []string{a3, a4}},
		{"updated_since=" + ts(now.Add(-24*time.Hour)), []string{a3}},
		{"unit_id=" + strings.ToUpper(u2.UnitID) + "&severity=info", []string{a4}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var l List[domain.Alert]
			h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts?"+tc.query, nil).must(t, 200).JSON(t, &l)
			if got := alertIDs(l.Items); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if l.NextCursor != "" {
				t.Errorf("next_cursor %q on a short list", l.NextCursor)
			}
		})
	}

	// The item's fields, and ack_code only while open.
	var l List[domain.Alert]
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts?unit_id="+u1.UnitID, nil).must(t, 200).JSON(t, &l)
	first := l.Items[0]
	if first.UnitID != u1.UnitID || first.UnitName != "Cooler" || first.SiteID != u1.SiteID || first.Type != "temp_excursion" ||
		first.Title != "Too warm" || first.TemperatureC == nil || *first.TemperatureC != 9.5 || *first.LimitC != 5 ||
		first.AckCode == nil || first.TriggeredAt.Location() != time.UTC || string(first.Details) != "{}" {
		t.Errorf("item = %+v", first)
	}
	if last := l.Items[len(l.Items)-1]; last.ID != a5 || last.AckCode != nil || last.Resolution == nil || *last.Resolution != "auto" {
		t.Errorf("resolved item = %+v", last)
	}
	if first.TempUnit != domain.Celsius || first.Temperature == nil || *first.Temperature != 9.5 || *first.Limit != 5 {
		t.Errorf("display values in °C = %v %v %v", first.TempUnit, first.Temperature, first.Limit)
	}
	// An organisation in °F reads its alerts in °F, without converting.
	h.exec(`UPDATE organizations SET temp_unit = 'F' WHERE id = $1`, org)
	var one domain.Alert
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts/"+first.ID, nil).must(t, 200).JSON(t, &one)
	if one.TempUnit != domain.Fahrenheit || one.Temperature == nil || *one.Temperature != 49.1 || *one.Limit != 41 || *one.TemperatureC != 9.5 {
		t.Errorf("display values in °F = %v %v %v", one.TempUnit, one.Temperature, one.Limit)
	}
	h.exec(`UPDATE organizations SET temp_unit = 'C' WHERE id = $1`, org)
	raw := string(h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts?limit=1", nil).must(t, 200).Body)
	for _, field := range []string{`"triggered_at":"` + now.Add(-time.Hour).Format(time.RFC3339) + `"`, `"acknowledged_by":null`, `"next_cursor":"`} {
		if !strings.Contains(raw, field) {
			t.Errorf("%s missing from %s", field, raw)
		}
	}

	// Every member reads alerts.
	for _, role := range []access.Role{access.Viewer, access.Inspector, access.Staff} {
		u := h.user(string(role))
		h.member(org, u, role)
		h.do(u, http.MethodGet, "/api/v1/orgs/"+org+"/alerts", nil).must(t, 200)
	}
}

func TestAlertsListValidation(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	cases := []struct{ query, field string }{
		{"status=closed", "status"},
		{"type=fire", "type"},
		{"severity=high", "severity"},
		{"unit_id=42", "unit_id"},
		{"site_id=x", "site_id"},
		{"from=yesterday", "from"},
		{"to=2026-13-01T00:00:00Z", "to"},
		{"updated_since=1700000000", "updated_since"},
		{"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"},
		{"limit=0", "limit"},
		{"limit=201", "limit"},
		{"cursor=bm90LWEtY3Vyc29y", "cursor"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			r := h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts?"+tc.query, nil).must(t, 400)
			if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
				t.Errorf("no field error on %s: %s", tc.field, r.Body)
			}
		})
	}
}

func TestAlertsPagination(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	u := h.unit(org)
	// 130 resolved alerts, in groups of three sharing one triggered_at so
	// that the id tie-break is exercised across page boundaries.
	base := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	h.exec(`INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, triggered_at, resolved_at, resolution)
		SELECT $1, $2, 'temp_excursion', 'warning', 'resolved', 'old', $3::timestamptz + (i / 3) * interval '1 minute', now(), 'auto'
		FROM generate_series(1, 130) i`, org, u.UnitID, base)
	var want []string
	rows, err := testenv.Pool(h.db).Query(t.Context(), `SELECT id::text FROM alerts WHERE organization_id = $1 ORDER BY triggered_at DESC, id DESC`, org)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	var got []string
	cursor, pages := "", 0
	for {
		var l List[domain.Alert]
		h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts?status=resolved&limit=50&cursor="+cursor, nil).must(t, 200).JSON(t, &l)
		pages++
		got = append(got, alertIDs(l.Items)...)
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("%d pages, %d items; want 3 pages and the %d items in order without duplicates or gaps", pages, len(got), len(want))
	}
}

func TestAlertGetWithTimeline(t *testing.T) {
	h := newHarness(t)
	owner, staff := h.user("owner"), h.user("Sam")
	org := h.org("Alpha", owner)
	h.member(org, staff, access.Staff)
	u := h.unit(org)
	id := h.fixtureAlert(org, u.UnitID, alertSpec{})
	h.exec(`INSERT INTO alert_events (organization_id, alert_id, kind, data, at) VALUES ($1, $2, 'escalated', '{"step": 1}', now() - interval '10 minutes')`, org, id)
	h.do(staff, http.MethodPost, "/api/v1/orgs/"+org+"/alerts/"+id+"/acknowledge", map[string]any{"note": "on it"}).must(t, 200)

	var d domain.AlertDetail
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts/"+id, nil).must(t, 200).JSON(t, &d)
	if d.ID != id || d.Status != "acknowledged" || len(d.Events) != 3 {
		t.Fatalf("detail = %+v", d)
	}
	kinds := []string{d.Events[0].Kind, d.Events[1].Kind, d.Events[2].Kind}
	if !slices.Equal(kinds, []string{"triggered", "escalated", "acknowledged"}) {
		t.Errorf("timeline %v, want oldest first", kinds)
	}
	ack := d.Events[2]
	if ack.ActorUserID == nil || *ack.ActorUserID != staff.ID || ack.ActorName == nil || *ack.ActorName != "Sam" ||
		ack.Note == nil || *ack.Note != "on it" || d.Events[0].ActorUserID != nil || string(d.Events[1].Data) != `{"step":1}` {
		t.Errorf("events = %+v", d.Events)
	}
	if d.AcknowledgedByName == nil || *d.AcknowledgedByName != "Sam" {
		t.Errorf("acknowledged_by_name = %v", d.AcknowledgedByName)
	}

	viewer := h.user("viewer")
	h.member(org, viewer, access.Viewer)
	h.do(viewer, http.MethodGet, "/api/v1/orgs/"+org+"/alerts/"+id, nil).must(t, 200)
	for _, bad := range []string{"00000000-0000-4000-8000-000000000000", "not-a-uuid"} {
		if r := h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts/"+bad, nil).must(t, 404); r.ErrorCode() != "NOT_FOUND" {
			t.Errorf("code %s", r.ErrorCode())
		}
	}
}

// TestAlertsCrossTenant calls every alert route with org A's ids through
// org B's path as B's owner, and through A's path as B's owner: 404 always.
func TestAlertsCrossTenant(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.user("alice"), h.user("bob")
	orgA, orgB := h.org("Alpha", alice), h.org("Beta", bob)
	uA := h.unit(orgA)
	h.unit(orgB)
	idA := h.fixtureAlert(orgA, uA.UnitID, alertSpec{})
	note := map[string]any{"note": "x"}
	for _, path := range []string{"/api/v1/orgs/" + orgB, "/api/v1/orgs/" + orgA} {
		h.do(bob, http.MethodGet, path+"/alerts/"+idA, nil).must(t, 404)
		h.do(bob, http.MethodPost, path+"/alerts/"+idA+"/acknowledge", note).must(t, 404)
		h.do(bob, http.MethodPost, path+"/alerts/"+idA+"/resolve", note).must(t, 404)
	}
	h.do(bob, http.MethodGet, "/api/v1/orgs/"+orgA+"/alerts", nil).must(t, 404)
	// Org A's unit as a filter on org B's own list: 404, like in a path.
	h.do(bob, http.MethodGet, "/api/v1/orgs/"+orgB+"/alerts?unit_id="+uA.UnitID, nil).must(t, 404)
	var status string
	h.queryRow([]any{&status}, `SELECT status FROM alerts WHERE id = $1`, idA)
	if status != "active" {
		t.Errorf("org A's alert was changed through org B: %s", status)
	}
}

func alertPath(org, id, action string) string {
	return fmt.Sprintf("/api/v1/orgs/%s/alerts/%s/%s", org, id, action)
}
