package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// newAuditHarness serves the api wired as in production: the audit trail
// around the subscription check around the router.
func newAuditHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.wireAsInProduction()
	return h
}

// wireAsInProduction puts the audit trail and the subscription check
// around h's router, as apifn does.
func (h *harness) wireAsInProduction() {
	mux := http.NewServeMux()
	h.srv.Register(mux)
	mux.Handle("/", web.NotFound())
	h.h = web.Standard(h.srv.Audit(h.srv.EnforceSubscriptions(mux)), web.Options{Function: "api"})
}

// doWithRequestID is h.do with an X-Request-Id.
func (h *harness) doWithRequestID(u *testUser, method, path string, body any, requestID string) response {
	h.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.Token)
	req.Header.Set(web.RequestIDHeader, requestID)
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return response{Status: rec.Code, Body: rec.Body.Bytes(), Header: rec.Header()}
}

func auditRows(h *harness, org string) []store.AuditEntry {
	h.t.Helper()
	rows, err := h.db.ListAudit(h.t.Context(), org, store.AuditFilter{Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return rows
}

func TestAuditPatchUnit(t *testing.T) {
	h := newAuditHarness(t)
	owner, manager, staff := h.user("owner"), h.user("manager"), h.user("staff")
	org := h.org("Alpha", owner)
	h.member(org, manager, access.Manager)
	h.member(org, staff, access.Staff)
	u := h.unit(org)
	path := "/api/v1/orgs/" + org + "/units/" + u.UnitID

	// Failed writes leave no trace: 400, 403, 404, 401.
	h.do(manager, http.MethodPatch, path, map[string]any{"temp_min_c": 9, "temp_max_c": 1}).must(t, 400)
	h.do(manager, http.MethodPatch, path, `{"name":`).must(t, 400)
	h.do(staff, http.MethodPatch, path, map[string]any{"name": "Nope"}).must(t, 403)
	h.do(manager, http.MethodPatch, "/api/v1/orgs/"+org+"/units/"+org, map[string]any{"name": "Nope"}).must(t, 404)
	h.do(nil, http.MethodPatch, path, map[string]any{"name": "Nope"}).must(t, 401)
	h.do(manager, http.MethodGet, path, nil).must(t, 200) // reads are not audited
	if rows := auditRows(h, org); len(rows) != 0 {
		t.Fatalf("failed writes audited: %+v", rows)
	}

	h.doWithRequestID(manager, http.MethodPatch, path, map[string]any{"name": "Freezer 2", "temp_max_c": 4.5}, "req-audit-1").must(t, 200)
	rows := auditRows(h, org)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	a := rows[0]
	if a.Action != "PATCH /api/v1/orgs/{orgId}/units/{unitId}" || a.ActorType != "user" || a.ActorUserID == nil || *a.ActorUserID != manager.ID ||
		a.ActorName == nil || *a.ActorName != "manager" || a.EntityType == nil || *a.EntityType != "unit" || a.EntityID == nil ||
		*a.EntityID != u.UnitID || a.RequestID == nil || *a.RequestID != "req-audit-1" || time.Since(a.At) > time.Minute {
		t.Fatalf("row %+v", a)
	}
	var before, after map[string]any
	if err := json.Unmarshal(a.Before, &before); err != nil {
		t.Fatalf("before %s: %v", a.Before, err)
	}
	if err := json.Unmarshal(a.After, &after); err != nil {
		t.Fatalf("after %s: %v", a.After, err)
	}
	if before["name"] != "Cooler" || before["temp_max_c"] != 5.0 || before["id"] != u.UnitID || len(after) != 2 ||
		after["name"] != "Freezer 2" || after["temp_max_c"] != 4.5 {
		t.Fatalf("before %v after %v", before, after)
	}

	// DELETE keeps the row as it was; a creation has no before.
	h.do(manager, http.MethodDelete, path, nil).must(t, 204)
	h.do(manager, http.MethodPost, "/api/v1/orgs/"+org+"/units/"+u.UnitID+"/restore", nil).must(t, 200)
	rows = auditRows(h, org)
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	restore, del := rows[0], rows[1]
	if del.Action != "DELETE /api/v1/orgs/{orgId}/units/{unitId}" || !strings.Contains(string(del.Before), `"Freezer 2"`) || del.After != nil ||
		restore.Action != "POST /api/v1/orgs/{orgId}/units/{unitId}/restore" || !strings.Contains(string(restore.Before), `"deleted_at": "`) {
		t.Fatalf("delete %+v before %s; restore %+v before %s", del, del.Before, restore, restore.Before)
	}
}

func TestAuditSecretsNeverStored(t *testing.T) {
	h := newAuditHarness(t)
	owner := h.user("owner")
	var created createOrgResponse
	h.do(owner, http.MethodPost, "/api/v1/orgs", map[string]any{"name": "Alpha"}).must(t, 201).JSON(t, &created)
	org := created.ID
	rows := auditRows(h, org)
	if len(rows) != 1 || rows[0].Action != "POST /api/v1/orgs" || *rows[0].EntityType != "organization" || *rows[0].EntityID != org ||
		string(rows[0].After) != `{"name": "Alpha"}` {
		t.Fatalf("create %+v after %s", rows, rows[0].After)
	}

	// The handler ignores this body; the audit keeps it, redacted.
	body := map[string]any{"reason": "leaked", "secret": "hunter2", "nested": map[string]any{"api_key": "k-123", "ok": 1},
		"items": []any{map[string]any{"password": "p-456", "access_token": "t-789"}}}
	var rotated rotateSecretResponse
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/ttn-connection/rotate-secret", body).must(t, 200).JSON(t, &rotated)
	var all string
	h.queryRow([]any{&all}, `SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_log a`)
	for _, s := range []string{created.TTN.WebhookSecret, rotated.WebhookSecret, "hunter2", "k-123", "p-456", "t-789"} {
		if s == "" || strings.Contains(all, s) {
			t.Fatalf("%q stored in the audit log: %s", s, all)
		}
	}
	rows = auditRows(h, org)
	var after map[string]any
	if err := json.Unmarshal(rows[0].After, &after); err != nil {
		t.Fatal(err)
	}
	if rows[0].Action != "POST /api/v1/orgs/{orgId}/ttn-connection/rotate-secret" || after["reason"] != "leaked" || after["secret"] != redacted ||
		after["nested"].(map[string]any)["api_key"] != redacted || after["nested"].(map[string]any)["ok"] != 1.0 ||
		after["items"].([]any)[0].(map[string]any)["password"] != redacted {
		t.Fatalf("after %s", rows[0].After)
	}
}

func TestAuditAfterSummaries(t *testing.T) {
	big := `{"name":"` + strings.Repeat("x", auditBodyLimit) + `","b":1}`
	cases := []struct {
		name, body string
		complete   bool
		want       string
	}{
		{"empty", "", true, ""},
		{"json", `{"a":1.50,"token":"x"}`, true, `{"a":1.50,"token":"[redacted]"}`},
		{"array", `[{"Password":"x"}]`, true, `[{"Password":"[redacted]"}]`},
		{"not json", `name=x`, true, `{"bytes":6,"summary":"request body is not JSON"}`},
		{"two values", `{} {}`, true, `{"bytes":5,"summary":"request body is not JSON"}`},
		{"large", big, true, `{"bytes":` + itoa(len(big)) + `,"fields":["b","name"],"summary":"request body over 16 KB: only its field names are kept"}`},
		{"too large", big, false, `{"bytes":` + itoa(len(big)) + `,"summary":"request body too large to keep"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := auditAfter([]byte(tc.body), len(tc.body), tc.complete)
			if string(got) != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestAuditLogList(t *testing.T) {
	h := newAuditHarness(t)
	owner, admin, manager, staff, viewer, inspector, other :=
		h.user("owner"), h.user("admin"), h.user("manager"), h.user("staff"), h.user("viewer"), h.user("inspector"), h.user("other")
	org := h.org("Alpha", owner)
	for u, role := range map[*testUser]access.Role{admin: access.Admin, manager: access.Manager, staff: access.Staff, viewer: access.Viewer, inspector: access.Inspector} {
		h.member(org, u, role)
	}
	otherOrg := h.org("Beta", other)
	u1, u2 := h.unit(org), h.unit(org)
	h.do(manager, http.MethodPatch, "/api/v1/orgs/"+org+"/units/"+u1.UnitID, map[string]any{"name": "One"}).must(t, 200)
	h.do(admin, http.MethodPatch, "/api/v1/orgs/"+org+"/units/"+u2.UnitID, map[string]any{"name": "Two"}).must(t, 200)
	h.do(staff, http.MethodPost, manualLogPath(org, u1.UnitID), map[string]any{"temperature": 9, "temp_unit": "C"}).must(t, 201)
	h.do(other, http.MethodPatch, "/api/v1/orgs/"+otherOrg, map[string]any{"name": "Beta 2"}).must(t, 200)
	// A provider row (billing) is listed too.
	h.exec(`INSERT INTO audit_log (organization_id, actor_type, action, at) VALUES ($1, 'provider', 'subscription.updated', now() - interval '1 day')`, org)

	base := "/api/v1/orgs/" + org + "/audit-log"
	var all List[store.AuditEntry]
	h.do(admin, http.MethodGet, base, nil).must(t, 200).JSON(t, &all)
	// PATCH u1, PATCH u2, POST manual log, its unit.status_changed, provider row.
	if len(all.Items) != 5 || all.NextCursor != "" || all.Items[4].Action != "subscription.updated" || all.Items[4].ActorType != "provider" {
		t.Fatalf("all %+v", all)
	}
	for i := 1; i < len(all.Items); i++ {
		if all.Items[i].At.After(all.Items[i-1].At) {
			t.Fatalf("not newest first: %+v", all.Items)
		}
	}
	count := func(query string) int {
		t.Helper()
		var l List[store.AuditEntry]
		h.do(inspector, http.MethodGet, base+"?"+query, nil).must(t, 200).JSON(t, &l)
		return len(l.Items)
	}
	for q, want := range map[string]int{
		"entity_type=unit":                                              4,
		"entity_type=unit&entity_id=" + u1.UnitID:                       3,
		"entity_id=" + u2.UnitID:                                        1,
		"actor_user_id=" + staff.ID:                                     2,
		"action=unit.status_changed":                                    1,
		"action=PATCH%20/api/v1/orgs/{orgId}/units/{unitId}":            2,
		"from=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339): 4,
		"to=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339):   1,
		"entity_type=alert":                                             0,
	} {
		if got := count(q); got != want {
			t.Errorf("%s: %d rows, want %d", q, got, want)
		}
	}
	var p1, p2 List[store.AuditEntry]
	h.do(owner, http.MethodGet, base+"?limit=3", nil).must(t, 200).JSON(t, &p1)
	h.do(owner, http.MethodGet, base+"?limit=3&cursor="+p1.NextCursor, nil).must(t, 200).JSON(t, &p2)
	if len(p1.Items) != 3 || len(p2.Items) != 2 || p2.NextCursor != "" || p2.Items[0].ID != all.Items[3].ID {
		t.Fatalf("pages %+v / %+v", p1, p2)
	}
	for _, q := range []string{"entity_id=x", "actor_user_id=1", "entity_type=Unit", "from=today", "limit=0",
		"from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "action=" + strings.Repeat("a", 301)} {
		h.do(admin, http.MethodGet, base+"?"+q, nil).must(t, 400)
	}
	for _, u := range []*testUser{manager, staff, viewer} {
		h.do(u, http.MethodGet, base, nil).must(t, 403)
	}
	h.do(other, http.MethodGet, base, nil).must(t, 404)
	h.do(nil, http.MethodGet, base, nil).must(t, 401)
	var theirs List[store.AuditEntry]
	h.do(other, http.MethodGet, "/api/v1/orgs/"+otherOrg+"/audit-log", nil).must(t, 200).JSON(t, &theirs)
	if len(theirs.Items) != 1 || theirs.Items[0].Action != "PATCH /api/v1/orgs/{orgId}" || !strings.Contains(string(theirs.Items[0].Before), `"Beta"`) {
		t.Fatalf("other org %+v", theirs)
	}
}

// Phone numbers in the audit trail are masked for the roles that see them
// masked elsewhere (contacts, notification log): an inspector reads the
// trail, but not colleagues' numbers.
func TestAuditMasksPhonesForRolesThatSeeThemMasked(t *testing.T) {
	h := newAuditHarness(t)
	owner, inspector := h.user("owner"), h.user("inspector")
	org := h.org("Alpha", owner)
	h.member(org, inspector, access.Inspector)
	var c store.EscalationContact
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/contacts", map[string]any{"name": "Dana", "phone": "+12125550123"}).
		must(t, http.StatusCreated).JSON(t, &c)
	h.do(owner, http.MethodPatch, "/api/v1/orgs/"+org+"/contacts/"+c.ID, map[string]any{"phone": "+12125550199"}).must(t, http.StatusOK)
	read := func(u *testUser) string {
		r := h.do(u, http.MethodGet, "/api/v1/orgs/"+org+"/audit-log?entity_id="+c.ID, nil).must(t, http.StatusOK)
		return string(r.Body)
	}
	if body := read(inspector); strings.Contains(body, "2125550123") || strings.Contains(body, "2125550199") ||
		!strings.Contains(body, "+*******0199") {
		t.Errorf("an inspector reads full numbers: %s", body)
	}
	if body := read(owner); !strings.Contains(body, "+12125550199") || !strings.Contains(body, "+12125550123") {
		t.Errorf("the owner reads masked numbers: %s", body)
	}
}

// The audit line of an api write is written in the write's own transaction:
// when it cannot be written, the change is not made either (a crash
// between the two can no longer lose the line). The test makes audit_log
// refuse the unit's PATCH line with a trigger of its own database.
func TestAuditLineCommitsWithTheChange(t *testing.T) {
	h := newAuditHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	u := h.unit(org)
	h.exec(`CREATE FUNCTION refuse_unit_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action LIKE 'PATCH /api/v1/orgs/{orgId}/units/%' THEN RAISE EXCEPTION 'audit refused by the test'; END IF;
			RETURN NEW;
		END $$`)
	h.exec(`CREATE TRIGGER refuse_unit_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_unit_audit()`)
	r := h.do(owner, http.MethodPatch, "/api/v1/orgs/"+org+"/units/"+u.UnitID, map[string]any{"name": "Renamed"})
	if r.Status < 500 {
		t.Errorf("a write whose audit line failed answered %d: %s", r.Status, r.Body)
	}
	var name string
	h.queryRow([]any{&name}, `SELECT name FROM units WHERE id = $1`, u.UnitID)
	if name == "Renamed" {
		t.Fatal("the unit changed without its audit line")
	}
	// Other writes are unaffected, and audited.
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/sites", map[string]any{"name": "Second"}).must(t, http.StatusCreated)
	var n int
	h.queryRow([]any{&n}, `SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action = 'POST /api/v1/orgs/{orgId}/sites'`, org)
	if n != 1 {
		t.Errorf("%d audit rows for the site", n)
	}
}
