package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/domain"
)

// A sensor's model takes the device repository's "<vendor>/<model>" id as the canonical form
// (free text keeps working); its probe setting must be one of its model's probes, checked
// against the model the sensor has after each change; GET /api/v1/sensor-models lists what the
// registry decodes.
func TestSensorModelIDsAndProbeSetting(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	sensors := "/api/v1/orgs/" + org + "/sensors"

	var canonical, free domain.Sensor
	h.do(owner, http.MethodPost, sensors, map[string]any{"dev_eui": "A840410000000101", "model": "Dragino/LHT65N", "probe": "external"}).
		must(t, 201).JSON(t, &canonical)
	if canonical.Model == nil || *canonical.Model != "dragino/lht65n" || canonical.ModelID == nil || *canonical.ModelID != "dragino/lht65n" ||
		canonical.Probe == nil || *canonical.Probe != "external" {
		t.Fatalf("canonical id: %+v", canonical)
	}
	h.do(owner, http.MethodPost, sensors, map[string]any{"dev_eui": "A840410000000102", "model": "Dragino LHT65 (walk-in)"}).
		must(t, 201).JSON(t, &free)
	if free.Model == nil || *free.Model != "Dragino LHT65 (walk-in)" || free.ModelID == nil || *free.ModelID != "dragino/lht65" || free.Probe != nil {
		t.Fatalf("free text: %+v", free)
	}
	var byDecoder domain.Sensor
	h.do(owner, http.MethodPost, sensors, map[string]any{"dev_eui": "A840410000000103", "decoder": "Milesight-IoT/EM500-PT100", "probe": "probe"}).
		must(t, 201).JSON(t, &byDecoder)
	if byDecoder.Decoder == nil || *byDecoder.Decoder != "milesight-iot/em500-pt100" || byDecoder.ModelID == nil {
		t.Fatalf("decoder id: %+v", byDecoder)
	}

	bad := h.do(owner, http.MethodPost, sensors, map[string]any{"dev_eui": "A840410000000104", "model": "dragino/lht65n", "probe": "probe3"})
	if bad.Status != 400 || !strings.Contains(string(bad.Body), `"probe"`) || !strings.Contains(string(bad.Body), "external") {
		t.Fatalf("a probe the model has not: %d %s", bad.Status, bad.Body)
	}

	// A new model keeps the probe setting only if it has that probe.
	one := sensors + "/" + canonical.ID
	moved := h.do(owner, http.MethodPatch, one, map[string]any{"model": "milesight-iot/em500-pt100"})
	if moved.Status != 400 || !strings.Contains(string(moved.Body), `"probe"`) {
		t.Fatalf("a model without the sensor's probe: %d %s", moved.Status, moved.Body)
	}
	var patched domain.Sensor
	h.do(owner, http.MethodPatch, one, map[string]any{"model": "milesight-iot/em500-pt100", "probe": "probe"}).must(t, 200).JSON(t, &patched)
	if *patched.Model != "milesight-iot/em500-pt100" || *patched.Probe != "probe" {
		t.Fatalf("patched %+v", patched)
	}
	h.do(owner, http.MethodPatch, one, map[string]any{"probe": nil}).must(t, 200).JSON(t, &patched)
	if patched.Probe != nil {
		t.Fatalf("probe not cleared: %+v", patched)
	}
	h.do(owner, http.MethodPatch, one, map[string]any{"probe": "Not A Probe"}).must(t, 400)

	var catalog struct {
		Items []supportedModel `json:"items"`
	}
	h.do(nil, http.MethodGet, "/api/v1/sensor-models", nil).must(t, 401)
	h.do(owner, http.MethodGet, "/api/v1/sensor-models", nil).must(t, 200).JSON(t, &catalog)
	var lht65n *supportedModel
	for i := range catalog.Items {
		if catalog.Items[i].ID == "dragino/lht65n" {
			lht65n = &catalog.Items[i]
		}
	}
	if len(catalog.Items) < 28 || lht65n == nil || len(lht65n.Probes) != 2 || lht65n.DefaultProbe == nil || *lht65n.DefaultProbe != "internal" ||
		lht65n.Probes[1].Name != "external" || lht65n.Probes[1].MinC == nil || *lht65n.Probes[1].MinC != -55 || lht65n.Probes[1].RangeSource == nil {
		t.Fatalf("%d models; LHT65N %+v", len(catalog.Items), lht65n)
	}
}
