package originimport

import (
	"math"
	"testing"
	"time"
)

// TestNormaliseRule walks the rule of temperature.go on one unit's readings
// in time order: each step is one stored value and what it must become.
func TestNormaliseRule(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		name     string
		unitType string
		series   string
		at       time.Duration
		stored   float64
		payload  string
		want     float64 // ignored for out_of_range
		scale    Scale
		evidence Evidence
	}
	cases := [][]step{{
		{"°C in a fridge", "fridge", "dev|ttn", 0, 3.1, "", 3.1, Celsius, ByRange},
		{"°F in a fridge: 38 °C is no fridge", "fridge", "dev|ttn", time.Minute, 38, "", 3.33, Fahrenheit, ByRange},
		{"a warm fridge in °C", "walk_in_cooler", "dev|ttn", 2 * time.Minute, 12, "", 12, Celsius, ByRange},
		{"a walk-in cooler at 5 °F is -15 °C: implausible, so °C", "walk_in_cooler", "dev|ttn", 3 * time.Minute, 5, "", 5, Celsius, ByRange},
		{"-127: a disconnected probe", "fridge", "dev|ttn", 4 * time.Minute, -127, "", -127, Implausible, ByNothing},
		{"327.67: the other error code", "fridge", "dev|ttn", 5 * time.Minute, 327.67, "", 327.67, Implausible, ByNothing},
		{"too large for numeric(6,2)", "fridge", "dev|ttn", 6 * time.Minute, 12345.67, "", 0, OutOfRange, ByNothing},
	}, {
		{"a freezer's °F defrost peak anchors the device", "freezer", "probe|ttn", 0, 30.2, "", -1, Fahrenheit, ByRange},
		{"0 could be either: the anchor says °F", "freezer", "probe|ttn", time.Hour, 0, "", -17.78, Fahrenheit, BySeries},
		{"-2 °F, 23 hours after the anchor", "freezer", "probe|ttn", 23 * time.Hour, -2, "", -18.89, Fahrenheit, BySeries},
		{"another device has no anchor", "freezer", "other|ttn", 23 * time.Hour, -2, "", -2, Ambiguous, ByNothing},
		{"the same device from another source has none either", "freezer", "probe|api", 23 * time.Hour, -2, "", -2, Ambiguous, ByNothing},
		{"more than a day after the anchor: ambiguous, kept as stored", "freezer", "probe|ttn", 25 * time.Hour, -20.5, "", -20.5, Ambiguous, ByNothing},
		{"a value standing alone (no series) is never carried", "freezer", "", 25 * time.Hour, -4, "", -4, Ambiguous, ByNothing},
	}, {
		{"a payload naming °F decides", "walk_in_cooler", "|api", 0, 20, `{"temperature_f":20.0}`, -6.67, Fahrenheit, ByPayload},
		{"the payload anchor carries to the next reading", "walk_in_cooler", "|api", time.Minute, 21, "", -6.11, Fahrenheit, BySeries},
		{"a payload naming °C decides", "walk_in_cooler", "|api", 2 * time.Minute, 20, `{"TempC_SHT":20}`, 20, Celsius, ByPayload},
		{"a payload key whose value differs is no evidence", "walk_in_cooler", "|web", time.Minute, 20, `{"temperature_f":68}`, 20, Ambiguous, ByNothing},
		{"base64 (the origin's usual raw_payload) is no evidence", "walk_in_cooler", "|web", time.Minute, 20, `y6QHAA==`, 20, Ambiguous, ByNothing},
	}}
	for _, steps := range cases {
		n := map[string]*Normaliser{}
		for _, s := range steps {
			if n[s.unitType] == nil {
				n[s.unitType] = NewNormaliser(s.unitType)
			}
			got := n[s.unitType].Normalise(s.series, t0.Add(s.at), s.stored, s.payload)
			if got.Scale != s.scale || got.Evidence != s.evidence {
				t.Errorf("%s: %s by %q, want %s by %q", s.name, got.Scale, got.Evidence, s.scale, s.evidence)
				continue
			}
			switch {
			case s.scale == OutOfRange && got.C != nil:
				t.Errorf("%s: %v stored", s.name, *got.C)
			case s.scale != OutOfRange && (got.C == nil || *got.C != s.want):
				t.Errorf("%s: %v, want %v", s.name, got.C, s.want)
			}
		}
	}
}

func TestThresholdC(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want float64
	}{{41, "F", 5}, {35, "F", 1.67}, {-10, "F", -23.33}, {0, "F", -17.78}, {4, "C", 4}, {-18, "c", -18}} {
		if got := ThresholdC(c.v, c.unit); got != c.want {
			t.Errorf("%v %s: %v, want %v", c.v, c.unit, got, c.want)
		}
	}
}

// FuzzNormalise: any stored value and payload is judged without panicking,
// and the verdict always says what was done to the value.
func FuzzNormalise(f *testing.F) {
	f.Add("freezer", 30.2, "", int64(0))
	f.Add("fridge", 38.0, `{"temperature_f":38}`, int64(60))
	f.Add("walk_in_cooler", 20.0, `{"TempC_SHT":20,"temp":"x"}`, int64(-5))
	f.Add("blast_chiller", 1e300, `{`, int64(1))
	f.Add("other", -127.0, `{"temperature":-127}`, int64(86400*2))
	f.Add("fridge", math.NaN(), "", int64(3))
	f.Add("fridge", math.Inf(-1), "", int64(3))
	n := map[string]*Normaliser{}
	f.Fuzz(func(t *testing.T, typ string, stored float64, payload string, seconds int64) {
		if n[typ] == nil {
			if len(n) > 64 {
				clear(n)
			}
			n[typ] = NewNormaliser(typ)
		}
		at := time.Unix(1_800_000_000+seconds%(365*86400), 0)
		got := n[typ].Normalise("dev|ttn", at, stored, payload)
		switch got.Scale {
		case OutOfRange:
			if got.C != nil {
				t.Fatalf("out of range but stored %v", *got.C)
			}
		case Fahrenheit:
			if got.C == nil || *got.C != FahrenheitToCelsius(stored) || got.Evidence == ByNothing {
				t.Fatalf("°F: %+v for %v", got, stored)
			}
		case Celsius:
			if got.C == nil || *got.C != round2(stored) || got.Evidence == ByNothing {
				t.Fatalf("°C: %+v for %v", got, stored)
			}
		case Ambiguous, Implausible:
			if got.C == nil || *got.C != round2(stored) || got.Evidence != ByNothing {
				t.Fatalf("kept as stored: %+v for %v", got, stored)
			}
		default:
			t.Fatalf("unknown verdict %+v", got)
		}
	})
}
