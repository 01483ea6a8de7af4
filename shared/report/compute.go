package report

import (
	"math"
	"sort"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// Options are the report-wide settings.
type Options struct {
	Organization Organization
	TempUnit     domain.TempUnit
	Range        Range
	// Now is the generation time: no day (or hold, or gap) runs past it.
	Now time.Time
	// AMCheck and PMCheck are the daily log's check times, after local
	// midnight (zero: DefaultAMCheck, DefaultPMCheck).
	AMCheck, PMCheck time.Duration
}

// The daily log's usual check times: the morning and afternoon rounds of a
// paper temperature log.
const (
	DefaultAMCheck = 9 * time.Hour
	DefaultPMCheck = 17 * time.Hour
	// Noon splits a day into its AM and PM halves.
	Noon = 12 * time.Hour
)

// checkTimes returns the options' check times, defaults filled in.
func (o Options) checkTimes() [2]time.Duration {
	am, pm := o.AMCheck, o.PMCheck
	if am == 0 {
		am = DefaultAMCheck
	}
	if pm == 0 {
		pm = DefaultPMCheck
	}
	return [2]time.Duration{am, pm}
}

// Build computes a whole report from loaded rows: readings per unit id
// (oldest first, including those of the loading window, see LoadWindow),
// alerts and manual logs of all units. The api streams instead (UnitBuilder)
// so that a year of readings never sits in memory at once.
func Build(o Options, units []Unit, readings map[string][]Reading, alerts []Alert, logs []ManualLog) Report {
	rep := NewReport(o)
	for _, u := range units {
		b := NewUnitBuilder(o, u)
		for _, r := range readings[u.ID] {
			b.Add(r)
		}
		for _, a := range alerts {
			if a.UnitID == u.ID {
				b.AddAlert(a)
			}
		}
		for _, l := range logs {
			if l.UnitID == u.ID {
				b.AddManualLog(l)
			}
		}
		rep.Units = append(rep.Units, b.Finish())
	}
	return rep
}

// NewReport returns the report's header, without units.
func NewReport(o Options) Report {
	loc := domain.Location(o.Organization.TimeZone)
	return Report{Organization: o.Organization, TempUnit: UnitOrCelsius(o.TempUnit), From: o.Range.From.In(loc).UTC(),
		To: o.Range.To.In(loc).UTC(), GeneratedAt: o.Now.UTC(), Units: []UnitReport{}}
}

type state int

const (
	inRange state = iota
	outOfRange
	noData
)

// dayAcc accumulates one day.
type dayAcc struct {
	day                       Day
	min, max, sum             float64
	count                     int
	in, out, none, gap        time.Duration
	excursionCount, gapCount  int
	alertCount, manualLogsCnt int
}

// UnitBuilder computes one unit's report from its readings, fed in time
// order (Add), then its alerts and manual logs.
type UnitBuilder struct {
	o          Options
	unit       Unit
	tz         string
	loc        *time.Location
	from, end  time.Time // the unit's range, ended at Now at the latest
	to         time.Time
	hold       time.Duration // 2 × check-in interval
	days       []dayAcc
	prev       Reading
	hasPrev    bool
	closed     bool
	exc        *Excursion
	excDev     float64
	excursions []Excursion
	gaps       []Gap
}

// NewUnitBuilder prepares the unit's days. An unknown timezone counts days
// in UTC (and the report says so).
func NewUnitBuilder(o Options, u Unit) *UnitBuilder {
	b := &UnitBuilder{o: o, unit: u, tz: u.TimeZone, hold: 2 * u.CheckinInterval}
	if !domain.IsIANAZone(u.TimeZone) {
		b.tz = "UTC"
	}
	b.loc = domain.Location(b.tz)
	b.from, b.to = o.Range.From.In(b.loc), o.Range.To.In(b.loc)
	b.end = b.to
	if !o.Now.IsZero() && o.Now.Before(b.end) {
		b.end = o.Now
	}
	y, m, d := b.from.In(b.loc).Date()
	checks := o.checkTimes()
	for ds := time.Date(y, m, d, 0, 0, 0, 0, b.loc); ds.Before(b.end); {
		de := time.Date(ds.Year(), ds.Month(), ds.Day()+1, 0, 0, 0, 0, b.loc)
		day := Day{Date: ds.Format(time.DateOnly), Start: later(ds, b.from).UTC(), End: earlier(de, b.end).UTC()}
		noon := wallClock(ds, Noon, b.loc)
		day.halves[0] = half{start: ds, end: noon, checkAt: wallClock(ds, checks[0], b.loc)}
		day.halves[1] = half{start: noon, end: de, checkAt: wallClock(ds, checks[1], b.loc)}
		b.days = append(b.days, dayAcc{day: day})
		ds = de
	}
	return b
}

// wallClock is the time offset after midnight of day's date, read on the
// local clock (a DST change moves it with the clock, as a paper log does).
func wallClock(day time.Time, offset time.Duration, loc *time.Location) time.Time {
	h, m := int(offset/time.Hour), int(offset%time.Hour/time.Minute)
	return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
}

// LoadWindow is the time range of readings the builder needs: the range
// widened by the hold on both sides (the reading before the start holds
// into it; the one after the end says whether the tail is a gap).
func (b *UnitBuilder) LoadWindow() (from, to time.Time) {
	return b.from.Add(-b.hold), b.to.Add(b.hold)
}

// Add feeds the next reading (readings must come oldest first).
func (b *UnitBuilder) Add(r Reading) {
	if b.closed {
		return
	}
	if r.At.Before(b.from) {
		b.prev, b.hasPrev = r, true
		return
	}
	b.advance(r.At)
	if !r.At.Before(b.end) {
		b.closed = true
		return
	}
	if i := b.dayOf(r.At); i >= 0 {
		d := &b.days[i]
		if d.count == 0 || r.TempC < d.min {
			d.min = r.TempC
		}
		if d.count == 0 || r.TempC > d.max {
			d.max = r.TempC
		}
		d.sum += r.TempC
		d.count++
		d.day.halves[d.day.halfOf(r.At)].add(r)
	}
	b.prev, b.hasPrev = r, true
}

// advance covers [previous reading, next): the previous reading's hold,
// the silence after it, and a gap if the silence is too long.
func (b *UnitBuilder) advance(next time.Time) {
	if !b.hasPrev {
		b.segment(b.from, next, noData, 0)
		if next.Sub(b.from) > b.hold {
			b.addGap(b.from, next)
		}
		return
	}
	holdEnd := earlier(next, b.prev.At.Add(b.hold))
	st := inRange
	if b.prev.TempC < b.unit.TempMinC || b.prev.TempC > b.unit.TempMaxC {
		st = outOfRange
	}
	b.segment(b.prev.At, holdEnd, st, b.prev.TempC)
	b.segment(holdEnd, next, noData, 0)
	if next.Sub(b.prev.At) > b.hold {
		b.addGap(b.prev.At, next)
	}
}

// segment accounts [s, e) (clipped to the range) as st.
func (b *UnitBuilder) segment(s, e time.Time, st state, temp float64) {
	s, e = later(s, b.from), earlier(e, b.end)
	if !e.After(s) {
		return
	}
	if st == outOfRange {
		dev := math.Max(temp-b.unit.TempMaxC, b.unit.TempMinC-temp)
		if b.exc != nil && b.exc.End.Equal(s) {
			b.exc.End = e
		} else {
			b.closeExcursion()
			b.exc, b.excDev = &Excursion{Start: s, End: e, PeakC: temp}, dev
		}
		if dev > b.excDev {
			b.exc.PeakC, b.excDev = temp, dev
		}
	} else {
		b.closeExcursion()
	}
	b.eachDay(s, e, func(d *dayAcc, overlap time.Duration) {
		switch st {
		case inRange:
			d.in += overlap
		case outOfRange:
			d.out += overlap
		default:
			d.none += overlap
		}
	})
}

func (b *UnitBuilder) closeExcursion() {
	if b.exc == nil {
		return
	}
	x := *b.exc
	x.Start, x.End = x.Start.UTC(), x.End.UTC()
	x.DurationSeconds = seconds(x.End.Sub(x.Start))
	x.Direction = "above"
	if x.PeakC < b.unit.TempMinC {
		x.Direction = "below"
	}
	x.Peak = domain.FromCelsius(x.PeakC, b.o.TempUnit)
	b.excursions = append(b.excursions, x)
	b.exc = nil
}

func (b *UnitBuilder) addGap(s, e time.Time) {
	s, e = later(s, b.from), earlier(e, b.end)
	if !e.After(s) {
		return
	}
	b.gaps = append(b.gaps, Gap{Start: s.UTC(), End: e.UTC(), DurationSeconds: seconds(e.Sub(s))})
	b.eachDay(s, e, func(d *dayAcc, overlap time.Duration) { d.gap += overlap })
}

// eachDay calls fn for every day [s, e) overlaps, with the overlap.
func (b *UnitBuilder) eachDay(s, e time.Time, fn func(*dayAcc, time.Duration)) {
	for i := b.dayOf(s); i >= 0 && i < len(b.days); i++ {
		d := &b.days[i]
		if !d.day.Start.Before(e) {
			break
		}
		if o := earlier(e, d.day.End).Sub(later(s, d.day.Start)); o > 0 {
			fn(d, o)
		}
	}
}

// dayOf is the index of the day containing t, or -1.
func (b *UnitBuilder) dayOf(t time.Time) int {
	i := sort.Search(len(b.days), func(i int) bool { return b.days[i].day.End.After(t) })
	if i == len(b.days) || t.Before(b.days[i].day.Start) {
		return -1
	}
	return i
}

// AddAlert lists an alert on the day it was triggered.
func (b *UnitBuilder) AddAlert(a Alert) {
	if i := b.dayOf(a.TriggeredAt); i >= 0 {
		if a.TemperatureC != nil {
			v := domain.FromCelsius(*a.TemperatureC, b.o.TempUnit)
			a.Temperature = &v
		}
		a.CorrectiveActions = append(make([]domain.CorrectiveAction, 0, len(a.CorrectiveActions)), a.CorrectiveActions...)
		for i := range a.CorrectiveActions {
			a.CorrectiveActions[i].SetDisplayUnit(UnitOrCelsius(b.o.TempUnit))
		}
		b.days[i].day.Alerts = append(b.days[i].day.Alerts, a)
	}
}

// AddManualLog lists a manual log on the day it was read.
func (b *UnitBuilder) AddManualLog(l ManualLog) {
	if i := b.dayOf(l.RecordedAt); i >= 0 {
		l.Temperature = domain.FromCelsius(l.TemperatureC, b.o.TempUnit)
		b.days[i].day.ManualLogs = append(b.days[i].day.ManualLogs, l)
	}
}
