package api

import (
	"net/http"
	"testing"
)

// Every registered sensor holds a plan slot, whatever becomes of its unit:
// deleting the unit leaves the sensor registered (and counted); deleting the
// sensor frees the slot. Billing status and the limit check agree on it.
func TestRegisteredSensorsHoldTheirSlotsUntilRemoved(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Slots", owner)
	h.exec(`UPDATE organizations SET sensor_limit = 1 WHERE id = $1`, org)
	first, second := h.unit(org), h.unit(org)
	base := "/api/v1/orgs/" + org
	var created struct {
		ID string `json:"id"`
	}
	h.do(owner, http.MethodPost, base+"/sensors", map[string]any{"dev_eui": "70B3D57ED0000001", "unit_id": first.UnitID}).must(t, 201).JSON(t, &created)

	if r := h.do(owner, http.MethodPost, base+"/sensors", map[string]any{"dev_eui": "70B3D57ED0000002", "unit_id": second.UnitID}); r.Status != 403 || r.ErrorCode() != "SENSOR_LIMIT_REACHED" {
		t.Fatalf("over the limit: %d %s", r.Status, r.Body)
	}
	var billing struct {
		SensorsUsed int `json:"sensors_used"`
	}
	h.do(owner, http.MethodDelete, base+"/units/"+first.UnitID, nil).must(t, 204)
	h.do(owner, http.MethodGet, base+"/billing", nil).must(t, 200).JSON(t, &billing)
	if billing.SensorsUsed != 1 {
		t.Fatalf("after deleting the unit: sensors_used = %d, want 1 (the sensor is still registered)", billing.SensorsUsed)
	}
	h.do(owner, http.MethodPost, base+"/sensors", map[string]any{"dev_eui": "70B3D57ED0000002", "unit_id": second.UnitID}).must(t, 403)
	h.do(owner, http.MethodDelete, base+"/sensors/"+created.ID, nil).must(t, 204)
	h.do(owner, http.MethodGet, base+"/billing", nil).must(t, 200).JSON(t, &billing)
	if billing.SensorsUsed != 0 {
		t.Fatalf("after removing the sensor: sensors_used = %d, want 0", billing.SensorsUsed)
	}
	h.do(owner, http.MethodPost, base+"/sensors", map[string]any{"dev_eui": "70B3D57ED0000002", "unit_id": second.UnitID}).must(t, 201)
}
