package sweep

import (
	"testing"
	"time"
)

// The door clock runs from the real open transition: uplinks repeating
// "open" (last_reading_at moving, door_changed_at not) do not restart it.
func TestDoorOpenWarningCriticalResolved(t *testing.T) {
	f := newFixture(t)
	f.policy(step(0, sms, f.alice))
	f.exec(`UPDATE units SET door_open = true, door_changed_at = $2, last_reading_at = $2 WHERE id = $1`, f.unit, f.t0)
	uplink := func() { f.exec(`UPDATE units SET last_reading_at = $2 WHERE id = $1`, f.unit, f.now) }

	f.at(4*time.Minute + 59*time.Second)
	uplink()
	f.run("doors")
	if _, ok := f.alert("door_open"); ok {
		t.Fatal("alert before 5 minutes")
	}
	f.at(5 * time.Minute)
	uplink()
	f.run("doors")
	f.run("doors")
	a, ok := f.alert("door_open")
	if !ok || a.Severity != "warning" || !a.Triggered.Equal(f.t0.Add(5*time.Minute)) {
		t.Fatalf("at 5 min: %+v %v", a, ok)
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1`, a.ID); n != 1 {
		t.Fatalf("%d notifications, want 1", n)
	}
	f.at(14*time.Minute + 59*time.Second)
	uplink()
	f.run("doors")
	if a, _ := f.alert("door_open"); a.Severity != "warning" {
		t.Fatalf("at 14:59: %s", a.Severity)
	}
	f.at(15 * time.Minute)
	f.run("doors")
	f.run("doors")
	if a2, _ := f.alert("door_open"); a2.ID != a.ID || a2.Severity != "critical" {
		t.Fatalf("at 15 min: %+v", a2)
	}
	if n := f.count(`SELECT count(*) FROM alerts WHERE unit_id = $1`, f.unit); n != 1 {
		t.Fatalf("%d alerts, want 1", n)
	}

	// Closed: resolved at the closing time, "back to normal" sent.
	f.exec(`UPDATE units SET door_open = false, door_changed_at = $2 WHERE id = $1`, f.unit, f.t0.Add(16*time.Minute))
	f.at(17 * time.Minute)
	f.run("doors")
	var status, resolution string
	var resolvedAt time.Time
	f.row([]any{&status, &resolution, &resolvedAt}, `SELECT status, resolution, resolved_at FROM alerts WHERE id = $1`, a.ID)
	if status != "resolved" || resolution != "auto" || !resolvedAt.Equal(f.t0.Add(16*time.Minute)) {
		t.Fatalf("after closing: %s %s %v", status, resolution, resolvedAt)
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND kind = 'resolved'`, a.ID); n != 1 {
		t.Fatalf("%d resolved notifications", n)
	}
}

// Open long ago (the sweeper was away): critical straight away; closed and
// opened again between two sweeps: the old episode resolves, a new one
// starts from the new opening.
func TestDoorOpenLateAndReopened(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE units SET door_open = true, door_changed_at = $2 WHERE id = $1`, f.unit, f.t0)
	f.at(20 * time.Minute)
	f.run("doors")
	a, ok := f.alert("door_open")
	if !ok || a.Severity != "critical" {
		t.Fatalf("%+v %v", a, ok)
	}
	f.exec(`UPDATE units SET door_changed_at = $2 WHERE id = $1`, f.unit, f.t0.Add(20*time.Minute+30*time.Second))
	f.at(21 * time.Minute)
	f.run("doors")
	var status string
	f.row([]any{&status}, `SELECT status FROM alerts WHERE id = $1`, a.ID)
	if status != "resolved" {
		t.Fatalf("old episode %s", status)
	}
	if n := f.count(`SELECT count(*) FROM alerts WHERE unit_id = $1 AND status <> 'resolved'`, f.unit); n != 0 {
		t.Fatal("new episode opened before its 5 minutes")
	}
	f.at(25*time.Minute + 30*time.Second)
	f.run("doors")
	if b, _ := f.alert("door_open"); b.ID == a.ID || b.Severity != "warning" || b.Status != "active" {
		t.Fatalf("new episode: %+v", b)
	}
}

// Issue 14: the 5/15-minute door thresholds were hard-coded; they are the
// unit's settings.
func TestDoorThresholdsAreTheUnits(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE units SET door_warn_minutes = 2, door_critical_minutes = 4, door_open = true, door_changed_at = $2 WHERE id = $1`, f.unit, f.t0)
	f.at(time.Minute + 59*time.Second)
	f.run("doors")
	if _, ok := f.alert("door_open"); ok {
		t.Fatal("alert before the unit's 2 minutes")
	}
	f.at(2 * time.Minute)
	f.run("doors")
	if a, ok := f.alert("door_open"); !ok || a.Severity != "warning" || !a.Triggered.Equal(f.t0.Add(2*time.Minute)) {
		t.Fatalf("at 2 min: %+v %v", a, ok)
	}
	f.at(4 * time.Minute)
	f.run("doors")
	if a, _ := f.alert("door_open"); a.Severity != "critical" {
		t.Fatalf("at 4 min: %+v", a)
	}
}
