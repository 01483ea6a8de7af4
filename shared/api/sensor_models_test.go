package api

import (
	"net/http"
	"testing"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

type sensorModelList struct {
	Items    []domain.SensorModel `json:"items"`
	Defaults struct {
		Volts   float64 `json:"low_battery_volts"`
		Percent int     `json:"low_battery_percent"`
	} `json:"defaults"`
}

// Issue 14: battery thresholds are a setting per sensor model, with
// today's values (2.5 V, 10 %) as defaults, validated.
func TestSensorModelBatteryThresholds(t *testing.T) {
	h := newHarness(t)
	owner, manager := h.user("owner"), h.user("manager")
	org := h.org("Alpha", owner)
	h.member(org, manager, access.Manager)
	u := h.unit(org)
	h.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui, model) VALUES ($1, $2, 'A84041000181C001', 'Dragino LHT65'),
		($1, $2, 'A84041000181C002', ' dragino lht65 '), ($1, NULL, 'A84041000181C003', 'EM300-TH')`, org, u.UnitID)
	path := "/api/v1/orgs/" + org + "/sensor-models"

	var list sensorModelList
	h.do(manager, http.MethodGet, path, nil).must(t, 200).JSON(t, &list)
	if list.Defaults.Volts != 2.5 || list.Defaults.Percent != 10 || len(list.Items) != 2 ||
		list.Items[0].Model != "Dragino LHT65" || list.Items[0].Sensors != 2 || !list.Items[0].Default || list.Items[0].ID != nil ||
		list.Items[0].LowBatteryVolts != 2.5 || list.Items[1].Model != "EM300-TH" {
		t.Fatalf("defaults: %+v", list)
	}

	var saved domain.SensorModel
	h.do(manager, http.MethodPut, path, map[string]any{"model": "DRAGINO LHT65", "low_battery_volts": 2.9, "low_battery_percent": 20}).
		must(t, 200).JSON(t, &saved)
	if saved.ID == nil || saved.Sensors != 2 || saved.LowBatteryVolts != 2.9 || saved.LowBatteryPercent != 20 || saved.Default {
		t.Fatalf("saved %+v", saved)
	}
	h.do(manager, http.MethodGet, path, nil).must(t, 200).JSON(t, &list)
	if len(list.Items) != 2 || list.Items[0].LowBatteryVolts != 2.9 || list.Items[0].Default {
		t.Fatalf("after saving: %+v", list.Items)
	}

	for name, body := range map[string]map[string]any{
		"no model":        {"low_battery_volts": 2.9, "low_battery_percent": 20},
		"volts too high":  {"model": "X", "low_battery_volts": 4.6, "low_battery_percent": 20},
		"volts too low":   {"model": "X", "low_battery_volts": 0.9, "low_battery_percent": 20},
		"percent too low": {"model": "X", "low_battery_volts": 2.9, "low_battery_percent": 0},
		"percent too big": {"model": "X", "low_battery_volts": 2.9, "low_battery_percent": 81},
		"control chars":   {"model": "X\n", "low_battery_volts": 2.9, "low_battery_percent": 20},
	} {
		if r := h.do(manager, http.MethodPut, path, body); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}

	h.do(manager, http.MethodDelete, path+"/"+*saved.ID, nil).must(t, 204)
	h.do(manager, http.MethodDelete, path+"/"+*saved.ID, nil).must(t, 404)
	h.do(manager, http.MethodGet, path, nil).must(t, 200).JSON(t, &list)
	if !list.Items[0].Default || list.Items[0].LowBatteryVolts != 2.5 {
		t.Fatalf("after deleting: %+v", list.Items)
	}
}
