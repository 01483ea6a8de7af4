package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

// hierEnv is two organisations: A with a member of every role, B with its
// owner only (the other tenant).
type hierEnv struct {
	h                                               *harness
	owner, admin, manager, staff, viewer, inspector *testUser
	other                                           *testUser
	org, otherOrg                                   string
}

func newHierEnv(t *testing.T) *hierEnv {
	t.Helper()
	h := newHarness(t)
	e := &hierEnv{h: h, owner: h.user("owner"), admin: h.user("admin"), manager: h.user("manager"),
		staff: h.user("staff"), viewer: h.user("viewer"), inspector: h.user("inspector"), other: h.user("other")}
	e.org = h.org("Alpha", e.owner)
	e.otherOrg = h.org("Beta", e.other)
	h.member(e.org, e.admin, access.Admin)
	h.member(e.org, e.manager, access.Manager)
	h.member(e.org, e.staff, access.Staff)
	h.member(e.org, e.viewer, access.Viewer)
	h.member(e.org, e.inspector, access.Inspector)
	return e
}

// path is an org-scoped path of org A.
func (e *hierEnv) path(format string, args ...any) string {
	return "/api/v1/orgs/" + e.org + fmt.Sprintf(format, args...)
}

// otherPath is the same path under the other tenant's organisation.
func (e *hierEnv) otherPath(format string, args ...any) string {
	return "/api/v1/orgs/" + e.otherOrg + fmt.Sprintf(format, args...)
}

// errorFields lists the fields named by a 400's details.
func errorFields(t *testing.T, r response) []string {
	t.Helper()
	var b web.ErrorBody
	r.JSON(t, &b)
	var out []string
	for _, d := range b.Error.Details {
		out = append(out, d.Field)
	}
	return out
}

// mustFieldError asserts a 400 naming field.
func mustFieldError(t *testing.T, r response, field string) {
	t.Helper()
	r.must(t, http.StatusBadRequest)
	if field == "" {
		return
	}
	if fs := errorFields(t, r); !slices.Contains(fs, field) {
		t.Fatalf("error fields %v, want %q: %s", fs, field, r.Body)
	}
}

func (e *hierEnv) createSite(t *testing.T, body any) domain.Site {
	t.Helper()
	var s domain.Site
	e.h.do(e.owner, http.MethodPost, e.path("/sites"), body).must(t, http.StatusCreated).JSON(t, &s)
	return s
}

// listIDs fetches every page of a list (limit per page) and returns the ids
// in order, failing on a page larger than limit.
func listIDs(t *testing.T, e *hierEnv, path string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		url := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var l struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		e.h.do(e.viewer, http.MethodGet, url, nil).must(t, 200).JSON(t, &l)
		if len(l.Items) > limit {
			t.Fatalf("page of %d items, limit %d", len(l.Items), limit)
		}
		for _, it := range l.Items {
			ids = append(ids, it.ID)
		}
		if l.NextCursor == "" {
			return ids
		}
		cursor = l.NextCursor
	}
}

func TestSitesCRUD(t *testing.T) {
	e := newHierEnv(t)
	h := e.h
	r := h.do(e.admin, http.MethodPost, e.path("/sites"), map[string]any{
		"name": "  Main kitchen ", "address_line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001",
		"country": "fr", "timezone": "Europe/Paris", "latitude": 48.86, "longitude": 2.35,
	}).must(t, http.StatusCreated)
	var s domain.Site
	r.JSON(t, &s)
	if s.Name != "Main kitchen" || s.OrganizationID != e.org || *s.Country != "FR" || *s.Timezone != "Europe/Paris" ||
		*s.Latitude != 48.86 || *s.City != "Paris" || s.Region != nil || s.DeletedAt != nil {
		t.Fatalf("created %s", r.Body)
	}
	if loc := r.Header.Get("Location"); loc != e.path("/sites/%s", s.ID) {
		t.Errorf("Location %q", loc)
	}
	if s.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at not UTC: %v", s.CreatedAt)
	}

	var got domain.Site
	h.do(e.viewer, http.MethodGet, e.path("/sites/%s", s.ID), nil).must(t, 200).JSON(t, &got)
	if got.ID != s.ID || got.Name != s.Name {
		t.Fatalf("got %+v", got)
	}

	// PATCH: a subset; null clears; absent fields stay.
	var p domain.Site
	h.do(e.admin, http.MethodPatch, e.path("/sites/%s", s.ID), `{"name": "Kitchen", "city": null, "timezone": null}`).
		must(t, 200).JSON(t, &p)
	if p.Name != "Kitchen" || p.City != nil || p.Timezone != nil || *p.Country != "FR" || !p.UpdatedAt.After(s.UpdatedAt) {
		t.Fatalf("patched %+v", p)
	}

	h.do(e.owner, http.MethodDelete, e.path("/sites/%s", s.ID), nil).must(t, http.StatusNoContent)
	h.do(e.owner, http.MethodGet, e.path("/sites/%s", s.ID), nil).must(t, 404)
	h.do(e.owner, http.MethodPatch, e.path("/sites/%s", s.ID), `{"name": "x"}`).must(t, 404)
	h.do(e.owner, http.MethodDelete, e.path("/sites/%s", s.ID), nil).must(t, 404)
	if ids := listIDs(t, e, e.path("/sites"), 50); len(ids) != 0 {
		t.Errorf("deleted site listed: %v", ids)
	}
	var l List[domain.Site]
	h.do(e.viewer, http.MethodGet, e.path("/sites?include_deleted=true"), nil).must(t, 200).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].DeletedAt == nil {
		t.Fatalf("include_deleted: %+v", l)
	}
	h.do(e.viewer, http.MethodGet, e.path("/sites?include_deleted=maybe"), nil).must(t, 400)

	var restored domain.Site
	h.do(e.admin, http.MethodPost, e.path("/sites/%s/restore", s.ID), nil).must(t, 200).JSON(t, &restored)
	if restored.DeletedAt != nil || restored.Name != "Kitchen" {
		t.Fatalf("restored %+v", restored)
	}
	h.do(e.viewer, http.MethodGet, e.path("/sites/%s", s.ID), nil).must(t, 200)
	// Restoring a live site is harmless.
	h.do(e.admin, http.MethodPost, e.path("/sites/%s/restore", s.ID), nil).must(t, 200)
}

func TestSitesValidation(t *testing.T) {
	e := newHierEnv(t)
	site := e.createSite(t, map[string]any{"name": "S"})
	cases := []struct {
		name  string
		body  string
		field string // "" when the error is about the body as a whole
	}{
		{"missing name", `{"city": "Paris"}`, "name"},
		{"blank name", `{"name": "   "}`, "name"},
		{"null name", `{"name": null}`, "name"},
		{"long name", fmt.Sprintf(`{"name": %q}`, strings.Repeat("a", 201)), "name"},
		{"bad country", `{"name": "S", "country": "FRA"}`, "country"},
		{"unknown zone", `{"name": "S", "timezone": "Mars/Olympus"}`, "timezone"},
		{"Local zone", `{"name": "S", "timezone": "Local"}`, "timezone"},
		{"latitude", `{"name": "S", "latitude": 90.5}`, "latitude"},
		{"longitude", `{"name": "S", "longitude": -180.01}`, "longitude"},
		{"unknown field", `{"name": "S", "state": "IDF"}`, ""},
		{"wrong type", `{"name": 5}`, ""},
		{"malformed", `{"name": `, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustFieldError(t, e.h.do(e.owner, http.MethodPost, e.path("/sites"), c.body), c.field)
			if c.name != "missing name" {
				mustFieldError(t, e.h.do(e.owner, http.MethodPatch, e.path("/sites/%s", site.ID), c.body), c.field)
			}
		})
	}
	// Nothing was written by the rejected requests.
	var n int
	e.h.queryRow([]any{&n}, `SELECT count(*) FROM sites WHERE organization_id = $1`, e.org)
	var name string
	e.h.queryRow([]any{&name}, `SELECT name FROM sites WHERE id = $1`, site.ID)
	if n != 1 || name != "S" {
		t.Errorf("rejected requests wrote: %d sites, name %q", n, name)
	}
}

func TestSitesRoles(t *testing.T) {
	e := newHierEnv(t)
	site := e.createSite(t, map[string]any{"name": "S"})
	for _, u := range []*testUser{e.manager, e.staff, e.viewer, e.inspector} {
		e.h.do(u, http.MethodPost, e.path("/sites"), `{"name": "x"}`).must(t, 403)
		e.h.do(u, http.MethodPatch, e.path("/sites/%s", site.ID), `{"name": "x"}`).must(t, 403)
		e.h.do(u, http.MethodDelete, e.path("/sites/%s", site.ID), nil).must(t, 403)
		e.h.do(u, http.MethodPost, e.path("/sites/%s/restore", site.ID), nil).must(t, 403)
		e.h.do(u, http.MethodGet, e.path("/sites"), nil).must(t, 200)
		e.h.do(u, http.MethodGet, e.path("/sites/%s", site.ID), nil).must(t, 200)
	}
	e.h.do(e.admin, http.MethodPost, e.path("/sites"), `{"name": "x"}`).must(t, 201)
}

func TestSitesCrossTenant(t *testing.T) {
	e := newHierEnv(t)
	site := e.createSite(t, map[string]any{"name": "S"})
	// B's owner, on B's path, with A's site id; and on A's path.
	for _, path := range []func(string, ...any) string{e.otherPath, e.path} {
		e.h.do(e.other, http.MethodGet, path("/sites/%s", site.ID), nil).must(t, 404)
		e.h.do(e.other, http.MethodPatch, path("/sites/%s", site.ID), `{"name": "x"}`).must(t, 404)
		e.h.do(e.other, http.MethodDelete, path("/sites/%s", site.ID), nil).must(t, 404)
		e.h.do(e.other, http.MethodPost, path("/sites/%s/restore", site.ID), nil).must(t, 404)
	}
	e.h.do(e.other, http.MethodGet, e.path("/sites"), nil).must(t, 404)
	e.h.do(e.other, http.MethodPost, e.path("/sites"), `{"name": "x"}`).must(t, 404)
	var l List[domain.Site]
	e.h.do(e.other, http.MethodGet, e.otherPath("/sites?include_deleted=true"), nil).must(t, 200).JSON(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("B sees A's sites: %+v", l.Items)
	}
	e.h.do(e.owner, http.MethodGet, e.path("/sites/not-a-uuid"), nil).must(t, 404)
}

func TestSitesDeleteCascadesAndRestoreBringsBackOnlyThoseChildren(t *testing.T) {
	e := newHierEnv(t)
	f := e.h.unit(e.org)
	var early, earlyUnit string
	e.h.queryRow([]any{&early}, `INSERT INTO areas (organization_id, site_id, name, deleted_at) VALUES ($1, $2, 'Old', now() - interval '1 day') RETURNING id`, e.org, f.SiteID)
	e.h.queryRow([]any{&earlyUnit}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, deleted_at)
		VALUES ($1, $2, $3, 'Old unit', 0, 5, now() - interval '2 days') RETURNING id`, e.org, f.SiteID, f.AreaID)

	e.h.do(e.owner, http.MethodDelete, e.path("/sites/%s", f.SiteID), nil).must(t, 204)
	var siteDel, areaDel, unitDel time.Time
	e.h.queryRow([]any{&siteDel, &areaDel, &unitDel}, `SELECT s.deleted_at, a.deleted_at, u.deleted_at FROM sites s, areas a, units u
		WHERE s.id = $1 AND a.id = $2 AND u.id = $3`, f.SiteID, f.AreaID, f.UnitID)
	if !siteDel.Equal(areaDel) || !siteDel.Equal(unitDel) {
		t.Fatalf("cascade stamps differ: %v %v %v", siteDel, areaDel, unitDel)
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/areas/%s", f.AreaID), nil).must(t, 404)
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", f.UnitID), nil).must(t, 404)

	e.h.do(e.owner, http.MethodPost, e.path("/sites/%s/restore", f.SiteID), nil).must(t, 200)
	e.h.do(e.viewer, http.MethodGet, e.path("/areas/%s", f.AreaID), nil).must(t, 200)
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", f.UnitID), nil).must(t, 200)
	e.h.do(e.viewer, http.MethodGet, e.path("/areas/%s", early), nil).must(t, 404)
	e.h.do(e.viewer, http.MethodGet, e.path("/units/%s", earlyUnit), nil).must(t, 404)
}

func TestSitesPaginationAndUpdatedSince(t *testing.T) {
	e := newHierEnv(t)
	var want []string
	for i := range 7 {
		want = append(want, e.createSite(t, map[string]any{"name": fmt.Sprintf("S%d", 7-i)}).ID)
	}
	if got := listIDs(t, e, e.path("/sites"), 3); !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v (creation order)", got, want)
	}
	if got := listIDs(t, e, e.path("/sites"), 200); !slices.Equal(got, want) {
		t.Fatalf("one page gave %v", got)
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/sites?limit=0"), nil).must(t, 400)
	e.h.do(e.viewer, http.MethodGet, e.path("/sites?cursor=garbage"), nil).must(t, 400)

	e.h.exec(`UPDATE sites SET updated_at = now() - interval '1 hour' WHERE organization_id = $1`, e.org)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	e.h.do(e.admin, http.MethodPatch, e.path("/sites/%s", want[2]), `{"city": "Lyon"}`).must(t, 200)
	var l List[domain.Site]
	e.h.do(e.viewer, http.MethodGet, e.path("/sites?updated_since=%s", since), nil).must(t, 200).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != want[2] {
		b, _ := json.Marshal(l)
		t.Fatalf("updated_since: %s", b)
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/sites?updated_since=yesterday"), nil).must(t, 400)
	// A deletion is an update: pollers see it when they ask for deleted rows too.
	e.h.do(e.admin, http.MethodDelete, e.path("/sites/%s", want[4]), nil).must(t, 204)
	e.h.do(e.viewer, http.MethodGet, e.path("/sites?include_deleted=true&updated_since=%s", since), nil).must(t, 200).JSON(t, &l)
	if len(l.Items) != 2 {
		t.Fatalf("updated_since with deleted: %d items", len(l.Items))
	}
}
