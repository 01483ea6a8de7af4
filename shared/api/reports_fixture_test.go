package api

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/report"
	"github.com/frostguard/functions/shared/testenv"
)

// rptUnit is a generated unit: its settings and the readings written.
type rptUnit struct {
	id, name string
	loc      *time.Location
	min, max float64
	readings []report.Reading
}

// rptFixture is an organisation with two units and a generated month
// (2026-01-01 .. 2026-01-30 local) of 5-minute readings with scripted
// excursions and gaps, alerts and manual logs.
type rptFixture struct {
	h          *harness
	owner      *testUser
	org        string
	nySite     string
	ny, utc    rptUnit
	alice, bob *testUser
	alertID    string
	path       string
	now        time.Time
	rangeQ     string
}

func newReportFixture(t *testing.T) *rptFixture {
	h := newHarness(t)
	f := &rptFixture{h: h, owner: h.user("owner"), alice: h.user("alice"), bob: h.user("bob")}
	f.org = h.org("Acme Foods", f.owner)
	h.exec(`UPDATE users SET display_name = 'Alice Martin' WHERE id = $1`, f.alice.ID)
	h.exec(`UPDATE users SET display_name = 'Bob Stone' WHERE id = $1`, f.bob.ID)
	h.member(f.org, f.alice, access.Staff)
	h.member(f.org, f.bob, access.Manager)
	ny, _ := time.LoadLocation("America/New_York")
	var area, utcSite, utcArea string
	h.queryRow([]any{&f.nySite}, `INSERT INTO sites (organization_id, name, timezone) VALUES ($1, 'Manhattan', 'America/New_York') RETURNING id`, f.org)
	h.queryRow([]any{&area}, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Kitchen') RETURNING id`, f.org, f.nySite)
	f.ny = rptUnit{name: "Dairy Cooler", loc: ny, min: 0, max: 5}
	h.queryRow([]any{&f.ny.id}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		VALUES ($1, $2, $3, $4, 0, 5) RETURNING id`, f.org, f.nySite, area, f.ny.name)
	h.queryRow([]any{&utcSite}, `INSERT INTO sites (organization_id, name) VALUES ($1, 'London') RETURNING id`, f.org)
	h.queryRow([]any{&utcArea}, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Store') RETURNING id`, f.org, utcSite)
	f.utc = rptUnit{name: "Freezer", loc: time.UTC, min: -25, max: -15}
	h.queryRow([]any{&f.utc.id}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		VALUES ($1, $2, $3, $4, -25, -15) RETURNING id`, f.org, utcSite, utcArea, f.utc.name)

	local := func(loc *time.Location, day, hour, minute int) time.Time {
		return time.Date(2026, 1, day, hour, minute, 0, 0, loc)
	}
	gen := func(u *rptUnit, base float64, override func(t time.Time) (float64, bool, bool)) {
		for t := time.Date(2025, 12, 31, 12, 0, 0, 0, time.UTC); t.Before(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)); t = t.Add(5 * time.Minute) {
			v := base + 0.1*float64((t.Unix()/300)%7)
			skip := false
			if o, s, ok := override(t); ok {
				v, skip = o, s
			}
			if !skip {
				u.readings = append(u.readings, report.Reading{At: t, TempC: v})
			}
		}
	}
	in := func(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }
	gen(&f.ny, 2, func(t time.Time) (float64, bool, bool) {
		switch {
		case in(t, local(ny, 3, 10, 0), local(ny, 3, 10, 45)): // day 3: 45 minutes at 8 °C
			return 8, false, true
		case in(t, local(ny, 20, 23, 50), local(ny, 21, 0, 20)): // across local midnight, below
			return -1.5, false, true
		case in(t, local(ny, 10, 12, 0), local(ny, 10, 15, 0)): // day 10: 3 hours without readings
			return 0, true, true
		case in(t, local(ny, 30, 22, 0), local(ny, 31, 3, 0)): // runs past the range's end
			return 9, false, true
		}
		return 0, false, false
	})
	gen(&f.utc, -20, func(t time.Time) (float64, bool, bool) {
		switch {
		case in(t, local(time.UTC, 5, 2, 0), local(time.UTC, 5, 3, 30)):
			return -10, false, true
		case in(t, local(time.UTC, 12, 6, 0), local(time.UTC, 12, 8, 0)):
			return 0, true, true
		case in(t, local(time.UTC, 1, 0, 0), local(time.UTC, 1, 0, 20)): // at the very start
			return -12, false, true
		}
		return 0, false, false
	})
	for _, u := range []rptUnit{f.ny, f.utc} {
		rows := make([][]any, len(u.readings))
		for i, r := range u.readings {
			rows[i] = []any{f.org, u.id, r.At, r.TempC}
		}
		if _, err := testenv.Pool(h.db).CopyFrom(context.Background(), pgx.Identifier{"sensor_readings"},
			[]string{"organization_id", "unit_id", "recorded_at", "temperature_c"}, pgx.CopyFromRows(rows)); err != nil {
			t.Fatal(err)
		}
	}
	// another unit's readings (a readings-only row of another tenant's unit must never count)
	other := h.user("stranger")
	otherOrg := h.org("Other", other)
	ou := h.unit(otherOrg)
	h.exec(`INSERT INTO sensor_readings (organization_id, unit_id, recorded_at, temperature_c) VALUES ($1, $2, '2026-01-03T15:05:00Z', 50)`, otherOrg, ou.UnitID)

	h.queryRow([]any{&f.alertID}, `INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, triggered_at, temperature_c,
		acknowledged_by, acknowledged_at, acknowledged_note, resolved_by, resolved_at, resolved_note, resolution)
		VALUES ($1, $2, 'temp_excursion', 'critical', 'resolved', 'Dairy Cooler too warm', $3, 8,
		$4, $5, 'checking the door', $6, $7, 'door seal replaced, stock moved', 'manual') RETURNING id`,
		f.org, f.ny.id, local(ny, 3, 10, 10), f.alice.ID, local(ny, 3, 10, 20), f.bob.ID, local(ny, 3, 11, 0))
	h.exec(`INSERT INTO manual_temperature_logs (organization_id, unit_id, user_id, temperature_c, recorded_at, notes)
		VALUES ($1, $2, $3, 3.4, $4, 'probe check'), ($1, $2, $3, 2.9, $5, NULL)`,
		f.org, f.ny.id, f.alice.ID, local(ny, 4, 9, 0), local(ny, 4, 23, 30)) // 23:30 NY is 04:30 UTC on the 5th
	f.now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h.srv.Now = func() time.Time { return f.now }
	f.path = "/api/v1/orgs/" + f.org + "/reports/haccp"
	f.rangeQ = "from=2026-01-01&to=2026-01-30"
	return f
}

// rptExpectedDay is a day computed by the test's own loops.
type rptExpectedDay struct {
	date                 string
	readings             int
	minC, maxC, avgC     float64
	inSec, outSec, noSec int64
	excursions, gaps     int
	gapSec               int64
}

// expectedDays walks the unit's days minute by minute (every reading is on
// a whole minute): the reading holding a minute is the latest at or before
// it, if less than 2 × 5 minutes old.
func expectedDays(u rptUnit, firstDay, lastDay int) []rptExpectedDay {
	const hold = 10 * time.Minute
	rangeStart := time.Date(2026, 1, firstDay, 0, 0, 0, 0, u.loc)
	rangeEnd := time.Date(2026, 1, lastDay+1, 0, 0, 0, 0, u.loc)
	var out []rptExpectedDay
	prevOut := false
	for day := firstDay; day <= lastDay; day++ {
		ds, de := time.Date(2026, 1, day, 0, 0, 0, 0, u.loc), time.Date(2026, 1, day+1, 0, 0, 0, 0, u.loc)
		e := rptExpectedDay{date: ds.Format(time.DateOnly), minC: math.Inf(1), maxC: math.Inf(-1)}
		sum := 0.0
		for _, r := range u.readings {
			if !r.At.Before(ds) && r.At.Before(de) {
				e.readings++
				sum += r.TempC
				e.minC, e.maxC = math.Min(e.minC, r.TempC), math.Max(e.maxC, r.TempC)
			}
		}
		e.avgC = math.Round(sum/float64(e.readings)*100) / 100
		j := 0
		for m := ds; m.Before(de); m = m.Add(time.Minute) {
			for j+1 < len(u.readings) && !u.readings[j+1].At.After(m) {
				j++
			}
			r := u.readings[j]
			out := false
			switch {
			case r.At.After(m) || m.Sub(r.At) >= hold:
				e.noSec += 60
			case r.TempC < u.min || r.TempC > u.max:
				e.outSec += 60
				out = true
			default:
				e.inSec += 60
			}
			if out && !prevOut {
				e.excursions++
			}
			prevOut = out
		}
		for i := 1; i < len(u.readings); i++ {
			a, b := u.readings[i-1].At, u.readings[i].At
			if b.Sub(a) <= hold {
				continue
			}
			s, en := maxTime(a, rangeStart), minTime(b, rangeEnd)
			if !s.Before(ds) && s.Before(de) {
				e.gaps++
			}
			if ov := minTime(en, de).Sub(maxTime(s, ds)); ov > 0 {
				e.gapSec += int64(ov / time.Second)
			}
		}
		out = append(out, e)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
