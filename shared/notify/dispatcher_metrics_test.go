package notify

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/metrics"
)

// Sent, failed and the lag from due to send are metrics, by channel (the
// alarms "dispatch lag" and "notification failures" read them).
func TestDispatchOutcomesAreMetrics(t *testing.T) {
	var buf bytes.Buffer
	metrics.Setup("alert-sweeper", "test", &buf)
	t.Cleanup(func() { metrics.Setup("local", "local", io.Discard) })
	e := dspSetup(t, "UTC", nil)
	a := e.alert("warning", "active")
	e.rs.setRespond(func(string, int) (int, time.Duration) { return 422, 0 })
	e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550100"})
	e.row(dspRow{AlertID: a, Channel: "email", Recipient: "ops@example.com"})
	e.advance(3 * time.Minute) // both were due three minutes ago
	e.dispatch(Report{Claimed: 2, Sent: 1, Failed: 1})

	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var root map[string]any
		if err := json.Unmarshal([]byte(line), &root); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		for _, name := range []string{metrics.NotificationsSent, metrics.NotificationsFailed, metrics.DispatchLag} {
			if v, ok := root[name].(float64); ok {
				key := name + "|" + root["Channel"].(string)
				if r, ok := root["Reason"].(string); ok {
					key += "|" + r
				}
				got[key] += v
			}
		}
	}
	if got["NotificationsSent|sms"] != 1 || got["NotificationsFailed|email|provider_refused"] != 1 {
		t.Errorf("outcomes %v", got)
	}
	if got["DispatchLag|sms"] < 180000 || got["DispatchLag|email"] < 180000 {
		t.Errorf("lag (ms) %v, want at least 3 minutes for each", got)
	}
}
