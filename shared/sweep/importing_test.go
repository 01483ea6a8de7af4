package sweep

import (
	"testing"
	"time"
)

// An organisation an origin import is still writing is judged by no task:
// its units are hours behind (their readings are still being copied), its
// door and alert rows are history. Once the import makes it live, the same
// sweep judges it.
func TestSweeperIgnoresAnImportingOrganisation(t *testing.T) {
	f := newFixture(t)
	f.policy(step(0, sms, f.alice))
	f.exec(`UPDATE organizations SET import_state = 'importing' WHERE id = $1`, f.org)
	f.exec(`UPDATE units SET last_reading_at = $2, door_open = true, door_changed_at = $2, manual_log_interval_seconds = 3600 WHERE id = $1`, f.unit, f.t0)
	// an alert still open in the origin, due for escalation
	f.exec(`INSERT INTO alerts (organization_id, unit_id, type, severity, title, triggered_at, next_escalation_at)
		VALUES ($1, $2, 'temp_excursion', 'critical', 'Walk-in too warm', $3, $3)`, f.org, f.unit, f.t0)

	f.at(2 * time.Hour)
	for _, task := range []string{"checkins", "doors", "manual-logs", "escalation"} {
		f.run(task)
	}
	if n := f.count(`SELECT count(*) FROM alerts WHERE type <> 'temp_excursion'`); n != 0 {
		t.Fatalf("%d alerts opened for an importing organisation", n)
	}
	if n := f.count(`SELECT count(*) FROM notifications`) + f.count(`SELECT count(*) FROM alert_events`); n != 0 {
		t.Fatalf("%d notifications and events for an importing organisation", n)
	}
	if s := f.unitStatus(); s != "ok" {
		t.Fatalf("unit status %s", s)
	}

	f.exec(`UPDATE organizations SET import_state = NULL WHERE id = $1`, f.org)
	for _, task := range []string{"checkins", "doors", "manual-logs", "escalation"} {
		f.run(task)
	}
	for _, typ := range []string{"monitoring_interrupted", "door_open", "missed_manual_entry"} {
		if _, ok := f.alert(typ); !ok {
			t.Errorf("no %s alert once live", typ)
		}
	}
	if n := f.count(`SELECT count(*) FROM alert_events WHERE kind = 'escalated'`); n != 1 {
		t.Errorf("%d escalations once live, want 1", n)
	}
}
