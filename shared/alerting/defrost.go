package alerting

import (
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// DefrostWindow is one daily defrost of a unit (domain.DefrostWindow).
type DefrostWindow = domain.DefrostWindow

// CheckDefrostSchedule validates a schedule (domain.CheckDefrostSchedule).
func CheckDefrostSchedule(ws []DefrostWindow) []string { return domain.CheckDefrostSchedule(ws) }

const (
	minutesPerDay       = 24 * 60
	defrostLookbackDays = 1 // a window that started yesterday may still run
)

// defrostWindowAt reports whether at falls inside one of the unit's defrost
// windows and, if so, when that window ends. Windows are wall-clock times of
// the unit's site: a window at 02:00 is at 02:00 local time, summer and
// winter; on the day a clock change skips its start (02:30 on a spring
// night), it starts when the clock jumps (03:00) and keeps its length.
func (c Config) defrostWindowAt(at time.Time) (end time.Time, ok bool) {
	if len(c.Defrost) == 0 {
		return time.Time{}, false
	}
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	local := at.In(loc)
	y, m, d := local.Date()
	for back := 0; back <= defrostLookbackDays; back++ {
		for _, w := range c.Defrost {
			start := wallClock(y, m, d-back, w.StartMinute, loc)
			stop := start.Add(time.Duration(w.DurationMinutes) * time.Minute)
			if !at.Before(start) && at.Before(stop) {
				return stop, true
			}
		}
	}
	return time.Time{}, false
}

// InDefrost reports whether at falls inside one of cfg's defrost windows
// and when that window ends (for the api's unit view).
func InDefrost(cfg Config, at time.Time) (end time.Time, ok bool) {
	return cfg.defrostWindowAt(at)
}

// wallClock is the first instant of day (y, m, d) in loc whose wall clock
// reads minute (after midnight) or later: the wall time itself, or the end
// of the DST gap that skips it (time.Date alone picks either side of a
// gap, depending on the zone).
func wallClock(y int, m time.Month, d, minute int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, minute, 0, 0, loc)
	want := minute % minutesPerDay
	got := func(t time.Time) int { return t.Hour()*60 + t.Minute() }
	if got(t) == want {
		return t
	}
	// In a gap: walk to its end, one minute at a time (gaps last an hour
	// or less, and this only runs on the night of the change).
	for i := 0; i < 180 && got(t) < want; i++ {
		t = t.Add(time.Minute)
	}
	for i := 0; i < 180 && got(t.Add(-time.Minute)) > want; i++ {
		t = t.Add(-time.Minute)
	}
	return t
}
