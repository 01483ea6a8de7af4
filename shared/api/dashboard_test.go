package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

func TestDashboard(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.user("alice"), h.user("bob")
	org := h.org("Alpha", alice)
	h.org("Beta", bob)
	h.exec(`UPDATE organizations SET temp_unit = 'F' WHERE id = $1`, org)
	warm, fine, gone := h.unit(org), h.unit(org), h.unit(org)
	h.exec(`UPDATE units SET status = 'alarm_active', last_reading_at = now(), last_temp_c = 9.5, door_open = true WHERE id = $1`, warm.UnitID)
	h.exec(`UPDATE units SET deleted_at = now() WHERE id = $1`, gone.UnitID)
	h.fixtureAlert(org, warm.UnitID, alertSpec{Severity: "critical"})
	h.fixtureAlert(org, warm.UnitID, alertSpec{Type: domain.AlertDoorOpen, Status: domain.AlertAcknowledged})
	h.fixtureAlert(org, warm.UnitID, alertSpec{Status: domain.AlertResolved})
	h.fixtureAlert(org, fine.UnitID, alertSpec{Type: domain.AlertLowBattery})
	h.fixtureAlert(org, gone.UnitID, alertSpec{})

	viewer := h.user("viewer")
	h.member(org, viewer, access.Viewer)
	var d domain.Dashboard
	h.do(viewer, http.MethodGet, "/api/v1/orgs/"+org+"/dashboard", nil).must(t, 200).JSON(t, &d)
	if d.TempUnit != domain.Fahrenheit || len(d.Units) != 2 {
		t.Fatalf("dashboard = %+v", d)
	}
	byID := map[string]domain.DashboardUnit{}
	for _, u := range d.Units {
		byID[u.ID] = u
	}
	w, f := byID[warm.UnitID], byID[fine.UnitID]
	if w.Status != domain.UnitAlarmActive || w.SiteName != "Site" || w.AreaName != "Area" || w.Name != "Cooler" ||
		w.LastTempC == nil || *w.LastTempC != 9.5 || w.LastTemp == nil || *w.LastTemp != 49.1 || !w.DoorOpen ||
		w.TempMinC != 0 || w.TempMaxC != 5 || w.TempMin != 32 || w.TempMax != 41 || w.OpenAlertCount != 2 || w.LastReadingAt == nil {
		t.Errorf("warm unit = %+v", w)
	}
	if f.Status != domain.UnitOK || f.LastTempC != nil || f.LastTemp != nil || f.OpenAlertCount != 1 {
		t.Errorf("fine unit = %+v", f)
	}
	if len(d.CountsByStatus) != len(domain.UnitStatuses) || d.CountsByStatus[domain.UnitOK] != 1 ||
		d.CountsByStatus[domain.UnitAlarmActive] != 1 || d.CountsByStatus[domain.UnitOffline] != 0 {
		t.Errorf("counts = %v", d.CountsByStatus)
	}
	if d.OpenAlerts.Count != 3 || len(d.OpenAlerts.Latest) != 3 {
		t.Errorf("open alerts = %+v", d.OpenAlerts)
	}
	for _, a := range d.OpenAlerts.Latest {
		if a.Status == domain.AlertResolved || a.UnitID == gone.UnitID {
			t.Errorf("dashboard lists %s alert of unit %s", a.Status, a.UnitID)
		}
	}

	// An empty organisation has the same shape, with zeros.
	var empty map[string]any
	h.do(bob, http.MethodGet, "/api/v1/orgs/"+h.org("Gamma", bob)+"/dashboard", nil).must(t, 200).JSON(t, &empty)
	counts, _ := empty["counts_by_status"].(map[string]any)
	units, _ := empty["units"].([]any)
	latest, _ := empty["open_alerts"].(map[string]any)["latest"].([]any)
	if len(counts) != 7 || counts["manual_required"] != 0.0 || units == nil || len(units) != 0 || latest == nil || empty["temp_unit"] != "C" {
		t.Errorf("empty dashboard = %v", empty)
	}

	h.do(bob, http.MethodGet, "/api/v1/orgs/"+org+"/dashboard", nil).must(t, 404)
	h.do(viewer, http.MethodGet, "/api/v1/orgs/not-an-org/dashboard", nil).must(t, 404)
}

// staticVerifier accepts any token as one user: the benchmark measures the
// handler and its queries, not JWT verification.
type staticVerifier struct{ claims auth.Claims }

func (v staticVerifier) Verify(context.Context, string) (auth.Claims, error) { return v.claims, nil }

// BenchmarkDashboard200Units serves the dashboard of an organisation with 200
// units and 1000 alerts (300 open) through the handler, authentication and
// membership check included. Run: go test -run '^$' -bench Dashboard200 ./shared/api/
func BenchmarkDashboard200Units(b *testing.B) {
	quietLogs(b)
	db, _ := testenv.OpenDB(b)
	ctx := context.Background()
	srv := New(db, staticVerifier{auth.Claims{Subject: benchSubject, Email: "owner@example.test", Name: "Owner"}})
	user, err := db.EnsureUser(ctx, benchSubject, "owner@example.test", "Owner")
	if err != nil {
		b.Fatal(err)
	}
	var org string
	setup := []string{
		`INSERT INTO organizations (name, slug) VALUES ('Bench', 'bench') RETURNING id`,
		`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'owner')`,
		`INSERT INTO sites (organization_id, name) SELECT $1, 'Site ' || i FROM generate_series(1, 10) i`,
		`INSERT INTO areas (organization_id, site_id, name) SELECT s.organization_id, s.id, 'Area ' || i
			FROM sites s, generate_series(1, 4) i WHERE s.organization_id = $1`,
		`INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, status, last_reading_at, last_temp_c)
			SELECT a.organization_id, a.site_id, a.id, 'Unit ' || i, 0, 5,
				(ARRAY['ok','ok','ok','excursion','alarm_active','offline'])[1 + (i % 6)], now(), 3.5
			FROM areas a, generate_series(1, 5) i WHERE a.organization_id = $1`,
		// 300 open alerts (distinct (unit, type)), 700 resolved.
		`INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, triggered_at, resolved_at, resolution)
			SELECT u.organization_id, u.id, t.type, 'warning',
				CASE WHEN t.n <= 1 OR (t.n = 2 AND u.rn <= 100) THEN 'active' ELSE 'resolved' END,
				'bench', now() - (u.rn * 7 + t.n) * interval '1 minute',
				CASE WHEN t.n <= 1 OR (t.n = 2 AND u.rn <= 100) THEN NULL ELSE now() END,
				CASE WHEN t.n <= 1 OR (t.n = 2 AND u.rn <= 100) THEN NULL ELSE 'auto' END
			FROM (SELECT id, organization_id, row_number() OVER (ORDER BY id) rn FROM units WHERE organization_id = $1) u,
				(VALUES (1, 'temp_excursion'), (2, 'door_open'), (3, 'low_battery'), (4, 'sensor_fault'), (5, 'missed_manual_entry')) t(n, type)`,
		`ANALYZE`,
	}
	if err := testenv.Pool(db).QueryRow(ctx, setup[0]).Scan(&org); err != nil {
		b.Fatal(err)
	}
	for i, sql := range setup[1:] {
		args := []any{org}
		switch {
		case i == 0:
			args = append(args, user.ID)
		case sql == `ANALYZE`:
			args = nil
		}
		if _, err := testenv.Pool(db).Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%v\n%s", err, sql)
		}
	}
	var units, alerts int
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT (SELECT count(*) FROM units), (SELECT count(*) FROM alerts)`).Scan(&units, &alerts); err != nil || units != 200 || alerts != 1000 {
		b.Fatalf("fixture: %d units, %d alerts (%v)", units, alerts, err)
	}
	mux := http.NewServeMux()
	srv.Register(mux)
	handler := web.Standard(mux, web.Options{Function: "api"})
	path := "/api/v1/orgs/" + org + "/dashboard"
	// One access-log line per iteration would drown the result.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	b.Cleanup(func() { slog.SetDefault(prev) })
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer bench")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
