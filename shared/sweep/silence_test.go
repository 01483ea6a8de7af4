package sweep

import (
	"strings"
	"testing"
	"time"
)

func (f *fixture) silence(from, until time.Duration) {
	f.t.Helper()
	f.exec(`INSERT INTO unit_silences (organization_id, unit_id, reason, starts_at, ends_at) VALUES ($1, $2, 'cleaning', $3, $4)`,
		f.org, f.unit, f.t0.Add(from), f.t0.Add(until))
}

// Issue 14: while a unit is silenced its alerts still open, but paging
// waits for the silence's end; then the first step goes out, saying it was
// held, and the later steps follow at their delays from then.
func TestSilenceHoldsTheOpeningPageUntilItEnds(t *testing.T) {
	f := newFixture(t)
	f.policy(step(0, sms, f.alice), step(10, sms, f.bob))
	f.temperatureAt(f.t0)
	f.silence(0, 30*time.Minute)
	f.at(6 * time.Minute)
	f.run("checkins")
	a, ok := f.alert("monitoring_interrupted")
	if !ok || a.Status != "active" || a.Step != 0 || a.Next == nil || !a.Next.Equal(f.t0.Add(30*time.Minute)) {
		t.Fatalf("opened while silenced: %+v %v", a, ok)
	}
	if n := f.count(`SELECT count(*) FROM notifications`); n != 0 {
		t.Fatalf("%d messages queued during the silence", n)
	}
	f.at(20 * time.Minute)
	f.run("escalation")
	if n := f.count(`SELECT count(*) FROM notifications`); n != 0 {
		t.Fatal("escalated during the silence")
	}
	f.at(30 * time.Minute)
	f.run("escalation")
	got := f.sent(a.ID)
	if len(got) != 1 || got[0].Recipient != "+15555550101" {
		t.Fatalf("at the silence's end: %+v, want alice's first step only", got)
	}
	var body string
	f.row([]any{&body}, `SELECT body FROM notifications WHERE alert_id = $1`, a.ID)
	if !strings.Contains(body, "Silenced for cleaning until") {
		t.Fatalf("the page does not say it was held: %q", body)
	}
	f.at(40 * time.Minute)
	f.run("escalation")
	if got := f.sent(a.ID); len(got) != 2 || got[1].Recipient != "+15555550102" {
		t.Fatalf("second step 10 min after the silence: %+v", got)
	}
}

// An alert already paging when the silence starts: its next step waits for
// the end (a paging_held event says so), then goes out.
func TestSilenceHoldsEscalationOfAnOpenAlert(t *testing.T) {
	f := newFixture(t)
	f.policy(step(0, sms, f.alice), step(10, sms, f.bob))
	id := f.openAlert("temp_excursion")
	f.at(0)
	f.run("escalation")
	if got := f.sent(id); len(got) != 1 {
		t.Fatalf("step 0: %+v", got)
	}
	f.silence(5*time.Minute, 25*time.Minute)
	f.at(10 * time.Minute)
	f.run("escalation")
	if got := f.sent(id); len(got) != 1 {
		t.Fatalf("escalated during the silence: %+v", got)
	}
	if n := f.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'paging_held'`, id); n != 1 {
		t.Fatalf("%d paging_held events", n)
	}
	f.at(25 * time.Minute)
	f.run("escalation")
	if got := f.sent(id); len(got) != 2 || got[1].Recipient != "+15555550102" {
		t.Fatalf("after the silence: %+v", got)
	}
}
