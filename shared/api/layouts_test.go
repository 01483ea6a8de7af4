package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

func TestDashboardLayouts(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org, orgB := h.org("Alpha", owner), h.org("Beta", other)
	viewer := h.user("viewer")
	h.member(org, viewer, access.Viewer)
	u, foreign := h.unit(org), h.unit(orgB)
	base := "/api/v1/orgs/" + org + "/dashboard-layouts"
	unitScreen := "?entity_type=unit&entity_id=" + u.UnitID

	// A viewer keeps layouts too: they are personal.
	var l1 domain.DashboardLayout
	h.do(viewer, http.MethodPost, base, map[string]any{"entity_type": "unit", "entity_id": u.UnitID, "slot": 1, "name": "Chart first",
		"layout": []any{map[string]any{"i": "chart", "x": 0, "y": 0, "w": 12, "h": 6}}, "widget_preferences": map[string]any{"chart": map[string]any{"range": "24h"}}}).
		must(t, 201).JSON(t, &l1)
	if l1.Slot != 1 || l1.LayoutVersion != 1 || l1.IsDefault || string(l1.TimelineState) != "null" || !strings.Contains(string(l1.Layout), `"chart"`) {
		t.Errorf("created = %+v", l1)
	}
	var l2 domain.DashboardLayout
	h.do(viewer, http.MethodPost, base, map[string]any{"entity_type": "unit", "entity_id": u.UnitID, "slot": 2, "name": "Alerts first",
		"layout": map[string]any{"widgets": []any{}}, "timeline_state": map[string]any{"zoom": 2}}).must(t, 201).JSON(t, &l2)
	h.do(viewer, http.MethodPost, base, map[string]any{"entity_type": "unit", "entity_id": u.UnitID, "slot": 2, "name": "Again",
		"layout": map[string]any{}}).must(t, 409)
	// The organisation's own screen, without an id.
	h.do(viewer, http.MethodPost, base, map[string]any{"entity_type": "organization", "slot": 1, "name": "Overview", "layout": map[string]any{}}).
		must(t, 201)

	// Bad input: each refused with its field.
	deep := strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20)
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{"entity_type":"unit","entity_id":"` + u.UnitID + `","slot":4,"name":"x","layout":{}}`, "slot"},
		{`{"entity_type":"unit","entity_id":"` + u.UnitID + `","slot":3,"name":"","layout":{}}`, "name"},
		{`{"entity_type":"unit","entity_id":"` + u.UnitID + `","slot":3,"name":"x","layout":"grid"}`, "layout"},
		{`{"entity_type":"unit","entity_id":"` + u.UnitID + `","slot":3,"name":"x","layout":` + deep + `}`, "layout"},
		{`{"entity_type":"unit","entity_id":"` + u.UnitID + `","slot":3,"name":"x","layout":{},"widget_preferences":[]}`, "widget_preferences"},
		{`{"entity_type":"unit","entity_id":"` + u.UnitID + `","slot":3,"name":"x","layout":{"blob":"` + strings.Repeat("x", 70<<10) + `"}}`, "layout"},
		{`{"entity_type":"room","entity_id":"` + u.UnitID + `","slot":3,"name":"x","layout":{}}`, "entity_type"},
		{`{"entity_type":"unit","entity_id":"` + foreign.UnitID + `","slot":3,"name":"x","layout":{}}`, "entity_id"},
		{`{"entity_type":"site","entity_id":"` + u.UnitID + `","slot":3,"name":"x","layout":{}}`, "entity_id"},
	} {
		r := h.do(viewer, http.MethodPost, base, tc.body).must(t, 400)
		if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%.80s: %s", tc.body, r.Body)
		}
	}

	// Layouts are the caller's: the owner sees none of the viewer's and
	// cannot touch them.
	var mine, theirs struct{ Items []domain.DashboardLayout }
	h.do(viewer, http.MethodGet, base+unitScreen, nil).must(t, 200).JSON(t, &mine)
	h.do(owner, http.MethodGet, base+unitScreen, nil).must(t, 200).JSON(t, &theirs)
	if len(mine.Items) != 2 || mine.Items[0].ID != l1.ID || len(theirs.Items) != 0 {
		t.Errorf("viewer sees %d, owner %d", len(mine.Items), len(theirs.Items))
	}
	h.do(owner, http.MethodPatch, base+"/"+l1.ID, map[string]any{"name": "hijack"}).must(t, 404)
	h.do(owner, http.MethodDelete, base+"/"+l1.ID, nil).must(t, 404)
	h.do(owner, http.MethodPost, base+"/"+l1.ID+"/default", nil).must(t, 404)
	h.do(other, http.MethodGet, "/api/v1/orgs/"+orgB+"/dashboard-layouts"+unitScreen, nil).must(t, 404)
	h.do(viewer, http.MethodGet, base+"?entity_type=unit", nil).must(t, 400)

	// Changing the layout bumps its version; the name alone does not.
	var up domain.DashboardLayout
	h.do(viewer, http.MethodPatch, base+"/"+l1.ID, map[string]any{"name": "Chart on top"}).must(t, 200).JSON(t, &up)
	if up.LayoutVersion != 1 || up.Name != "Chart on top" {
		t.Errorf("renamed = %+v", up)
	}
	h.do(viewer, http.MethodPatch, base+"/"+l1.ID, map[string]any{"layout": map[string]any{"widgets": []any{"chart"}}}).must(t, 200).JSON(t, &up)
	if up.LayoutVersion != 2 {
		t.Errorf("version after a layout change = %d", up.LayoutVersion)
	}
	h.do(viewer, http.MethodPatch, base+"/"+l2.ID, map[string]any{"timeline_state": nil}).must(t, 200).JSON(t, &up)
	if string(up.TimelineState) != "null" {
		t.Errorf("timeline state not cleared: %s", up.TimelineState)
	}
	h.do(viewer, http.MethodPatch, base+"/"+l2.ID, map[string]any{"slot": 3}).must(t, 400)

	// One default per screen.
	h.do(viewer, http.MethodPost, base+"/"+l1.ID+"/default", nil).must(t, 200)
	var def domain.DashboardLayout
	h.do(viewer, http.MethodPost, base+"/"+l2.ID+"/default", nil).must(t, 200).JSON(t, &def)
	h.do(viewer, http.MethodGet, base+unitScreen, nil).must(t, 200).JSON(t, &mine)
	if !def.IsDefault || mine.Items[0].IsDefault || !mine.Items[1].IsDefault {
		t.Errorf("defaults = %v %v", mine.Items[0].IsDefault, mine.Items[1].IsDefault)
	}
	h.do(viewer, http.MethodDelete, base+"/"+l1.ID, nil).must(t, 204)
	h.do(viewer, http.MethodDelete, base+"/"+l1.ID, nil).must(t, 404)
}
