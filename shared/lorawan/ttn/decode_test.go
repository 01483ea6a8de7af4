package ttn

import (
	"encoding/hex"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type want struct {
	temp, probe, hum, volts *float64
	pct                     *int
	door                    *bool
	faults                  []string // substrings, in order
}

func check(t *testing.T, r Reading, w want) {
	t.Helper()
	if !eqF(r.TemperatureC, w.temp) || !eqF(r.ProbeTemperatureC, w.probe) || !eqF(r.HumidityPct, w.hum) ||
		!eqF(r.BatteryVolts, w.volts) || !eqI(r.BatteryPercent, w.pct) || !eqB(r.DoorOpen, w.door) {
		t.Errorf("got temp=%v probe=%v hum=%v volts=%v pct=%v door=%v faults=%q",
			deref(r.TemperatureC), deref(r.ProbeTemperatureC), deref(r.HumidityPct),
			deref(r.BatteryVolts), deref(r.BatteryPercent), deref(r.DoorOpen), r.Faults)
	}
	if len(r.Faults) != len(w.faults) {
		t.Fatalf("faults %q, want %q", r.Faults, w.faults)
	}
	for i, f := range w.faults {
		if !strings.Contains(r.Faults[i], f) {
			t.Errorf("fault %d %q, want it to contain %q", i, r.Faults[i], f)
		}
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Vendor vectors. Sources:
//   - LHT65N: TheThingsNetwork/lorawan-devices vendor/dragino/lht65n-codec.yaml
//     (CBF60B0D0376010ADD7FFF -> BatV 3.062, TempC_SHT 28.29, Hum_SHT 88.6, TempC_DS 27.81)
//   - EM300-TH: lorawan-devices vendor/milesight-iot/em300-th-codec.yaml (0175320367C80004683C ->
//     battery 50, temperature 20.0, humidity 30.0); Milesight-IoT/SensorDecoders EM300-TH README
//     (01755C0367340104 6865 -> 92, 30.8, 50.5)
//   - LDS02: lorawan-devices vendor/dragino/lds02-codec.yaml (0B88 01 00 25 00 01 -> BAT_V 2.952,
//     DOOR_OPEN_STATUS 0); the 10-byte frames follow the LDS02 manual's layout.
//   - Elsys: lorawan-devices vendor/elsys/ems-door-codec.yaml (acceleration + pulse only) and the
//     type table of vendor/elsys/elsys.js.
func TestBuiltinDecoders(t *testing.T) {
	cases := []struct {
		name, decoder string
		fport         int
		hex           string
		want          want
	}{
		{"lht65n ttn example", DecoderDraginoLHT65, 2, "CBF60B0D0376010ADD7FFF",
			want{temp: fp(28.29), probe: fp(27.81), hum: fp(88.6), volts: fp(3.062)}},
		{"lht65 no probe", DecoderDraginoLHT65, 2, "CBF6FF9C03760000000000",
			want{temp: fp(-1), hum: fp(88.6), volts: fp(3.062)}},
		{"lht65 freezer probe", DecoderDraginoLHT65, 2, "0B490B0D037601F8B87FFF",
			want{temp: fp(28.29), probe: fp(-18.64), hum: fp(88.6), volts: fp(2.889)}},
		{"lht65 probe disconnected", DecoderDraginoLHT65, 2, "CBF60B0D037601 7FFF 7FFF",
			want{temp: fp(28.29), hum: fp(88.6), volts: fp(3.062), faults: []string{"external probe not connected"}}},
		{"lht65 tmp117 probe", DecoderDraginoLHT65, 2, "CBF60B0D03760209C4 0000",
			want{temp: fp(28.29), probe: fp(25), hum: fp(88.6), volts: fp(3.062)}},
		{"lht65 ext 9 (probe in bytes 0-1)", DecoderDraginoLHT65, 2, "0ADD0B0D C376 09 65A1B2C3",
			want{temp: fp(28.29), probe: fp(27.81), hum: fp(88.6)}},
		{"lht65 datalog poll reply", DecoderDraginoLHT65, 2, "CBF60B0D0376810ADD7FFF",
			want{faults: []string{"datalog/poll reply"}}},
		{"lht65 short", DecoderDraginoLHT65, 2, "CBF60B",
			want{faults: []string{"payload too short for dragino-lht65 (3 bytes, want 11)"}}},
		{"lht65 empty", DecoderDraginoLHT65, 2, "", want{faults: []string{"payload too short"}}},
		{"lht65 status port", DecoderDraginoLHT65, 5, "0B01000D0F00000BC5", want{faults: []string{"f_port 5"}}},
		{"lht65 implausible internal", DecoderDraginoLHT65, 2, "CBF6 7F00 03E8 00 00000000",
			want{temp: fp(325.12), volts: fp(3.062), hum: fp(100)}}, // the engine judges it (a critical sensor fault)

		{"em300-th ttn example", DecoderMilesightEM300TH, 85, "0175320367C80004683C",
			want{temp: fp(20), hum: fp(30), pct: ip(50)}},
		{"em300-th milesight example", DecoderMilesightEM300TH, 85, "01755C 03673401 046865",
			want{temp: fp(30.8), hum: fp(50.5), pct: ip(92)}},
		{"em300-th negative + device info", DecoderMilesightEM300TH, 85, "FF0B01 FF0110 FF166136D44686870013 0367 4EFF 04687F",
			want{temp: fp(-17.8), hum: fp(63.5)}},
		{"em300-th unknown channel after data", DecoderMilesightEM300TH, 85, "0367C800 0999AABB",
			want{temp: fp(20)}},
		{"em300-th only unknown", DecoderMilesightEM300TH, 85, "0999AABB",
			want{faults: []string{"unknown channel 0x09 0x99"}}},
		{"em300-th truncated", DecoderMilesightEM300TH, 85, "01753203 67C8",
			want{pct: ip(50), faults: []string{"payload truncated"}}},
		{"em300-mcs magnet open", DecoderMilesightEM300TH, 85, "017564 060001", want{pct: ip(100), door: bp(true)}},
		{"em300-th history skipped", DecoderMilesightEM300TH, 85, "20CE9E74466310015D00", want{}},
		{"em300 short", DecoderMilesightEM300TH, 85, "01", want{faults: []string{"payload too short"}}},

		{"lds02 ttn example", DecoderDraginoLDS02, 10, "0B88 01 002500 01", want{volts: fp(2.952), door: bp(false)}},
		{"lds02 open", DecoderDraginoLDS02, 10, "8BDB 01 00002A 000003 00", want{volts: fp(3.035), door: bp(true)}},
		{"lds02 leak mode has no door", DecoderDraginoLDS02, 10, "CBDB 02 000001 000000 00", want{volts: fp(3.035)}},
		{"lds02 short", DecoderDraginoLDS02, 10, "8B", want{faults: []string{"payload too short for dragino-lds02"}}},
		{"lds02 wrong port", DecoderDraginoLDS02, 2, "8BDB0100002A00000300", want{faults: []string{"f_port 2"}}},

		{"elsys ers", DecoderElsys, 5, "0100E2 0229 070E36 0402A1 0500", // 22.6 °C, 41 %, 3.638 V
			want{temp: fp(22.6), hum: fp(41), volts: fp(3.638)}},
		{"elsys ems door closed", DecoderElsys, 5, "0100B4 0232 0D01 070E10", want{temp: fp(18), hum: fp(50), door: bp(false), volts: fp(3.6)}},
		{"elsys ems door open + ext probe", DecoderElsys, 5, "0D00 0CFF4C", want{temp: fp(-18.0), door: bp(true)}},
		{"elsys ems-door ttn example (no mapped values)", DecoderElsys, 1, "030127050A11010B000A0011", want{}},
		{"elsys truncated", DecoderElsys, 5, "0100E2 01FF", want{temp: fp(22.6), faults: []string{"payload truncated for elsys"}}},
		{"elsys unknown", DecoderElsys, 5, "F0F0F0", want{faults: []string{"unknown data type 0xF0"}}},
		{"elsys implausible ambient keeps probe separate", DecoderElsys, 5, "013030 0C0064", // fuzz crasher shape
			want{temp: fp(1233.6), probe: fp(10)}},
		{"elsys sensor error value", DecoderElsys, 5, "017FFF", want{temp: fp(3276.7)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Decode(&Uplink{FPort: c.fport, FRMPayload: mustHex(c.hex)}, c.decoder)
			if r.Decoder != c.decoder {
				t.Fatalf("decoder %q", r.Decoder)
			}
			check(t, r, c.want)
		})
	}
}

func TestDecodedPayloadMapping(t *testing.T) {
	cases := []struct {
		name string
		dp   map[string]any
		want want
	}{
		{"lht65n formatter output", map[string]any{"BatV": 3.062, "Bat_status": 3.0, "Hum_SHT": 88.6, "TempC_DS": 27.81, "TempC_SHT": 28.29},
			want{temp: fp(28.29), probe: fp(27.81), hum: fp(88.6), volts: fp(3.062)}},
		{"probe only becomes main", map[string]any{"TempC_DS": -18.5, "BatV": 3.0}, want{temp: fp(-18.5), volts: fp(3)}},
		{"toFixed strings", map[string]any{"TempC_SHT": "4.10", "Hum_SHT": " 61.2 ", "BatV": "3.05"}, want{temp: fp(4.1), hum: fp(61.2), volts: fp(3.05)}},
		{"fahrenheit", map[string]any{"temperature_f": 38.5}, want{temp: fp(3.61)}},
		{"fahrenheit string", map[string]any{"TempF": "-4"}, want{temp: fp(-20)}},
		{"celsius wins over fahrenheit", map[string]any{"temperature": 3.0, "temperature_f": 99.0}, want{temp: fp(3)}},
		{"milesight", map[string]any{"battery": 92.0, "temperature": 30.8, "humidity": 50.5}, want{temp: fp(30.8), hum: fp(50.5), pct: ip(92)}},
		{"elsys formatter (vdd mV)", map[string]any{"temperature": 22.6, "humidity": 41.0, "vdd": 3638.0, "externalTemperature": -19.4},
			want{temp: fp(22.6), probe: fp(-19.4), hum: fp(41), volts: fp(3.638)}},
		{"battery percent names", map[string]any{"battery_level": 77.4}, want{pct: ip(77)}},
		{"battery with Bat_status is not a percent", map[string]any{"battery": 3.0, "Bat_status": 3.0}, want{faults: []string{"no recognised field"}}},
		{"fractional battery is not guessed", map[string]any{"battery": 3.05, "temperature": 1.0}, want{temp: fp(1)}},
		{"battery over 100 ignored", map[string]any{"battery": 3600.0, "temperature": 1.0}, want{temp: fp(1)}},
		{"door bool", map[string]any{"door_open": true}, want{door: bp(true)}},
		{"lds02 status", map[string]any{"DOOR_OPEN_STATUS": 0.0, "BAT_V": 3.035}, want{door: bp(false), volts: fp(3.035)}},
		{"door string", map[string]any{"door": "Open"}, want{door: bp(true)}},
		{"door string closed", map[string]any{"door_status": "closed"}, want{door: bp(false)}},
		{"magnet status string", map[string]any{"magnet_status": "close"}, want{door: bp(false)}},
		{"contact true means closed", map[string]any{"contact": true}, want{door: bp(false)}},
		{"contact false means open", map[string]any{"contact": false}, want{door: bp(true)}},
		{"contact string open", map[string]any{"contact": "open"}, want{door: bp(true)}},
		{"unknown door value ignored", map[string]any{"door": "ajar", "temperature": 2.0}, want{temp: fp(2)}},
		{"elsys digital skipped", map[string]any{"digital": 1.0, "pulseAbs": 12.0, "temperature": 5.0}, want{temp: fp(5)}},
		{"disconnected secondary probe", map[string]any{"TempC_SHT": 21.0, "TempC_DS": 327.67}, want{temp: fp(21), faults: []string{"external probe not connected"}}},
		{"disconnected probe as the only temperature reaches the engine", map[string]any{"TempC_DS": 327.67}, want{temp: fp(327.67)}},
		{"implausible main reaches the engine", map[string]any{"temperature": -3276.8}, want{temp: fp(-3276.8)}},
		{"ultra-low freezer", map[string]any{"temperature": -80.5}, want{temp: fp(-80.5)}},
		{"hot", map[string]any{"temperature": 120.0}, want{temp: fp(120)}},
		{"humidity out of range", map[string]any{"humidity": 120.0, "temperature": 4.0}, want{temp: fp(4), faults: []string{"humidity 120 % out of range"}}},
		{"volts mV", map[string]any{"BatV": 3050.0}, want{volts: fp(3.05)}},
		{"volts out of range", map[string]any{"battery_voltage": 7.2}, want{faults: []string{"battery 7.2 V out of range"}}},
		{"percent out of range", map[string]any{"battery_percent": 150.0}, want{faults: []string{"battery 150 % out of range"}}},
		{"not a number", map[string]any{"temperature": "N/A", "temp": 3.5}, want{temp: fp(3.5), faults: []string{`temperature field "temperature" is not a number`}}},
		{"NaN and Inf strings rejected", map[string]any{"temperature": "NaN", "humidity": "Inf", "BatV": "0x1p1"},
			want{faults: []string{"not a number", "not a number", "not a number"}}},
		{"bool temperature rejected", map[string]any{"temperature": true}, want{faults: []string{"not a number"}}},
		{"null is absent", map[string]any{"temperature": nil, "temp": 2.5}, want{temp: fp(2.5)}},
		{"rounding", map[string]any{"temperature": 3.14159, "humidity": 55.55, "BatV": 3.0456}, want{temp: fp(3.14), hum: fp(55.6), volts: fp(3.046)}},
		{"negative zero", map[string]any{"temperature": -0.001}, want{temp: fp(0)}},
		{"empty object", map[string]any{}, want{faults: []string{"decoded_payload has no recognised field"}}},
		{"edges inclusive", map[string]any{"temperature": -60.0, "humidity": 0.0, "BatV": 0.0, "battery": 100.0}, want{temp: fp(-60), hum: fp(0), volts: fp(0), pct: ip(100)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Decode(&Uplink{DecodedPayload: c.dp}, "")
			if r.Decoder != DecoderDecodedPayload {
				t.Fatalf("decoder %q", r.Decoder)
			}
			check(t, r, c.want)
		})
	}
}

func TestDecodeFromFixtures(t *testing.T) {
	cases := []struct {
		file, decoder, by string
		want              want
	}{
		{"uplink_decoded.json", DecoderDraginoLHT65, DecoderDecodedPayload, want{temp: fp(28.29), probe: fp(27.81), hum: fp(88.6), volts: fp(3.062)}},
		{"uplink_raw.json", DecoderDraginoLHT65, DecoderDraginoLHT65, want{temp: fp(28.29), probe: fp(27.81), hum: fp(88.6), volts: fp(3.062)}},
		{"uplink_em300.json", DecoderMilesightEM300TH, DecoderMilesightEM300TH, want{temp: fp(20), hum: fp(30), pct: ip(50)}},
		{"uplink_lds02.json", DecoderDraginoLDS02, DecoderDecodedPayload, want{door: bp(true), volts: fp(3.035)}},
		{"uplink_strings_fahrenheit.json", "", DecoderDecodedPayload, want{temp: fp(3.61), hum: fp(61.5), pct: ip(87), door: bp(false)}},
		{"uplink_raw.json", "", "", want{faults: []string{FaultNoDecoder}}},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.decoder, func(t *testing.T) {
			m, err := Parse(fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			r := Decode(m.Uplink, c.decoder)
			if r.Decoder != c.by {
				t.Fatalf("decoder %q, want %q", r.Decoder, c.by)
			}
			check(t, r, c.want)
		})
	}
}

func TestDecodeFallbacks(t *testing.T) {
	// decoded_payload without any known field, but a built-in decoder and raw bytes: use them.
	up := &Uplink{FPort: 2, FRMPayload: mustHex("CBF60B0D0376010ADD7FFF"), DecodedPayload: map[string]any{"bytes": "y/YL"}}
	if r := Decode(up, DecoderDraginoLHT65); r.Decoder != DecoderDraginoLHT65 || r.TemperatureC == nil {
		t.Fatalf("%+v", r)
	}
	if r := Decode(nil, DecoderElsys); len(r.Faults) != 1 {
		t.Fatalf("%+v", r)
	}
	r := Decode(&Uplink{FRMPayload: []byte{1}}, "acme-9000")
	if len(r.Faults) != 1 || !strings.HasPrefix(r.Faults[0], FaultNoDecoder) {
		t.Fatalf("%+v", r)
	}
}

func TestDecoderFor(t *testing.T) {
	cases := []struct{ decoder, model, want string }{
		{"dragino-lds02", "LHT65N", DecoderDraginoLDS02},
		{" Elsys ", "", DecoderElsys},
		{"custom-js", "Dragino LHT65N-E1", DecoderDraginoLHT65},
		{"", "lht65", DecoderDraginoLHT65},
		{"", "Milesight EM300-TH-868M", DecoderMilesightEM300TH},
		{"", "em300_mcs", DecoderMilesightEM300TH},
		{"", "EM320-TH", DecoderMilesightEM300TH},
		{"", "LDS02-EU868", DecoderDraginoLDS02},
		{"", "ELSYS ERS Lite", DecoderElsys},
		{"", "EMS Door", DecoderElsys},
		{"", "ERS-CO2", DecoderElsys},
		{"", "Systems hub", ""},
		{"", "", ""},
		{"", "Acme FR-1", ""},
	}
	for _, c := range cases {
		if got := DecoderFor(c.decoder, c.model); got != c.want {
			t.Errorf("DecoderFor(%q, %q) = %q, want %q", c.decoder, c.model, got, c.want)
		}
	}
	names := Decoders()
	if !slices.IsSorted([]string{names[0]}) || len(names) != len(builtins) {
		t.Fatal(names)
	}
	for _, n := range names {
		if DecoderFor(n, "") != n {
			t.Errorf("Decoders() name %q not accepted by DecoderFor", n)
		}
	}
	if !reflect.DeepEqual(Decoders(), Decoders()) {
		t.Fatal("unstable")
	}
}
