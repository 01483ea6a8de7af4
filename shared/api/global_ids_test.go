package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

// Registered sensors count against the plan whether or not they are
// installed in a unit: otherwise a trial organisation could register (and
// so hold) any number of DevEUIs, another customer's devices included.
func TestUnassignedSensorsCountAgainstThePlan(t *testing.T) {
	w := newSensorWorld(t)
	h := w.h
	h.exec(`UPDATE organizations SET sensor_limit = 2 WHERE id = $1`, w.orgA)
	first := w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "3000000000000001"})
	w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "3000000000000002"})
	res := h.do(w.manager, "POST", sensorsPath(w.orgA), map[string]any{"dev_eui": "3000000000000003"}).must(t, http.StatusForbidden)
	if res.ErrorCode() != "SENSOR_LIMIT_REACHED" || !strings.Contains(string(res.Body), "allows 2 sensors") {
		t.Fatalf("a third unassigned sensor: %s", res.Body)
	}
	var billing domain.BillingStatus
	h.do(w.owner, "GET", "/api/v1/orgs/"+w.orgA+"/billing", nil).must(t, http.StatusOK).JSON(t, &billing)
	if billing.SensorsUsed != 2 {
		t.Errorf("sensors_used %d, want the 2 unassigned ones", billing.SensorsUsed)
	}
	// Installing a registered sensor takes no new slot; removing one frees it.
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", first.ID), map[string]any{"unit_id": w.unitA.UnitID}).must(t, http.StatusOK)
	h.do(w.manager, "DELETE", sensorsPath(w.orgA, "/", first.ID), nil).must(t, http.StatusNoContent)
	w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "3000000000000003"})
}

// errorBody is an error answer without its request id (which differs).
func errorBody(t *testing.T, r response) string {
	t.Helper()
	var e map[string]map[string]any
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("not an error body: %s", r.Body)
	}
	delete(e["error"], "request_id")
	b, _ := json.Marshal(e)
	return string(b)
}

// A DevEUI is unique within an organisation, not across customers: another
// customer's registration neither blocks the caller's (no squatting on
// someone else's device) nor is revealed by a 409 (no oracle). Uplinks reach
// a sensor through the connection that delivered them, so the squatter's
// copy never receives the device's readings (shared/ingest
// TestUnknownDevicesAreOfferedNotMatchedAcrossTenants).
func TestDevEUIConflictDoesNotRevealAnotherCustomer(t *testing.T) {
	w := newSensorWorld(t)
	w.register(t, w.ownerB, w.orgB, map[string]any{"dev_eui": "70B3D57ED005A1B3"})
	w.register(t, w.owner, w.orgA, map[string]any{"dev_eui": "70-b3-d5-7e-d0-05-a1-b3"})
	// Only the caller's own registration conflicts, and says so.
	own := w.h.do(w.owner, "POST", sensorsPath(w.orgA), map[string]any{"dev_eui": "70B3D57ED005A1B3"}).must(t, http.StatusConflict)
	if body := errorBody(t, own); !strings.Contains(body, "this organization already has") {
		t.Errorf("own conflict: %s", body)
	}
}

// An organisation is created without binding any TTN application id: the
// id is bound only by PUT .../ttn-connection/credentials, after The Things
// Stack confirmed the key's rights on that application. A tenant can no
// longer squat on another customer's application at onboarding.
func TestApplicationIDIsBoundOnlyAfterTheRightsCheck(t *testing.T) {
	e := newTTNEnv(t)
	e.exec(`UPDATE network_connections SET application_id = NULL, updated_at = now() WHERE organization_id = $1`, e.orgID)
	mallory := e.user("mallory")
	e.do(mallory, "POST", "/api/v1/orgs", map[string]any{"name": "Squatter", "ttn_application_id": e.ttn.appID}).
		must(t, http.StatusBadRequest)
	var created createOrgResponse
	e.do(mallory, "POST", "/api/v1/orgs", map[string]any{"name": "Squatter"}).must(t, http.StatusCreated).JSON(t, &created)
	if created.TTN.ApplicationID != nil || created.TTN.WebhookSecret == "" {
		t.Errorf("a new organisation's connection: %+v", created.TTN)
	}
	var bound int
	e.queryRow([]any{&bound}, `SELECT count(*) FROM network_connections WHERE application_id IS NOT NULL`)
	if bound != 0 {
		t.Fatalf("%d application ids bound without a rights check", bound)
	}
	// The real owner connects it (the fake TTN confirms the rights).
	e.connect(t)
	// Someone else, even with a key TTN accepts, gets a 409 that names no
	// other customer.
	other := e.h2org(t)
	ownerB := e.user("owner-b")
	e.member(other, ownerB, access.Owner)
	res := e.do(ownerB, "PUT", "/api/v1/orgs/"+other+"/ttn-connection/credentials",
		map[string]any{"application_id": e.ttn.appID, "api_key": e.ttn.apiKey}).must(t, http.StatusConflict)
	for _, word := range []string{"organi", "another", "customer", "account"} {
		if strings.Contains(strings.ToLower(errorBody(t, res)), word) {
			t.Errorf("the conflict mentions %q: %s", word, res.Body)
		}
	}
}
