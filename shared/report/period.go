package report

import (
	"errors"
	"time"
)

// Bound is one end of a requested range: an instant, or a calendar date
// that each unit resolves at midnight in its own timezone.
type Bound struct {
	// At is the instant, or for a date its midnight in UTC.
	At   time.Time
	Date bool
}

// In resolves the bound in loc.
func (b Bound) In(loc *time.Location) time.Time {
	if !b.Date {
		return b.At
	}
	return time.Date(b.At.Year(), b.At.Month(), b.At.Day(), 0, 0, 0, 0, loc)
}

// Range is a requested period [From, To).
type Range struct{ From, To Bound }

// ErrBadBound is returned by ParseBound for text that is neither a date
// nor an RFC 3339 time.
var ErrBadBound = errors.New("must be a date (2026-01-31) or an RFC 3339 time")

// ParseBound reads a date (YYYY-MM-DD) or an RFC 3339 time. A date as the
// end of a range includes that whole day: the bound is the next midnight.
func ParseBound(s string, end bool) (Bound, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return Bound{At: d, Date: true}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Bound{}, ErrBadBound
	}
	return Bound{At: t.UTC()}, nil
}

// Span is the length of the range with dates taken in UTC (a timezone
// moves both ends alike, up to DST hours).
func (r Range) Span() time.Duration { return r.To.At.Sub(r.From.At) }

// Outer returns instants that contain the range in every timezone, for
// loading rows before the per-unit resolution.
func (r Range) Outer() (from, to time.Time) {
	from, to = r.From.At, r.To.At
	if r.From.Date {
		from = from.Add(-14 * time.Hour) // midnight at UTC+14
	}
	if r.To.Date {
		to = to.Add(12 * time.Hour) // midnight at UTC-12
	}
	return from, to
}

// UnitDays estimates the size of a report: units times days.
func (r Range) UnitDays(units int) int {
	days := int((r.Span() + 24*time.Hour - 1) / (24 * time.Hour))
	return units * days
}
