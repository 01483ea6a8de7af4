package api

import (
	"net/http"
	"strings"
	"testing"
)

// While an origin import writes an organisation, nobody reaches it through
// the api, its own owner included: every documented route answers 404 as
// for a stranger, and /me does not list it. The import's last transaction
// makes it live.
func TestImportingOrganisationIsHidden(t *testing.T) {
	h := newHarness(t)
	f := newSweepFixture(h)
	h.exec(`UPDATE organizations SET import_state = 'importing' WHERE id = $1`, f.orgA)
	ops := documented(t)
	for _, key := range sortedKeys(ops) {
		method, path, _ := strings.Cut(key, " ")
		if !strings.Contains(path, "{orgId}") {
			continue
		}
		if r := h.do(f.owner, method, f.concrete(t, path, f.orgA), exampleBody(ops[key])); r.Status != http.StatusNotFound {
			t.Errorf("%s as the owner of an importing organisation: %d %s", key, r.Status, r.Body)
		}
	}
	var me struct {
		Memberships []struct {
			OrganizationID string `json:"organization_id"`
		} `json:"memberships"`
	}
	h.do(f.owner, http.MethodGet, "/api/v1/me", nil).must(t, http.StatusOK).JSON(t, &me)
	for _, m := range me.Memberships {
		if m.OrganizationID == f.orgA {
			t.Fatalf("/me lists the importing organisation: %+v", me)
		}
	}
	h.exec(`UPDATE organizations SET import_state = NULL WHERE id = $1`, f.orgA)
	h.do(f.owner, http.MethodGet, "/api/v1/orgs/"+f.orgA, nil).must(t, http.StatusOK)
}
