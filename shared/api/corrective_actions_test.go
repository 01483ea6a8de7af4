package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/report"
)

func TestResolveRecordsCorrectiveActions(t *testing.T) {
	h := newHarness(t)
	a := h.alertActors()
	manager := a.roles[access.Manager]
	h.exec(`UPDATE organizations SET temp_unit = 'F' WHERE id = $1`, a.org)
	h.exec(`UPDATE units SET status = 'alarm_active' WHERE id = $1`, a.unit.UnitID)
	id := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{Status: domain.AlertActive, TriggeredAt: time.Now().Add(-time.Hour)})
	var walkIn string
	h.queryRow([]any{&walkIn}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		VALUES ($1, $2, $3, 'Walk-in', 0, 4) RETURNING id`, a.org, a.unit.SiteID, a.unit.AreaID)
	stranger := h.user("stranger")
	foreignUnit := h.unit(h.org("Elsewhere", stranger)).UnitID

	action := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	resolve := func(actions ...map[string]any) map[string]any { return map[string]any{"corrective_actions": actions} }
	for _, tc := range []struct {
		body   map[string]any
		status int
		field  string
	}{
		{resolve(action("action", "thrown_away")), 400, "corrective_actions[0].action"},
		{resolve(action("action", "core_temperature_checked")), 400, "corrective_actions[0].core_temperature"},
		{resolve(action("action", "discarded", "core_temperature", 4)), 400, "corrective_actions[0].core_temperature"},
		{resolve(action("action", "core_temperature_checked", "core_temperature", 41, "temp_unit", "K")), 400, "corrective_actions[0].temp_unit"},
		{resolve(action("action", "core_temperature_checked", "core_temperature", 900)), 400, "corrective_actions[0].core_temperature"},
		{resolve(action("action", "other")), 400, "corrective_actions[0].note"},
		{resolve(action("action", "discarded", "moved_to_unit_id", walkIn)), 400, "corrective_actions[0].moved_to_unit_id"},
		{resolve(action("action", "moved", "moved_to_unit_id", a.unit.UnitID)), 400, "corrective_actions[0].moved_to_unit_id"},
		{resolve(action("action", "moved", "moved_to_unit_id", foreignUnit)), 404, ""},
		{resolve(action("action", "discarded", "note", strings.Repeat("x", 2001))), 400, "corrective_actions[0].note"},
	} {
		r := h.do(manager, http.MethodPost, alertPath(a.org, id, "resolve"), tc.body).must(t, tc.status)
		if tc.field != "" && !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%v: %s", tc.body, r.Body)
		}
	}
	var n int
	h.queryRow([]any{&n}, `SELECT count(*) FROM corrective_actions`)
	if n != 0 {
		t.Fatalf("refused requests recorded %d actions", n)
	}

	// While the alarm persists, a recorded action stands for the note.
	var got domain.Alert
	h.do(manager, http.MethodPost, alertPath(a.org, id, "resolve"), resolve(
		action("action", "core_temperature_checked", "core_temperature", 41, "temp_unit", "F", "note", "chicken, 3 trays"),
		action("action", "moved", "moved_to_unit_id", walkIn),
	)).must(t, 200).JSON(t, &got)
	if got.Status != domain.AlertResolved || got.ResolvedNote != nil {
		t.Fatalf("resolved %+v", got)
	}
	// more later: the food discarded the next morning
	var added struct{ Items []domain.CorrectiveAction }
	h.do(a.roles[access.Staff], http.MethodPost, alertPath(a.org, id, "corrective-actions"),
		resolve(action("action", "discarded"))).must(t, http.StatusForbidden)
	h.do(manager, http.MethodPost, alertPath(a.org, id, "corrective-actions"), map[string]any{"corrective_actions": []any{}}).must(t, 400)
	h.do(manager, http.MethodPost, alertPath(a.org, id, "corrective-actions"),
		resolve(action("action", "discarded", "note", "dairy, top shelf"))).must(t, http.StatusCreated).JSON(t, &added)
	if len(added.Items) != 3 {
		t.Fatalf("actions %+v", added.Items)
	}
	core, moved, discarded := added.Items[0], added.Items[1], added.Items[2]
	if core.Action != domain.CorrectiveCoreTempChecked || *core.CoreTemperatureC != 5 || *core.CoreTemperature != 41 ||
		core.TempUnit != domain.Fahrenheit || *core.RecordedByUserID != manager.ID || *core.Note != "chicken, 3 trays" {
		t.Errorf("core temperature %+v", core)
	}
	if *moved.MovedToUnitID != walkIn || *moved.MovedToUnitName != "Walk-in" || discarded.Action != domain.CorrectiveDiscarded {
		t.Errorf("moved %+v, discarded %+v", moved, discarded)
	}
	var detail domain.AlertDetail
	h.do(a.roles[access.Viewer], http.MethodGet, "/api/v1/orgs/"+a.org+"/alerts/"+id, nil).must(t, 200).JSON(t, &detail)
	if len(detail.CorrectiveActions) != 3 || detail.CorrectiveActions[0].ID != core.ID {
		t.Errorf("the alert's actions %+v", detail.CorrectiveActions)
	}
	h.do(manager, http.MethodPost, alertPath(a.org, "7d1f0e4c-8d52-4a3f-9b1c-0e2d4f6a8b10", "corrective-actions"),
		resolve(action("action", "discarded"))).must(t, http.StatusNotFound)

	// ... and in the reports
	// (the alert was triggered an hour ago: yesterday, shortly after midnight)
	day := time.Now().UTC().Format(time.DateOnly)
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	var x report.Exceptions
	h.do(manager, http.MethodGet, "/api/v1/orgs/"+a.org+"/reports/exceptions?from="+yesterday+"&to="+day+"&unit_id="+a.unit.UnitID, nil).
		must(t, 200).JSON(t, &x)
	if x.Totals.CorrectiveActions != 3 || x.Totals.AlertsWithoutCorrective != 0 {
		t.Errorf("exceptions totals %+v", x.Totals)
	}
	r := h.do(manager, http.MethodGet, "/api/v1/orgs/"+a.org+"/reports/haccp?from="+yesterday+"&to="+day+"&format=csv", nil).must(t, 200)
	if !strings.Contains(string(r.Body), "Core temperature checked: 41.0 °F (chicken, 3 trays); Food moved to Walk-in; Food discarded (dairy, top shelf)") {
		t.Errorf("the HACCP CSV lacks the corrective actions:\n%s", r.Body)
	}
}

func TestReportVariantsThroughTheAPI(t *testing.T) {
	f := newReportFixture(t)
	h := f.h
	base := "/api/v1/orgs/" + f.org + "/reports/"
	var log report.DailyLog
	h.do(f.owner, "GET", base+"daily-log?"+f.rangeQ+"&unit_id="+f.ny.id+"&am_check=08:00&pm_check=16:30", nil).must(t, 200).JSON(t, &log)
	if log.Kind != report.KindDailyLog || log.AMCheck != "08:00" || len(log.Units) != 1 || len(log.Units[0].Days) != 30 {
		t.Fatalf("daily log %+v", log.Header)
	}
	d3, d4 := log.Units[0].Days[2], log.Units[0].Days[3]
	if d3.Status != report.DayException || d3.AM == nil || d3.AM.Source != report.CheckSensor || d3.PM == nil {
		t.Errorf("day 3 %+v", d3)
	}
	// Alice's 09:00 hand reading is the morning check of the 4th
	if d4.AM == nil || d4.AM.Source != report.CheckManual || *d4.AM.By != "Alice Martin" || d4.AM.TemperatureC != 3.4 {
		t.Errorf("day 4 AM %+v", d4.AM)
	}
	var m report.ManualEntries
	h.do(f.owner, "GET", base+"manual-entries?"+f.rangeQ, nil).must(t, 200).JSON(t, &m)
	if m.Totals.Entries != 2 || len(m.Units) != 2 {
		t.Errorf("manual entries %+v", m.Totals)
	}
	for _, k := range report.Kinds {
		r := h.do(f.owner, "GET", base+string(k)+"?"+f.rangeQ+"&format=html", nil).must(t, 200)
		if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") ||
			!strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline; filename=\""+string(k)+"-report-20260101-to-20260130.html") ||
			!strings.Contains(string(r.Body), "Dairy Cooler") {
			t.Errorf("%s html: %v", k, r.Header)
		}
		r = h.do(f.owner, "GET", base+string(k)+"?"+f.rangeQ+"&format=pdf", nil).must(t, 200)
		if _, text := rptPDFText(t, r.Body); !strings.Contains(text, k.Title()) {
			t.Errorf("%s pdf lacks its title", k)
		}
		h.do(f.owner, "GET", base+string(k)+"?"+f.rangeQ+"&format=csv", nil).must(t, 200)
	}
	for _, q := range []string{"am_check=13:00", "pm_check=11:59", "am_check=9am", "pm_check=24:00"} {
		r := h.do(f.owner, "GET", base+"daily-log?"+f.rangeQ+"&"+q, nil).must(t, 400)
		if !strings.Contains(string(r.Body), strings.Split(q, "=")[0]) {
			t.Errorf("%s: %s", q, r.Body)
		}
	}
	h.do(f.owner, "GET", base+"haccp?"+f.rangeQ+"&am_check=08:00", nil).must(t, 400)
	h.do(f.owner, "GET", base+"weekly?"+f.rangeQ, nil).must(t, 404)
}
