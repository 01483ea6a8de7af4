package ingest

import (
	"testing"
	"time"

	"github.com/frostguard/functions/shared/metrics"
)

func TestEveryUplinkOutcomeIsAMetric(t *testing.T) {
	f := newFixture(t)
	captured := metrics.Capture(t)
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "stored")
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "duplicate")
	f.post(uplink{At: f.now, FCnt: 2, Decoded: temp(3)}.body(), "X-Webhook-Secret", "fgttn_wrong")
	f.post(`{"end_device_ids":`)
	f.post(uplink{DevEUI: "A84041FFFF000001", At: f.now, FCnt: 3, Decoded: temp(3)}.body()).must(t, 202, "unclaimed")
	// Out of range for longer than confirm_seconds: an alert opens.
	f.post(uplink{At: f.now.Add(time.Minute), FCnt: 4, Decoded: temp(9)}.body()).must(t, 200, "stored")
	f.post(uplink{At: f.now.Add(12 * time.Minute), FCnt: 5, Decoded: temp(9)}.body()).must(t, 200, "stored")

	m := captured.Sums()
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
