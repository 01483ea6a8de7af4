package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// variantsFixture is three local days (Paris, UTC+1 in January) of one
// cooler: day 10 normal with a person's morning check, day 11 with an
// excursion, its alert and corrective actions, and an out-of-range hand
// reading, day 12 without readings and a missed manual entry.
func variantsFixture(t *testing.T, o Options) Report {
	t.Helper()
	paris := domain.Location("Europe/Paris")
	local := func(day, h, m int) time.Time { return time.Date(2026, 1, day, h, m, 0, 0, paris) }
	u := Unit{ID: "u", Name: "Cooler <1>", SiteName: "Bistro", AreaName: "Kitchen", TimeZone: "Europe/Paris",
		TempMinC: 0, TempMaxC: 5, CheckinInterval: 5 * time.Minute, ManualLogInterval: 4 * time.Hour}
	exc0, exc1 := local(11, 14, 0), local(11, 14, 30)
	readings := series(local(10, 0, 0).UTC().Format(time.RFC3339), 5*time.Minute, 2*288, func(i int) float64 {
		at := local(10, 0, 0).Add(time.Duration(i) * 5 * time.Minute)
		if !at.Before(exc0) && at.Before(exc1) {
			return 9
		}
		return variantTemp(i)
	})
	sam, bob := "Sam", "Bob"
	moved := "moved to walk-in"
	core := 4.5
	triggered, resolved := local(11, 14, 10), local(11, 15, 0)
	o.Organization = Organization{ID: "o", Name: "Bistro Group", TimeZone: "Europe/Paris"}
	o.TempUnit, o.Range, o.Now = "C", dates("2026-01-10", "2026-01-12"), at("2026-02-01T00:00:00Z")
	alerts := []Alert{
		{ID: "a1", UnitID: "u", Type: "temp_excursion", Severity: "critical", Status: "resolved", Title: "Cooler too warm",
			TriggeredAt: triggered, ResolvedAt: &resolved, ResolvedBy: &bob,
			CorrectiveActions: []domain.CorrectiveAction{
				{ID: "c1", AlertID: "a1", Action: domain.CorrectiveDiscarded, RecordedBy: &bob, RecordedAt: resolved},
				{ID: "c2", AlertID: "a1", Action: domain.CorrectiveCoreTempChecked, CoreTemperatureC: &core, RecordedBy: &bob, RecordedAt: resolved},
			}},
		{ID: "a2", UnitID: "u", Type: MissedManualEntry, Severity: "warning", Status: "active", Title: "Manual log overdue",
			TriggeredAt: local(12, 9, 0)},
	}
	logs := []ManualLog{
		{ID: "m1", UnitID: "u", RecordedAt: local(10, 8, 30), TemperatureC: 3.3, By: &sam},
		{ID: "m2", UnitID: "u", RecordedAt: local(11, 10, 0), TemperatureC: 7, By: &sam, CorrectiveAction: &moved},
	}
	return Build(o, []Unit{u}, map[string][]Reading{"u": readings}, alerts, logs)
}

// variantTemp is the cooler's usual temperature at reading i (every value
// tells its reading apart within a few).
func variantTemp(i int) float64 { return 2 + float64(i%10)/10 }

func TestDailyLogChecks(t *testing.T) {
	rep := variantsFixture(t, Options{})
	log := NewDailyLog(rep, Options{})
	if log.AMCheck != "09:00" || log.PMCheck != "17:00" || len(log.Units) != 1 || len(log.Units[0].Days) != 3 {
		t.Fatalf("log %+v", log)
	}
	days := log.Units[0].Days
	d10, d11, d12 := days[0], days[1], days[2]
	// a person's check wins over the sensor in its half of the day
	if d10.AM == nil || d10.AM.Source != CheckManual || *d10.AM.By != "Sam" || d10.AM.TemperatureC != 3.3 || !d10.AM.InRange {
		t.Errorf("day 10 AM %+v", d10.AM)
	}
	// without one, the sensor reading nearest to 17:00 local (reading 204 of the day)
	if d10.PM == nil || d10.PM.Source != CheckSensor || d10.PM.TemperatureC != variantTemp(17*12) ||
		!d10.PM.At.Equal(time.Date(2026, 1, 10, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("day 10 PM %+v", d10.PM)
	}
	if d10.Status != DayOK || len(d10.Actions) != 0 {
		t.Errorf("day 10 %s %+v", d10.Status, d10.Actions)
	}
	if d11.AM == nil || d11.AM.Source != CheckManual || d11.AM.InRange || d11.Status != DayException || d11.ExcursionCount != 1 {
		t.Errorf("day 11 %+v AM %+v", d11, d11.AM)
	}
	var texts []string
	for _, a := range d11.Actions {
		texts = append(texts, a.Text)
	}
	if got := strings.Join(texts, " | "); got != "moved to walk-in | Food discarded | Core temperature checked: 4.5 °C" {
		t.Errorf("day 11 corrective actions: %s", got)
	}
	if d12.AM != nil || d12.PM != nil || d12.Status != DayNoData {
		t.Errorf("day 12 %+v", d12)
	}

	// other check times move the sensor's pick, never a person's check
	o := Options{AMCheck: 7 * time.Hour, PMCheck: 20 * time.Hour}
	log = NewDailyLog(variantsFixture(t, o), o)
	d10 = log.Units[0].Days[0]
	if log.AMCheck != "07:00" || log.PMCheck != "20:00" || d10.AM.Source != CheckManual ||
		d10.PM.TemperatureC != variantTemp(20*12) || !d10.PM.At.Equal(time.Date(2026, 1, 10, 19, 0, 0, 0, time.UTC)) {
		t.Errorf("20:00 check %+v %+v", d10.AM, d10.PM)
	}
}

func TestExceptionsAndManualEntries(t *testing.T) {
	rep := variantsFixture(t, Options{})
	x := NewExceptions(rep)
	kinds := map[string]int{}
	for _, e := range x.Units[0].Exceptions {
		kinds[e.Kind]++
	}
	if kinds[ExceptionExcursion] != 1 || kinds[ExceptionAlert] != 2 || kinds[ExceptionManualOutOfRange] != 1 || kinds[ExceptionGap] != 1 {
		t.Errorf("exceptions by kind %v", kinds)
	}
	want := ExceptionTotals{Excursions: 1, Gaps: 1, Alerts: 2, ManualLogsOutOfRange: 1, CorrectiveActions: 2, AlertsWithoutCorrective: 1}
	if x.Totals != want {
		t.Errorf("totals %+v, want %+v", x.Totals, want)
	}
	for i := 1; i < len(x.Units[0].Exceptions); i++ {
		if x.Units[0].Exceptions[i].Start.Before(x.Units[0].Exceptions[i-1].Start) {
			t.Errorf("exceptions out of order: %+v", x.Units[0].Exceptions)
		}
	}
	for _, e := range x.Units[0].Exceptions {
		if e.Kind == ExceptionAlert && e.Alert.ID == "a1" && len(e.Actions) != 2 {
			t.Errorf("the alert's corrective actions %+v", e.Actions)
		}
		if e.Kind == ExceptionManualOutOfRange && (len(e.Actions) != 1 || e.Actions[0].Text != "moved to walk-in") {
			t.Errorf("the hand reading's corrective action %+v", e.Actions)
		}
	}

	m := NewManualEntries(rep)
	if m.Totals != (ManualEntryTotals{Entries: 2, OutOfRange: 1, Missed: 1}) || len(m.Units[0].Entries) != 2 ||
		m.Units[0].Entries[1].InRange || m.Units[0].Missed[0].ID != "a2" {
		t.Errorf("manual entries %+v", m)
	}
}

func TestVariantsRender(t *testing.T) {
	o := Options{}
	rep := variantsFixture(t, o)
	for _, k := range Kinds {
		v := NewVariant(k, rep, o)
		b, err := v.CSV()
		if err != nil {
			t.Fatalf("%s CSV: %v", k, err)
		}
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s CSV does not parse (%v): %s", k, err, b)
		}
		for _, r := range rows {
			if len(r) != len(rows[0]) {
				t.Fatalf("%s CSV: a row of %d cells under a header of %d", k, len(r), len(rows[0]))
			}
		}
		doc := v.Document()
		if !strings.HasPrefix(doc.Title, k.Title()) || len(doc.Sections) != 1 || doc.Sections[0].Heading != "Bistro / Kitchen / Cooler <1>" {
			t.Errorf("%s document %q %+v", k, doc.Title, doc.Sections)
		}
	}
	daily, _ := NewDailyLog(rep, o).CSV()
	if !bytes.Contains(daily, []byte("2026-01-11,2026-01-11T10:00:00+01:00,7.00,manual,Sam,false")) {
		t.Errorf("daily CSV lacks day 11's manual AM check:\n%s", daily)
	}
}

func TestCorrectiveActionsInTheHACCPCSV(t *testing.T) {
	b, err := RenderCSV(variantsFixture(t, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("Food discarded; Core temperature checked: 4.5 °C")) {
		t.Errorf("the alert row lacks its corrective actions:\n%s", b)
	}
}
