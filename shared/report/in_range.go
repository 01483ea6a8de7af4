package report

import "time"

// TimeInRange sums several units' time in range over one window [From,
// Now), with the report's own computation (a UnitBuilder per unit): the
// dashboard's compliance figure is the HACCP report's, never a second
// definition of it.
type TimeInRange struct {
	builders map[string]*UnitBuilder
	order    []string
}

// NewTimeInRange prepares the window for units.
func NewTimeInRange(units []Unit, from, now time.Time) *TimeInRange {
	o := Options{Range: Range{From: Bound{At: from}, To: Bound{At: now}}, Now: now}
	t := &TimeInRange{builders: make(map[string]*UnitBuilder, len(units))}
	for _, u := range units {
		t.builders[u.ID] = NewUnitBuilder(o, u)
		t.order = append(t.order, u.ID)
	}
	return t
}

// LoadWindow is the range of readings every unit needs (the window widened
// by the longest hold).
func (t *TimeInRange) LoadWindow() (from, to time.Time) {
	for i, id := range t.order {
		f, e := t.builders[id].LoadWindow()
		if i == 0 || f.Before(from) {
			from = f
		}
		if i == 0 || e.After(to) {
			to = e
		}
	}
	return from, to
}

// Add feeds a unit's next reading (oldest first per unit; readings of
// units not in the window are ignored).
func (t *TimeInRange) Add(unitID string, r Reading) {
	if b := t.builders[unitID]; b != nil {
		b.Add(r)
	}
}

// Sum finishes every unit and adds up their time in range and duration.
func (t *TimeInRange) Sum() (units int, durationSeconds, inRangeSeconds int64) {
	for _, id := range t.order {
		s := t.builders[id].Finish().Summary
		durationSeconds += s.DurationSeconds
		inRangeSeconds += s.InRangeSeconds
	}
	return len(t.order), durationSeconds, inRangeSeconds
}
