package alerting

import (
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/domain"
)

// withType is cfg with the plausible range of a unit of type ut read by a
// sensor model measuring model (nil: unknown model).
func withType(cfg Config, ut domain.UnitType, model *Range) Config {
	cfg.Plausible = PlausibleRange(ut, cfg.MinC, cfg.MaxC, model)
	return cfg
}

func ultraLow() Config {
	c := domain.DefaultUnitConfig(domain.UltraLowFreezer)
	return withType(Config{MinC: c.TempMinC, MaxC: c.TempMaxC, HysteresisC: c.HysteresisC,
		ConfirmSeconds: c.ConfirmSeconds, DoorConfirmSeconds: c.DoorConfirmSeconds}, domain.UltraLowFreezer, nil)
}

var (
	lht65  = &Range{-55, 125} // Dragino LHT65: internal SHT and external DS18B20 probe
	em300  = &Range{-30, 70}  // Milesight EM300-TH (shared/lorawan/decoders: its device repository entry)
	miss   = []string{"missed_manual_entry"}
	fltRes = fltR
)

func TestPlausibleRange(t *testing.T) {
	cases := []struct {
		ut       domain.UnitType
		min, max float64
		model    *Range
		want     Range
	}{
		{domain.Fridge, 0, 5, nil, Range{-40, 60}},
		{domain.Fridge, 0, 5, lht65, Range{-40, 60}},
		{domain.Freezer, -30, -15, nil, Range{-60, 60}},
		{domain.WalkInFreezer, -30, -15, em300, Range{-30, 60}}, // the sensor cannot read below -30
		{domain.UltraLowFreezer, -90, -60, nil, Range{-110, 60}},
		{domain.UltraLowFreezer, -90, -60, lht65, Range{-55, 60}},
		{domain.BlastChiller, -40, 3, nil, Range{-60, 110}},
		{domain.Fridge, -50, 70, nil, Range{-70, 90}}, // widened to cover what the owner configured
		{"unknown", 0, 5, nil, Range{-100, 150}},
		{domain.Fridge, 0, 5, &Range{100, 200}, Range{-40, 60}}, // a model range outside the band is ignored
	}
	for _, c := range cases {
		if got := PlausibleRange(c.ut, c.min, c.max, c.model); got != c.want {
			t.Errorf("%s %v..%v model %v: %v, want %v", c.ut, c.min, c.max, c.model, got, c.want)
		}
	}
}

// Issue 14: the TTN layer dropped temperatures outside -60..100 °C into
// warnings, so 327.67 °C (a disconnected probe), 120 °C or -80 °C opened
// only a warning sensor_fault and the unit stayed "ok". The engine now sees
// every value and judges it against the unit's plausible range.
func TestImplausibleReadingScenarios(t *testing.T) {
	scenarios := []scenario{
		{
			name: "120 °C in a fridge: a critical fault of that sensor, the unit interrupted",
			cfg:  withType(fridge(), domain.Fridge, lht65), init: old,
			steps: []step{
				{at: 0, temp: f(3), want: OK},
				{at: 300, temp: f(120), want: MI, opens: fltC, check: func(t *testing.T, d Decision) {
					o := d.Opens[0]
					if o.SensorID != "probe-1" || *o.TemperatureC != 120 || !strings.Contains(o.Message, "-40.0 °C to 60.0 °C") {
						t.Errorf("open %+v", o)
					}
				}},
				{at: 600, temp: f(3.5), want: REST, resolves: fltRes},
				{at: 900, temp: f(3.5), want: OK},
			},
		},
		{
			name: "-80 °C in a fridge is a fault, not an excursion",
			cfg:  withType(fridge(), domain.Fridge, nil), init: old,
			steps: []step{
				{at: 0, temp: f(-80), want: MI, opens: fltC},
				{at: 600, temp: f(-80), want: MI},
				{at: 1200, temp: f(-80), want: MI}, // never confirms an excursion
			},
		},
		{
			name: "an ultra-low freezer at -80 °C is normal, at -95 °C an excursion, at -120 °C a fault",
			cfg:  ultraLow(), init: old,
			steps: []step{
				{at: 0, temp: f(-80), want: OK},
				{at: 300, temp: f(-78.5), want: OK},
				{at: 600, temp: f(-95), want: EXC},
				{at: 1200, temp: f(-96), want: ALRM, opens: exc},
				{at: 1500, temp: f(-120), want: ALRM, opens: fltC}, // an alarm in progress is kept
				{at: 1800, temp: f(-80), want: REST, resolves: fltRes},
				{at: 2100, temp: f(-80), want: OK, resolves: excR},
			},
		},
		{
			name: "the sensor model narrows the range: -45 °C from an EM300 in a walk-in freezer is a fault",
			cfg:  withType(freezer(), domain.WalkInFreezer, em300), init: old,
			steps: []step{
				{at: 0, temp: f(-20), want: OK},
				{at: 300, temp: f(-45), want: MI, opens: fltC},
			},
		},
		{
			// The device itself says the probe measuring the unit is gone
			// (Dragino's 0x7FFF): no temperature, the unit is not measured.
			name: "a disconnected unit probe is a critical fault and interrupts the unit",
			cfg:  withType(fridge(), domain.Fridge, lht65), init: old,
			steps: []step{
				{at: 0, temp: f(3), want: OK},
				{at: 300, failed: "external probe not connected", want: MI, opens: fltC, check: func(t *testing.T, d Decision) {
					if o := d.Opens[0]; o.Title != "Sensor fault: probe failed" || !strings.Contains(o.Message, "external probe not connected") || o.TemperatureC != nil {
						t.Errorf("open %+v", o)
					}
				}},
				{at: 600, failed: "external probe not connected", want: MI},
				{at: 900, temp: f(3.2), want: REST, resolves: fltRes},
			},
		},
		{
			name: "without a model the same -45 °C is a cold excursion",
			cfg:  withType(freezer(), domain.WalkInFreezer, nil), init: old,
			steps: []step{
				{at: 0, temp: f(-20), want: OK},
				{at: 300, temp: f(-45), want: EXC},
				{at: 900, temp: f(-45), want: ALRM, opens: exc},
			},
		},
		{
			// Two probes, one broken: the broken one must never reset the
			// good one's confirm timer.
			name: "a broken second probe never holds back the alarm of the good one",
			cfg:  withType(fridge(), domain.Fridge, lht65), init: old,
			steps: []step{
				{at: 0, sensor: "probe-1", temp: f(7), want: EXC},
				{at: 200, sensor: "probe-2", temp: f(327.67), want: EXC, opens: fltC, check: sinceIs(0)},
				{at: 400, sensor: "probe-2", temp: f(327.67), want: EXC},
				{at: 600, sensor: "probe-1", temp: f(7), want: ALRM, opens: exc},
				{at: 800, sensor: "probe-2", temp: f(327.67), want: ALRM},
			},
		},
		{
			name: "a late implausible reading raises the fault but never moves the unit",
			cfg:  withType(fridge(), domain.Fridge, lht65), init: old,
			steps: []step{
				{at: 600, temp: f(3), want: OK},
				{at: 300, temp: f(327.67), want: OK, late: true, opens: fltC},
			},
		},
		{
			name: "readings after an implausible one resolve the monitoring_interrupted alert the sweeper opened",
			cfg:  withType(fridge(), domain.Fridge, lht65), init: old,
			steps: []step{
				{at: 0, temp: f(327.67), want: MI, opens: fltC},
				{at: 300, sensor: "door-1", door: b(true), want: MI}, // a door uplink is no temperature
			},
			after: func(t *testing.T, st State, _ Open) {
				if !st.LastTemperatureAt.Equal(old.LastTemperatureAt) {
					t.Errorf("LastTemperatureAt moved to %v without a plausible temperature", st.LastTemperatureAt)
				}
			},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

// Issue 14: manual-log alarms must behave like sensor alarms, and a manual
// log resolves missed_manual_entry; it never stands in for the sensors.
func TestManualReadingScenarios(t *testing.T) {
	scenarios := []scenario{
		{
			name: "hand readings confirm an excursion like sensor readings",
			cfg:  fridge(), init: old,
			steps: []step{
				{at: 0, manual: true, temp: f(8), want: EXC},
				{at: 600, manual: true, temp: f(8.5), want: ALRM, opens: exc},
				{at: 900, manual: true, temp: f(4), want: REST},
				{at: 1200, manual: true, temp: f(4), want: OK, resolves: excR},
			},
		},
		{
			name: "a hand reading resolves missed_manual_entry, even a late one, never monitoring_interrupted or a sensor fault",
			cfg:  fridge(), init: old, open: []string{TypeMissedManualEntry, TypeMonitoringInterrupted, "sensor_fault@probe-1"},
			steps: []step{
				{at: -120, manual: true, temp: f(3), late: true, resolves: miss},
				{at: 0, manual: true, temp: f(3), want: OK},
				{at: 300, temp: f(3), want: OK, resolves: []string{"monitoring_interrupted", "sensor_fault"}},
			},
			after: func(t *testing.T, st State, _ Open) {
				if !st.LastTemperatureAt.Equal(t0.Add(300e9)) {
					t.Errorf("LastTemperatureAt %v: only the sensor reading is a check-in", st.LastTemperatureAt)
				}
			},
		},
		{
			name: "an implausible hand reading is not a sensor fault",
			cfg:  fridge(), init: old,
			steps: []step{{at: 0, manual: true, temp: f(327), want: OK}},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}
