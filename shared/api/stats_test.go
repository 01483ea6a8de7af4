package api

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/report"
)

// sensorIn registers a sensor installed in unit and returns its id.
func (h *harness) sensorIn(orgID, unitID, devEUI string) string {
	h.t.Helper()
	var id string
	h.queryRow([]any{&id}, `INSERT INTO sensors (organization_id, unit_id, dev_eui, last_seen_at) VALUES ($1, $2, $3, now()) RETURNING id`,
		orgID, unitID, devEUI)
	return id
}

func TestOrganizationStats(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org := h.org("Alpha", owner)
	h.org("Beta", other)
	viewer := h.user("viewer")
	h.member(org, viewer, access.Viewer)
	now := time.Now().UTC().Truncate(time.Minute)
	h.srv.Now = func() time.Time { return now }

	warm, fine, quiet := h.unit(org), h.unit(org), h.unit(org) // three sites, named "Site"
	h.exec(`UPDATE sites SET name = 'Warm site' WHERE id = $1`, warm.SiteID)
	h.exec(`UPDATE sites SET name = 'Fine site' WHERE id = $1`, fine.SiteID)
	h.exec(`UPDATE sites SET name = 'Quiet site' WHERE id = $1`, quiet.SiteID)
	h.exec(`UPDATE units SET status = 'alarm_active' WHERE id = $1`, warm.UnitID)
	h.exec(`UPDATE units SET status = 'offline' WHERE id = $1`, quiet.UnitID)
	// a second unit in the warm site, in excursion; a deleted one counts nowhere
	var second, gone string
	h.queryRow([]any{&second}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, status)
		VALUES ($1, $2, $3, 'Second', 0, 5, 'excursion') RETURNING id`, org, warm.SiteID, warm.AreaID)
	h.queryRow([]any{&gone}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, status, deleted_at)
		VALUES ($1, $2, $3, 'Gone', 0, 5, 'alarm_active', now()) RETURNING id`, org, fine.SiteID, fine.AreaID)
	h.fixtureAlert(org, warm.UnitID, alertSpec{Severity: "critical"})
	h.fixtureAlert(org, warm.UnitID, alertSpec{Type: domain.AlertDoorOpen, Status: domain.AlertAcknowledged})
	h.fixtureAlert(org, fine.UnitID, alertSpec{Status: domain.AlertResolved})
	h.fixtureAlert(org, gone, alertSpec{Severity: "critical"})

	// Sensors: one fresh, one silent for an hour (offline: the unit expects
	// one every 5 minutes), one that never reported, one with a low-battery
	// alert, one not installed (never offline), one unregistered.
	warmSensor := h.sensorIn(org, warm.UnitID, "A840410000000001")
	fineSensor := h.sensorIn(org, fine.UnitID, "A840410000000002")
	quietSensor := h.sensorIn(org, quiet.UnitID, "A840410000000003")
	h.exec(`UPDATE sensors SET last_seen_at = now() - interval '1 hour' WHERE id = $1`, quietSensor)
	h.exec(`UPDATE sensors SET last_seen_at = NULL WHERE id = $1`, h.sensorIn(org, second, "A840410000000004"))
	h.exec(`INSERT INTO alerts (organization_id, unit_id, sensor_id, type, severity, status, title, triggered_at)
		VALUES ($1, $2, $3, 'low_battery', 'info', 'active', 'Battery low', now())`, org, fine.UnitID, fineSensor)
	h.exec(`INSERT INTO sensors (organization_id, dev_eui) VALUES ($1, 'A840410000000005')`, org)
	h.exec(`INSERT INTO sensors (organization_id, dev_eui, deleted_at) VALUES ($1, 'A840410000000006', now())`, org)

	// Readings: the warm unit out of range for the last 6 hours, the fine
	// one in range all day; every 5 minutes, over 8 days.
	for at := now.Add(-8 * 24 * time.Hour); at.Before(now); at = at.Add(5 * time.Minute) {
		temp := 3.0
		if at.After(now.Add(-6 * time.Hour)) {
			temp = 9
		}
		h.exec(`INSERT INTO sensor_readings (organization_id, unit_id, sensor_id, recorded_at, temperature_c, source)
			VALUES ($1, $2, $3, $4, $5, 'ttn'), ($1, $6, $7, $4, 3, 'ttn')`, org, warm.UnitID, warmSensor, at, temp, fine.UnitID, fineSensor)
	}

	var st domain.OrganizationStats
	h.do(viewer, http.MethodGet, "/api/v1/orgs/"+org+"/stats", nil).must(t, 200).JSON(t, &st)
	if st.Units.Total != 4 || st.Units.ByStatus[domain.UnitAlarmActive] != 1 || st.Units.ByStatus[domain.UnitExcursion] != 1 ||
		st.Units.ByStatus[domain.UnitOK] != 1 || st.Units.ByStatus[domain.UnitOffline] != 1 || len(st.Units.ByStatus) != len(domain.UnitStatuses) {
		t.Errorf("units = %+v", st.Units)
	}
	if st.Units.ByState[domain.StateCritical] != 1 || st.Units.ByState[domain.StateWarning] != 1 ||
		st.Units.ByState[domain.StateNormal] != 1 || st.Units.ByState[domain.StateOffline] != 1 || st.WorstState != domain.StateCritical {
		t.Errorf("states = %+v, worst %q", st.Units.ByState, st.WorstState)
	}
	sites := map[string]domain.SiteStats{}
	for _, s := range st.Sites {
		sites[s.SiteName] = s
	}
	if s := sites["Warm site"]; s.UnitCount != 2 || s.OpenAlertCount != 2 || s.WorstState != domain.StateCritical {
		t.Errorf("warm site = %+v", s)
	}
	if s := sites["Fine site"]; s.UnitCount != 1 || s.OpenAlertCount != 1 || s.WorstState != domain.StateNormal {
		t.Errorf("fine site = %+v (the deleted unit and its alert count nowhere; the low-battery alert is open)", s)
	}
	if s := sites["Quiet site"]; s.UnitCount != 1 || s.WorstState != domain.StateOffline {
		t.Errorf("quiet site = %+v", s)
	}
	if st.Alerts.Open != 3 || st.Alerts.OpenBySeverity["critical"] != 1 || st.Alerts.OpenBySeverity["warning"] != 1 ||
		st.Alerts.OpenBySeverity["info"] != 1 || st.Alerts.OpenByStatus["acknowledged"] != 1 || st.Alerts.OpenByStatus["active"] != 2 {
		t.Errorf("alerts = %+v", st.Alerts)
	}
	if st.Sensors != (domain.SensorStats{Total: 5, Offline: 2, LowBattery: 1}) {
		t.Errorf("sensors = %+v", st.Sensors)
	}
	if st.SiteCount != 3 || st.MemberCount != 2 {
		t.Errorf("sites %d, members %d", st.SiteCount, st.MemberCount)
	}

	// Compliance is the HACCP report's time in range, summed over the units
	// with a sensor (warm, fine, quiet, second), not another definition.
	c := st.Compliance
	if c.Last24h.Units != 4 || c.Last7d.Units != 4 || c.Last24h.InRangePercent == nil || c.Last7d.InRangePercent == nil {
		t.Fatalf("compliance = %+v", c)
	}
	var dayIn, dayAll, weekIn, weekAll int64
	for _, unit := range []string{warm.UnitID, fine.UnitID, quiet.UnitID, second} {
		for _, w := range []struct {
			from      time.Time
			in, total *int64
		}{{now.Add(-24 * time.Hour), &dayIn, &dayAll}, {now.Add(-7 * 24 * time.Hour), &weekIn, &weekAll}} {
			q := url.Values{"from": {w.from.Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)}, "unit_id": {unit}, "format": {"json"}}
			var rep report.Report
			h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/reports/haccp?"+q.Encode(), nil).must(t, 200).JSON(t, &rep)
			*w.in += rep.Units[0].Summary.InRangeSeconds
			*w.total += rep.Units[0].Summary.DurationSeconds
		}
	}
	if c.Last24h.InRangeSeconds != dayIn || c.Last24h.DurationSeconds != dayAll || c.Last7d.InRangeSeconds != weekIn || c.Last7d.DurationSeconds != weekAll {
		t.Errorf("compliance %+v, the report says 24 h %d/%d s, 7 d %d/%d s", c, dayIn, dayAll, weekIn, weekAll)
	}
	// warm: 18 h 05 of 24 h (the reading at now-6h is still in range);
	// fine: 24 h; quiet and second: no data
	if got := *c.Last24h.InRangePercent; got != 43.84 {
		t.Errorf("24 h in range = %v %%, want 42 h 05 / 96 h = 43.84 %%", got)
	}

	h.do(other, http.MethodGet, "/api/v1/orgs/"+org+"/stats", nil).must(t, 404)
	var empty map[string]any
	h.do(other, http.MethodGet, "/api/v1/orgs/"+h.org("Empty", other)+"/stats", nil).must(t, 200).JSON(t, &empty)
	if empty["worst_state"] != "" || len(empty["sites"].([]any)) != 0 {
		t.Errorf("an empty organisation: %v", empty)
	}
}

func TestSitesAreasAndAlertsCarryCountsAndNames(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org, orgB := h.org("Alpha", owner), h.org("Beta", other)
	u := h.unit(org)
	var area2, unit2 string
	h.queryRow([]any{&area2}, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Back room') RETURNING id`, org, u.SiteID)
	h.queryRow([]any{&unit2}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		VALUES ($1, $2, $3, 'Freezer', -25, -15) RETURNING id`, org, u.SiteID, area2)
	h.exec(`INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, deleted_at)
		VALUES ($1, $2, $3, 'Old', 0, 5, now())`, org, u.SiteID, area2)
	critical := h.fixtureAlert(org, unit2, alertSpec{Severity: "critical"})
	acked := h.fixtureAlert(org, u.UnitID, alertSpec{Status: domain.AlertAcknowledged, Type: domain.AlertDoorOpen})
	resolved := h.fixtureAlert(org, u.UnitID, alertSpec{Status: domain.AlertResolved})

	var site domain.Site
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/sites/"+u.SiteID, nil).must(t, 200).JSON(t, &site)
	if site.AreaCount != 2 || site.UnitCount != 2 || site.OpenAlertCount != 2 {
		t.Errorf("site counts = %d areas, %d units, %d open alerts", site.AreaCount, site.UnitCount, site.OpenAlertCount)
	}
	var areas List[domain.Area]
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/areas?site_id="+u.SiteID, nil).must(t, 200).JSON(t, &areas)
	for _, a := range areas.Items {
		if a.UnitCount != 1 {
			t.Errorf("area %s has %d live units, want 1", a.Name, a.UnitCount)
		}
	}

	list := func(q string) []string {
		var l List[domain.Alert]
		h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts?"+q, nil).must(t, 200).JSON(t, &l)
		for _, a := range l.Items {
			if a.SiteName != "Site" || a.AreaName == "" || a.AreaID == "" || a.UnitName == "" {
				t.Errorf("alert %s lacks its names: %+v", a.ID, a)
			}
		}
		return alertIDs(l.Items)
	}
	same := func(got []string, want ...string) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
	if got := list("status=active,acknowledged"); !same(got, acked, critical) && !same(got, critical, acked) {
		t.Errorf("status=active,acknowledged: %v", got)
	}
	if got := list("status=open,resolved"); len(got) != 3 {
		t.Errorf("status=open,resolved: %v", got)
	}
	if got := list("status=resolved"); !same(got, resolved) {
		t.Errorf("status=resolved: %v", got)
	}
	if got := list("severity=critical,info"); !same(got, critical) {
		t.Errorf("severity=critical,info: %v", got)
	}
	if got := list("area_id=" + area2); !same(got, critical) {
		t.Errorf("area_id: %v", got)
	}
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts?status=active,nope", nil).must(t, 400)
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/alerts?severity=loud", nil).must(t, 400)
	h.do(other, http.MethodGet, "/api/v1/orgs/"+orgB+"/alerts?area_id="+area2, nil).must(t, 404)
}
