package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

const onCall = "+12125550100" // the seeded on-call manager

type manualLogAnswer struct {
	UnitStatus     string   `json:"unit_status"`
	AlertsOpened   []string `json:"alerts_opened"`
	AlertsResolved []string `json:"alerts_resolved"`
}

func (s *alarmStack) manualLog(c float64, at time.Time) manualLogAnswer {
	s.t.Helper()
	code, body := s.api(http.MethodPost, "/units/"+s.seed.UnitID+"/manual-logs",
		fmt.Sprintf(`{"temperature": %v, "temp_unit": "C", "recorded_at": %q}`, c, at.UTC().Format(time.RFC3339)))
	var a manualLogAnswer
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &a) != nil {
		s.t.Fatalf("manual log: %d %s", code, body)
	}
	return a
}

// Issue 14: an alarm confirmed by manual temperature logs paged nobody. It
// now pages through the unit's policy exactly like a sensor alarm: its
// notifications are written with the alert, the sweeper's dispatch sends
// them (the api holds no provider keys), the reply "ACK <code>" of the
// page acknowledges it, and recovery sends "back to normal".
func TestManualLogAlarmPagesThroughTheSweeper(t *testing.T) {
	s := newAlarmStack(t)
	now := time.Now().UTC().Truncate(time.Second)
	if a := s.manualLog(9, now.Add(-15*time.Minute)); a.UnitStatus != "excursion" || len(a.AlertsOpened) != 0 {
		t.Fatalf("first log: %+v", a)
	}
	if a := s.manualLog(9.5, now.Add(-3*time.Minute)); a.UnitStatus != "alarm_active" || len(a.AlertsOpened) != 1 {
		t.Fatalf("second log: %+v", a)
	}
	s.sweep()
	texts := s.smsTo(onCall)
	if len(texts) != 1 || !strings.Contains(texts[0], "CRITICAL") || !strings.Contains(texts[0], "above the maximum") {
		t.Fatalf("pages after the sweep: %q", texts)
	}
	code := regexp.MustCompile(`ACK ([A-Z0-9]{4,10})`).FindStringSubmatch(texts[0])
	if code == nil {
		t.Fatalf("the page does not say how to acknowledge: %q", texts[0])
	}
	var status string
	s.row([]any{&status}, `SELECT status FROM alerts WHERE ack_code = $1`, code[1])
	if status != "active" {
		t.Fatalf("alert %s", status)
	}

	// Back in range: two in-band logs resolve it, and whoever was paged
	// hears it.
	s.manualLog(3, now.Add(-2*time.Minute))
	if a := s.manualLog(3.2, now.Add(-time.Minute)); a.UnitStatus != "ok" || len(a.AlertsResolved) != 1 {
		t.Fatalf("recovery: %+v", a)
	}
	s.sweep()
	if texts := s.smsTo(onCall); len(texts) != 2 || !strings.Contains(texts[1], "RESOLVED") {
		t.Fatalf("after recovery: %q", texts)
	}
}

// Issue 14: any uplink moved the unit's check-in, so a dead temperature
// probe next to a live door sensor never raised monitoring_interrupted.
// Through the real webhook and sweeper: the door sensor reports every five
// minutes, the probe last measured 30 minutes ago; the unit is interrupted
// and the on-call manager is paged.
func TestDeadProbeNextToALiveDoorSensorIsInterrupted(t *testing.T) {
	s := newAlarmStack(t)
	const door = "A8404100018D0001"
	s.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui, name, model) VALUES ($1, $2, $3, 'Door', 'Dragino LDS02')`,
		s.seed.OrgID, s.seed.UnitID, door)
	now := time.Now().UTC()
	s.uplink(s.seed.SensorDevEUI, 1, now.Add(-30*time.Minute), `{"TempC_SHT": 3.1}`)
	for i := 0; i <= 6; i++ {
		s.uplink(door, i+1, now.Add(-30*time.Minute+time.Duration(i)*5*time.Minute), `{"door_open": false, "BAT_V": 3.0}`)
	}
	s.sweep()
	var title, severity, unitStatus string
	s.row([]any{&title, &severity}, `SELECT title, severity FROM alerts WHERE type = 'monitoring_interrupted' AND status = 'active'`)
	s.row([]any{&unitStatus}, `SELECT status FROM units WHERE id = $1`, s.seed.UnitID)
	if title != "No temperature received" || severity != "critical" || unitStatus != "monitoring_interrupted" {
		t.Fatalf("alert %q %s, unit %s", title, severity, unitStatus)
	}
	if texts := s.smsTo(onCall); len(texts) != 1 || !strings.Contains(texts[0], "monitoring interrupted") {
		t.Fatalf("pages: %q", texts)
	}
	// The probe comes back: its temperature resolves the alert.
	s.uplink(s.seed.SensorDevEUI, 2, now, `{"TempC_SHT": 3.0}`)
	s.row([]any{&unitStatus}, `SELECT status FROM alerts WHERE type = 'monitoring_interrupted'`)
	if unitStatus != "resolved" {
		t.Fatalf("after the probe's reading the alert is %s", unitStatus)
	}
}

// Issue 14: manual_log_interval_seconds was stored but never read. A unit
// that requires manual logs (its interval set, or without sensors in an
// organisation in HACCP mode) raises missed_manual_entry when the interval
// passes without a log, pages through its policy, and the next log resolves
// it.
func TestMissedManualEntryPagesAndTheNextLogResolvesIt(t *testing.T) {
	s := newAlarmStack(t)
	s.exec(`UPDATE units SET manual_log_interval_seconds = 3600, created_at = now() - interval '2 hours' WHERE id = $1`, s.seed.UnitID)
	// A HACCP unit without sensors, created five hours ago: due every 4 h.
	var bare string
	s.row([]any{&bare}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, created_at)
		SELECT organization_id, site_id, area_id, 'Dairy shelf', 0, 5, now() - interval '5 hours' FROM units WHERE id = $1 RETURNING id`, s.seed.UnitID)
	s.exec(`UPDATE organizations SET compliance_mode = 'haccp' WHERE id = $1`, s.seed.OrgID)

	s.sweep()
	var n int
	s.row([]any{&n}, `SELECT count(*) FROM alerts WHERE type = 'missed_manual_entry' AND status = 'active' AND unit_id IN ($1, $2)`, s.seed.UnitID, bare)
	if n != 2 {
		t.Fatalf("%d missed_manual_entry alerts, want one per unit", n)
	}
	if texts := s.smsTo(onCall); len(texts) != 2 || !strings.Contains(texts[0], "manual temperature log overdue") {
		t.Fatalf("pages: %q", texts)
	}
	s.sweep() // nothing new
	if texts := s.smsTo(onCall); len(texts) != 2 {
		t.Fatalf("a second sweep paged again: %q", texts)
	}

	if a := s.manualLog(3.5, time.Now()); len(a.AlertsResolved) != 1 || a.AlertsResolved[0] != "missed_manual_entry" {
		t.Fatalf("the log did not resolve it: %+v", a)
	}
	s.sweep()
	texts := s.smsTo(onCall)
	if len(texts) != 3 || !strings.Contains(texts[2], "RESOLVED") || !strings.Contains(texts[2], "manual temperature log recorded") {
		t.Fatalf("after the log: %q", texts)
	}
	s.row([]any{&n}, `SELECT count(*) FROM alerts WHERE type = 'missed_manual_entry' AND status = 'active'`)
	if n != 1 {
		t.Fatalf("%d still open, want the bare unit's", n)
	}
}

// Issue 14: a snooze or maintenance window. A manager silences the cooler
// for cleaning; it warms up: the readings are stored and judged and the
// alarm opens (showing "silenced until"), but nobody is paged. Ending the
// silence resumes paging at once, with the page saying what was held.
func TestSilencedUnitHoldsPagingThenResumes(t *testing.T) {
	s := newAlarmStack(t)
	code, body := s.api(http.MethodPost, "/units/"+s.seed.UnitID+"/silence", `{"minutes": 60, "reason": "cleaning", "note": "deep clean"}`)
	if code != http.StatusCreated {
		t.Fatalf("silence: %d %s", code, body)
	}
	now := time.Now().UTC()
	s.uplink(s.seed.SensorDevEUI, 1, now.Add(-15*time.Minute), `{"TempC_SHT": 9.1}`)
	s.uplink(s.seed.SensorDevEUI, 2, now.Add(-2*time.Minute), `{"TempC_SHT": 9.4}`)
	var status string
	var silenced *time.Time
	s.row([]any{&status}, `SELECT status FROM units WHERE id = $1`, s.seed.UnitID)
	if status != "alarm_active" {
		t.Fatalf("unit %s: readings are still judged", status)
	}
	code, body = s.api(http.MethodGet, "/alerts?status=open", "")
	var alerts struct {
		Items []struct {
			Type          string     `json:"type"`
			SilencedUntil *time.Time `json:"silenced_until"`
		} `json:"items"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &alerts) != nil || len(alerts.Items) != 1 || alerts.Items[0].SilencedUntil == nil {
		t.Fatalf("open alerts: %d %s", code, body)
	}
	silenced = alerts.Items[0].SilencedUntil
	s.sweep()
	if texts := s.smsTo(onCall); len(texts) != 0 {
		t.Fatalf("paged while silenced (until %v): %q", silenced, texts)
	}

	if code, body := s.api(http.MethodDelete, "/units/"+s.seed.UnitID+"/silence", ""); code != http.StatusOK {
		t.Fatalf("end the silence: %d %s", code, body)
	}
	s.sweep()
	texts := s.smsTo(onCall)
	if len(texts) != 1 || !strings.Contains(texts[0], "CRITICAL") || !strings.Contains(texts[0], "Silenced for cleaning") {
		t.Fatalf("after the silence: %q", texts)
	}
}
