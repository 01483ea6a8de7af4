package alerting

import (
	"fmt"
	"time"
)

// DefrostWindow is one daily defrost of a unit: it starts StartMinute
// minutes after local midnight and lasts DurationMinutes (it may run past
// midnight).
type DefrostWindow struct {
	StartMinute     int `json:"start_minute"`
	DurationMinutes int `json:"duration_minutes"`
}

// Limits of a defrost schedule.
const (
	MaxDefrostWindows   = 12
	MinDefrostMinutes   = 5
	MaxDefrostMinutes   = 120
	minutesPerDay       = 24 * 60
	defrostLookbackDays = 1 // a window that started yesterday may still run
)

// CheckDefrostSchedule validates a schedule: at most MaxDefrostWindows
// windows, each starting within the day and lasting MinDefrostMinutes to
// MaxDefrostMinutes, none overlapping another (midnight included). It
// returns what is wrong, field by field ("" when valid).
func CheckDefrostSchedule(ws []DefrostWindow) []string {
	var bad []string
	if len(ws) > MaxDefrostWindows {
		bad = append(bad, fmt.Sprintf("at most %d windows a day", MaxDefrostWindows))
	}
	for i, w := range ws {
		if w.StartMinute < 0 || w.StartMinute >= minutesPerDay {
			bad = append(bad, fmt.Sprintf("window %d: start_minute must be between 0 and %d", i, minutesPerDay-1))
		}
		if w.DurationMinutes < MinDefrostMinutes || w.DurationMinutes > MaxDefrostMinutes {
			bad = append(bad, fmt.Sprintf("window %d: duration_minutes must be between %d and %d", i, MinDefrostMinutes, MaxDefrostMinutes))
		}
	}
	if len(bad) > 0 {
		return bad
	}
	for i, a := range ws {
		for j, b := range ws {
			if i < j && overlap(a, b) {
				bad = append(bad, fmt.Sprintf("windows %d and %d overlap", i, j))
			}
		}
	}
	return bad
}

// overlap reports whether two daily windows share a minute (on a 24 h
// circle).
func overlap(a, b DefrostWindow) bool {
	for _, shift := range []int{-minutesPerDay, 0, minutesPerDay} {
		bs := b.StartMinute + shift
		if a.StartMinute < bs+b.DurationMinutes && bs < a.StartMinute+a.DurationMinutes {
			return true
		}
	}
	return false
}

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
