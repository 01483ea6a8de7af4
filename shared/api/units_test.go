package api

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

func (e *hierEnv) createUnit(t *testing.T, body map[string]any) domain.Unit {
	t.Helper()
	var u domain.Unit
	e.h.do(e.manager, http.MethodPost, e.path("/units"), body).must(t, http.StatusCreated).JSON(t, &u)
	return u
}

func (e *hierEnv) getUnit(t *testing.T, id string) domain.Unit {
	t.Helper()
	var u domain.Unit
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", id), nil).must(t, 200).JSON(t, &u)
	return u
}

func TestUnitsCreateDefaultsByType(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	cases := []struct {
		typ      string // "" = omitted
		min, max float64
	}{
		{"", 0, 5}, {"fridge", 0, 5}, {"display_case", 0, 5}, {"walk_in_cooler", 0, 5}, {"other", 0, 5},
		{"freezer", -30, -15}, {"walk_in_freezer", -30, -15}, {"blast_chiller", -40, 3},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			body := map[string]any{"area_id": f.AreaID, "name": "U " + c.typ}
			if c.typ != "" {
				body["type"] = c.typ
			}
			r := e.h.do(e.manager, http.MethodPost, e.path("/units"), body).must(t, 201)
			var u domain.Unit
			r.JSON(t, &u)
			wantType := domain.UnitType(c.typ)
			if c.typ == "" {
				wantType = domain.Fridge
			}
			if u.Type != wantType || u.TempMinC != c.min || u.TempMaxC != c.max || u.HysteresisC != 0.5 ||
				u.ConfirmSeconds != 600 || u.DoorConfirmSeconds != 1200 || u.CheckinIntervalSeconds != 300 ||
				u.ManualLogIntervalSeconds != nil {
				t.Fatalf("created %s", r.Body)
			}
			if u.SiteID != f.SiteID || u.AreaID != f.AreaID || u.OrganizationID != e.org || u.SiteName != "Site" ||
				u.AreaName != "Area" || u.Status != domain.UnitOK || u.LastTempC != nil || u.DoorOpen {
				t.Fatalf("created %s", r.Body)
			}
			if u.Display.TempUnit != domain.Celsius || u.Display.TempMin != c.min || u.Display.TempMax != c.max {
				t.Errorf("display %+v", u.Display)
			}
			if r.Header.Get("Location") != e.path("/units/%s", u.ID) {
				t.Errorf("Location %q", r.Header.Get("Location"))
			}
		})
	}
}

func TestUnitsDisplayUsesTheOrganizationsUnit(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	e.h.exec(`UPDATE organizations SET temp_unit = 'F' WHERE id = $1`, e.org)
	e.h.exec(`UPDATE units SET last_temp_c = 4.44, last_reading_at = now() WHERE id = $1`, f.UnitID)
	u := e.getUnit(t, f.UnitID)
	d := u.Display
	if d.TempUnit != domain.Fahrenheit || d.TempMin != 32 || d.TempMax != 41 || d.Hysteresis != 0.9 ||
		d.LastTemp == nil || *d.LastTemp != 39.99 || *u.LastTempC != 4.44 {
		t.Fatalf("display %+v, last_temp_c %v", d, u.LastTempC)
	}
	if u.LastReadingAt == nil || u.LastReadingAt.Location() != time.UTC {
		t.Errorf("last_reading_at %v", u.LastReadingAt)
	}
}

func TestUnitsThresholdsInFahrenheit(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	u := e.createUnit(t, map[string]any{"area_id": f.AreaID, "name": "F unit", "temp_unit": "F",
		"temp_min": 33.8, "temp_max": 46.4, "hysteresis": 1.8})
	if u.TempMinC != 1 || u.TempMaxC != 8 || u.HysteresisC != 1 {
		t.Fatalf("created %+v", u.UnitConfig)
	}
	var p domain.Unit
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", u.ID), `{"temp_unit": "F", "temp_max": 41}`).must(t, 200).JSON(t, &p)
	if p.TempMaxC != 5 || p.TempMinC != 1 {
		t.Fatalf("patched %+v", p.UnitConfig)
	}
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", u.ID), `{"temp_unit": "C", "temp_min": -2, "hysteresis": 0.25}`).must(t, 200).JSON(t, &p)
	if p.TempMinC != -2 || p.HysteresisC != 0.25 {
		t.Fatalf("patched %+v", p.UnitConfig)
	}
}

func TestUnitsPatch(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	before := e.getUnit(t, f.UnitID)
	var u domain.Unit
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", f.UnitID), map[string]any{
		"name": "Reach-in", "description": "by the door", "type": "freezer", "sort_order": 3,
		"temp_min_c": -1.5, "temp_max_c": 6.25, "hysteresis_c": 1, "confirm_seconds": 0, "door_confirm_seconds": 86400,
		"checkin_interval_seconds": 30, "manual_log_interval_seconds": 3600,
	}).must(t, 200).JSON(t, &u)
	if u.Name != "Reach-in" || *u.Description != "by the door" || u.Type != domain.Freezer || u.SortOrder != 3 ||
		u.TempMinC != -1.5 || u.TempMaxC != 6.25 || u.HysteresisC != 1 || u.ConfirmSeconds != 0 ||
		u.DoorConfirmSeconds != 86400 || u.CheckinIntervalSeconds != 30 || *u.ManualLogIntervalSeconds != 3600 {
		t.Fatalf("patched %+v", u)
	}
	if !u.UpdatedAt.After(before.UpdatedAt) {
		t.Error("updated_at did not move")
	}
	// Only what the body names changes; null clears the manual-log interval.
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", f.UnitID), `{"manual_log_interval_seconds": null, "description": null}`).
		must(t, 200).JSON(t, &u)
	if u.ManualLogIntervalSeconds != nil || u.Description != nil || u.Name != "Reach-in" || u.TempMaxC != 6.25 {
		t.Fatalf("patched %+v", u)
	}
	var dbMin, dbMax float64
	e.h.queryRow([]any{&dbMin, &dbMax}, `SELECT temp_min_c::float8, temp_max_c::float8 FROM units WHERE id = $1`, f.UnitID)
	if dbMin != -1.5 || dbMax != 6.25 {
		t.Errorf("stored %v..%v", dbMin, dbMax)
	}

	// Moving to another area: the site follows the area.
	site := e.createSite(t, map[string]any{"name": "Other site"})
	area := e.createArea(t, site.ID, "Other area")
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", f.UnitID), map[string]any{"area_id": area.ID}).must(t, 200).JSON(t, &u)
	if u.AreaID != area.ID || u.SiteID != site.ID || u.SiteName != "Other site" || u.AreaName != "Other area" {
		t.Fatalf("moved %+v", u)
	}
}

func TestUnitsValidation(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org) // 0..5 °C, hysteresis 0.5
	var foreignArea, deletedArea string
	var foreignSite string
	e.h.queryRow([]any{&foreignSite}, `INSERT INTO sites (organization_id, name) VALUES ($1, 'B') RETURNING id`, e.otherOrg)
	e.h.queryRow([]any{&foreignArea}, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'B') RETURNING id`, e.otherOrg, foreignSite)
	e.h.queryRow([]any{&deletedArea}, `INSERT INTO areas (organization_id, site_id, name, deleted_at) VALUES ($1, $2, 'Gone', now()) RETURNING id`, e.org, f.SiteID)

	area := fmt.Sprintf(`"area_id": %q, "name": "U"`, f.AreaID)
	cases := []struct {
		name  string
		body  string // fields added to a valid create body; alone for PATCH
		field string
		only  string // "create" or "patch": the case applies to one of them only
	}{
		{"min below range", `"temp_min_c": -100.5`, "temp_min_c", ""},
		{"max above range", `"temp_max_c": 100.01`, "temp_max_c", ""},
		{"min equals max", `"temp_min_c": 3, "temp_max_c": 3`, "temp_min_c", ""},
		{"min above max", `"temp_min_c": 8, "temp_max_c": 3`, "temp_min_c", ""},
		{"negative hysteresis", `"hysteresis_c": -0.1`, "hysteresis_c", ""},
		{"hysteresis too wide", `"hysteresis_c": 2.5`, "hysteresis_c", ""},
		{"confirm negative", `"confirm_seconds": -1`, "confirm_seconds", ""},
		{"confirm too long", `"confirm_seconds": 86401`, "confirm_seconds", ""},
		{"door confirm too long", `"door_confirm_seconds": 86401`, "door_confirm_seconds", ""},
		{"checkin too short", `"checkin_interval_seconds": 29`, "checkin_interval_seconds", ""},
		{"checkin too long", `"checkin_interval_seconds": 86401`, "checkin_interval_seconds", ""},
		{"manual log too short", `"manual_log_interval_seconds": 299`, "manual_log_interval_seconds", ""},
		{"manual log too long", `"manual_log_interval_seconds": 604801`, "manual_log_interval_seconds", ""},
		{"null threshold", `"temp_min_c": null`, "temp_min_c", ""},
		{"null confirm", `"confirm_seconds": null`, "confirm_seconds", ""},
		{"bad type", `"type": "oven"`, "type", ""},
		{"null type", `"type": null`, "type", ""},
		{"both forms", `"temp_unit": "F", "temp_min_c": 1, "temp_min": 34`, "temp_min", ""},
		{"display value without unit", `"temp_max": 41`, "temp_unit", ""},
		{"unknown unit", `"temp_unit": "K", "temp_max": 41`, "temp_unit", ""},
		{"fahrenheit out of range", `"temp_unit": "F", "temp_max": 250`, "temp_max", ""},
		{"fahrenheit band empty", `"temp_unit": "F", "hysteresis": 5`, "hysteresis", ""},
		{"unknown field", `"site_id": "x"`, "", ""},
		{"wrong json type", `"confirm_seconds": "600"`, "", ""},
		{"fractional seconds", `"confirm_seconds": 1.5`, "", ""},
		{"door warning zero", `"door_warn_minutes": 0`, "door_warn_minutes", ""},
		{"door critical not above the warning", `"door_warn_minutes": 10, "door_critical_minutes": 10`, "door_critical_minutes", ""},
		{"door critical above a day", `"door_critical_minutes": 1441`, "door_critical_minutes", ""},
		{"cooling slope too small", `"cooling_slope_c_per_hour": 0.1`, "cooling_slope_c_per_hour", ""},
		{"cooling slope negative", `"cooling_slope_c_per_hour": -1`, "cooling_slope_c_per_hour", ""},
		{"cooling readings too few", `"cooling_readings": 3`, "cooling_readings", ""},
		{"defrost windows overlap", `"defrost_schedule": [{"start_minute": 60, "duration_minutes": 30}, {"start_minute": 80, "duration_minutes": 30}]`, "defrost_schedule", ""},
		{"defrost window too long", `"defrost_schedule": [{"start_minute": 60, "duration_minutes": 121}]`, "defrost_schedule", ""},
		{"defrost start past midnight", `"defrost_schedule": [{"start_minute": 1440, "duration_minutes": 30}]`, "defrost_schedule", ""},
		{"defrost null", `"defrost_schedule": null`, "defrost_schedule", ""},
		{"defrost unknown field", `"defrost_schedule": [{"start": 60, "duration_minutes": 30}]`, "", ""},
		{"other tenant's area", fmt.Sprintf(`"area_id": %q`, foreignArea), "area_id", "patch"},
		{"deleted area", fmt.Sprintf(`"area_id": %q`, deletedArea), "area_id", "patch"},
		{"malformed area", `"area_id": "x"`, "area_id", "patch"},
		// Checked against the stored values (0..5, 0.5) merged with the patch.
		{"patched min above stored max", `"temp_min_c": 6`, "temp_min_c", "patch"},
		{"patched max below stored min", `"temp_max_c": -1`, "temp_max_c", "patch"},
		{"patched min leaves no band", `"temp_min_c": 4.5`, "hysteresis_c", "patch"},
		{"patched max in F below stored min", `"temp_unit": "F", "temp_max": 30`, "temp_max", "patch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.only != "patch" {
				mustFieldError(t, e.h.do(e.manager, http.MethodPost, e.path("/units"), "{"+area+", "+c.body+"}"), c.field)
			}
			if c.only != "create" {
				mustFieldError(t, e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", f.UnitID), "{"+c.body+"}"), c.field)
			}
		})
	}
	createOnly := []struct{ name, body, field string }{
		{"missing area", `{"name": "U"}`, "area_id"},
		{"missing name", fmt.Sprintf(`{"area_id": %q}`, f.AreaID), "name"},
		{"other tenant's area", fmt.Sprintf(`{"area_id": %q, "name": "U"}`, foreignArea), "area_id"},
		{"deleted area", fmt.Sprintf(`{"area_id": %q, "name": "U"}`, deletedArea), "area_id"},
		{"min above the type's default max", fmt.Sprintf(`{"area_id": %q, "name": "U", "type": "freezer", "temp_min_c": -10}`, f.AreaID), "temp_min_c"},
	}
	for _, c := range createOnly {
		t.Run("create "+c.name, func(t *testing.T) {
			mustFieldError(t, e.h.do(e.manager, http.MethodPost, e.path("/units"), c.body), c.field)
		})
	}
	var n int
	var minC, maxC float64
	e.h.queryRow([]any{&n}, `SELECT count(*) FROM units`)
	e.h.queryRow([]any{&minC, &maxC}, `SELECT temp_min_c::float8, temp_max_c::float8 FROM units WHERE id = $1`, f.UnitID)
	if n != 1 || minC != 0 || maxC != 5 {
		t.Errorf("rejected requests wrote: %d units, %v..%v", n, minC, maxC)
	}
}

func TestUnitsRoles(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	body := map[string]any{"area_id": f.AreaID, "name": "x"}
	for _, u := range []*testUser{e.staff, e.viewer, e.inspector} {
		e.h.do(u, http.MethodPost, e.path("/units"), body).must(t, 403)
		e.h.do(u, http.MethodPatch, e.path("/units/%s", f.UnitID), `{"temp_max_c": 6}`).must(t, 403)
		e.h.do(u, http.MethodDelete, e.path("/units/%s", f.UnitID), nil).must(t, 403)
		e.h.do(u, http.MethodPost, e.path("/units/%s/restore", f.UnitID), nil).must(t, 403)
		e.h.do(u, http.MethodGet, e.path("/units"), nil).must(t, 200)
		e.h.do(u, http.MethodGet, e.path("/units/%s", f.UnitID), nil).must(t, 200)
	}
	for _, u := range []*testUser{e.manager, e.admin, e.owner} {
		created := e.h.do(u, http.MethodPost, e.path("/units"), body).must(t, 201)
		var c domain.Unit
		created.JSON(t, &c)
		e.h.do(u, http.MethodPatch, e.path("/units/%s", c.ID), `{"temp_max_c": 6}`).must(t, 200)
		e.h.do(u, http.MethodDelete, e.path("/units/%s", c.ID), nil).must(t, 204)
		e.h.do(u, http.MethodPost, e.path("/units/%s/restore", c.ID), nil).must(t, 200)
	}
}

func TestUnitsCrossTenant(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	for _, path := range []func(string, ...any) string{e.otherPath, e.path} {
		e.h.do(e.other, http.MethodGet, path("/units/%s", f.UnitID), nil).must(t, 404)
		e.h.do(e.other, http.MethodPatch, path("/units/%s", f.UnitID), `{"temp_max_c": 6}`).must(t, 404)
		e.h.do(e.other, http.MethodDelete, path("/units/%s", f.UnitID), nil).must(t, 404)
		e.h.do(e.other, http.MethodPost, path("/units/%s/restore", f.UnitID), nil).must(t, 404)
	}
	e.h.do(e.other, http.MethodGet, e.path("/units"), nil).must(t, 404)
	e.h.do(e.other, http.MethodPost, e.path("/units"), map[string]any{"area_id": f.AreaID, "name": "x"}).must(t, 404)
	mustFieldError(t, e.h.do(e.other, http.MethodPost, e.otherPath("/units"), map[string]any{"area_id": f.AreaID, "name": "x"}), "area_id")
	e.h.do(e.other, http.MethodGet, e.otherPath("/units?include_deleted=true&site_id=%s", f.SiteID), nil).must(t, 404)
	if u := e.getUnit(t, f.UnitID); u.TempMaxC != 5 || u.DeletedAt != nil {
		t.Errorf("A's unit changed: %+v", u)
	}
}

func TestUnitsSoftDeleteAndRestore(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	e.h.do(e.manager, http.MethodDelete, e.path("/units/%s", f.UnitID), nil).must(t, 204)
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", f.UnitID), nil).must(t, 404)
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", f.UnitID), `{"name": "x"}`).must(t, 404)
	e.h.do(e.manager, http.MethodDelete, e.path("/units/%s", f.UnitID), nil).must(t, 404)
	if ids := listIDs(t, e, e.path("/units"), 50); len(ids) != 0 {
		t.Errorf("deleted unit listed")
	}
	var l List[domain.Unit]
	e.h.do(e.viewer, http.MethodGet, e.path("/units?include_deleted=true"), nil).must(t, 200).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].DeletedAt == nil {
		t.Fatalf("include_deleted %+v", l.Items)
	}
	var u domain.Unit
	e.h.do(e.manager, http.MethodPost, e.path("/units/%s/restore", f.UnitID), nil).must(t, 200).JSON(t, &u)
	if u.DeletedAt != nil || u.ID != f.UnitID {
		t.Fatalf("restored %+v", u)
	}
	e.getUnit(t, f.UnitID)
}

func TestUnitsListFiltersAndPagination(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	site := e.createSite(t, map[string]any{"name": "Second"})
	area := e.createArea(t, site.ID, "Second area")
	all := []string{f.UnitID}
	var inSecond []string
	for i := range 6 {
		a := f.AreaID
		if i%2 == 1 {
			a = area.ID
		}
		u := e.createUnit(t, map[string]any{"area_id": a, "name": fmt.Sprintf("U%d", i)})
		all = append(all, u.ID)
		if a == area.ID {
			inSecond = append(inSecond, u.ID)
		}
	}
	if got := listIDs(t, e, e.path("/units"), 3); !slices.Equal(got, all) {
		t.Fatalf("pages %v, want %v", got, all)
	}
	if got := listIDs(t, e, e.path("/units?site_id=%s", site.ID), 2); !slices.Equal(got, inSecond) {
		t.Errorf("by site %v, want %v", got, inSecond)
	}
	if got := listIDs(t, e, e.path("/units?area_id=%s", area.ID), 50); !slices.Equal(got, inSecond) {
		t.Errorf("by area %v, want %v", got, inSecond)
	}
	e.h.exec(`UPDATE units SET status = 'alarm_active' WHERE id = $1`, all[3])
	if got := listIDs(t, e, e.path("/units?status=alarm_active"), 50); !slices.Equal(got, []string{all[3]}) {
		t.Errorf("by status %v", got)
	}
	mustFieldError(t, e.h.do(e.viewer, http.MethodGet, e.path("/units?status=broken"), nil), "status")
	mustFieldError(t, e.h.do(e.viewer, http.MethodGet, e.path("/units?area_id=12"), nil), "area_id")

	e.h.exec(`UPDATE units SET updated_at = now() - interval '1 hour'`)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", all[5]), `{"confirm_seconds": 300}`).must(t, 200)
	if got := listIDs(t, e, e.path("/units?updated_since=%s", since), 50); !slices.Equal(got, []string{all[5]}) {
		t.Errorf("updated_since %v", got)
	}
}

// Issue 14: the door-open minutes (5/15) and the cooling and defrost
// settings are the unit's, with today's values as defaults.
func TestUnitsAlertingSettings(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	u := e.createUnit(t, map[string]any{"area_id": f.AreaID, "name": "Freezer", "type": "walk_in_freezer"})
	if u.DoorWarnMinutes != 5 || u.DoorCriticalMinutes != 15 || u.CoolingSlopeCPerHour != 1.5 || u.CoolingReadings != 15 ||
		u.DefrostSchedule == nil || len(u.DefrostSchedule) != 0 {
		t.Fatalf("defaults %+v", u.UnitConfig)
	}
	var got domain.Unit
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", u.ID), map[string]any{
		"door_warn_minutes": 2, "door_critical_minutes": 8, "cooling_slope_c_per_hour": 0, "cooling_readings": 20,
		"defrost_schedule": []map[string]int{{"start_minute": 120, "duration_minutes": 45}, {"start_minute": 1410, "duration_minutes": 40}},
	}).must(t, 200).JSON(t, &got)
	want := []domain.DefrostWindow{{StartMinute: 120, DurationMinutes: 45}, {StartMinute: 1410, DurationMinutes: 40}}
	if got.DoorWarnMinutes != 2 || got.DoorCriticalMinutes != 8 || got.CoolingSlopeCPerHour != 0 || got.CoolingReadings != 20 ||
		!slices.Equal(got.DefrostSchedule, want) {
		t.Fatalf("patched %+v", got.UnitConfig)
	}
	if again := e.getUnit(t, u.ID); !slices.Equal(again.DefrostSchedule, want) || again.DoorCriticalMinutes != 8 {
		t.Fatalf("read back %+v", again.UnitConfig)
	}
	// Only the warning moves: checked against the stored critical minutes.
	mustFieldError(t, e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", u.ID), map[string]any{"door_warn_minutes": 9}), "door_critical_minutes")
	e.h.do(e.manager, http.MethodPatch, e.path("/units/%s", u.ID), map[string]any{"defrost_schedule": []any{}}).must(t, 200).JSON(t, &got)
	if got.DefrostSchedule == nil || len(got.DefrostSchedule) != 0 {
		t.Fatalf("cleared schedule %+v", got.DefrostSchedule)
	}
}
