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
