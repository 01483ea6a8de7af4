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
	"github.com/frostguard/functions/shared/testenv"
)

// signInAs is a token for a user known by its Stack Auth id (an imported
// user signs in with the id it had in the origin).
func (h *harness) signInAs(subject, email string) *testUser {
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
	rep, err := originimport.Run(ctx, testenv.Pool(h.db), o, originimport.Options{Orgs: []string{id("bistro"), id("harbor")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range rep.Organizations {
		if org.Status != "imported" {
			t.Fatalf("%s: %s %s", org.Name, org.Status, org.Error)
		}
	}

	f := sweepFixture{owner: h.signInAs(id("user/olivia"), "olivia@bistro.test"), viewer: h.signInAs(id("user/vera"), "vera@bistro.test"), other: h.user("other")}
	f.orgA = id("bistro")
	f.orgB = h.org("Beta", f.other)
	h.unit(f.orgB)
	// the organisation's own rows; the kinds the origin has none of
	// (assets, gateways, invitations) are created in it
	f.fill(h, unitFixture{SiteID: id("bistro/site/main"), AreaID: id("bistro/area/kitchen"), UnitID: id("bistro/unit/walkin")},
		map[string]string{"sensorId": id("bistro/device/walkin-probe"), "alertId": id("bistro/alert/escalated"),
			"memberId": id("bistro/role/olivia"), "contactId": id("bistro/contact/olivia"), "policyId": id("bistro/policy/org")})
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
