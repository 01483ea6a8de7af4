package sweep

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/testenv"
)

func TestMissedCheckins(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	last := t0
	iv := 5 * time.Minute
	cases := []struct {
		name    string
		last    *time.Time
		since   time.Time
		now     time.Duration
		missed  int
		dueFrom time.Duration // due - t0
	}{
		{"fresh", &last, t0, 4 * time.Minute, 0, 0},
		{"one interval, inside the grace", &last, t0, 5*time.Minute + 29*time.Second, 0, 0},
		{"one interval and the grace", &last, t0, 5*time.Minute + 30*time.Second, 1, 5*time.Minute + 30*time.Second},
		{"four", &last, t0, 20*time.Minute + 31*time.Second, 4, 5*time.Minute + 30*time.Second},
		{"five", &last, t0, 25*time.Minute + 30*time.Second, 5, 5*time.Minute + 30*time.Second},
		{"never, inside the grace", nil, t0, 10*time.Minute + 29*time.Second, 0, 0},
		{"never, grace over", nil, t0, 10*time.Minute + 30*time.Second, 1, 10*time.Minute + 30*time.Second},
		{"never, long", nil, t0, 30*time.Minute + 30*time.Second, 5, 10*time.Minute + 30*time.Second},
		{"clock behind the reading", &last, t0, -time.Minute, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			missed, due := MissedCheckins(c.last, c.since, iv, t0.Add(c.now))
			if missed != c.missed {
				t.Fatalf("missed %d, want %d", missed, c.missed)
			}
			if missed > 0 && !due.Equal(t0.Add(c.dueFrom)) {
				t.Fatalf("due %v, want t0+%v", due, c.dueFrom)
			}
		})
	}
	if m, _ := MissedCheckins(&last, t0, 0, t0.Add(time.Hour)); m != 0 {
		t.Fatal("a zero interval must not divide by zero")
	}
}

func TestCheckinsWarnThenCriticalThenResolve(t *testing.T) {
	f := newFixture(t)
	f.policy(step(0, []string{"sms", "email"}, f.alice))
	f.temperatureAt(f.t0)

	f.at(5*time.Minute + 29*time.Second)
	f.run("checkins")
	if _, ok := f.alert("monitoring_interrupted"); ok {
		t.Fatal("alert inside the grace period")
	}

	f.at(5*time.Minute + 30*time.Second)
	f.run("checkins")
	f.run("checkins") // a second sweep changes nothing
	a, ok := f.alert("monitoring_interrupted")
	if !ok || a.Severity != "warning" || a.Status != "active" || !a.Triggered.Equal(f.t0.Add(5*time.Minute+30*time.Second)) {
		t.Fatalf("after one missed check-in: %+v (found %v)", a, ok)
	}
	if s := f.unitStatus(); s != "offline" {
		t.Fatalf("unit %s, want offline", s)
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND kind = 'alert' AND escalation_step = 0`, a.ID); n != 2 {
		t.Fatalf("%d step-0 notifications, want sms + email", n)
	}
	if n := f.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'opened'`, a.ID); n != 1 {
		t.Fatalf("%d opened events", n)
	}

	f.at(25*time.Minute + 30*time.Second)
	f.run("checkins")
	f.run("checkins")
	a2, _ := f.alert("monitoring_interrupted")
	if a2.ID != a.ID || a2.Severity != "critical" {
		t.Fatalf("after five: %+v, want the same alert, critical", a2)
	}
	if s := f.unitStatus(); s != "monitoring_interrupted" {
		t.Fatalf("unit %s", s)
	}
	if n := f.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'severity_changed'`, a.ID); n != 1 {
		t.Fatalf("%d severity_changed events, want 1", n)
	}

	// A reading came back (the ingest missed resolving it): resolved, and
	// "back to normal" goes to whoever was paged.
	f.temperatureAt(f.now)
	f.at(26 * time.Minute)
	f.run("checkins")
	a3, _ := f.alert("monitoring_interrupted")
	if a3.Status != "resolved" {
		t.Fatalf("after a fresh reading: %+v", a3)
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND kind = 'resolved'`, a.ID); n != 2 {
		t.Fatalf("%d resolved notifications, want 2", n)
	}
}

// Issue 20: a unit's offline multiplier (its effective alert rule) lets it
// miss that many check-ins before it is offline; monitoring is interrupted
// at five missed, or at the multiplier when higher. The candidate query
// selects the unit exactly when the rule has something to do.
func TestCheckinsOfflineMultiplier(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE units SET offline_multiplier = 3 WHERE id = $1`, f.unit)
	f.temperatureAt(f.t0)

	f.at(10*time.Minute + 30*time.Second) // two missed
	f.run("checkins")
	if _, ok := f.alert("monitoring_interrupted"); ok || f.unitStatus() != "ok" {
		t.Fatalf("offline after two missed check-ins with a multiplier of 3 (%s)", f.unitStatus())
	}
	f.at(15*time.Minute + 30*time.Second) // three missed
	f.run("checkins")
	a, ok := f.alert("monitoring_interrupted")
	if !ok || a.Severity != "warning" || !a.Triggered.Equal(f.t0.Add(15*time.Minute+30*time.Second)) || f.unitStatus() != "offline" {
		t.Fatalf("after three missed: %+v (found %v), unit %s", a, ok, f.unitStatus())
	}
	f.at(25*time.Minute + 30*time.Second) // five missed: interrupted
	f.run("checkins")
	if a, _ := f.alert("monitoring_interrupted"); a.Severity != "critical" || f.unitStatus() != "monitoring_interrupted" {
		t.Fatalf("after five missed: %+v, unit %s", a, f.unitStatus())
	}

	// A multiplier above five moves the critical step with it.
	g := newFixture(t)
	g.exec(`UPDATE units SET offline_multiplier = 8 WHERE id = $1`, g.unit)
	g.temperatureAt(g.t0)
	g.at(35*time.Minute + 30*time.Second) // seven missed
	g.run("checkins")
	if _, ok := g.alert("monitoring_interrupted"); ok {
		t.Fatal("offline after seven missed check-ins with a multiplier of 8")
	}
	g.at(40*time.Minute + 30*time.Second) // eight: interrupted at once
	g.run("checkins")
	if a, ok := g.alert("monitoring_interrupted"); !ok || a.Severity != "critical" || g.unitStatus() != "monitoring_interrupted" {
		t.Fatalf("after eight missed: %+v (found %v), unit %s", a, ok, g.unitStatus())
	}
}

func TestCheckinLevel(t *testing.T) {
	for _, c := range []struct {
		missed, after int
		want          string
	}{
		{0, 1, ""}, {1, 1, "offline"}, {4, 1, "offline"}, {5, 1, "monitoring_interrupted"},
		{2, 3, ""}, {3, 3, "offline"}, {5, 3, "monitoring_interrupted"},
		{7, 8, ""}, {8, 8, "monitoring_interrupted"}, {1, 0, "offline"},
	} {
		if _, got := CheckinLevel(c.missed, c.after); got != c.want {
			t.Errorf("CheckinLevel(%d, %d) = %q, want %q", c.missed, c.after, got, c.want)
		}
	}
}

func TestCheckinsNeverReported(t *testing.T) {
	f := newFixture(t)
	// The sensor was assigned just now: the grace runs from here.
	f.exec(`UPDATE sensors SET updated_at = $2 WHERE id = $1`, f.senID, f.t0)
	f.at(10*time.Minute + 29*time.Second)
	f.run("checkins")
	if _, ok := f.alert("monitoring_interrupted"); ok {
		t.Fatal("flagged before the grace period")
	}
	f.at(10*time.Minute + 30*time.Second)
	f.run("checkins")
	a, ok := f.alert("monitoring_interrupted")
	if !ok || a.Severity != "warning" {
		t.Fatalf("never reported after the grace: %+v %v", a, ok)
	}
	// No policy: the alert is open, nobody is paged, nothing to escalate.
	if n := f.count(`SELECT count(*) FROM notifications`); n != 0 || a.Next != nil {
		t.Fatalf("%d notifications, next %v", n, a.Next)
	}
}

func TestCheckinsIgnoreUnitsWithoutSensor(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE sensors SET deleted_at = $2 WHERE id = $1`, f.senID, f.t0)
	f.at(time.Hour)
	f.run("checkins")
	if _, ok := f.alert("monitoring_interrupted"); ok {
		t.Fatal("a unit without a sensor is not expected to report")
	}
}

// TestResolveHonoursNotifyOnResolve: a policy that turned "back to normal"
// off resolves its alerts silently; a unit-level policy that keeps it on
// overrides the organisation's.
func TestResolveHonoursNotifyOnResolve(t *testing.T) {
	for _, tc := range []struct {
		name      string
		unitLevel bool // a unit policy with notify_on_resolve on
		want      int
	}{{"org policy off", false, 0}, {"unit policy on overrides", true, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.policy(step(0, []string{"sms"}, f.alice))
			f.exec(`UPDATE notification_policies SET notify_on_resolve = false WHERE organization_id = $1`, f.org)
			if tc.unitLevel {
				f.exec(`INSERT INTO notification_policies (organization_id, unit_id, steps, notify_on_resolve)
					SELECT organization_id, $2, steps, true FROM notification_policies WHERE organization_id = $1`, f.org, f.unit)
			}
			f.temperatureAt(f.t0)
			f.at(5*time.Minute + 30*time.Second)
			f.run("checkins")
			a, ok := f.alert("monitoring_interrupted")
			if !ok {
				t.Fatal("no alert after a missed check-in")
			}
			f.temperatureAt(f.now)
			f.at(6 * time.Minute)
			f.run("checkins")
			if a2, _ := f.alert("monitoring_interrupted"); a2.Status != "resolved" {
				t.Fatalf("not resolved: %+v", a2)
			}
			if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND kind = 'resolved'`, a.ID); n != tc.want {
				t.Errorf("%d back-to-normal messages, want %d", n, tc.want)
			}
		})
	}
}

// The issue: candidates were the first 500 units by id, and units that
// already had their alert kept coming back, so in a large outage the units
// after the first 500 were never alerted. 5,000 offline units: a run cut
// short handles some, the next run the rest (nothing
// already handled is picked again), and every unit ends with exactly one
// alert.
func TestCheckinsFairWithFiveThousandOfflineUnits(t *testing.T) {
	f := newFixture(t)
	const n = 5000
	f.exec(`WITH u AS (
			INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, created_at, last_reading_at)
			SELECT $1, $2, (SELECT id FROM areas WHERE site_id = $2), 'Unit ' || g, 0, 5, $3, $3
			FROM generate_series(1, $4) g RETURNING id, name)
		INSERT INTO sensors (organization_id, unit_id, dev_eui, created_at, updated_at)
		SELECT $1, u.id, upper(lpad(to_hex(row_number() OVER ()), 16, '0')), $3, $3 FROM u`,
		f.org, f.site, f.t0.Add(-2*time.Hour), n)
	f.at(0)
	offline := func() int {
		return f.count(`SELECT count(*) FROM alerts WHERE type = 'monitoring_interrupted' AND status = 'active'`)
	}

	// The first run is cut short (as a deadline would) once 300 units have
	// their alert.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			var k int
			_ = testenv.Pool(f.db).QueryRow(ctx, `SELECT count(*) FROM alerts WHERE type = 'monitoring_interrupted'`).Scan(&k)
			if k >= 300 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := checkins.run(ctx, f.db, f.now, "https://app.test", realtime.Off{})
	cancel()
	first := offline()
	if !errors.Is(err, context.Canceled) || first < 300 || first >= n+1 {
		t.Fatalf("a run cut short: err %v, %d alerts", err, first)
	}
	changed, err := checkins.run(context.Background(), f.db, f.now, "https://app.test", realtime.Off{})
	if err != nil {
		t.Fatal(err)
	}
	// (A unit whose commit was in flight when the run was cut may land
	// just after first was counted.)
	if got := offline(); got != n+1 || changed > n+1-first || changed < n+1-first-10 {
		t.Fatalf("after the second run: %d alerts (%d changed), want %d: the run must continue where the first stopped", got, changed, n+1)
	}
	if dup := f.count(`SELECT count(*) FROM (SELECT unit_id FROM alerts GROUP BY unit_id HAVING count(*) > 1) d`); dup != 0 {
		t.Fatalf("%d units with more than one alert", dup)
	}
	if again, err := checkins.run(context.Background(), f.db, f.now, "https://app.test", realtime.Off{}); err != nil || again != 0 {
		t.Fatalf("a third run changed %d units (%v): handled units must not be picked again", again, err)
	}
}

// Issue 20: an organisation its operators suspended (writes refused in the
// api) still has its units watched and its alarms paged.
func TestSuspendedOrganisationStillPages(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE organizations SET suspended_at = now(), suspended_reason = 'Chargeback' WHERE id = $1`, f.org)
	f.policy(step(0, []string{"sms"}, f.alice))
	f.temperatureAt(f.t0)
	f.at(5*time.Minute + 30*time.Second)
	f.run("checkins")
	a, ok := f.alert("monitoring_interrupted")
	if !ok {
		t.Fatal("no alert for a suspended organisation's silent unit")
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND kind = 'alert'`, a.ID); n != 1 {
		t.Fatalf("%d pages, want 1", n)
	}
}
