package api

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

func TestOrgOnboarding(t *testing.T) {
	h := newHarness(t)
	alice := h.user("alice")

	var got createOrgResponse
	h.do(alice, http.MethodPost, "/api/v1/orgs", map[string]any{
		"name": "  Café Alpha  ", "timezone": "Europe/Paris", "temp_unit": "F",
	}).must(t, 201).JSON(t, &got)
	if got.Name != "Café Alpha" || got.Slug != "caf-alpha" || got.Timezone != "Europe/Paris" || got.TempUnit != "F" ||
		got.MyRole != access.Owner || got.Plan != "starter" || got.SensorLimit != 5 || got.ComplianceMode != "standard" {
		t.Fatalf("org = %+v", got.Organization)
	}
	if got.TrialEndsAt == nil || got.TrialEndsAt.Sub(time.Now().Add(14*24*time.Hour)).Abs() > time.Minute ||
		got.TrialEndsAt.Location() != time.UTC {
		t.Errorf("trial_ends_at = %v", got.TrialEndsAt)
	}
	secret := got.TTN.WebhookSecret
	// No application id is bound before PUT .../ttn-connection/credentials
	// checked the key's rights on it (TestApplicationIDIsBoundOnlyAfterTheRightsCheck).
	if got.TTN.ApplicationID != nil || got.TTN.WebhookHeader != "X-Webhook-Secret" ||
		!strings.HasPrefix(secret, "fgttn_") || len(secret) != 6+64 {
		t.Fatalf("ttn = %+v", got.TTN)
	}

	var subStatus string
	var subTrial, orgTrial time.Time
	h.queryRow([]any{&subStatus, &subTrial, &orgTrial}, `SELECT s.status, s.trial_ends_at, o.trial_ends_at
		FROM subscriptions s JOIN organizations o ON o.id = s.organization_id WHERE s.organization_id = $1`, got.ID)
	if subStatus != "trial" || !subTrial.Equal(orgTrial) {
		t.Errorf("subscription %s %v (org %v)", subStatus, subTrial, orgTrial)
	}
	var hash []byte
	var last4 string
	var appID *string
	h.queryRow([]any{&hash, &last4, &appID}, `SELECT secret_hash, secret_last4, application_id FROM network_connections WHERE organization_id = $1`, got.ID)
	want := sha256.Sum256([]byte(secret))
	if string(hash) != string(want[:]) || last4 != secret[len(secret)-4:] || appID != nil {
		t.Errorf("stored ttn connection: hash matches %v, last4 %q, app %v", string(hash) == string(want[:]), last4, appID)
	}
	var role, status string
	h.queryRow([]any{&role, &status}, `SELECT role, status FROM memberships WHERE organization_id = $1 AND user_id = $2`, got.ID, alice.ID)
	if role != "owner" || status != "active" {
		t.Errorf("membership %s %s", role, status)
	}

	// The same name again: the slug gets a suffix.
	var second createOrgResponse
	h.do(alice, http.MethodPost, "/api/v1/orgs", map[string]any{"name": "Cafe Alpha"}).must(t, 201).JSON(t, &second)
	if second.Slug != "cafe-alpha" {
		t.Errorf("slug %q", second.Slug)
	}
	var third createOrgResponse
	h.do(alice, http.MethodPost, "/api/v1/orgs", map[string]any{"name": "Caf Alpha!"}).must(t, 201).JSON(t, &third)
	if third.Slug != "caf-alpha-2" || third.TTN.ApplicationID != nil || third.Timezone != "UTC" || third.TempUnit != "C" {
		t.Errorf("third = %+v %+v", third.Organization, third.TTN)
	}

	var me meResponse
	h.do(alice, http.MethodGet, "/api/v1/me", nil).must(t, 200).JSON(t, &me)
	if len(me.Memberships) != 3 {
		t.Errorf("memberships %+v", me.Memberships)
	}
}

func TestOrgOnboardingValidation(t *testing.T) {
	h := newHarness(t)
	alice := h.user("alice")
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"empty name", map[string]any{"name": ""}, "name"},
		{"blank name", map[string]any{"name": "   "}, "name"},
		{"long name", map[string]any{"name": strings.Repeat("n", 201)}, "name"},
		{"unknown timezone", map[string]any{"name": "A", "timezone": "Mars/Olympus"}, "timezone"},
		{"Local timezone", map[string]any{"name": "A", "timezone": "Local"}, "timezone"},
		{"empty timezone", map[string]any{"name": "A", "timezone": ""}, "timezone"},
		{"temp unit", map[string]any{"name": "A", "temp_unit": "K"}, "temp_unit"},
		{"an application id (bound only by the rights check)", map[string]any{"name": "A", "ttn_application_id": "my-app"}, ""},
		{"unknown field", `{"name": "A", "plan": "pro"}`, ""},
		{"not JSON", `{"name":`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(alice, http.MethodPost, "/api/v1/orgs", tc.body).must(t, 400)
			if r.ErrorCode() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) && tc.field != "" {
				t.Errorf("body %s", r.Body)
			}
		})
	}
	var n int
	h.queryRow([]any{&n}, `SELECT count(*) FROM organizations`)
	if n != 0 {
		t.Errorf("%d organisations created by invalid requests", n)
	}
	h.do(nil, http.MethodPost, "/api/v1/orgs", map[string]any{"name": "A"}).must(t, 401)
}

func TestOrgSettings(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org := h.org("Alpha", owner)
	h.org("Beta", other)
	users := map[access.Role]*testUser{access.Owner: owner}
	for _, role := range []access.Role{access.Admin, access.Manager, access.Staff, access.Viewer, access.Inspector} {
		u := h.user(string(role))
		h.member(org, u, role)
		users[role] = u
	}
	path := "/api/v1/orgs/" + org

	var got domain.Organization
	h.do(users[access.Viewer], http.MethodGet, path, nil).must(t, 200).JSON(t, &got)
	if got.ID != org || got.Name != "Alpha" || got.MyRole != access.Viewer || got.Timezone != "UTC" || got.TrialEndsAt == nil {
		t.Fatalf("org %+v", got)
	}

	for _, role := range []access.Role{access.Manager, access.Staff, access.Viewer, access.Inspector} {
		r := h.do(users[role], http.MethodPatch, path, map[string]any{"name": "Hacked"}).must(t, 403)
		if r.ErrorCode() != "FORBIDDEN" {
			t.Errorf("%s: %s", role, r.Body)
		}
	}
	h.do(users[access.Admin], http.MethodPatch, path, map[string]any{
		"name": "Alpha Foods", "timezone": "America/New_York", "temp_unit": "F", "compliance_mode": "haccp",
	}).must(t, 200).JSON(t, &got)
	if got.Name != "Alpha Foods" || got.Timezone != "America/New_York" || got.TempUnit != "F" ||
		got.ComplianceMode != "haccp" || got.MyRole != access.Admin || !got.UpdatedAt.After(got.CreatedAt) {
		t.Fatalf("patched %+v", got)
	}
	// A partial patch leaves the other fields alone; an empty one changes nothing.
	h.do(owner, http.MethodPatch, path, map[string]any{"temp_unit": "C"}).must(t, 200).JSON(t, &got)
	if got.TempUnit != "C" || got.Name != "Alpha Foods" || got.ComplianceMode != "haccp" {
		t.Errorf("partial patch %+v", got)
	}
	h.do(owner, http.MethodPatch, path, map[string]any{}).must(t, 200)

	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"name": " "}, "name"},
		{map[string]any{"timezone": "Nowhere/City"}, "timezone"},
		{map[string]any{"temp_unit": "c"}, "temp_unit"},
		{map[string]any{"compliance_mode": "strict"}, "compliance_mode"},
		{map[string]any{"plan": "enterprise"}, ""},
		{map[string]any{"sensor_limit": 1000}, ""},
	} {
		r := h.do(owner, http.MethodPatch, path, tc.body).must(t, 400)
		if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) && tc.field != "" {
			t.Errorf("%v: %s", tc.body, r.Body)
		}
	}

	// Another tenant's organisation, or a malformed id, is not found.
	h.do(other, http.MethodGet, path, nil).must(t, 404)
	h.do(other, http.MethodPatch, path, map[string]any{"name": "x"}).must(t, 404)
	h.do(owner, http.MethodGet, "/api/v1/orgs/not-a-uuid", nil).must(t, 404)
	h.do(owner, http.MethodGet, "/api/v1/orgs/00000000-0000-0000-0000-000000000000", nil).must(t, 404)
}

func TestOrgTTNConnection(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	var created createOrgResponse
	h.do(owner, http.MethodPost, "/api/v1/orgs", map[string]any{"name": "Alpha"}).must(t, 201).JSON(t, &created)
	org := created.ID
	h.org("Beta", other)
	admin, manager := h.user("admin"), h.user("manager")
	h.member(org, admin, access.Admin)
	h.member(org, manager, access.Manager)
	path := "/api/v1/orgs/" + org + "/ttn-connection"
	old := created.TTN.WebhookSecret

	var conn domain.TTNConnection
	h.do(admin, http.MethodGet, path, nil).must(t, 200).JSON(t, &conn)
	if conn.ApplicationID != nil || conn.SecretLast4 != old[len(old)-4:] || !conn.IsActive ||
		conn.LastUplinkAt != nil || conn.WebhookHeader != "X-Webhook-Secret" || conn.SecretRotatedAt.IsZero() {
		t.Fatalf("conn %+v", conn)
	}
	if strings.Contains(string(h.do(admin, http.MethodGet, path, nil).Body), old) {
		t.Fatal("GET shows the secret")
	}
	h.do(manager, http.MethodGet, path, nil).must(t, 403)
	h.do(manager, http.MethodPost, path+"/rotate-secret", nil).must(t, 403)
	h.do(other, http.MethodGet, path, nil).must(t, 404)
	h.do(other, http.MethodPost, path+"/rotate-secret", nil).must(t, 404)

	var rotated rotateSecretResponse
	h.do(admin, http.MethodPost, path+"/rotate-secret", nil).must(t, 200).JSON(t, &rotated)
	secret := rotated.WebhookSecret
	if !strings.HasPrefix(secret, "fgttn_") || secret == old || rotated.SecretLast4 != secret[len(secret)-4:] ||
		rotated.ApplicationID != nil || !rotated.SecretRotatedAt.After(conn.SecretRotatedAt) {
		t.Fatalf("rotated %+v", rotated)
	}
	oldHash, newHash := sha256.Sum256([]byte(old)), sha256.Sum256([]byte(secret))
	var withOld, withNew int
	h.queryRow([]any{&withOld, &withNew}, `SELECT (SELECT count(*) FROM network_connections WHERE secret_hash = $1),
		(SELECT count(*) FROM network_connections WHERE secret_hash = $2 AND organization_id = $3)`, oldHash[:], newHash[:], org)
	if withOld != 0 || withNew != 1 {
		t.Errorf("old hash rows %d, new hash rows %d", withOld, withNew)
	}

	// An organisation without a connection (made by a fixture) has none to show.
	bare := h.org("Gamma", owner)
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+bare+"/ttn-connection", nil).must(t, 404)
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+bare+"/ttn-connection/rotate-secret", nil).must(t, 404)
}
