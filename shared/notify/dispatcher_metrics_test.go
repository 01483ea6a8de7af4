package notify

import (
	"testing"
	"time"

	"github.com/frostguard/functions/shared/metrics"
)

// Sent, failed and the lag from due to send are metrics, by channel (the
// alarms "dispatch lag" and "notification failures" read them).
func TestDispatchOutcomesAreMetrics(t *testing.T) {
	captured := metrics.Capture(t)
	e := dspSetup(t, "UTC", nil)
	a := e.alert("warning", "active")
	e.rs.setRespond(func(string, int) (int, time.Duration) { return 422, 0 })
	e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550100"})
	e.row(dspRow{AlertID: a, Channel: "email", Recipient: "ops@example.com"})
	e.advance(3 * time.Minute) // both were due three minutes ago
	e.dispatch(Report{Claimed: 2, Sent: 1, Failed: 1})

	got := captured.Sums()
	if got["NotificationsSent|Channel=sms"] != 1 || got["NotificationsFailed|Channel=email|Reason=provider_refused"] != 1 {
		t.Errorf("outcomes %v", got)
	}
	if got["DispatchLag|Channel=sms"] < 180000 || got["DispatchLag|Channel=email"] < 180000 {
		t.Errorf("lag (ms) %v, want at least 3 minutes for each", got)
	}
}
