package sweep

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/testenv"
)

// openAlert inserts an active alert triggered at t0 whose first step is due.
func (f *fixture) openAlert(typ string) string {
	f.t.Helper()
	var id string
	f.row([]any{&id}, `INSERT INTO alerts (organization_id, unit_id, type, severity, title, triggered_at, temperature_c, limit_c, next_escalation_at)
		VALUES ($1, $2, $3, 'critical', 'Too warm', $4, 9.5, 5, $4) RETURNING id`, f.org, f.unit, typ, f.t0)
	return id
}

type sent struct {
	Step      int
	Recipient string
}

func (f *fixture) sent(alertID string) []sent {
	f.t.Helper()
	rows, err := testenv.Pool(f.db).Query(context.Background(), `SELECT escalation_step, recipient FROM notifications
		WHERE alert_id = $1 AND kind = 'alert' ORDER BY escalation_step, recipient`, alertID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []sent
	for rows.Next() {
		var s sent
		if err := rows.Scan(&s.Step, &s.Recipient); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestEscalationStepsFireInOrderAndNeverResolve(t *testing.T) {
	f := newFixture(t)
	f.policy(step(0, sms, f.alice), step(10, sms, f.bob), step(30, []string{"sms", "email"}, f.alice, f.bob))
	id := f.openAlert("temp_excursion")
	checks := []struct {
		at   time.Duration
		rows int
		step int
		next time.Duration // 0: none
	}{
		{0, 1, 1, 10 * time.Minute},
		{9 * time.Minute, 1, 1, 10 * time.Minute},
		{10 * time.Minute, 2, 2, 30 * time.Minute},
		{29 * time.Minute, 2, 2, 30 * time.Minute},
		{31 * time.Minute, 5, 3, 0}, // alice sms + email, bob sms (no e-mail address)
		{5 * time.Hour, 5, 3, 0},
	}
	for _, c := range checks {
		f.at(c.at)
		f.run("escalation")
		f.run("escalation")
		a, _ := f.alert("temp_excursion")
		got := f.sent(id)
		if len(got) != c.rows || a.Step != c.step {
			t.Fatalf("at %v: %d rows, step %d; want %d, %d: %+v", c.at, len(got), a.Step, c.rows, c.step, got)
		}
		if (c.next == 0) != (a.Next == nil) || (a.Next != nil && !a.Next.Equal(f.t0.Add(c.next))) {
			t.Fatalf("at %v: next %v, want t0+%v", c.at, a.Next, c.next)
		}
		if a.Status != "active" {
			t.Fatalf("at %v: status %s: running out of steps must never resolve", c.at, a.Status)
		}
	}
	want := []sent{{0, "+15555550101"}, {1, "+15555550102"}, {2, "+15555550101"}, {2, "+15555550102"}, {2, "alice@example.test"}}
	for i, s := range f.sent(id) {
		if s != want[i] {
			t.Fatalf("row %d: %+v, want %+v", i, s, want[i])
		}
	}
	var body string
	f.row([]any{&body}, `SELECT body FROM notifications WHERE alert_id = $1 AND channel = 'sms' AND escalation_step = 1`, id)
	if want := "Main St / Walk-in"; !contains(body, want) || !contains(body, "ACK ") {
		t.Fatalf("sms body %q", body)
	}
	if n := f.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'escalated'`, id); n != 3 {
		t.Fatalf("%d escalated events, want 3", n)
	}
}

func TestEscalationStopsWhenAcknowledged(t *testing.T) {
	f := newFixture(t)
	f.policy(step(0, sms, f.alice), step(10, sms, f.bob))
	id := f.openAlert("temp_excursion")
	f.run("escalation")
	f.exec(`UPDATE alerts SET status = 'acknowledged', acknowledged_at = $2 WHERE id = $1`, id, f.t0.Add(time.Minute))
	f.at(time.Hour)
	f.run("escalation")
	if got := f.sent(id); len(got) != 1 {
		t.Fatalf("%d rows after acknowledging, want only step 0", len(got))
	}
}

func TestEscalationRepeatsTheLastStep(t *testing.T) {
	f := newFixture(t)
	last := step(10, sms, f.bob)
	last.Repeat = true
	f.policy(step(0, sms, f.alice), last)
	id := f.openAlert("temp_excursion")
	for _, m := range []int{0, 10, 20, 30} {
		f.at(time.Duration(m) * time.Minute)
		f.run("escalation")
	}
	if got := f.sent(id); len(got) != 4 || got[3].Step != 3 {
		t.Fatalf("after 30 min: %+v, want steps 0..3", got)
	}
	// Away for hours: the missed repeats collapse into one, and repeats stop
	// after MaxRepeats.
	f.at(10 * time.Hour)
	f.run("escalation")
	got := f.sent(id)
	if len(got) != 5 || got[4].Step != 1+alerting.MaxRepeats {
		t.Fatalf("after 10 h: %+v, want one more row, step %d", got, 1+alerting.MaxRepeats)
	}
	if a, _ := f.alert("temp_excursion"); a.Next != nil || a.Status != "active" {
		t.Fatalf("after the last repeat: %+v", a)
	}
}

// Two sweeps at once page each step of each alert exactly once.
func TestEscalationConcurrentSweeps(t *testing.T) {
	f := newFixture(t)
	f.policy(step(0, []string{"sms", "email"}, f.alice, f.bob), step(5, sms, f.bob))
	var ids []string
	for i := 0; i < 20; i++ {
		var unit string
		f.row([]any{&unit}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
			SELECT organization_id, site_id, area_id, 'U' || $2::int, 0, 5 FROM units WHERE id = $1 RETURNING id`, f.unit, i)
		var id string
		f.row([]any{&id}, `INSERT INTO alerts (organization_id, unit_id, type, severity, title, triggered_at, next_escalation_at)
			VALUES ($1, $2, 'temp_excursion', 'critical', 'Too warm', $3, $3) RETURNING id`, f.org, unit, f.t0)
		ids = append(ids, id)
	}
	f.at(6 * time.Minute)
	tasks := Tasks(f.db, func() time.Time { return f.now }, "", nil)
	var esc Task
	for _, tk := range tasks {
		if tk.Name == "escalation" {
			esc = tk
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- esc.Run(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.count(`SELECT count(*) FROM notifications`); n != 20*4 {
		t.Fatalf("%d notifications, want %d (3 rows of step 0 + 1 of step 1 per alert)", n, 20*4)
	}
	if n := f.count(`SELECT count(*) FROM alert_events WHERE kind = 'escalated'`); n != 20 {
		t.Fatalf("%d escalated events, want one per alert", n)
	}
	if n := f.count(`SELECT count(*) FROM alerts WHERE escalation_step = 2 AND next_escalation_at IS NULL`); n != 20 {
		t.Fatalf("%d alerts fully escalated, want 20", n)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
