package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/originimport"
	"github.com/frostguard/functions/shared/originimport/origintest"
)

// signIn is a token for a user known by its Stack Auth id (an imported
// user signs in with the id it had in the origin).
func (h *harness) signIn(subject, email string) *testUser {
	h.t.Helper()
	u := &testUser{Subject: subject, Email: email}
	tok, err := h.signer.Mint(auth.Identity{Subject: subject, Email: email}, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	u.Token = tok
	usr, err := h.db.EnsureUser(context.Background(), subject, email, "")
	if err != nil {
		h.t.Fatal(err)
	}
	u.ID = usr.ID
	return u
}

// An organisation imported from the origin passes the same access sweep as
// a native one (TestAccessSweep): its owner and viewer are the origin's
// people signing in with their Stack Auth ids, its ids are the origin's.
func TestAccessSweepImportedOrganisation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	origin := origintest.New(t, origintest.Live)
	if err := origintest.Fill(ctx, origin, origintest.Options{Now: time.Now(), Readings: 50}); err != nil {
		t.Fatal(err)
	}
	o, err := originimport.OpenOrigin(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close(ctx)
	id := origintest.ID
	rep, err := originimport.Run(ctx, h.db, o, originimport.Options{Orgs: []string{id("bistro"), id("harbor")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range rep.Organizations {
		if org.Status != "imported" {
			t.Fatalf("%s: %s %s", org.Name, org.Status, org.Error)
		}
	}

	f := sweepFixture{owner: h.signIn(id("user/olivia"), "olivia@bistro.test"), viewer: h.signIn(id("user/vera"), "vera@bistro.test"), other: h.user("other")}
	f.orgA = id("bistro")
	f.orgB = h.org("Beta", f.other)
	h.unit(f.orgB)
	var memberID, assetID, gatewayID string
	h.queryRow([]any{&memberID}, `SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2`, f.orgA, f.owner.ID)
	// resources the origin has none of, created in the imported organisation
	h.queryRow([]any{&assetID}, `INSERT INTO assets (organization_id, kind, entity_id, s3_key, content_type, size_bytes, status)
		VALUES ($1, 'unit_photo', $2, 'sweep/unit_photo/imported.png', 'image/png', 1024, 'ready') RETURNING id`, f.orgA, id("bistro/unit/walkin"))
	h.queryRow([]any{&gatewayID}, `INSERT INTO gateways (organization_id, site_id, gateway_id, gateway_eui, frequency_plan_id, cluster, provisioning_status)
		VALUES ($1, $2, 'imported-gw', 'B827EBFFFE000002', 'EU_863_870_TTN', 'eu1', 'registered') RETURNING id`, f.orgA, id("bistro/site/main"))
	f.ids = map[string]string{"siteId": id("bistro/site/main"), "areaId": id("bistro/area/kitchen"), "unitId": id("bistro/unit/walkin"),
		"sensorId": id("bistro/device/walkin-probe"), "alertId": id("bistro/alert/escalated"), "memberId": memberID,
		"contactId": id("bistro/contact/olivia"), "policyId": id("bistro/policy/org"), "assetId": assetID, "gatewayId": gatewayID}
	if m, ok := h.srvRole(f.orgA, f.viewer.ID); !ok || m != access.Viewer {
		t.Fatalf("vera is %q in the imported organisation", m)
	}

	// what the organisation's own people see
	var units struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	h.do(f.owner, http.MethodGet, "/api/v1/orgs/"+f.orgA+"/units", nil).must(t, http.StatusOK).JSON(t, &units)
	if len(units.Items) != 4 {
		t.Errorf("%d live units, want 4 (the bar fridge was deleted in the origin): %+v", len(units.Items), units)
	}
	from := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var readings struct {
		Items []map[string]any `json:"items"`
	}
	h.do(f.viewer, http.MethodGet, fmt.Sprintf("/api/v1/orgs/%s/units/%s/readings?from=%s&to=%s", f.orgA, id("bistro/unit/walkin"), from, to), nil).
		must(t, http.StatusOK).JSON(t, &readings)
	if len(readings.Items) == 0 {
		t.Error("the imported readings are not served")
	}
	h.do(f.owner, http.MethodGet, "/api/v1/orgs/"+f.orgA+"/alerts/"+id("bistro/alert/escalated"), nil).must(t, http.StatusOK)

	accessSweep(t, h, f)
}

// srvRole is the user's role in the organisation as the api resolves it.
func (h *harness) srvRole(orgID, userID string) (access.Role, bool) {
	r, err := h.db.RoleIn(context.Background(), orgID, userID)
	return r, err == nil
}
