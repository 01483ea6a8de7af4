package report

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// series is n readings every step from start, temperature by index.
func series(start string, step time.Duration, n int, temp func(i int) float64) []Reading {
	out := make([]Reading, n)
	for i := range out {
		out[i] = Reading{At: at(start).Add(time.Duration(i) * step), TempC: temp(i)}
	}
	return out
}

func constant(v float64) func(int) float64 { return func(int) float64 { return v } }

func dates(from, to string) Range {
	f, _ := ParseBound(from, false)
	t, _ := ParseBound(to, true)
	return Range{From: f, To: t}
}

func TestUnitDays(t *testing.T) {
	cooler := Unit{ID: "u", Name: "Cooler", TimeZone: "UTC", TempMinC: 0, TempMaxC: 5, CheckinInterval: 5 * time.Minute}
	later := at("2030-01-01T00:00:00Z")
	type dayWant struct {
		readings                 int
		inRange, outRange, none  time.Duration
		excursions, gaps         int
		gapDur                   time.Duration
		minC, maxC, avgC, inPerc float64 // checked when readings > 0 (inPerc always)
	}
	tests := []struct {
		name     string
		unit     Unit
		rg       Range
		now      time.Time
		readings []Reading
		days     []dayWant
		excs     []time.Duration // every excursion's duration, in order
	}{
		{name: "steady day", unit: cooler, rg: dates("2026-03-01", "2026-03-01"), now: later,
			readings: series("2026-03-01T00:00:00Z", 5*time.Minute, 288, constant(2)),
			days:     []dayWant{{readings: 288, inRange: 24 * time.Hour, minC: 2, maxC: 2, avgC: 2, inPerc: 100}}},
		{name: "no readings is one gap of no data", unit: cooler, rg: dates("2026-03-01", "2026-03-01"), now: later,
			days: []dayWant{{none: 24 * time.Hour, gaps: 1, gapDur: 24 * time.Hour}}},
		{name: "excursion across midnight", unit: cooler, rg: dates("2026-03-01", "2026-03-02"), now: later,
			readings: series("2026-03-01T00:00:00Z", 5*time.Minute, 576, func(i int) float64 {
				if i >= 282 && i < 294 { // 23:30 .. 00:25
					return 8
				}
				return 3
			}),
			days: []dayWant{
				{readings: 288, inRange: 23*time.Hour + 30*time.Minute, outRange: 30 * time.Minute, excursions: 1, minC: 3, maxC: 8, avgC: (282*3 + 6*8) / 288.0, inPerc: 97.92},
				{readings: 288, inRange: 23*time.Hour + 30*time.Minute, outRange: 30 * time.Minute, minC: 3, maxC: 8, avgC: (282*3 + 6*8) / 288.0, inPerc: 97.92},
			},
			excs: []time.Duration{time.Hour}},
		{name: "sparse readings hold twice the interval", unit: cooler, rg: dates("2026-03-01", "2026-03-01"), now: later,
			readings: series("2026-03-01T00:00:00Z", 30*time.Minute, 48, constant(1)),
			days: []dayWant{{readings: 48, inRange: 48 * 10 * time.Minute, none: 48 * 20 * time.Minute, gaps: 48, gapDur: 24 * time.Hour,
				minC: 1, maxC: 1, avgC: 1, inPerc: 33.33}}},
		{name: "a reading before the range holds into it", unit: cooler, rg: dates("2026-03-01", "2026-03-01"), now: later,
			readings: append([]Reading{{At: at("2026-02-28T23:57:00Z"), TempC: 9}}, series("2026-03-01T00:05:00Z", 5*time.Minute, 287, constant(2))...),
			days:     []dayWant{{readings: 287, inRange: 24*time.Hour - 5*time.Minute, outRange: 5 * time.Minute, excursions: 1, minC: 2, maxC: 2, avgC: 2, inPerc: 99.65}},
			excs:     []time.Duration{5 * time.Minute}},
		{name: "a gap ends an excursion", unit: cooler, rg: dates("2026-03-01", "2026-03-01"), now: later,
			readings: []Reading{{At: at("2026-03-01T00:00:00Z"), TempC: 7}, {At: at("2026-03-01T01:00:00Z"), TempC: 7}, {At: at("2026-03-01T01:05:00Z"), TempC: 1}},
			days: []dayWant{{readings: 3, outRange: 15 * time.Minute, inRange: 10 * time.Minute, none: 24*time.Hour - 25*time.Minute,
				excursions: 2, gaps: 2, gapDur: time.Hour + (24*time.Hour - 65*time.Minute), minC: 1, maxC: 7, avgC: 5, inPerc: 0.69}},
			excs: []time.Duration{10 * time.Minute, 5 * time.Minute}},
		{name: "the day ends at the generation time", unit: cooler, rg: dates("2026-03-01", "2026-03-01"), now: at("2026-03-01T12:00:00Z"),
			readings: series("2026-03-01T00:00:00Z", 5*time.Minute, 144, constant(2)),
			days:     []dayWant{{readings: 144, inRange: 12 * time.Hour, minC: 2, maxC: 2, avgC: 2, inPerc: 100}}},
		{name: "DST start makes a 23-hour day", unit: Unit{ID: "u", TimeZone: "America/New_York", TempMinC: 0, TempMaxC: 5, CheckinInterval: 5 * time.Minute},
			rg: dates("2026-03-08", "2026-03-08"), now: later,
			days: []dayWant{{none: 23 * time.Hour, gaps: 1, gapDur: 23 * time.Hour}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Build(Options{TempUnit: "C", Range: tc.rg, Now: tc.now}, []Unit{tc.unit}, map[string][]Reading{"u": tc.readings}, nil, nil)
			ur := rep.Units[0]
			if len(ur.Days) != len(tc.days) {
				t.Fatalf("%d days, want %d", len(ur.Days), len(tc.days))
			}
			var excs []time.Duration
			for i, w := range tc.days {
				d := ur.Days[i]
				for _, x := range d.Excursions {
					excs = append(excs, time.Duration(x.DurationSeconds)*time.Second)
				}
				got := dayWant{readings: d.Readings, inRange: secs(d.InRangeSeconds), outRange: secs(d.OutOfRangeSeconds), none: secs(d.NoDataSeconds),
					excursions: d.ExcursionCount, gaps: d.GapCount, gapDur: secs(d.GapSeconds), inPerc: *d.InRangePercent}
				if d.Readings > 0 {
					got.minC, got.maxC, got.avgC = *d.MinC, *d.MaxC, *d.AvgC
				}
				w.avgC = round2(w.avgC)
				if got != w {
					t.Errorf("day %s:\n got %+v\nwant %+v", d.Date, got, w)
				}
				if d.InRangeSeconds+d.OutOfRangeSeconds+d.NoDataSeconds != d.DurationSeconds {
					t.Errorf("day %s: in+out+no data %d != duration %d", d.Date, d.InRangeSeconds+d.OutOfRangeSeconds+d.NoDataSeconds, d.DurationSeconds)
				}
			}
			if len(excs) != len(tc.excs) {
				t.Fatalf("excursions %v, want %v", excs, tc.excs)
			}
			for i := range excs {
				if excs[i] != tc.excs[i] {
					t.Errorf("excursions %v, want %v", excs, tc.excs)
				}
			}
		})
	}
}

func secs(s int64) time.Duration { return time.Duration(s) * time.Second }

func TestBoundsResolveInTheUnitsTimezone(t *testing.T) {
	rg := dates("2026-01-10", "2026-01-11")
	ny, _ := time.LoadLocation("America/New_York")
	if got := rg.From.In(ny).UTC(); !got.Equal(at("2026-01-10T05:00:00Z")) {
		t.Errorf("from in New York = %s", got)
	}
	if got := rg.To.In(ny).UTC(); !got.Equal(at("2026-01-12T05:00:00Z")) {
		t.Errorf("to in New York = %s (a date end includes the day)", got)
	}
	if rg.UnitDays(3) != 6 {
		t.Errorf("unit-days %d", rg.UnitDays(3))
	}
	of, ot := rg.Outer()
	if !of.Equal(at("2026-01-09T10:00:00Z")) || !ot.Equal(at("2026-01-12T12:00:00Z")) {
		t.Errorf("outer %s %s", of, ot)
	}
	inst, err := ParseBound("2026-01-10T12:00:00+01:00", true)
	if err != nil || inst.Date || !inst.At.Equal(at("2026-01-10T11:00:00Z")) {
		t.Errorf("instant bound %+v %v", inst, err)
	}
	if _, err := ParseBound("yesterday", false); err == nil {
		t.Error("a bad bound parses")
	}
}

func TestAlertsAndLogsLandOnTheirLocalDay(t *testing.T) {
	u := Unit{ID: "u", Name: "Cooler", TimeZone: "America/New_York", TempMinC: 0, TempMaxC: 5, CheckinInterval: 5 * time.Minute}
	note := "door left open"
	temp := 7.5
	rep := Build(Options{TempUnit: "F", Range: dates("2026-01-10", "2026-01-11"), Now: at("2030-01-01T00:00:00Z")}, []Unit{u}, nil,
		[]Alert{{ID: "a1", UnitID: "u", TriggeredAt: at("2026-01-11T03:00:00Z"), TemperatureC: &temp, AcknowledgedNote: &note}},
		[]ManualLog{{ID: "m1", UnitID: "u", RecordedAt: at("2026-01-11T06:00:00Z"), TemperatureC: 4}, {ID: "m2", UnitID: "u", RecordedAt: at("2026-01-12T06:00:00Z"), TemperatureC: 4}})
	days := rep.Units[0].Days
	if len(days) != 2 || len(days[0].Alerts) != 1 || len(days[1].ManualLogs) != 1 || len(days[0].ManualLogs) != 0 {
		t.Fatalf("alerts/logs misplaced: %+v", days)
	}
	// 03:00 UTC on the 11th is 22:00 on the 10th in New York
	if days[0].Date != "2026-01-10" || *days[0].Alerts[0].Temperature != 45.5 || days[1].ManualLogs[0].Temperature != 39.2 {
		t.Errorf("day %s alert %v log %v", days[0].Date, *days[0].Alerts[0].Temperature, days[1].ManualLogs[0].Temperature)
	}
	if rep.Units[0].Summary.AlertCount != 1 || rep.Units[0].Summary.ManualLogCount != 1 {
		t.Errorf("summary %+v", rep.Units[0].Summary)
	}
}
