package sweep

import (
	"testing"
	"time"
)

// TestVoicePagesAndBackToNormalBySMS: a step with voice queues one call per
// contact's phone (queued, with the step's redials and the alarm's words);
// when the alert resolves, whoever a call reached hears
// "back to normal" by SMS (not woken by a second call), and a contact no
// call reached hears nothing.
func TestVoicePagesAndBackToNormalBySMS(t *testing.T) {
	f := newFixture(t)
	s := step(0, []string{"voice"}, f.alice, f.bob)
	retries, minutes := 1, 4
	s.VoiceRetries, s.VoiceRetryMinutes = &retries, &minutes
	f.policy(s)
	f.temperatureAt(f.t0)
	f.at(5*time.Minute + 30*time.Second)
	f.run("checkins")
	a, ok := f.alert("monitoring_interrupted")
	if !ok {
		t.Fatal("no alert")
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND channel = 'voice' AND call_state = 'queued'
		AND redials_left = 1 AND redial_after_seconds = 240 AND body LIKE 'FrostGuard warning alarm.%'`, a.ID); n != 2 {
		t.Fatalf("%d calls queued, want one per contact with a phone", n)
	}
	// Alice's call was answered, Bob's was not.
	f.exec(`UPDATE notifications SET status = 'delivered', call_state = 'answered' WHERE alert_id = $1 AND contact_id = $2`, a.ID, f.alice)
	f.exec(`UPDATE notifications SET status = 'failed', call_state = 'no_answer' WHERE alert_id = $1 AND contact_id = $2`, a.ID, f.bob)
	f.temperatureAt(f.now)
	f.at(6 * time.Minute)
	f.run("checkins")
	if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND kind = 'resolved' AND channel = 'sms'
		AND contact_id = $2 AND body LIKE 'FrostGuard RESOLVED%'`, a.ID, f.alice); n != 1 {
		t.Fatalf("%d back-to-normal texts to the contact who answered", n)
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND kind = 'resolved' AND (channel = 'voice' OR contact_id = $2)`, a.ID, f.bob); n != 0 {
		t.Fatalf("%d back-to-normal pages by call or to the contact no call reached", n)
	}
}
