package decoders

import (
	"encoding/hex"
	"strings"
	"testing"
)

// The payloads shared/lorawan/ttn's built-in decoders are tested with (shared/lorawan/ttn/decode_test.go
// TestBuiltinDecoders), through the legacy decoder names they were registered under: the same
// unit temperature, other probe, humidity, battery and door, and a fault where they had one, so
// moving ingest onto this package changes no stored reading. One departure, tested below:
// Dragino's Ext bit 7.
func TestLegacyPayloadsSameResults(t *testing.T) {
	type want struct {
		temp, probe, hum, volts *float64
		pct                     *int
		door                    *bool
		faults                  []FaultKind
		faultText               []string // substrings, in order
	}
	cases := []struct {
		name, decoder string
		fport         int
		hex           string
		want          want
	}{
		{"lht65n ttn example", "dragino-lht65", 2, "CBF60B0D0376010ADD7FFF",
			want{temp: fp(28.29), probe: fp(27.81), hum: fp(88.6), volts: fp(3.062)}},
		{"lht65 no probe", "dragino-lht65", 2, "CBF6FF9C03760000000000",
			want{temp: fp(-1), hum: fp(88.6), volts: fp(3.062)}},
		{"lht65 freezer probe", "dragino-lht65", 2, "0B490B0D037601F8B87FFF",
			want{temp: fp(28.29), probe: fp(-18.64), hum: fp(88.6), volts: fp(2.889)}},
		{"lht65 probe disconnected", "dragino-lht65", 2, "CBF60B0D0376017FFF7FFF",
			want{temp: fp(28.29), hum: fp(88.6), volts: fp(3.062), faults: []FaultKind{FaultSensor}, faultText: []string{"external probe not connected"}}},
		{"lht65 tmp117 probe", "dragino-lht65", 2, "CBF60B0D03760209C40000",
			want{temp: fp(28.29), probe: fp(25), hum: fp(88.6), volts: fp(3.062)}},
		{"lht65 ext 9 (probe in bytes 0-1)", "dragino-lht65", 2, "0ADD0B0DC37609 65A1B2C3",
			want{temp: fp(28.29), probe: fp(27.81), hum: fp(88.6)}},
		{"lht65 short", "dragino-lht65", 2, "CBF60B", want{faults: []FaultKind{FaultPayload}, faultText: []string{"payload too short for the LHT65 (3 bytes, want 11)"}}},
		{"lht65 empty", "dragino-lht65", 2, "", want{faults: []FaultKind{FaultPayload}, faultText: []string{"payload too short"}}},
		{"lht65 status port", "dragino-lht65", 5, "0B01000D0F00000BC5", want{faults: []FaultKind{FaultPayload}, faultText: []string{"fPort 5"}}},
		{"lht65 implausible internal", "dragino-lht65", 2, "CBF67F0003E80000000000",
			want{volts: fp(3.062), hum: fp(100), faults: []FaultKind{FaultImplausible}, faultText: []string{"temperature 325.12 °C"}}},

		{"em300-th ttn example", "milesight-em300-th", 85, "0175320367C80004683C", want{temp: fp(20), hum: fp(30), pct: ip(50)}},
		{"em300-th milesight example", "milesight-em300-th", 85, "01755C03673401046865", want{temp: fp(30.8), hum: fp(50.5), pct: ip(92)}},
		{"em300-th negative + device info", "milesight-em300-th", 85, "FF0B01FF0110FF166136D446868700130367 4EFF04687F",
			want{temp: fp(-17.8), hum: fp(63.5)}},
		{"em300-th unknown channel after data", "milesight-em300-th", 85, "0367C8000999AABB", want{temp: fp(20)}},
		{"em300-th only unknown", "milesight-em300-th", 85, "0999AABB", want{faults: []FaultKind{FaultPayload}, faultText: []string{"unknown channel 0x09 0x99"}}},
		{"em300-th truncated", "milesight-em300-th", 85, "0175320367C8", want{pct: ip(50), faults: []FaultKind{FaultPayload}, faultText: []string{"payload truncated"}}},
		{"em300-mcs magnet open", "milesight-em300-th", 85, "017564060001", want{pct: ip(100), door: bp(true)}},
		{"em300-th history skipped", "milesight-em300-th", 85, "20CE9E74466310015D00", want{}},
		{"em300 short", "milesight-em300-th", 85, "01", want{faults: []FaultKind{FaultPayload}, faultText: []string{"payload too short"}}},

		{"lds02 ttn example", "dragino-lds02", 10, "0B880100250001", want{volts: fp(2.952), door: bp(false)}},
		{"lds02 open", "dragino-lds02", 10, "8BDB0100002A00000300", want{volts: fp(3.035), door: bp(true)}},
		{"lds02 leak mode has no door", "dragino-lds02", 10, "CBDB0200000100000000", want{volts: fp(3.035)}},
		{"lds02 short", "dragino-lds02", 10, "8B", want{faults: []FaultKind{FaultPayload}, faultText: []string{"payload too short for the LDS01/LDS02"}}},
		{"lds02 wrong port", "dragino-lds02", 2, "8BDB0100002A00000300", want{faults: []FaultKind{FaultPayload}, faultText: []string{"fPort 2"}}},

		{"elsys ers", "elsys", 5, "0100E20229070E360402A10500", want{temp: fp(22.6), hum: fp(41), volts: fp(3.638)}},
		{"elsys ems door closed", "elsys", 5, "0100B402320D01070E10", want{temp: fp(18), hum: fp(50), door: bp(false), volts: fp(3.6)}},
		{"elsys ems door open + ext probe", "elsys", 5, "0D000CFF4C", want{temp: fp(-18.0), door: bp(true)}},
		{"elsys ems-door ttn example (no mapped values)", "elsys", 1, "030127050A11010B000A0011", want{}},
		{"elsys truncated", "elsys", 5, "0100E201FF", want{temp: fp(22.6), faults: []FaultKind{FaultPayload}, faultText: []string{"payload truncated for an Elsys sensor"}}},
		{"elsys unknown", "elsys", 5, "F0F0F0", want{faults: []FaultKind{FaultPayload}, faultText: []string{"unknown data type 0xF0"}}},
		{"elsys implausible ambient keeps probe separate", "elsys", 5, "0130300C0064",
			want{probe: fp(10), faults: []FaultKind{FaultImplausible}, faultText: []string{"temperature 1233.6 °C"}}},
		{"elsys sensor error value", "elsys", 5, "017FFF", want{faults: []FaultKind{FaultImplausible}, faultText: []string{"temperature 3276.7 °C"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, ok := Resolve(c.decoder, "")
			if !ok {
				t.Fatalf("legacy decoder name %q selects no model", c.decoder)
			}
			r := m.Decode(c.fport, mustHex(c.hex))
			var temp, probe *float64
			if u, ok := m.UnitTemperature(r, ""); ok {
				temp = fp(u.C)
				for _, o := range r.Temperatures {
					if o.Probe != u.Probe {
						probe = fp(o.C)
						break
					}
				}
			} else if len(r.Temperatures) > 0 {
				probe = fp(r.Temperatures[0].C)
			}
			w := c.want
			if !eqF(temp, w.temp) || !eqF(probe, w.probe) || !eqF(r.HumidityPct, w.hum) || !eqF(r.BatteryVolts, w.volts) ||
				!eqI(r.BatteryPercent, w.pct) || !eqB(r.DoorOpen, w.door) {
				t.Fatalf("got temp=%v probe=%v hum=%v volts=%v pct=%v door=%v (%+v)", deref(temp), deref(probe), deref(r.HumidityPct),
					deref(r.BatteryVolts), deref(r.BatteryPercent), deref(r.DoorOpen), r)
			}
			if len(r.Faults) != len(w.faults) {
				t.Fatalf("faults %v, want %v", r.Faults, w.faults)
			}
			for i, f := range r.Faults {
				if f.Kind != w.faults[i] || !strings.Contains(f.Message, w.faultText[i]) {
					t.Errorf("fault %d %s %q, want %s containing %q", i, f.Kind, f.Message, w.faults[i], w.faultText[i])
				}
			}
		})
	}
}

// shared/lorawan/ttn read the LHT65's Ext bit 7 as a datalog poll reply and dropped the whole reading.
// The vendor's codec (vendor/dragino/lht65.js) reads bit 7 as "sensor no connection" (the
// external probe is not connected) and bit 6 as the poll-message flag: the built-in sensor's
// values of such an uplink are current and kept, the probe is a fault.
func TestLHT65ExtFlags(t *testing.T) {
	m, _ := Lookup("dragino/lht65n")
	r := m.Decode(2, mustHex("CBF60B0D0376810ADD7FFF")) // Ext 0x81: DS18B20, not connected
	if c, ok := r.Temperature("internal"); !ok || c != 28.29 || *r.HumidityPct != 88.6 || *r.BatteryVolts != 3.062 {
		t.Fatalf("the built-in sensor's values are current: %+v", r)
	}
	if _, ok := r.Temperature("external"); ok || !r.ProbeFaulted("external") || r.Frame != FrameMeasurement {
		t.Fatalf("the probe is a sensor fault: %+v", r)
	}
	r = m.Decode(2, mustHex("CBF60B0D0376410ADD7FFF")) // Ext 0x41: a poll reply
	if r.Frame != FrameHistory || measured(r) || len(r.Faults) != 0 {
		t.Fatalf("a poll reply is past data, nothing current: %+v", r)
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func fp(f float64) *float64  { return &f }
func ip(i int) *int          { return &i }
func bp(b bool) *bool        { return &b }
func eqF(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func eqI(a, b *int) bool     { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func eqB(a, b *bool) bool    { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
