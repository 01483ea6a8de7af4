package report

import (
	"math"
	"sort"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// Finish closes the range (the last reading's hold and a trailing gap) and
// returns the unit's report.
func (b *UnitBuilder) Finish() UnitReport {
	if !b.closed {
		b.advance(b.end)
		b.closed = true
	}
	b.closeExcursion()
	for _, x := range b.excursions {
		if i := b.dayOf(x.Start); i >= 0 {
			b.days[i].day.Excursions = append(b.days[i].day.Excursions, x)
		}
	}
	for _, g := range b.gaps {
		if i := b.dayOf(g.Start); i >= 0 {
			b.days[i].day.Gaps = append(b.days[i].day.Gaps, g)
		}
	}
	out := UnitReport{Unit: b.unit.Info(b.o.TempUnit), From: b.from.UTC(), To: later(b.end, b.from).UTC(), Days: make([]Day, 0, len(b.days))}
	out.Unit.TimeZone = b.tz
	var total dayAcc
	for i := range b.days {
		d := &b.days[i]
		d.day.Excursions = nonNil(d.day.Excursions)
		d.day.Gaps = nonNil(d.day.Gaps)
		d.day.Alerts = nonNil(d.day.Alerts)
		d.day.ManualLogs = nonNil(d.day.ManualLogs)
		sort.SliceStable(d.day.Alerts, func(i, j int) bool { return d.day.Alerts[i].TriggeredAt.Before(d.day.Alerts[j].TriggeredAt) })
		sort.SliceStable(d.day.ManualLogs, func(i, j int) bool { return d.day.ManualLogs[i].RecordedAt.Before(d.day.ManualLogs[j].RecordedAt) })
		d.excursionCount, d.gapCount = len(d.day.Excursions), len(d.day.Gaps)
		d.alertCount, d.manualLogsCnt = len(d.day.Alerts), len(d.day.ManualLogs)
		d.day.Stats = b.stats(d, d.day.End.Sub(d.day.Start))
		out.Days = append(out.Days, d.day)

		if d.count > 0 {
			if total.count == 0 || d.min < total.min {
				total.min = d.min
			}
			if total.count == 0 || d.max > total.max {
				total.max = d.max
			}
		}
		total.count += d.count
		total.sum += d.sum
		total.in += d.in
		total.out += d.out
		total.none += d.none
		total.gap += d.gap
		total.excursionCount += d.excursionCount
		total.gapCount += d.gapCount
		total.alertCount += d.alertCount
		total.manualLogsCnt += d.manualLogsCnt
	}
	out.Summary = b.stats(&total, out.To.Sub(out.From))
	return out
}

// Info describes the unit, limits in °C and in tu.
func (u Unit) Info(tu domain.TempUnit) UnitInfo {
	tu = UnitOrCelsius(tu)
	info := UnitInfo{ID: u.ID, Name: u.Name, SiteID: u.SiteID, SiteName: u.SiteName, AreaName: u.AreaName, TimeZone: u.TimeZone,
		TempMinC: u.TempMinC, TempMaxC: u.TempMaxC, TempMin: domain.FromCelsius(u.TempMinC, tu), TempMax: domain.FromCelsius(u.TempMaxC, tu),
		CheckinIntervalSeconds: seconds(u.CheckinInterval)}
	if u.ManualLogInterval > 0 {
		n := seconds(u.ManualLogInterval)
		info.ManualLogIntervalSeconds = &n
	}
	return info
}

func (b *UnitBuilder) stats(d *dayAcc, duration time.Duration) Stats {
	tu := UnitOrCelsius(b.o.TempUnit)
	s := Stats{Readings: d.count, DurationSeconds: seconds(duration), InRangeSeconds: seconds(d.in),
		OutOfRangeSeconds: seconds(d.out), NoDataSeconds: seconds(d.none), ExcursionCount: d.excursionCount,
		ExcursionSeconds: seconds(d.out), GapCount: d.gapCount, GapSeconds: seconds(d.gap),
		AlertCount: d.alertCount, ManualLogCount: d.manualLogsCnt}
	if d.count > 0 {
		minC, maxC, avgC := round2(d.min), round2(d.max), round2(d.sum/float64(d.count))
		lo, hi, avg := domain.FromCelsius(minC, tu), domain.FromCelsius(maxC, tu), domain.FromCelsius(avgC, tu)
		s.MinC, s.MaxC, s.AvgC, s.Min, s.Max, s.Avg = &minC, &maxC, &avgC, &lo, &hi, &avg
	}
	if duration > 0 {
		p := round2(100 * float64(d.in) / float64(duration))
		s.InRangePercent = &p
	}
	return s
}

// UnitOrCelsius is u, or °C when u is not a valid unit.
func UnitOrCelsius(u domain.TempUnit) domain.TempUnit {
	if u.Valid() {
		return u
	}
	return domain.Celsius
}

func seconds(d time.Duration) int64 { return int64(math.Round(d.Seconds())) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
