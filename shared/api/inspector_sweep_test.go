package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestInspectorLinkSweep calls every documented operation with an inspector
// link's token: the link holder reaches the /api/v1/inspect routes within
// the link's scope (a unit of another site of the organisation, or of
// another organisation, is 404) and every other route answers 401, as for
// a caller without a token. Every use of the inspect routes is audited.
func TestInspectorLinkSweep(t *testing.T) {
	h := newHarness(t)
	f := newSweepFixture(h)
	holder := &testUser{Token: f.inspectorToken}
	outside := map[string]string{
		"another site of the organisation": h.unit(f.orgA).UnitID,
		"another organisation":             h.unit(f.orgB).UnitID,
	}
	ops := documented(t)
	uses := 0
	for _, key := range sortedKeys(ops) {
		op := ops[key]
		method, path, _ := strings.Cut(key, " ")
		if op.Permission == PublicRoute {
			continue
		}
		t.Run(key, func(t *testing.T) {
			url := f.concrete(t, path, f.orgA)
			if q := requiredQuery(t, op); len(q) > 0 {
				url += "?" + q.Encode()
			}
			r := h.do(holder, method, url, exampleBody(op))
			if op.Permission != string(InspectorLinkRoute) {
				if r.Status != http.StatusUnauthorized {
					t.Errorf("a link holder reached a member's route: %d %s", r.Status, r.Body)
				}
				return
			}
			uses++
			if r.Status != http.StatusOK {
				t.Errorf("a link holder within the scope: %d %s", r.Status, r.Body)
			}
			if !strings.Contains(path, "{unitId}") {
				return
			}
			for name, unitID := range outside {
				uses++
				if r := h.do(holder, method, strings.ReplaceAll(url, f.ids["unitId"], unitID), nil); r.Status != http.StatusNotFound {
					t.Errorf("a unit of %s: %d %s", name, r.Status, r.Body)
				}
			}
		})
	}
	if uses == 0 {
		t.Fatal("no inspect route is documented")
	}
	if n := inspectorAudits(h, f.ids["inspectorLinkId"]); n != uses {
		t.Errorf("%d uses audited, want %d", n, uses)
	}
}
