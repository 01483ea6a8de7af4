package alerting

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// source is what a random trace is drawn from: math/rand for the property
// test, the fuzzer's bytes for FuzzEvaluate.
type source interface{ IntN(n int) int }

type byteSource struct {
	data []byte
	i    int
}

func (s *byteSource) IntN(n int) int {
	if s.i >= len(s.data) {
		return 0
	}
	v := int(s.data[s.i])
	s.i++
	if n > 256 {
		if s.i < len(s.data) {
			v = v<<8 | int(s.data[s.i])
			s.i++
		}
	}
	return v % n
}

func (s *byteSource) done() bool { return s.i >= len(s.data) }

func pick[T any](src source, xs ...T) T { return xs[src.IntN(len(xs))] }

func genConfig(src source) Config {
	lo := pick(src, -30.0, -20, 0, 2, -40, -90)
	c := Config{
		MinC: lo, MaxC: lo + float64(1+src.IntN(15)), HysteresisC: pick(src, 0, 0.3, 0.5, 1, 5, -1),
		ConfirmSeconds: pick(src, 0, 60, 300, 600, -5), DoorConfirmSeconds: pick(src, 0, 600, 1200),
		LowBatteryVolts: pick(src, 0, 2.5, 3.0), LowBatteryPercent: pick(src, 0, 10, 25),
	}
	if src.IntN(2) == 0 {
		c.Plausible = PlausibleRange(pick(src, domain.UnitTypes...), c.MinC, c.MaxC, pick(src, nil, &Range{-40, 85}, &Range{-55, 125}))
	}
	if src.IntN(2) == 0 {
		c.Cooling = CoolingRule{SlopeCPerHour: pick(src, 0.2, 1.5, 5), Readings: pick(src, 0, 4, 8, 15, 40)}
	}
	if src.IntN(3) == 0 {
		c.Defrost = []DefrostWindow{{StartMinute: 14*60 + src.IntN(60), DurationMinutes: pick(src, 5, 30, 120)}}
		c.Location = pick(src, nil, time.UTC, time.FixedZone("X", 3600))
	}
	return c
}

func genState(src source) State {
	st := State{Status: pick(src, OK, OK, OK, EXC, ALRM, REST, domain.UnitOffline, domain.UnitMonitoringInterrupted,
		domain.UnitManualRequired, domain.UnitStatus(""))}
	st.StatusSince = t0.Add(-time.Duration(src.IntN(7200)) * time.Second)
	if src.IntN(4) > 0 {
		st.LastReadingAt = t0.Add(-time.Duration(src.IntN(600)) * time.Second)
	}
	if st.Status == REST {
		st.InBandCount = src.IntN(InBandReadingsToRecover)
	}
	if src.IntN(3) == 0 {
		st.DoorOpen, st.DoorChangedAt = true, st.StatusSince
	}
	return st
}

func genObservation(src source, cfg Config, prev time.Time) Observation {
	var dt time.Duration
	switch src.IntN(10) {
	case 0:
		dt = -time.Duration(src.IntN(900)) * time.Second // late
	case 1:
		dt = 0 // duplicate instant
	default:
		dt = time.Duration(1+src.IntN(900)) * time.Second
	}
	obs := Observation{At: prev.Add(dt), SensorID: pick(src, "p1", "p1", "p2", "door")}
	switch src.IntN(12) {
	case 0: // no temperature
	case 1:
		obs.TemperatureC = f(pick(src, math.NaN(), math.Inf(1), math.Inf(-1), 327.67, -3276.8, 1e300, -100.01))
	default:
		// around the range, at the DB's 0.01 scale, sometimes exactly on an edge
		span := cfg.MaxC - cfg.MinC + 10
		v := cfg.MinC - 5 + float64(src.IntN(int(span*100)+1))/100
		v = pick(src, v, v, v, v, cfg.MinC, cfg.MaxC, cfg.MinC+cfg.HysteresisC, cfg.MaxC-cfg.HysteresisC)
		obs.TemperatureC = f(v)
	}
	if src.IntN(3) == 0 {
		obs.DoorOpen = b(src.IntN(2) == 0)
	}
	if src.IntN(4) == 0 {
		obs.BatteryVolts = f(pick(src, 0, 2.0, 2.45, 2.5, 2.55, 2.6, 3.1, 3.6, -1, math.NaN()))
	}
	if src.IntN(4) == 0 {
		obs.BatteryPercent = pct(pick(src, -1, 0, 5, 10, 15, 20, 21, 35, 100))
	}
	if src.IntN(10) == 0 {
		obs.Manual, obs.SensorID, obs.DoorOpen, obs.BatteryVolts, obs.BatteryPercent = true, "", nil, nil, nil
		return obs
	}
	if src.IntN(10) == 0 {
		obs.Faults = pick(src, []string{"crc"}, []string{""}, []string{"bad \x00 utf8 \xff"}, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"})
	}
	return obs
}

// runTrace evaluates a random trace, as the store would, and returns the
// first invariant violation.
func runTrace(src source, steps int, more func() bool) error {
	cfg := genConfig(src)
	start := genState(src)
	w := newWorld(start, nil)
	for _, typ := range []string{TypeTempExcursion, TypeMonitoringInterrupted, TypeMissedManualEntry, TypeSuspectedCooling} {
		if src.IntN(4) == 0 {
			w.setOpen(typ, "", true)
		}
	}
	prev := t0
	for i := 0; i < steps && more(); i++ {
		if src.IntN(20) == 0 { // a person resolves the temperature alert
			w.setOpen(TypeTempExcursion, "", false)
		}
		obs := genObservation(src, cfg, prev)
		if obs.At.After(prev) {
			prev = obs.At
		}
		in := w.input(obs)
		d := Evaluate(cfg, in, w.open, obs)
		bad := checkDecision(cfg, in, w.open, obs, d)
		bad = append(bad, checkTiming(cfg, in, w.open, obs, d)...)
		bad = append(bad, w.apply(d)...)
		w.store(cfg, obs)
		if known(start.Status) && !known(w.st.Status) && w.st.Status != MI {
			bad = append(bad, fmt.Sprintf("status %q", w.st.Status))
		}
		if len(bad) > 0 {
			return fmt.Errorf("step %d: cfg %+v\nin %+v\nobs %+v\ndecision %+v\n%v", i, cfg, in, obs, d, bad)
		}
	}
	return nil
}

func known(s domain.UnitStatus) bool { return s == OK || s == EXC || s == ALRM || s == REST }

// checkTiming: a temperature alert opens only once the excursion lasted its
// confirm time (one noisy reading never pages unless the confirm time is 0),
// and only ok is reached from restoring with enough in-band readings.
func checkTiming(cfg Config, in State, open Open, obs Observation, d Decision) []string {
	var bad []string
	for _, o := range d.Opens {
		if o.Type != TypeTempExcursion {
			continue
		}
		need := cfg.ConfirmSeconds
		if d.State.DoorOpen {
			need = cfg.DoorConfirmSeconds
		}
		need = max(need, 0)
		if in.Status == EXC {
			if obs.At.Sub(in.StatusSince) < time.Duration(need)*time.Second {
				bad = append(bad, "alert opened before the confirm time")
			}
		} else if need != 0 {
			bad = append(bad, fmt.Sprintf("alert opened from %s at the first out-of-range reading", in.Status))
		}
	}
	if in.Status == REST && d.State.Status == OK && in.InBandCount != InBandReadingsToRecover-1 {
		bad = append(bad, "ok without enough in-band readings")
	}
	if d.State.Status == OK && in.Status != OK && in.Status != REST {
		bad = append(bad, fmt.Sprintf("ok straight from %s", in.Status))
	}
	return bad
}

func TestRandomTraces(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		if err := runTrace(r, 200, func() bool { return true }); err != nil {
			t.Fatalf("trace %d: %v", i, err)
		}
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x02\x05\x02\x03\x01\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	r := rand.New(rand.NewPCG(7, 7))
	for range 8 {
		seed := make([]byte, 256)
		for i := range seed {
			seed[i] = byte(r.IntN(256))
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{data: data}
		if err := runTrace(src, 1000, func() bool { return !src.done() }); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkEvaluate(b *testing.B) {
	cfg := fridge()
	open := Open{Unit: map[string]bool{}, Sensor: map[string]map[string]bool{}}
	b.Run("steady_in_band", func(b *testing.B) {
		st := State{Status: OK, StatusSince: t0, LastReadingAt: t0}
		temp, volts := 3.2, 3.1
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d := Evaluate(cfg, st, open, Observation{At: t0.Add(time.Duration(i+1) * time.Minute), SensorID: "p1",
				TemperatureC: &temp, BatteryVolts: &volts})
			st = d.State
		}
	})
	b.Run("excursion_to_alarm_cycle", func(b *testing.B) {
		temps := []float64{7, 7, 7, 4, 4} // excursion, hold, alarm (open), restoring, ok (resolve)
		st := State{Status: OK, StatusSince: t0}
		o := Open{Unit: map[string]bool{}}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			temp := temps[i%len(temps)]
			d := Evaluate(cfg, st, o, Observation{At: t0.Add(time.Duration(i+1) * 5 * time.Minute), SensorID: "p1", TemperatureC: &temp})
			st = d.State
			for _, x := range d.Opens {
				o.Unit[x.Type] = true
			}
			for _, x := range d.Resolves {
				o.Unit[x.Type] = false
			}
		}
	})
}
