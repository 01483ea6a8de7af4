package decoders

import (
	"encoding/hex"
	"math"
	"testing"
)

// FuzzDecode feeds every model arbitrary bytes on arbitrary ports: no panic, and whatever comes
// out is within what the model can measure (the vendors' examples are the seeds).
func FuzzDecode(f *testing.F) {
	all := Models()
	vf := loadVectors(f)
	index := map[string]uint8{}
	for i, m := range all {
		index[m.ID] = uint8(i)
	}
	for _, vm := range vf.Models {
		m, ok := Lookup(vm.Vendor + "/" + vm.Model)
		if !ok {
			continue
		}
		for _, ex := range vm.Examples {
			b, _ := hex.DecodeString(ex.BytesHex)
			f.Add(index[m.ID], uint8(ex.FPort), b)
		}
	}
	f.Add(uint8(0), uint8(2), []byte{})
	// What shared/ttn's fuzz targets found (an ambient value dropped with a probe kept).
	f.Add(index["elsys/ers"], uint8(182), []byte("\f\x000\x0100"))
	f.Add(index["dragino/lht65"], uint8(2), []byte(" 0000090000"))
	f.Fuzz(func(t *testing.T, which, fport uint8, payload []byte) {
		m := all[int(which)%len(all)]
		r := m.Decode(int(fport), payload)
		if r.Model != m.ID || r.Frame == "" {
			t.Fatalf("model %q frame %q", r.Model, r.Frame)
		}
		check := func(ts []ProbeTemperature, hum *float64) {
			for _, p := range ts {
				lo, hi := m.probe(p.Probe).Range()
				if !(p.C >= lo && p.C <= hi) || math.IsNaN(p.C) {
					t.Fatalf("%s %s %v outside %v..%v", m.ID, p.Probe, p.C, lo, hi)
				}
			}
			if hum != nil && !(*hum >= 0 && *hum <= 100) {
				t.Fatalf("humidity %v", *hum)
			}
		}
		check(r.Temperatures, r.HumidityPct)
		for _, s := range r.History {
			check(s.Temperatures, s.HumidityPct)
		}
		if v := r.BatteryVolts; v != nil && !(*v >= 0 && *v <= MaxBatteryVolts) {
			t.Fatalf("volts %v", *v)
		}
		if p := r.BatteryPercent; p != nil && (*p < 0 || *p > 100) {
			t.Fatalf("percent %v", *p)
		}
		for _, f := range r.Faults {
			if f.Kind == "" || f.Message == "" || (f.Kind == FaultImplausible) != (f.Value != nil) {
				t.Fatalf("fault %+v", f)
			}
		}
		if u, ok := m.UnitTemperature(r, ""); ok {
			if _, in := r.Temperature(u.Probe); !in {
				t.Fatalf("unit temperature %+v is not one of the reading's", u)
			}
		}
	})
}

// FuzzDecodeObject feeds every model (and Generic) arbitrary decoded objects, as a network's
// payload formatter may emit them, with arbitrary bytes behind: no panic, what comes out is
// within what the model measures, and the unit's part of it is consistent.
func FuzzDecodeObject(f *testing.F) {
	all := append(Models(), Generic())
	f.Add(uint8(0), []byte(`{"TempC_SHT":"4.10","TempC_DS":327.67,"BatV":3050,"door":"open","battery":87}`), []byte{0xCB, 0xF6})
	f.Add(uint8(1), []byte(`{"temperature_f":1e308,"humidity":"-0","contact":true,"battery_level":"NaN"}`), []byte{})
	f.Add(uint8(2), []byte(`{"battery_percent":-1e300,"temperature":null,"bytes":"y/YL"}`), mustHex("CBF60B0D0376010ADD7FFF"))
	f.Add(uint8(3), []byte(`[1,2]`), []byte{1})
	f.Fuzz(func(t *testing.T, which uint8, obj, payload []byte) {
		m := all[int(which)%len(all)]
		r := m.DecodeUplink(2, payload, obj)
		if r.Frame == "" {
			t.Fatalf("no frame: %+v", r)
		}
		for _, p := range r.Temperatures {
			lo, hi := m.probe(p.Probe).Range()
			if !(p.C >= lo && p.C <= hi) {
				t.Fatalf("%s %s %v outside %v..%v", m.ID, p.Probe, p.C, lo, hi)
			}
		}
		if h := r.HumidityPct; h != nil && !(*h >= 0 && *h <= 100) {
			t.Fatalf("humidity %v", *h)
		}
		if v := r.BatteryVolts; v != nil && !(*v >= 0 && *v <= MaxBatteryVolts) {
			t.Fatalf("volts %v", *v)
		}
		if p := r.BatteryPercent; p != nil && (*p < 0 || *p > 100) {
			t.Fatalf("percent %v", *p)
		}
		for _, setting := range []string{"", m.DefaultProbe, "external"} {
			u := m.Unit(r, setting)
			if u.TemperatureC != nil && (math.IsNaN(*u.TemperatureC) || math.IsInf(*u.TemperatureC, 0)) {
				t.Fatalf("unit temperature %v", *u.TemperatureC)
			}
			if u.TemperatureC != nil && u.Probe == "" {
				t.Fatalf("a temperature without a probe: %+v", u)
			}
			if len(u.Faults)+btoi(u.Failed != "") > len(r.Faults) {
				t.Fatalf("unit faults %q from reading faults %v", u.Faults, r.Faults)
			}
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
