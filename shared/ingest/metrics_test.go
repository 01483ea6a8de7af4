package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/metrics"
)

// captureMetrics collects the EMF lines emitted while the test runs.
func captureMetrics(t *testing.T) func() map[string]float64 {
	t.Helper()
	var buf bytes.Buffer
	metrics.Setup("ttn-webhook", "test", &buf)
	t.Cleanup(func() { metrics.Setup("local", "local", io.Discard) })
	// name|dim=value... -> sum
	return func() map[string]float64 {
		out := map[string]float64{}
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var root map[string]any
			if err := json.Unmarshal([]byte(line), &root); err != nil {
				t.Fatalf("not a JSON line: %s", line)
			}
			aws := root["_aws"].(map[string]any)
			d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
			sets := d["Dimensions"].([]any)
			detail := sets[len(sets)-1].([]any)
			for _, m := range d["Metrics"].([]any) {
				name := m.(map[string]any)["Name"].(string)
				key := name
				for _, k := range detail[1:] {
					key += "|" + k.(string) + "=" + root[k.(string)].(string)
				}
				out[key] += root[name].(float64)
			}
		}
		return out
	}
}

func TestEveryUplinkOutcomeIsAMetric(t *testing.T) {
	f := newFixture(t)
	got := captureMetrics(t)
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "stored")
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "duplicate")
	f.post(uplink{At: f.now, FCnt: 2, Decoded: temp(3)}.body(), "X-Webhook-Secret", "fgttn_wrong")
	f.post(`{"end_device_ids":`)
	f.post(uplink{DevEUI: "A84041FFFF000001", At: f.now, FCnt: 3, Decoded: temp(3)}.body()).must(t, 202, "unclaimed")
	// Out of range for longer than confirm_seconds: an alert opens.
	f.post(uplink{At: f.now.Add(time.Minute), FCnt: 4, Decoded: temp(9)}.body()).must(t, 200, "stored")
	f.post(uplink{At: f.now.Add(12 * time.Minute), FCnt: 5, Decoded: temp(9)}.body()).must(t, 200, "stored")

	m := got()
	for key, want := range map[string]float64{
		"UplinksStored|Network=ttn":                           3,
		"Readings|Network=ttn":                                3,
		"UplinksDuplicate|Network=ttn":                        1,
		"UplinksRejected|Network=ttn|Reason=bad_secret":       1,
		"UplinksRejected|Network=ttn|Reason=invalid_argument": 1,
		"WebhookVerificationFailures|Provider=ttn":            1,
		"UplinksUnclaimed|Network=ttn|Reason=unclaimed":       1,
		"AlertsOpened|Type=temp_excursion|Severity=critical":  1,
	} {
		if m[key] != want {
			t.Errorf("%s = %v, want %v (all: %v)", key, m[key], want, m)
		}
	}
}
