package alerting

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

var (
	exc   = []string{"temp_excursion:critical"}
	excR  = []string{"temp_excursion"}
	batt  = []string{"low_battery:warning"}
	battR = []string{"low_battery"}
	fltW  = []string{"sensor_fault:warning"}
	fltC  = []string{"sensor_fault:critical"}
	fltR  = []string{"sensor_fault"}
)

// every builds readings of temp every dt seconds in [from, to], expecting
// status want, no alert changes.
func every(from, to, dt int, temp float64, want domain.UnitStatus) []step {
	var out []step
	for at := from; at <= to; at += dt {
		out = append(out, step{at: at, temp: f(temp), want: want})
	}
	return out
}

func concat(parts ...[]step) []step { return slices.Concat(parts...) }

func hasEvent(kind string) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		for _, e := range d.Events {
			if e.Kind == kind {
				return
			}
		}
		t.Errorf("no %q event in %+v", kind, d.Events)
	}
}

func sinceIs(sec int) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		if want := t0.Add(time.Duration(sec) * time.Second); !d.State.StatusSince.Equal(want) {
			t.Errorf("StatusSince = %v, want %v (t=%ds)", d.State.StatusSince, want, sec)
		}
	}
}

func inBand(n int) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		if d.State.InBandCount != n {
			t.Errorf("InBandCount = %d, want %d", d.State.InBandCount, n)
		}
	}
}

func unchanged(t *testing.T, d Decision) {
	t.Helper()
	if d.Changed {
		t.Errorf("Changed = true for a reading that must change nothing")
	}
}

func both(checks ...func(*testing.T, Decision)) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		for _, c := range checks {
			c(t, d)
		}
	}
}

func withConfirm(c Config, s, door int) Config {
	c.ConfirmSeconds, c.DoorConfirmSeconds = s, door
	return c
}

// old is a state persisted long before the trace: timers must not count from it.
var old = State{Status: OK, StatusSince: t0.Add(-72 * time.Hour), LastReadingAt: t0.Add(-time.Minute)}

func TestScenarios(t *testing.T) {
	scenarios := []scenario{
		{
			name: "single noisy spike never pages",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(3), want: OK},
				{at: 300, temp: f(9.5), want: EXC, check: sinceIs(300)}, // one noisy reading: excursion, no page
				{at: 600, temp: f(3), want: REST, check: inBand(1)},
				{at: 900, temp: f(3), want: OK},
				{at: 1200, temp: f(12), want: EXC},
				{at: 1500, temp: f(4.8), want: EXC}, // margin: holds
				{at: 1800, temp: f(4), want: REST},  // 600 s after the spike, but in band: never confirms
				{at: 2100, temp: f(4.2), want: OK},
			},
		},
		{
			// Old FS bug: the confirm timer was keyed on units.updated_at, which every
			// reading bumped, so it never confirmed. Here it counts from the persisted
			// status change (StatusSince), which readings do not touch.
			name: "sustained warm for 10 min pages exactly once at the first reading at/after 600 s",
			cfg:  fridge(), init: old,
			steps: concat(
				[]step{{at: 0, temp: f(7), want: EXC, check: sinceIs(0)}},
				every(60, 540, 60, 7, EXC),
				[]step{{at: 600, temp: f(7.2), want: ALRM, opens: exc, check: func(t *testing.T, d Decision) {
					o := d.Opens[0]
					if o.Title != "Temperature above the maximum of 5.0 °C" || *o.LimitC != 5 || *o.TemperatureC != 7.2 ||
						!o.At.Equal(t0.Add(600*time.Second)) || o.SensorID != "" {
						t.Errorf("alert = %+v", o)
					}
					if !strings.Contains(o.Message, "7.2 °C is above the maximum of 5.0 °C; out of range for 10 min") {
						t.Errorf("message = %q", o.Message)
					}
				}}},
				every(660, 1800, 60, 7.5, ALRM), // still hot: no second alert, no second page
			),
			after: func(t *testing.T, st State, _ Open) {
				if !st.StatusSince.Equal(t0.Add(600 * time.Second)) {
					t.Errorf("StatusSince = %v", st.StatusSince)
				}
			},
		},
		{
			name: "sparse readings confirm at the first reading past the confirm time",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(6), want: EXC},
				{at: 300, temp: f(6), want: EXC, check: sinceIs(0)},
				{at: 599, temp: f(6), want: EXC},
				{at: 601, temp: f(6), want: ALRM, opens: exc},
			},
		},
		{
			name: "exactly at the confirm time confirms",
			cfg:  fridge(), init: old,
			steps: []step{{at: 0, temp: f(6), want: EXC}, {at: 600, temp: f(6), want: ALRM, opens: exc}},
		},
		{
			name: "door open uses the 1200 s door confirm time",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, sensor: "door-1", door: b(true), want: OK},
				{at: 60, temp: f(7), want: EXC},
				{at: 360, temp: f(7), want: EXC},
				{at: 660, temp: f(7), want: EXC}, // 600 s: a closed door would confirm here
				{at: 1200, temp: f(7), want: EXC},
				{at: 1260, temp: f(7), want: ALRM, opens: exc, check: func(t *testing.T, d Decision) {
					if d.Events[0].Data["confirm_seconds"] != 1200 || d.Events[0].Data["door_open"] != true {
						t.Errorf("event data = %v", d.Events[0].Data)
					}
				}},
			},
		},
		{
			name: "door closing mid-excursion brings back the normal confirm time",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(7), door: b(true), want: EXC},
				{at: 400, sensor: "door-1", door: b(false), want: EXC},
				{at: 600, temp: f(7), want: ALRM, opens: exc},
			},
		},
		{
			name: "hysteresis: ok holds in the margin, the limits themselves are in range",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(4.8), want: OK},
				{at: 300, temp: f(0.3), want: OK},
				{at: 600, temp: f(5.0), want: OK}, // t > max is out; 5.00 is not
				{at: 900, temp: f(0), want: OK},
				{at: 1200, temp: f(5.004), want: OK}, // compared at 0.01 °C like numeric(6,2)
				{at: 1500, temp: f(5.01), want: EXC},
			},
		},
		{
			// A fridge hovering at its limit must page: the margin holds the
			// excursion and its timer, it does not reset them.
			name: "hysteresis: excursion holds in the margin and keeps its timer",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(5.3), want: EXC},
				{at: 300, temp: f(4.9), want: EXC, check: sinceIs(0)},
				{at: 450, temp: f(4.6), want: EXC},
				{at: 600, temp: f(5.2), want: ALRM, opens: exc},
			},
		},
		{
			name: "hysteresis: a margin reading never confirms an excursion",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(5.3), want: EXC},
				{at: 900, temp: f(4.9), want: EXC},
				{at: 1000, temp: f(5.1), want: ALRM, opens: exc},
			},
		},
		{
			name: "hysteresis: alarm_active holds in the margin, band edge is inclusive",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(8), want: EXC},
				{at: 600, temp: f(8), want: ALRM, opens: exc},
				{at: 900, temp: f(4.7), want: ALRM},
				{at: 1200, temp: f(4.51), want: ALRM},
				{at: 1500, temp: f(4.5), want: REST, check: both(inBand(1), hasEvent(KindRestoring))},
			},
		},
		{
			name: "hysteresis: a margin reading while restoring breaks the in-band streak",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(8), want: EXC},
				{at: 600, temp: f(8), want: ALRM, opens: exc},
				{at: 900, temp: f(4), want: REST, check: inBand(1)},
				{at: 1200, temp: f(4.8), want: REST, check: inBand(0)}, // not out: no re-excursion
				{at: 1500, temp: f(4), want: REST, check: inBand(1)},
				{at: 1800, temp: f(4), want: OK, resolves: excR},
			},
		},
		{
			// Old FS bug: restoring -> ok was not implemented.
			name: "restoring -> ok after exactly 2 in-band readings, resolving once",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(9), want: EXC},
				{at: 600, temp: f(9), want: ALRM, opens: exc},
				{at: 900, temp: f(4), want: REST, check: both(inBand(1), sinceIs(900))},
				{at: 1200, temp: f(3.9), want: OK, resolves: excR, check: both(inBand(0), sinceIs(1200), func(t *testing.T, d Decision) {
					if r := d.Resolves[0]; !r.At.Equal(t0.Add(1200*time.Second)) || !strings.Contains(r.Reason, "0.5 °C to 4.5 °C") {
						t.Errorf("resolve = %+v", r)
					}
				})},
				{at: 1500, temp: f(3.9), want: OK},
			},
		},
		{
			name: "re-excursion from restoring keeps one alert; a new one only after resolution",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(7), want: EXC},
				{at: 600, temp: f(7), want: ALRM, opens: exc},
				{at: 900, temp: f(4), want: REST},
				{at: 1200, temp: f(8), want: EXC, check: both(sinceIs(1200), hasEvent(KindExcursionResumed))},
				{at: 1500, temp: f(8), want: EXC},
				{at: 1800, temp: f(8), want: ALRM, check: hasEvent(KindReconfirmed)}, // no duplicate, no new page
				{at: 2100, temp: f(4), want: REST},
				{at: 2400, temp: f(4), want: OK, resolves: excR},
				{at: 2700, temp: f(7), want: EXC},
				{at: 3300, temp: f(7), want: ALRM, opens: exc}, // a new excursion: a new alert
			},
		},
		{
			name: "freezer: cold excursion below the minimum",
			cfg:  freezer(), init: old,
			steps: []step{
				{at: 0, temp: f(-18), want: OK},
				{at: 300, temp: f(-35), want: EXC},
				{at: 900, temp: f(-36), want: ALRM, opens: exc, check: func(t *testing.T, d Decision) {
					o := d.Opens[0]
					if o.Title != "Temperature below the minimum of -30.0 °C" || *o.LimitC != -30 {
						t.Errorf("alert = %+v", o)
					}
				}},
				{at: 1200, temp: f(-29.8), want: ALRM}, // band is [-29.5, -15.5]
				{at: 1500, temp: f(-29.5), want: REST},
				{at: 1800, temp: f(-25), want: OK, resolves: excR},
				{at: 2100, temp: f(-10), want: EXC},
				{at: 2700, temp: f(-12), want: ALRM, opens: exc, check: func(t *testing.T, d Decision) {
					if d.Opens[0].Title != "Temperature above the maximum of -15.0 °C" {
						t.Errorf("title = %q", d.Opens[0].Title)
					}
				}},
			},
		},
		{
			name: "late readings never move the state backwards",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(7), want: EXC},
				{at: 300, temp: f(7), want: EXC},
				{at: 100, temp: f(3), want: EXC, late: true, check: unchanged}, // would have restored
				{at: 600, temp: f(7), want: ALRM, opens: exc},
				{at: 900, temp: f(4), want: REST},
				{at: 700, temp: f(9), want: REST, late: true, check: unchanged}, // would have re-excursed
				{at: 800, door: b(true), sensor: "door-1", want: REST, late: true, check: func(t *testing.T, d Decision) {
					if d.DoorTransition != nil || d.State.DoorOpen {
						t.Errorf("a late door reading moved the door")
					}
				}},
				{at: 850, volts: f(2.0), want: REST, late: true}, // no battery judgement from late readings
				{at: 1200, temp: f(4), want: OK, resolves: excR},
			},
		},
		{
			name: "a duplicate observation (same reading time) is idempotent",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(7), door: b(true), want: EXC},
				{at: 0, temp: f(7), door: b(true), want: EXC, late: true, check: unchanged},
				{at: 1200, temp: f(7), door: b(true), want: ALRM, opens: exc},
				{at: 1200, temp: f(7), door: b(true), want: ALRM, late: true, check: func(t *testing.T, d Decision) {
					if d.Changed || d.DoorTransition != nil || len(d.Events) > 0 {
						t.Errorf("duplicate produced %+v", d)
					}
				}},
			},
		},
		{
			// Old FS bug: °C readings compared with whole-degree °F thresholds and
			// ×10/×100 integers. The engine only ever sees °C, at the DB's scale.
			name: "°F mix-up regression: 38 °F is 3.3 °C and in range",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(domain.ToCelsius(38, domain.Fahrenheit)), want: OK},
				{at: 300, temp: f(3.3), want: OK},
				{at: 600, temp: f(domain.ToCelsius(41, domain.Fahrenheit)), want: OK}, // 5.0 °C: the limit itself
				{at: 900, temp: f(domain.ToCelsius(42, domain.Fahrenheit)), want: EXC},
				{at: 1500, temp: f(domain.ToCelsius(42, domain.Fahrenheit)), want: ALRM, opens: exc, check: func(t *testing.T, d Decision) {
					o := d.Opens[0]
					if *o.TemperatureC != 5.56 || *o.LimitC != 5 || !strings.Contains(o.Title, "5.0 °C") {
						t.Errorf("alert = %+v", o)
					}
					// the notify layer renders the same °C values in the org's unit
					sms, _, _ := AlarmText(MessageInput{SiteName: "S", UnitName: "U", AlertType: o.Type, Severity: o.Severity,
						TemperatureC: o.TemperatureC, LimitC: o.LimitC, TempUnit: domain.Fahrenheit, At: o.At})
					if !strings.Contains(sms, "temperature 42.0 °F, above the maximum of 41.0 °F") {
						t.Errorf("sms = %q", sms)
					}
				}},
			},
		},
		{
			// Old FTP bug: door_last_changed_at was rewritten on every uplink.
			name: "door duration is not reset by repeated open uplinks",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, sensor: "door-1", door: b(false), want: OK, check: func(t *testing.T, d Decision) {
					if d.DoorTransition != nil || !d.State.DoorChangedAt.IsZero() {
						t.Errorf("closed -> closed is no transition")
					}
				}},
				{at: 60, sensor: "door-1", door: b(true), want: OK, check: func(t *testing.T, d Decision) {
					if d.DoorTransition == nil || !d.DoorTransition.Open || !d.DoorTransition.At.Equal(t0.Add(time.Minute)) {
						t.Errorf("transition = %+v", d.DoorTransition)
					}
				}},
				{at: 360, sensor: "door-1", door: b(true), want: OK},
				{at: 660, sensor: "door-1", door: b(true), want: OK, check: func(t *testing.T, d Decision) {
					if d.DoorTransition != nil || !d.State.DoorChangedAt.Equal(t0.Add(time.Minute)) {
						t.Errorf("repeated open reset the door: %+v", d.State)
					}
					if sev, ok := DoorOpenTooLong(d.State, t0.Add(660*time.Second), 3*time.Minute, 10*time.Minute); !ok || sev != SeverityCritical {
						t.Errorf("door open 10 min: %q %v", sev, ok)
					}
				}},
				{at: 700, sensor: "door-1", door: b(false), want: OK},
				{at: 760, sensor: "door-1", door: b(true), want: OK, check: func(t *testing.T, d Decision) {
					if !d.State.DoorChangedAt.Equal(t0.Add(760 * time.Second)) {
						t.Errorf("DoorChangedAt = %v", d.State.DoorChangedAt)
					}
					if _, ok := DoorOpenTooLong(d.State, t0.Add(820*time.Second), 3*time.Minute, 10*time.Minute); ok {
						t.Errorf("a door open for 60 s is not too long")
					}
				}},
			},
		},
		{
			name: "door-only sensor changes only the door (and feeds the confirm time)",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(7), want: EXC},
				{at: 610, sensor: "door-1", door: b(true), want: EXC, check: func(t *testing.T, d Decision) {
					if !d.Changed || d.DoorTransition == nil || !d.State.StatusSince.Equal(t0) || len(d.Opens) > 0 {
						t.Errorf("door-only reading: %+v", d)
					}
				}},
				{at: 700, temp: f(7), want: EXC},               // door open now: 1200 s
				{at: 1200, temp: f(7), want: ALRM, opens: exc}, // 1200 s after the excursion started
			},
		},
		{
			name: "battery low and recovery by volts, with hysteresis",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(3), volts: f(3.0), want: OK},
				{at: 300, temp: f(3), volts: f(2.45), want: OK, opens: batt, check: func(t *testing.T, d Decision) {
					if d.Opens[0].SensorID != "probe-1" || !strings.Contains(d.Opens[0].Message, "2.45 V") {
						t.Errorf("open = %+v", d.Opens[0])
					}
				}},
				{at: 600, volts: f(2.4)},
				{at: 900, volts: f(2.55)}, // above 2.5 but below 2.6: holds
				{at: 1200, volts: f(2.6), resolves: battR},
				{at: 1500, volts: f(2.55)},
				{at: 1800, volts: f(2.49), opens: batt},
				{at: 2100, volts: f(0)}, // 0 V = not reported
			},
		},
		{
			name: "battery low and recovery by percent, with hysteresis",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, pct: pct(50)},
				{at: 300, pct: pct(11)},
				{at: 600, pct: pct(10), opens: batt},
				{at: 900, pct: pct(15)},
				{at: 1200, pct: pct(20)},
				{at: 1500, pct: pct(21), resolves: battR},
			},
		},
		{
			name: "battery: volts and percent together; per-sensor alerts",
			cfg:  Config{MinC: 0, MaxC: 5, HysteresisC: 0.5, ConfirmSeconds: 600, LowBatteryVolts: 3.0, LowBatteryPercent: 20},
			init: old,
			steps: []step{
				{at: 0, volts: f(3.3), pct: pct(20), opens: batt}, // percent low is enough
				{at: 300, volts: f(3.05), pct: pct(50)},           // volts not recovered (3.1): hold
				{at: 600, volts: f(3.1), pct: pct(31), resolves: battR},
				{at: 900, sensor: "probe-2", volts: f(2.9), opens: batt},
				{at: 1200, sensor: "probe-3", volts: f(2.9), opens: batt}, // a second sensor: its own alert
				{at: 1500, sensor: "probe-2", volts: f(2.8)},
			},
			after: func(t *testing.T, _ State, o Open) {
				if !o.Sensor["probe-2"][TypeLowBattery] || !o.Sensor["probe-3"][TypeLowBattery] || o.Sensor["probe-1"][TypeLowBattery] {
					t.Errorf("open = %+v", o.Sensor)
				}
			},
		},
		{
			name: "sensor fault from a decoder error, resolved by the next clean reading",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, faults: []string{"payload too short: 3 bytes"}, want: OK, opens: fltW, check: func(t *testing.T, d Decision) {
					if !strings.Contains(d.Opens[0].Message, "payload too short") || d.Opens[0].SensorID != "probe-1" {
						t.Errorf("open = %+v", d.Opens[0])
					}
				}},
				{at: 300, faults: []string{"payload too short: 3 bytes"}},
				{at: 500, sensor: "door-1", door: b(true)},                       // another sensor: not this fault
				{at: 550, door: b(false)},                                        // no temperature: not a clean reading
				{at: 600, temp: f(3), faults: []string{"humidity out of range"}}, // plausible temp with a fault: judged, fault stays
				{at: 900, temp: f(3), want: OK, resolves: fltR},
			},
		},
		{
			// Issue 14: the unit stayed "ok" while its only probe read nonsense.
			name: "sensor fault from an implausible value never becomes an excursion; the unit shows monitoring_interrupted",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, temp: f(327.67), want: MI, opens: fltC, check: func(t *testing.T, d Decision) {
					if d.Opens[0].Title != "Sensor fault: implausible temperature" || d.Changed == false {
						t.Errorf("open = %+v", d.Opens[0])
					}
				}},
				{at: 300, temp: f(math.NaN()), want: MI},
				{at: 600, temp: f(math.Inf(-1)), want: MI},
				{at: 900, temp: f(-273), want: MI},
				{at: 1200, temp: f(3), want: REST, resolves: fltR},
				{at: 1500, temp: f(3), want: OK},
				{at: 1800, temp: f(-120), faults: []string{"probe disconnected"}, want: MI, opens: fltC},
			},
		},
		{
			name: "late reading may still raise a sensor fault, never resolve one",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 300, temp: f(3), want: OK},
				{at: 100, faults: []string{"crc"}, late: true, opens: fltW},
				{at: 200, temp: f(3), late: true}, // clean but late: the fault stays
				{at: 600, temp: f(3), resolves: fltR},
			},
		},
		{
			name: "zero confirm time alarms at the first out-of-range reading",
			cfg:  withConfirm(fridge(), 0, 0), init: old,
			steps: []step{
				{at: 0, temp: f(6), want: ALRM, opens: exc},
				{at: 60, temp: f(4), want: REST},
				{at: 120, temp: f(6), want: ALRM, check: both(hasEvent(KindExcursionResumed), hasEvent(KindReconfirmed))},
			},
		},
		{
			name: "readings after an outage: offline re-enters the machine and resolves monitoring_interrupted",
			cfg:  fridge(),
			init: State{Status: domain.UnitOffline, StatusSince: t0.Add(-time.Hour), LastReadingAt: t0.Add(-2 * time.Hour)},
			open: []string{TypeTempExcursion, TypeMonitoringInterrupted},
			steps: []step{
				{at: 0, door: b(true), sensor: "door-1", want: domain.UnitOffline}, // door-only: status untouched
				{at: 60, temp: f(4), want: REST, resolves: []string{TypeMonitoringInterrupted}, check: inBand(1)},
				{at: 360, temp: f(4), want: OK, resolves: excR},
			},
		},
		{
			name: "out of range after an outage: excursion, confirmed again without a duplicate",
			cfg:  fridge(),
			init: State{Status: domain.UnitMonitoringInterrupted, StatusSince: t0.Add(-time.Hour), LastReadingAt: t0.Add(-2 * time.Hour)},
			open: []string{TypeTempExcursion},
			steps: []step{
				{at: 0, temp: f(8), want: EXC},
				{at: 600, temp: f(8), want: ALRM, check: hasEvent(KindReconfirmed)},
			},
		},
		{
			name: "a margin reading after an outage is restoring with no in-band credit",
			cfg:  fridge(),
			init: State{Status: domain.UnitOffline, StatusSince: t0.Add(-time.Hour), LastReadingAt: t0.Add(-2 * time.Hour)},
			steps: []step{
				{at: 0, temp: f(4.9), want: REST, check: inBand(0)},
				{at: 300, temp: f(4), want: REST, check: inBand(1)},
				{at: 600, temp: f(4), want: OK},
			},
		},
		{
			// The person's resolution (with a corrective-action note) stands: the unit
			// stays alarm_active and no alert is re-opened until a new excursion.
			name: "an alert resolved by a person during alarm_active is not re-opened",
			cfg:  fridge(),
			init: State{Status: ALRM, StatusSince: t0.Add(-time.Hour), LastReadingAt: t0.Add(-time.Minute)},
			steps: []step{
				{at: 0, temp: f(7), want: ALRM},
				{at: 3600, temp: f(7), want: ALRM},
				{at: 3900, temp: f(4), want: REST},
				{at: 4200, temp: f(4), want: OK}, // nothing open: nothing to resolve
			},
		},
		{
			// Old FTP bug: two evaluators produced two alerts for one hot fridge.
			// Two probes in one unit share the unit's single temp_excursion alert.
			name: "two probes in one unit never open two temperature alerts",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, sensor: "probe-1", temp: f(7), want: EXC},
				{at: 300, sensor: "probe-2", temp: f(7.5), want: EXC},
				{at: 600, sensor: "probe-2", temp: f(7.5), want: ALRM, opens: exc},
				{at: 660, sensor: "probe-1", temp: f(7), want: ALRM},
			},
		},
		{
			name: "an ok unit with a stale open excursion alert resolves it on an in-band reading",
			cfg:  fridge(), init: old, open: []string{TypeTempExcursion},
			steps: []step{
				{at: 0, temp: f(4.8), want: OK}, // margin: not proof enough
				{at: 300, temp: f(3), want: OK, resolves: excR},
			},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

func TestEvaluateDoesNotMutateInputs(t *testing.T) {
	open := Open{Unit: map[string]bool{}, Sensor: map[string]map[string]bool{"probe-1": {}}}
	st := State{Status: EXC, StatusSince: t0}
	d := Evaluate(fridge(), st, open, Observation{At: t0.Add(time.Hour), SensorID: "probe-1", TemperatureC: f(8), BatteryVolts: f(2), Faults: []string{"x"}})
	if len(d.Opens) != 3 || len(open.Unit) != 0 || len(open.Sensor["probe-1"]) != 0 || st.Status != EXC {
		t.Fatalf("opens %v, inputs %+v %+v", opensOf(d), open, st)
	}
	// nil maps are fine
	d = Evaluate(fridge(), State{Status: REST, InBandCount: 1}, Open{}, Observation{At: t0, TemperatureC: f(3), BatteryPercent: pct(90)})
	if d.State.Status != OK || len(d.Resolves) != 0 {
		t.Fatalf("%+v", d)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.normalized()
	if c.LowBatteryVolts != 2.5 || c.LowBatteryPercent != 10 {
		t.Fatalf("%+v", c)
	}
	// hysteresis larger than half the range is clamped: the band is the midpoint
	cfg := Config{MinC: 0, MaxC: 5, HysteresisC: 10, ConfirmSeconds: 600}
	d := Evaluate(cfg, State{Status: REST, InBandCount: 1}, Open{}, Observation{At: t0, TemperatureC: f(2.5)})
	if d.State.Status != OK {
		t.Fatalf("midpoint of a clamped band: %s", d.State.Status)
	}
	d = Evaluate(cfg, State{Status: REST, InBandCount: 1}, Open{}, Observation{At: t0, TemperatureC: f(2.6)})
	if d.State.Status != REST || d.State.InBandCount != 0 {
		t.Fatalf("off the midpoint: %+v", d.State)
	}
}

func TestDoorOpenTooLong(t *testing.T) {
	open := State{DoorOpen: true, DoorChangedAt: t0}
	cases := []struct {
		st         State
		after      time.Duration
		warn, crit time.Duration
		sev        string
		ok         bool
	}{
		{open, 2 * time.Minute, 3 * time.Minute, 10 * time.Minute, "", false},
		{open, 3 * time.Minute, 3 * time.Minute, 10 * time.Minute, SeverityWarning, true},
		{open, 10 * time.Minute, 3 * time.Minute, 10 * time.Minute, SeverityCritical, true},
		{open, time.Hour, 0, 10 * time.Minute, SeverityCritical, true},
		{open, 5 * time.Minute, 0, 10 * time.Minute, "", false}, // warning disabled
		{open, time.Hour, 3 * time.Minute, 0, SeverityWarning, true},
		{State{DoorOpen: false, DoorChangedAt: t0}, time.Hour, time.Minute, time.Minute, "", false},
		{State{DoorOpen: true}, time.Hour, time.Minute, time.Minute, "", false}, // transition unknown
		{open, -time.Hour, time.Minute, time.Minute, "", false},                 // clock before the transition
	}
	for i, c := range cases {
		sev, ok := DoorOpenTooLong(c.st, t0.Add(c.after), c.warn, c.crit)
		if sev != c.sev || ok != c.ok {
			t.Errorf("case %d: got %q %v, want %q %v", i, sev, ok, c.sev, c.ok)
		}
	}
}
