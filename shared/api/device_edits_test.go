package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

func TestRestoreSensor(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org, orgB := h.org("Alpha", owner), h.org("Beta", other)
	u, u2 := h.unit(org), h.unit(org)
	h.exec(`UPDATE organizations SET sensor_limit = 2 WHERE id = $1`, org)
	base := "/api/v1/orgs/" + org + "/sensors/"
	s1 := h.sensorIn(org, u.UnitID, "A840410000000F01")
	s2 := h.sensorIn(org, u2.UnitID, "A840410000000F02")

	h.do(owner, http.MethodDelete, base+s1, nil).must(t, 204)
	var back domain.Sensor
	h.do(owner, http.MethodPost, base+s1+"/restore", nil).must(t, 200).JSON(t, &back)
	if back.ID != s1 || back.UnitID == nil || *back.UnitID != u.UnitID {
		t.Errorf("restored = %+v", back)
	}
	h.do(owner, http.MethodPost, base+s1+"/restore", nil).must(t, 200) // a live sensor: nothing changes

	// Its unit gone meanwhile: it comes back unassigned.
	h.do(owner, http.MethodDelete, base+s2, nil).must(t, 204)
	h.exec(`UPDATE units SET deleted_at = now() WHERE id = $1`, u2.UnitID)
	h.do(owner, http.MethodPost, base+s2+"/restore", nil).must(t, 200).JSON(t, &back)
	if back.UnitID != nil {
		t.Errorf("restored into a deleted unit: %+v", back)
	}

	// The plan's limit holds, and a DevEUI registered again meanwhile wins.
	h.do(owner, http.MethodDelete, base+s2, nil).must(t, 204)
	h.sensorIn(org, u.UnitID, "A840410000000F03")
	r := h.do(owner, http.MethodPost, base+s2+"/restore", nil).must(t, 403)
	if r.ErrorCode() != "SENSOR_LIMIT_REACHED" {
		t.Errorf("over the limit: %s", r.Body)
	}
	h.exec(`UPDATE organizations SET sensor_limit = 5 WHERE id = $1`, org)
	h.sensorIn(org, u.UnitID, "A840410000000F02")
	r = h.do(owner, http.MethodPost, base+s2+"/restore", nil).must(t, 409)
	if !strings.Contains(string(r.Body), "A840410000000F02") {
		t.Errorf("conflict names the DevEUI: %s", r.Body)
	}
	h.do(other, http.MethodPost, "/api/v1/orgs/"+orgB+"/sensors/"+s2+"/restore", nil).must(t, 404)
}

func TestPatchGateway(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org, orgB := h.org("Alpha", owner), h.org("Beta", other)
	u, u2, foreign := h.unit(org), h.unit(org), h.unit(orgB)
	var gw string
	h.queryRow([]any{&gw}, `INSERT INTO gateways (organization_id, site_id, gateway_id, gateway_eui, frequency_plan_id, cluster, provisioning_status)
		VALUES ($1, $2, 'patch-gw', 'B827EBFFFE0000A1', 'EU_863_870_TTN', 'eu1', 'registered') RETURNING id`, org, u.SiteID)
	path := "/api/v1/orgs/" + org + "/gateways/" + gw
	var g map[string]any
	h.do(owner, http.MethodPatch, path, map[string]any{"name": " Back office ", "site_id": u2.SiteID}).must(t, 200).JSON(t, &g)
	if g["name"] != "Back office" || g["site_id"] != u2.SiteID || g["gateway_id"] != "patch-gw" {
		t.Errorf("patched = %v", g)
	}
	h.do(owner, http.MethodPatch, path, map[string]any{"site_id": nil, "name": ""}).must(t, 200).JSON(t, &g)
	if g["name"] != nil || g["site_id"] != nil {
		t.Errorf("cleared = %v", g)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"site_id":"` + foreign.SiteID + `"}`, "site_id"},
		{`{"site_id":"nope"}`, "site_id"},
		{`{"name":"` + strings.Repeat("g", 51) + `"}`, "name"},
	} {
		r := h.do(owner, http.MethodPatch, path, tc.body).must(t, 400)
		if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %s", tc.body, r.Body)
		}
	}
	h.do(owner, http.MethodPatch, path, `{"gateway_eui":"B827EBFFFE0000A2"}`).must(t, 400) // TTN's identity does not change here
	h.do(other, http.MethodPatch, "/api/v1/orgs/"+orgB+"/gateways/"+gw, map[string]any{"name": "x"}).must(t, 404)
}

func TestPurgeDeletedHierarchy(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	manager := h.user("manager")
	h.member(org, manager, "manager")
	used, unused := h.unit(org), h.unit(org)
	h.readingRow(org, used.UnitID, time.Now().Add(-time.Hour), readingTemp(3))
	h.exec(`INSERT INTO dashboard_layouts (organization_id, user_id, entity_type, entity_id, slot, name, layout)
		VALUES ($1, $2, 'unit', $3, 1, 'x', '{}')`, org, owner.ID, unused.UnitID)

	unitPath := func(u unitFixture) string { return "/api/v1/orgs/" + org + "/units/" + u.UnitID }
	// A live unit is deleted first (restorable), purged after.
	h.do(owner, http.MethodPost, unitPath(unused)+"/purge", nil).must(t, 409)
	h.do(owner, http.MethodDelete, unitPath(unused), nil).must(t, 204)
	h.do(manager, http.MethodPost, unitPath(unused)+"/purge", nil).must(t, 204)
	var n int
	h.queryRow([]any{&n}, `SELECT (SELECT count(*) FROM units WHERE id = $1) + (SELECT count(*) FROM dashboard_layouts WHERE entity_id = $1)`, unused.UnitID)
	if n != 0 {
		t.Errorf("%d rows left of the purged unit", n)
	}
	h.do(owner, http.MethodPost, unitPath(unused)+"/restore", nil).must(t, 404)

	// A unit with HACCP records younger than the plan's retention stays.
	h.do(owner, http.MethodDelete, "/api/v1/orgs/"+org+"/sites/"+used.SiteID, nil).must(t, 204)
	r := h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/sites/"+used.SiteID+"/purge", nil).must(t, 409)
	if !strings.Contains(string(r.Body), "kept until "+time.Now().AddDate(0, 24, 0).Format("2006-01")) {
		t.Errorf("the refusal says until when: %s", r.Body)
	}
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/areas/"+used.AreaID+"/purge", nil).must(t, 409)
	// Once every record is older than the retention, it goes, with them.
	h.exec(`DELETE FROM sensor_readings WHERE unit_id = $1`, used.UnitID)
	h.exec(`INSERT INTO sensor_readings (organization_id, unit_id, recorded_at, temperature_c, source)
		VALUES ($1, $2, now() - interval '61 months', 3, 'ttn')`, org, used.UnitID)
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/sites/"+used.SiteID+"/purge", nil).must(t, 204)
	h.queryRow([]any{&n}, `SELECT (SELECT count(*) FROM sites WHERE id = $1) + (SELECT count(*) FROM areas WHERE site_id = $1)
		+ (SELECT count(*) FROM units WHERE site_id = $1) + (SELECT count(*) FROM sensor_readings WHERE unit_id = $2)`, used.SiteID, used.UnitID)
	if n != 0 {
		t.Errorf("%d rows left of the purged site", n)
	}
}
