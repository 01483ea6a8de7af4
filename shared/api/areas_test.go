package api

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/frostguard/functions/shared/domain"
)

func (e *hierEnv) createArea(t *testing.T, siteID, name string) domain.Area {
	t.Helper()
	var a domain.Area
	e.h.do(e.owner, http.MethodPost, e.path("/areas"), map[string]any{"site_id": siteID, "name": name}).
		must(t, http.StatusCreated).JSON(t, &a)
	return a
}

func TestAreasCRUD(t *testing.T) {
	e := newHierEnv(t)
	h := e.h
	site := e.createSite(t, map[string]any{"name": "S"})
	r := h.do(e.admin, http.MethodPost, e.path("/areas"), map[string]any{
		"site_id": site.ID, "name": "Kitchen", "description": "hot side", "sort_order": 2,
	}).must(t, 201)
	var a domain.Area
	r.JSON(t, &a)
	if a.SiteID != site.ID || a.OrganizationID != e.org || a.Name != "Kitchen" || *a.Description != "hot side" || a.SortOrder != 2 {
		t.Fatalf("created %s", r.Body)
	}
	if r.Header.Get("Location") != e.path("/areas/%s", a.ID) {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	h.do(e.viewer, http.MethodGet, e.path("/areas/%s", a.ID), nil).must(t, 200)

	var p domain.Area
	h.do(e.admin, http.MethodPatch, e.path("/areas/%s", a.ID), `{"description": null, "sort_order": 5}`).must(t, 200).JSON(t, &p)
	if p.Description != nil || p.SortOrder != 5 || p.Name != "Kitchen" {
		t.Fatalf("patched %+v", p)
	}

	other := e.createSite(t, map[string]any{"name": "T"})
	b := e.createArea(t, other.ID, "Back room")
	if ids := listIDs(t, e, e.path("/areas"), 50); !slices.Equal(ids, []string{a.ID, b.ID}) {
		t.Errorf("list %v", ids)
	}
	if ids := listIDs(t, e, e.path("/areas?site_id=%s", other.ID), 50); !slices.Equal(ids, []string{b.ID}) {
		t.Errorf("list by site %v", ids)
	}
	h.do(e.viewer, http.MethodGet, e.path("/areas?site_id=nope"), nil).must(t, 400)

	h.do(e.admin, http.MethodDelete, e.path("/areas/%s", a.ID), nil).must(t, 204)
	h.do(e.viewer, http.MethodGet, e.path("/areas/%s", a.ID), nil).must(t, 404)
	h.do(e.admin, http.MethodPatch, e.path("/areas/%s", a.ID), `{"name": "x"}`).must(t, 404)
	if ids := listIDs(t, e, e.path("/areas"), 50); !slices.Equal(ids, []string{b.ID}) {
		t.Errorf("list after delete %v", ids)
	}
	if ids := listIDs(t, e, e.path("/areas?include_deleted=true"), 50); len(ids) != 2 {
		t.Errorf("include_deleted %v", ids)
	}
	h.do(e.admin, http.MethodPost, e.path("/areas/%s/restore", a.ID), nil).must(t, 200)
	h.do(e.viewer, http.MethodGet, e.path("/areas/%s", a.ID), nil).must(t, 200)
}

func TestAreasValidation(t *testing.T) {
	e := newHierEnv(t)
	site := e.createSite(t, map[string]any{"name": "S"})
	gone := e.createSite(t, map[string]any{"name": "Gone"})
	e.h.do(e.owner, http.MethodDelete, e.path("/sites/%s", gone.ID), nil).must(t, 204)
	var foreign string
	e.h.queryRow([]any{&foreign}, `INSERT INTO sites (organization_id, name) VALUES ($1, 'B site') RETURNING id`, e.otherOrg)
	area := e.createArea(t, site.ID, "A")

	cases := []struct {
		name, body, field string
		patchToo          bool
	}{
		{"missing site", `{"name": "x"}`, "site_id", false},
		{"malformed site", `{"site_id": "x", "name": "x"}`, "site_id", true},
		{"null site", `{"site_id": null, "name": "x"}`, "site_id", true},
		{"other tenant's site", fmt.Sprintf(`{"site_id": %q, "name": "x"}`, foreign), "site_id", true},
		{"deleted site", fmt.Sprintf(`{"site_id": %q, "name": "x"}`, gone.ID), "site_id", true},
		{"missing name", fmt.Sprintf(`{"site_id": %q}`, site.ID), "name", false},
		{"blank name", `{"name": ""}`, "name", true},
		{"sort order", `{"name": "x", "sort_order": 2000000}`, "sort_order", true},
		{"null sort order", `{"name": "x", "sort_order": null}`, "sort_order", true},
		{"unknown field", `{"name": "x", "unit_count": 1}`, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustFieldError(t, e.h.do(e.owner, http.MethodPost, e.path("/areas"), c.body), c.field)
			if c.patchToo {
				mustFieldError(t, e.h.do(e.owner, http.MethodPatch, e.path("/areas/%s", area.ID), c.body), c.field)
			}
		})
	}
	var n int
	e.h.queryRow([]any{&n}, `SELECT count(*) FROM areas`)
	if n != 1 {
		t.Errorf("%d areas after rejected requests", n)
	}
}

func TestAreasRoles(t *testing.T) {
	e := newHierEnv(t)
	site := e.createSite(t, map[string]any{"name": "S"})
	area := e.createArea(t, site.ID, "A")
	body := map[string]any{"site_id": site.ID, "name": "x"}
	for _, u := range []*testUser{e.manager, e.staff, e.viewer, e.inspector} {
		e.h.do(u, http.MethodPost, e.path("/areas"), body).must(t, 403)
		e.h.do(u, http.MethodPatch, e.path("/areas/%s", area.ID), `{"name": "x"}`).must(t, 403)
		e.h.do(u, http.MethodDelete, e.path("/areas/%s", area.ID), nil).must(t, 403)
		e.h.do(u, http.MethodPost, e.path("/areas/%s/restore", area.ID), nil).must(t, 403)
		e.h.do(u, http.MethodGet, e.path("/areas"), nil).must(t, 200)
		e.h.do(u, http.MethodGet, e.path("/areas/%s", area.ID), nil).must(t, 200)
	}
	e.h.do(e.admin, http.MethodPost, e.path("/areas"), body).must(t, 201)
}

func TestAreasCrossTenant(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	for _, path := range []func(string, ...any) string{e.otherPath, e.path} {
		e.h.do(e.other, http.MethodGet, path("/areas/%s", f.AreaID), nil).must(t, 404)
		e.h.do(e.other, http.MethodPatch, path("/areas/%s", f.AreaID), `{"name": "x"}`).must(t, 404)
		e.h.do(e.other, http.MethodDelete, path("/areas/%s", f.AreaID), nil).must(t, 404)
		e.h.do(e.other, http.MethodPost, path("/areas/%s/restore", f.AreaID), nil).must(t, 404)
	}
	e.h.do(e.other, http.MethodGet, e.path("/areas"), nil).must(t, 404)
	e.h.do(e.other, http.MethodGet, e.otherPath("/areas?site_id=%s", f.SiteID), nil).must(t, 404)
	// B cannot move its own area into A's site.
	var bSite, bArea string
	e.h.queryRow([]any{&bSite}, `INSERT INTO sites (organization_id, name) VALUES ($1, 'B') RETURNING id`, e.otherOrg)
	e.h.queryRow([]any{&bArea}, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'B') RETURNING id`, e.otherOrg, bSite)
	mustFieldError(t, e.h.do(e.other, http.MethodPatch, e.otherPath("/areas/%s", bArea), map[string]any{"site_id": f.SiteID}), "site_id")
}

func TestAreasMoveCarriesUnits(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	to := e.createSite(t, map[string]any{"name": "New site"})
	var a domain.Area
	e.h.do(e.admin, http.MethodPatch, e.path("/areas/%s", f.AreaID), map[string]any{"site_id": to.ID}).must(t, 200).JSON(t, &a)
	if a.SiteID != to.ID {
		t.Fatalf("area site %s", a.SiteID)
	}
	var u domain.Unit
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", f.UnitID), nil).must(t, 200).JSON(t, &u)
	if u.SiteID != to.ID || u.SiteName != "New site" {
		t.Errorf("unit site %s %q", u.SiteID, u.SiteName)
	}
}

func TestAreasDeleteCascadeAndRestoreRules(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	var early string
	e.h.queryRow([]any{&early}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, deleted_at)
		VALUES ($1, $2, $3, 'Old', 0, 5, now() - interval '1 day') RETURNING id`, e.org, f.SiteID, f.AreaID)
	e.h.do(e.admin, http.MethodDelete, e.path("/areas/%s", f.AreaID), nil).must(t, 204)
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", f.UnitID), nil).must(t, 404)
	// A unit cannot come back into a deleted area.
	e.h.do(e.manager, http.MethodPost, e.path("/units/%s/restore", f.UnitID), nil).must(t, 409)

	e.h.do(e.admin, http.MethodPost, e.path("/areas/%s/restore", f.AreaID), nil).must(t, 200)
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", f.UnitID), nil).must(t, 200)
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", early), nil).must(t, 404)

	// An area cannot come back into a deleted site.
	e.h.do(e.admin, http.MethodDelete, e.path("/areas/%s", f.AreaID), nil).must(t, 204)
	e.h.do(e.admin, http.MethodDelete, e.path("/sites/%s", f.SiteID), nil).must(t, 204)
	r := e.h.do(e.admin, http.MethodPost, e.path("/areas/%s/restore", f.AreaID), nil).must(t, 409)
	if r.ErrorCode() != "CONFLICT" {
		t.Errorf("code %s", r.ErrorCode())
	}
	// The site's restore leaves the area deleted: it was deleted before the site.
	e.h.do(e.admin, http.MethodPost, e.path("/sites/%s/restore", f.SiteID), nil).must(t, 200)
	e.h.do(e.viewer, http.MethodGet, e.path("/areas/%s", f.AreaID), nil).must(t, 404)
	e.h.do(e.admin, http.MethodPost, e.path("/areas/%s/restore", f.AreaID), nil).must(t, 200)
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", f.UnitID), nil).must(t, 200)
}

func TestAreasPagination(t *testing.T) {
	e := newHierEnv(t)
	site := e.createSite(t, map[string]any{"name": "S"})
	var want []string
	for i := range 5 {
		want = append(want, e.createArea(t, site.ID, fmt.Sprintf("A%d", i)).ID)
	}
	if got := listIDs(t, e, e.path("/areas?site_id=%s", site.ID), 2); !slices.Equal(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
}
