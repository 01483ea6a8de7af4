package alerting

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// A trace is a run of real-looking sensor readings: what a probe in a
// fridge or freezer reports every 5 minutes.
type reading struct {
	at time.Duration // after the trace's start
	c  float64
}

// traceEvent is one alert change a trace produced.
type traceEvent struct {
	at     time.Duration
	change string // "open type:severity" or "resolve type"
	status domain.UnitStatus
	temp   float64
}

// playTrace judges every reading in order as the store would (state, open
// alerts, stored temperatures as State.Recent), checks every decision's
// invariants, and returns the alert changes and the status after each
// reading.
func playTrace(t *testing.T, cfg Config, start time.Time, rs []reading) ([]traceEvent, []domain.UnitStatus) {
	t.Helper()
	w := newWorld(State{Status: OK, StatusSince: start.Add(-24 * time.Hour), LastReadingAt: start.Add(-5 * time.Minute)}, nil)
	var events []traceEvent
	var statuses []domain.UnitStatus
	for _, r := range rs {
		temp := r.c
		obs := Observation{At: start.Add(r.at), SensorID: "probe-1", TemperatureC: &temp}
		in := w.input(obs)
		d := Evaluate(cfg, in, w.open, obs)
		for _, msg := range checkDecision(cfg, in, w.open, obs, d) {
			t.Fatalf("at %v: invariant: %s", r.at, msg)
		}
		for _, msg := range w.apply(d) {
			t.Fatalf("at %v: %s", r.at, msg)
		}
		w.store(cfg, obs)
		for _, o := range d.Opens {
			events = append(events, traceEvent{r.at, "open " + o.Type + ":" + o.Severity, w.st.Status, r.c})
		}
		for _, x := range d.Resolves {
			events = append(events, traceEvent{r.at, "resolve " + x.Type, w.st.Status, r.c})
		}
		statuses = append(statuses, w.st.Status)
	}
	return events, statuses
}

// every5min samples temp(elapsed) every 5 minutes for total, with a small
// deterministic jitter (a real probe's last digit).
func every5min(total time.Duration, temp func(time.Duration) float64) []reading {
	var out []reading
	for i, at := 0, time.Duration(0); at <= total; i, at = i+1, at+5*time.Minute {
		jitter := []float64{0, 0.04, -0.03, 0.02, -0.05, 0.01}[i%6]
		out = append(out, reading{at, math.Round((temp(at)+jitter)*100) / 100})
	}
	return out
}

// cycling is a fridge compressor's sawtooth: the temperature climbs from
// low to high while the compressor is off, then falls back while it runs.
func cycling(low, high float64, off, on time.Duration) func(time.Duration) float64 {
	return func(at time.Duration) float64 {
		p := at % (off + on)
		if p < off {
			return low + (high-low)*float64(p)/float64(off)
		}
		return high - (high-low)*float64(p-off)/float64(on)
	}
}

// failure is a compressor that stops at failAt: from then the temperature
// approaches the kitchen's (22 °C) with time constant tau (a loaded fridge
// warms slowly, then ever slower), until repairedAt, after which it is
// pulled back down at 4 °C/h to the setpoint.
func failure(normal func(time.Duration) float64, failAt, repairedAt, tau time.Duration, setpoint float64) func(time.Duration) float64 {
	const ambient = 22.0
	warm := func(at time.Duration) float64 {
		t0 := normal(failAt)
		return ambient - (ambient-t0)*math.Exp(-float64(at-failAt)/float64(tau))
	}
	return func(at time.Duration) float64 {
		switch {
		case at < failAt:
			return normal(at)
		case at < repairedAt:
			return warm(at)
		}
		return math.Max(setpoint, warm(repairedAt)-4*(at-repairedAt).Hours())
	}
}

// defrostCycle is a freezer at base whose heaters run at each of starts
// (offsets of the trace) for heat, peaking at peak, then recover to base
// over recover.
func defrostCycle(base func(time.Duration) float64, starts []time.Duration, heat, recover time.Duration, peak float64) func(time.Duration) float64 {
	return func(at time.Duration) float64 {
		for _, s := range starts {
			switch d := at - s; {
			case d >= 0 && d < heat:
				return base(at) + (peak-base(at))*float64(d)/float64(heat)
			case d >= heat && d < heat+recover:
				return peak - (peak-base(at))*float64(d-heat)/float64(recover)
			}
		}
		return base(at)
	}
}

func changes(evs []traceEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.change)
	}
	return out
}

func withCooling(c Config) Config {
	c.Cooling = CoolingRule{SlopeCPerHour: DefaultCoolingSlopeCPerHour, Readings: DefaultCoolingReadings}
	return c
}

// A wide fridge (0..8 °C) so a failure warms for a while inside the range.
func wideFridge() Config {
	c := fridge()
	c.MaxC = 8
	return withCooling(c)
}

var traceStart = time.Date(2026, 1, 15, 6, 0, 0, 0, time.UTC)

// Issue 14: suspected_cooling_failure existed but was never produced. A
// steady rise while still in range warns before the excursion; a
// compressor's normal cycling and a defrost never do.
func TestCoolingTrendScenarios(t *testing.T) {
	t.Run("compressor cycling for a day never warns", func(t *testing.T) {
		for _, cyc := range []struct{ off, on time.Duration }{{12 * time.Minute, 8 * time.Minute}, {25 * time.Minute, 15 * time.Minute}, {35 * time.Minute, 20 * time.Minute}} {
			evs, sts := playTrace(t, withCooling(fridge()), traceStart, every5min(24*time.Hour, cycling(2.5, 4.2, cyc.off, cyc.on)))
			if len(evs) != 0 || slices.ContainsFunc(sts, func(s domain.UnitStatus) bool { return s != OK }) {
				t.Errorf("cycle %v/%v: %v", cyc.off, cyc.on, evs)
			}
		}
	})

	t.Run("a compressor failure warns while in range, then pages, then recovers", func(t *testing.T) {
		normal := cycling(2.5, 4.2, 25*time.Minute, 15*time.Minute)
		temp := failure(normal, 2*time.Hour, 6*time.Hour, 10*time.Hour, 3)
		evs, _ := playTrace(t, wideFridge(), traceStart, every5min(10*time.Hour, temp))
		want := []string{"open suspected_cooling_failure:warning", "open temp_excursion:critical",
			"resolve suspected_cooling_failure", "resolve temp_excursion"}
		if got := changes(evs); !slices.Equal(got, want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
		warn, alarm := evs[0], evs[1]
		if warn.status != OK || warn.temp >= 8 || warn.at > 3*time.Hour+30*time.Minute {
			t.Errorf("the warning came at %v (%.2f °C, %s): it must come while in range, within 90 minutes of the failure", warn.at, warn.temp, warn.status)
		}
		if lead := alarm.at - warn.at; lead < 30*time.Minute {
			t.Errorf("the warning came only %v before the alarm", lead)
		}
		t.Logf("failure at 2h: warning at %v (%.2f °C), alarm at %v (%.2f °C)", warn.at, warn.temp, alarm.at, alarm.temp)
	})

	t.Run("the cooling rule is off with a zero slope", func(t *testing.T) {
		c := wideFridge()
		c.Cooling.SlopeCPerHour = 0
		temp := failure(cycling(2.5, 4.2, 25*time.Minute, 15*time.Minute), 2*time.Hour, 9*time.Hour, 10*time.Hour, 3)
		evs, _ := playTrace(t, c, traceStart, every5min(7*time.Hour, temp))
		if got := changes(evs); !slices.Equal(got, []string{"open temp_excursion:critical"}) {
			t.Fatalf("changes %v", got)
		}
	})

	t.Run("a slow drift of 0.5 °C/h does not warn at 1.5 °C/h", func(t *testing.T) {
		evs, _ := playTrace(t, wideFridge(), traceStart, every5min(8*time.Hour, func(at time.Duration) float64 { return 2 + 0.5*at.Hours() }))
		if len(evs) != 0 {
			t.Fatalf("changes %v", changes(evs))
		}
	})
}

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// freezerDefrost is a walk-in freezer (-30..-15 °C) cycling around -21 °C
// whose heaters run at 02:00 and 14:00 Paris time for 20 minutes, peaking at
// -4 °C, and recover in 20 minutes.
func freezerDefrost(t *testing.T, start time.Time) func(time.Duration) float64 {
	loc := paris(t)
	var starts []time.Duration
	for day := 0; day < 2; day++ {
		for _, h := range []int{2, 14} {
			y, m, d := start.In(loc).Date()
			starts = append(starts, time.Date(y, m, d+day, h, 0, 0, 0, loc).Sub(start))
		}
	}
	return defrostCycle(cycling(-22, -20.5, 30*time.Minute, 20*time.Minute), starts, 20*time.Minute, 20*time.Minute, -4)
}

func defrostConfig(t *testing.T, minutes int) Config {
	c := withCooling(freezer())
	c.Location = paris(t)
	c.Defrost = []DefrostWindow{{StartMinute: 2 * 60, DurationMinutes: minutes}, {StartMinute: 14 * 60, DurationMinutes: minutes}}
	return c
}

// Issue 14: a unit's recurring defrost schedule: temperature excursions
// shorter than the window do not page.
func TestDefrostScenarios(t *testing.T) {
	start := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC) // 01:00 in Paris
	trace := func(t *testing.T) []reading { return every5min(36*time.Hour, freezerDefrost(t, start)) }

	t.Run("three defrosts inside their 45-minute windows neither page nor warn", func(t *testing.T) {
		evs, sts := playTrace(t, defrostConfig(t, 45), start, trace(t))
		if len(evs) != 0 {
			t.Fatalf("changes %v", changes(evs))
		}
		if !slices.Contains(sts, EXC) || sts[len(sts)-1] != OK {
			t.Fatalf("the defrost went out of range (excursion) and back to ok: %v", sts)
		}
	})

	t.Run("the same defrosts without a schedule page", func(t *testing.T) {
		c := defrostConfig(t, 45)
		c.Defrost = nil
		evs, _ := playTrace(t, c, start, trace(t))
		if n := strings.Count(strings.Join(changes(evs), ","), "open temp_excursion"); n != 3 {
			t.Fatalf("%d alarms for three unscheduled defrosts: %v", n, changes(evs))
		}
	})

	t.Run("an excursion that outlasts the window pages at the first reading after it", func(t *testing.T) {
		temp := func(at time.Duration) float64 {
			if at >= time.Hour && at < 3*time.Hour { // 02:00 to 04:00 Paris: heaters stuck
				return -6
			}
			return -21
		}
		evs, _ := playTrace(t, defrostConfig(t, 30), start, every5min(4*time.Hour, temp))
		if len(evs) == 0 || evs[0].change != "open temp_excursion:critical" || evs[0].at != time.Hour+30*time.Minute {
			t.Fatalf("changes %+v, want the alarm at 02:30 Paris (the window's end)", evs)
		}
	})

	t.Run("a cold excursion during the window pages as usual", func(t *testing.T) {
		temp := func(at time.Duration) float64 {
			if at >= time.Hour {
				return -35
			}
			return -21
		}
		evs, _ := playTrace(t, defrostConfig(t, 45), start, every5min(2*time.Hour, temp))
		if len(evs) == 0 || evs[0].at != time.Hour+10*time.Minute {
			t.Fatalf("changes %+v, want the alarm 10 minutes into the cold excursion", evs)
		}
	})
}

func TestDefrostWindows(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Location: ny, Defrost: []DefrostWindow{{StartMinute: 23*60 + 40, DurationMinutes: 40}, {StartMinute: 2*60 + 30, DurationMinutes: 30}}}
	local := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, ny) }
	cases := []struct {
		at  time.Time
		end time.Time // zero: not in a window
	}{
		{local(2026, 1, 15, 23, 39), time.Time{}},
		{local(2026, 1, 15, 23, 40), local(2026, 1, 16, 0, 20)},
		{local(2026, 1, 16, 0, 19), local(2026, 1, 16, 0, 20)}, // across midnight
		{local(2026, 1, 16, 0, 20), time.Time{}},
		{local(2026, 1, 16, 2, 45), local(2026, 1, 16, 3, 0)},
		// 8 March 2026: clocks jump from 02:00 to 03:00 in New York; the
		// 02:30 window starts at the jump (03:00) and keeps its 30 minutes.
		{local(2026, 3, 8, 1, 45), time.Time{}},
		{local(2026, 3, 8, 3, 0), local(2026, 3, 8, 3, 30)},
		{local(2026, 3, 8, 3, 29), local(2026, 3, 8, 3, 30)},
		{local(2026, 3, 8, 3, 30), time.Time{}},
	}
	for _, c := range cases {
		end, ok := InDefrost(cfg, c.at)
		if ok != !c.end.IsZero() || (ok && !end.Equal(c.end)) {
			t.Errorf("%v: %v %v, want end %v", c.at, end, ok, c.end)
		}
	}

	checks := []struct {
		ws   []DefrostWindow
		want string
	}{
		{nil, ""},
		{[]DefrostWindow{{StartMinute: 0, DurationMinutes: 30}, {StartMinute: 12 * 60, DurationMinutes: 120}}, ""},
		{[]DefrostWindow{{StartMinute: -1, DurationMinutes: 30}}, "start_minute"},
		{[]DefrostWindow{{StartMinute: 1440, DurationMinutes: 30}}, "start_minute"},
		{[]DefrostWindow{{StartMinute: 60, DurationMinutes: 4}}, "duration_minutes"},
		{[]DefrostWindow{{StartMinute: 60, DurationMinutes: 121}}, "duration_minutes"},
		{[]DefrostWindow{{StartMinute: 60, DurationMinutes: 30}, {StartMinute: 80, DurationMinutes: 30}}, "overlap"},
		{[]DefrostWindow{{StartMinute: 1430, DurationMinutes: 30}, {StartMinute: 10, DurationMinutes: 30}}, "overlap"}, // across midnight
		{make([]DefrostWindow, 13), "at most 12"},
	}
	for i, c := range checks {
		got := strings.Join(CheckDefrostSchedule(c.ws), "; ")
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("case %d: %q, want %q", i, got, c.want)
		}
	}
}
