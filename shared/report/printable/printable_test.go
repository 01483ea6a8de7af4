package printable_test

import (
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/report"
	"github.com/frostguard/functions/shared/report/printable"
)

func TestPrintableHTML(t *testing.T) {
	from, _ := report.ParseBound("2026-01-10", false)
	to, _ := report.ParseBound("2026-01-11", true)
	u := report.Unit{ID: "u", Name: "Cooler <1>", SiteName: "Bistro", TimeZone: "Europe/Paris", TempMinC: 0, TempMaxC: 5,
		CheckinInterval: 5 * time.Minute}
	var readings []report.Reading
	for at := time.Date(2026, 1, 9, 23, 0, 0, 0, time.UTC); at.Before(time.Date(2026, 1, 11, 23, 0, 0, 0, time.UTC)); at = at.Add(5 * time.Minute) {
		readings = append(readings, report.Reading{At: at, TempC: 3})
	}
	note := `<script>alert(1)</script>`
	rep := report.Build(report.Options{Organization: report.Organization{ID: "o", Name: "Bistro", TimeZone: "Europe/Paris"},
		TempUnit: "C", Range: report.Range{From: from, To: to}, Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		[]report.Unit{u}, map[string][]report.Reading{"u": readings}, nil,
		[]report.ManualLog{{ID: "m", UnitID: "u", RecordedAt: time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC), TemperatureC: 9, Notes: &note}})
	for _, k := range report.Kinds {
		b, err := printable.Render(report.NewVariant(k, rep, report.Options{}).Document())
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		page := string(b)
		// user text is escaped: the unit is named "Cooler <1>"
		if !strings.Contains(page, "Cooler &lt;1&gt;") || strings.Contains(page, "Cooler <1>") {
			t.Errorf("%s: the unit's name is not escaped", k)
		}
		if strings.Contains(page, "<script") || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
			t.Errorf("%s: the page loads or runs something", k)
		}
		if !strings.Contains(page, "@page { size: A4 landscape") || !strings.Contains(page, "<h1>"+k.Title()) {
			t.Errorf("%s: not the printable page", k)
		}
		// one table per unit, its header repeated by the browser on every printed page
		if n := strings.Count(page, "<thead>"); n != 1 || strings.Count(page, "</table>") != 1 {
			t.Errorf("%s: %d table headers", k, n)
		}
	}
}
