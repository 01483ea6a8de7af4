package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

func sampleReport(t *testing.T) Report {
	t.Helper()
	u := Unit{ID: "u", Name: "Dairy Cooler", SiteName: "Café Central", AreaName: "Back", TimeZone: "America/New_York",
		TempMinC: 0, TempMaxC: 5, CheckinInterval: 5 * time.Minute}
	readings := series("2026-01-10T05:00:00Z", 5*time.Minute, 2*288, func(i int) float64 {
		if i >= 120 && i < 129 {
			return 8.25
		}
		return 3
	})
	by, note, fix := "Alice Martin", "=cmd()", "moved stock to freezer 2"
	temp := 8.25
	ack := at("2026-01-10T15:10:00Z")
	return Build(Options{Organization: Organization{ID: "o", Name: "Acme Foods", TimeZone: "America/New_York"}, TempUnit: "C",
		Range: dates("2026-01-10", "2026-01-11"), Now: at("2030-01-01T00:00:00Z")}, []Unit{u}, map[string][]Reading{"u": readings},
		[]Alert{{ID: "a", UnitID: "u", Type: "temp_excursion", Severity: "critical", Status: "resolved", Title: "Too warm",
			TriggeredAt: at("2026-01-10T15:05:00Z"), TemperatureC: &temp, AcknowledgedAt: &ack, AcknowledgedBy: &by, AcknowledgedNote: &note,
			ResolvedAt: &ack, ResolvedBy: &by, ResolvedNote: &fix}},
		[]ManualLog{{ID: "m", UnitID: "u", RecordedAt: at("2026-01-10T18:00:00Z"), TemperatureC: 3.5, By: &by, CorrectiveAction: &fix}})
}

func TestCSV(t *testing.T) {
	rep := sampleReport(t)
	b, err := RenderCSV(rep)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader("C"), ",") {
		t.Fatalf("header %v", rows[0])
	}
	kinds := map[string]int{}
	for _, r := range rows[1:] {
		kinds[r[0]]++
	}
	want := map[string]int{RecordSummary: 1, RecordDay: 2, RecordExcursion: 1, RecordAlert: 1, RecordManualLog: 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s rows, want %d (%v)", kinds[k], k, n, kinds)
		}
	}
	for _, r := range rows[1:] {
		switch r[0] {
		case RecordExcursion:
			if r[7] != "2026-01-10T10:00:00-05:00" || r[16] != "45.0" || r[21] != "8.25" {
				t.Errorf("excursion row %v", r)
			}
		case RecordAlert:
			if r[31] != "'=cmd()" || r[30] != "Alice Martin" {
				t.Errorf("alert row (a formula must be defused) %v", r)
			}
		case RecordDay:
			if r[6] == "2026-01-10" && (r[15] != "1" || r[10] != "3.00" || r[11] != "8.25") {
				t.Errorf("day row %v", r)
			}
		}
	}
}
