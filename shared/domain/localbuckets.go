package domain

import "time"

// LocalBucketStarts are the starts of the hour (w = time.Hour) or day
// (w = 24h) buckets of the clock of loc that the half-open range [from, to)
// touches, oldest first: the first is at or before from, the last before
// to. A day is the local calendar day (23 or 25 hours across a DST change,
// starting at the first instant of the date when midnight is skipped); an
// hour starts when the local clock reads HH:00, so an hour repeated when the
// clocks go back is two buckets, and a 30-minute DST shift makes a
// 30-minute bucket (02:30-03:00 when the clock jumps from 02:00 to 02:30).
// nil for any other width or an empty range.
//
// The readings chart computes these in Go and lets PostgreSQL only bin
// (date_bin when they are evenly spaced, else width_bucket): converting
// every row to the local clock in SQL cost half again as much as UTC
// buckets (issue 18).
func LocalBucketStarts(from, to time.Time, w time.Duration, loc *time.Location) []time.Time {
	if !from.Before(to) || (w != time.Hour && w != 24*time.Hour) {
		return nil
	}
	start, next := localHourStart, nextLocalHour
	if w == 24*time.Hour {
		start, next = localDayStart, nextLocalDay
	}
	var out []time.Time
	for t := start(from, loc); t.Before(to); t = next(t, loc) {
		out = append(out, t)
	}
	return out
}

// Evenly reports whether starts are w apart (date_bin can bin them).
func Evenly(starts []time.Time, w time.Duration) bool {
	for i := 1; i < len(starts); i++ {
		if starts[i].Sub(starts[i-1]) != w {
			return false
		}
	}
	return true
}

// localHourStart is the first instant of t's local hour: when the local
// clock last read HH:00, or the offset change since if the clock jumped
// into the hour (Lord Howe's 02:00 -> 02:30).
func localHourStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	h := t.Add(-(time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())))
	if changed, _ := l.ZoneBounds(); !changed.IsZero() && h.Before(changed) {
		return changed
	}
	return h
}

func nextLocalHour(h time.Time, loc *time.Location) time.Time {
	if n := localHourStart(h.Add(time.Hour), loc); n.After(h) {
		return n
	}
	return h.Add(time.Hour)
}

// localDayStart is the first instant of t's local date.
func localDayStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return firstInstantOf(l.Year(), l.Month(), l.Day(), loc)
}

func nextLocalDay(d time.Time, loc *time.Location) time.Time {
	l := d.In(loc)
	return firstInstantOf(l.Year(), l.Month(), l.Day()+1, loc)
}

// firstInstantOf is local midnight of the date, or, where the clocks skip
// midnight (Santiago, Beirut, Havana...), the first hour the date has.
func firstInstantOf(y int, m time.Month, d int, loc *time.Location) time.Time {
	want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC) // normalised date
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	// time.Date resolves a skipped midnight to either side of the gap: walk
	// the local hours to the first one that is on the date.
	for i := 0; i < 4 && localDate(t, loc).Before(want); i++ {
		t = nextLocalHour(t, loc)
	}
	for i := 0; i < 4; i++ { // an hour earlier may also be on the date
		p := localHourStart(t.Add(-time.Nanosecond), loc)
		if !localDate(p, loc).Equal(want) {
			break
		}
		t = p
	}
	return t
}

func localDate(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}
