package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/report"
	"github.com/frostguard/functions/shared/testenv"
)

type createdLink struct {
	domain.InspectorLink
	Token string `json:"token"`
	URL   string `json:"url"`
}

// inspectorAudits counts the audit lines of a link's uses.
func inspectorAudits(h *harness, linkID string) int {
	var n int
	h.queryRow([]any{&n}, `SELECT count(*) FROM audit_log WHERE actor_type = 'inspector_link' AND entity_type = 'inspector_link'
		AND entity_id = $1 AND actor_user_id IS NULL`, linkID)
	return n
}

func TestInspectorLinkLifecycle(t *testing.T) {
	f := newReportFixture(t)
	h := f.h
	h.srv.FrontendURL = "https://app.example.test"
	path := "/api/v1/orgs/" + f.org + "/inspector-links"
	body := map[string]any{"name": "County inspection", "site_ids": []string{f.nySite}, "period_from": "2026-01-01",
		"period_to": "2026-01-30", "expires_in_days": 14}
	h.do(f.bob, "POST", path, body).must(t, http.StatusForbidden) // a manager shares nothing
	var link createdLink
	h.do(f.owner, "POST", path, body).must(t, http.StatusCreated).JSON(t, &link)
	if !domain.LooksLikeInspectorToken(link.Token) || link.URL != "https://app.example.test/inspector#token="+link.Token ||
		link.Status != domain.InspectorLinkActive || link.TokenLast4 != link.Token[len(link.Token)-4:] ||
		!link.ExpiresAt.Equal(f.now.Add(14*24*time.Hour)) || link.PeriodFrom != "2026-01-01" || link.UseCount != 0 {
		t.Fatalf("link %+v", link)
	}
	// only the token's hash is kept
	var row string
	h.queryRow([]any{&row}, `SELECT to_jsonb(l)::text FROM inspector_links l WHERE token_hash = $1`, domain.InspectorTokenHash(link.Token))
	if strings.Contains(row, link.Token[4:20]) {
		t.Errorf("the token is stored: %s", row)
	}
	if r := h.do(f.owner, "GET", path, nil).must(t, 200); strings.Contains(string(r.Body), link.Token) || !strings.Contains(string(r.Body), link.ID) {
		t.Errorf("the list shows the token or misses the link: %s", r.Body)
	}

	holder := &testUser{Token: link.Token}
	var sess inspectorSessionResponse
	h.do(holder, "GET", "/api/v1/inspect", nil).must(t, 200).JSON(t, &sess)
	if len(sess.Organization.Sites) != 1 || sess.Organization.Sites[0].ID != f.nySite || len(sess.Units) != 1 ||
		sess.Units[0].ID != f.ny.id || sess.Link.PeriodTo != "2026-01-30" || sess.Organization.Name != "Acme Foods" {
		t.Errorf("session %+v", sess)
	}
	// a member's token is not a link, and a link opens nothing of a member
	h.do(f.owner, "GET", "/api/v1/inspect", nil).must(t, http.StatusUnauthorized)
	h.do(holder, "GET", "/api/v1/orgs/"+f.org+"/reports/haccp?"+f.rangeQ, nil).must(t, http.StatusUnauthorized)

	var rep report.Report
	h.do(holder, "GET", "/api/v1/inspect/reports/haccp", nil).must(t, 200).JSON(t, &rep)
	if len(rep.Units) != 1 || rep.Units[0].Unit.ID != f.ny.id || len(rep.Units[0].Days) != 30 || rep.Units[0].Days[0].Date != "2026-01-01" {
		t.Fatalf("the link's report: %d units", len(rep.Units))
	}
	for _, q := range []string{"site_id=" + f.utcSite(h), "unit_id=" + f.utc.id} {
		h.do(holder, "GET", "/api/v1/inspect/reports/exceptions?"+q, nil).must(t, http.StatusNotFound)
	}
	for _, q := range []string{"from=2025-12-31", "to=2026-01-31", "from=2026-01-05T00:00:00Z"} {
		h.do(holder, "GET", "/api/v1/inspect/reports/daily-log?"+q, nil).must(t, http.StatusBadRequest)
	}
	h.do(holder, "GET", "/api/v1/inspect/reports/daily-log?from=2026-01-03&to=2026-01-04&format=pdf", nil).must(t, 200)

	var rd readingsResponse
	h.do(holder, "GET", "/api/v1/inspect/units/"+f.ny.id+"/readings?from=2025-11-01T00:00:00Z&to=2026-02-20T00:00:00Z&bucket=1d", nil).
		must(t, 200).JSON(t, &rd)
	if !rd.From.Equal(time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)) || !rd.To.Equal(time.Date(2026, 1, 31, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("readings cut to %s..%s, want the period's New York days", rd.From, rd.To)
	}
	h.do(holder, "GET", "/api/v1/inspect/units/"+f.utc.id+"/readings", nil).must(t, http.StatusNotFound)
	h.do(holder, "GET", "/api/v1/inspect/units/"+f.ny.id+"/readings?from=2026-02-10T00:00:00Z&to=2026-02-11T00:00:00Z", nil).
		must(t, http.StatusBadRequest)

	// every use, refused ones included, is a line of the organisation's audit trail
	const uses = 11
	if n := inspectorAudits(h, link.ID); n != uses {
		t.Errorf("%d audited uses, want %d", n, uses)
	}
	var got domain.InspectorLink
	h.do(f.owner, "GET", path+"/"+link.ID, nil).must(t, 200).JSON(t, &got)
	if got.UseCount != uses || got.LastUsedAt == nil {
		t.Errorf("link after use %+v", got)
	}
	if r := h.do(f.owner, "GET", "/api/v1/orgs/"+f.org+"/audit-log?entity_type=inspector_link&entity_id="+link.ID, nil).must(t, 200); !strings.Contains(string(r.Body), `"actor_type":"inspector_link"`) ||
		!strings.Contains(string(r.Body), "inspect GET /api/v1/inspect/reports/haccp") {
		t.Errorf("the owners do not see the uses: %s", r.Body)
	}

	h.do(f.owner, "DELETE", path+"/"+link.ID, nil).must(t, 200).JSON(t, &got)
	if got.Status != domain.InspectorLinkRevoked || got.RevokedAt == nil {
		t.Errorf("revoked %+v", got)
	}
	if r := h.do(holder, "GET", "/api/v1/inspect", nil).must(t, http.StatusUnauthorized); !strings.Contains(string(r.Body), "revoked") {
		t.Errorf("a revoked link: %s", r.Body)
	}
	h.do(f.owner, "DELETE", path+"/"+link.ID, nil).must(t, 200) // again: unchanged
	if n := inspectorAudits(h, link.ID); n != uses {
		t.Errorf("a refused token was audited as a use: %d", n)
	}
}

// utcSite is the fixture's London site.
func (f *rptFixture) utcSite(h *harness) string {
	var id string
	h.queryRow([]any{&id}, `SELECT site_id FROM units WHERE id = $1`, f.utc.id)
	return id
}

func TestInspectorLinkExpiresAndValidates(t *testing.T) {
	f := newReportFixture(t)
	h := f.h
	path := "/api/v1/orgs/" + f.org + "/inspector-links"
	stranger := h.user("stranger")
	otherOrg := h.org("Elsewhere", stranger)
	otherSite := h.unit(otherOrg).SiteID
	valid := func() map[string]any {
		return map[string]any{"name": "Audit", "site_ids": []string{f.nySite}, "period_from": "2026-01-01", "period_to": "2026-01-31"}
	}
	for _, tc := range []struct {
		field string
		set   func(map[string]any)
	}{
		{"name", func(b map[string]any) { delete(b, "name") }},
		{"site_ids", func(b map[string]any) { b["site_ids"] = []string{} }},
		{"site_ids", func(b map[string]any) { b["site_ids"] = []string{"nope"} }},
		{"period_to", func(b map[string]any) { b["period_to"] = "2025-12-31" }},
		{"period_to", func(b map[string]any) { b["period_to"] = "2027-01-03" }},
		{"period_from", func(b map[string]any) { b["period_from"] = "01/01/2026" }},
		{"expires_in_days", func(b map[string]any) { b["expires_in_days"] = 31 }},
		{"expires_in_days", func(b map[string]any) { b["expires_in_days"] = 0 }},
	} {
		b := valid()
		tc.set(b)
		r := h.do(f.owner, "POST", path, b).must(t, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %s", tc.field, r.Body)
		}
	}
	b := valid()
	b["site_ids"] = []string{f.nySite, otherSite} // another organisation's site names nothing
	h.do(f.owner, "POST", path, b).must(t, http.StatusNotFound)
	h.do(f.owner, "POST", path, map[string]any{"name": "x", "token": "mine"}).must(t, http.StatusBadRequest)

	// the database refuses a link living longer than 30 days, whatever the api says
	if _, err := testenv.Pool(h.db).Exec(t.Context(), `INSERT INTO inspector_links (organization_id, name, site_ids, period_from, period_to,
		token_hash, token_last4, created_at, expires_at) VALUES ($1, 'x', ARRAY[$2::uuid], '2026-01-01', '2026-01-02',
		sha256('x'), 'xxxx', now(), now() + interval '31 days')`, f.org, f.nySite); err == nil {
		t.Error("a 31-day link was stored")
	}

	b = valid()
	b["expires_in_days"] = 1
	var link createdLink
	h.do(f.owner, "POST", path, b).must(t, http.StatusCreated).JSON(t, &link)
	holder := &testUser{Token: link.Token}
	h.do(holder, "GET", "/api/v1/inspect/units", nil).must(t, 200)
	f.now = f.now.Add(24 * time.Hour)
	if r := h.do(holder, "GET", "/api/v1/inspect/units", nil).must(t, http.StatusUnauthorized); !strings.Contains(string(r.Body), "expired") {
		t.Errorf("an expired link: %s", r.Body)
	}
	// a token of the right shape that no link has, and one of the wrong shape
	unknown, _ := domain.NewInspectorToken()
	for _, tok := range []string{unknown, "fgi_short", link.Token + "x"} {
		if r := h.do(&testUser{Token: tok}, "GET", "/api/v1/inspect", nil).must(t, http.StatusUnauthorized); strings.Contains(string(r.Body), "expired") {
			t.Errorf("%q: %s", tok, r.Body)
		}
	}
	// a link whose sites were all deleted shows nothing
	f.now = f.now.Add(-24 * time.Hour)
	h.exec(`UPDATE sites SET deleted_at = now() WHERE id = $1`, f.nySite)
	h.do(holder, "GET", "/api/v1/inspect", nil).must(t, http.StatusUnauthorized)
}
