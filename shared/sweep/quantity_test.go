package sweep

import (
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
)

func TestCheckinAtAndManualLogOverdue(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	temp, anyAt := t0.Add(-time.Hour), t0.Add(-time.Minute)
	u := store.SweepUnit{LastTemperatureAt: &temp, LastReadingAt: &anyAt, ExpectsTemperature: true}
	if got := CheckinAt(u); !got.Equal(temp) {
		t.Fatalf("a unit that measures temperature checks in with its temperatures: %v", got)
	}
	u.ExpectsTemperature = false
	if got := CheckinAt(u); !got.Equal(anyAt) {
		t.Fatalf("a door-only unit checks in with any reading: %v", got)
	}

	m := store.SweepUnit{CreatedAt: t0.Add(-5 * time.Hour), ManualLogInterval: 4 * time.Hour}
	if due, over := ManualLogOverdue(m, t0); !over || !due.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("never logged: due %v overdue %v", due, over)
	}
	log := t0.Add(-4*time.Hour + time.Second)
	m.LastManualLogAt = &log
	if _, over := ManualLogOverdue(m, t0); over {
		t.Fatal("logged within the interval")
	}
	if _, over := ManualLogOverdue(m, t0.Add(time.Second)); !over {
		t.Fatal("exactly one interval after the log is overdue")
	}
	m.ManualLogInterval = 0
	if _, over := ManualLogOverdue(m, t0.Add(time.Hour)); over {
		t.Fatal("not required")
	}
}

// A unit whose only sensor is a door sensor that reports (it never measured
// a temperature) checks in with its uplinks: no alert while they come.
func TestDoorOnlyUnitChecksInWithAnyReading(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE sensors SET model = 'Dragino LDS02', last_seen_at = $2 WHERE id = $1`, f.senID, f.t0)
	f.exec(`UPDATE units SET last_reading_at = $2 WHERE id = $1`, f.unit, f.t0)
	f.at(4 * time.Minute)
	f.run("checkins")
	if _, ok := f.alert("monitoring_interrupted"); ok {
		t.Fatal("a reporting door-only unit was flagged")
	}
	f.at(6 * time.Minute)
	f.run("checkins")
	if a, ok := f.alert("monitoring_interrupted"); !ok || a.Severity != "warning" {
		t.Fatalf("a silent door-only unit: %+v %v", a, ok)
	}
}
