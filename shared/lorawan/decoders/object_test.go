package decoders

import (
	"encoding/json"
	"strings"
	"testing"
)

// unitWant is what the alert engine receives from one uplink.
type unitWant struct {
	temp, other, hum, volts *float64 // other: the other probe's temperature
	pct                     *int
	door                    *bool
	failed                  string   // substring of Unit.Failed
	faults                  []string // substrings of Unit.Faults, in order
}

func checkUnit(t *testing.T, m Model, r Reading, setting string, w unitWant) {
	t.Helper()
	u := m.Unit(r, setting)
	var other *float64
	for _, p := range r.Temperatures {
		if p.Probe != u.Probe {
			other = fp(p.C)
			break
		}
	}
	if !eqF(u.TemperatureC, w.temp) || !eqF(other, w.other) || !eqF(r.HumidityPct, w.hum) || !eqF(r.BatteryVolts, w.volts) ||
		!eqI(r.BatteryPercent, w.pct) || !eqB(r.DoorOpen, w.door) {
		t.Errorf("got unit %s=%v other=%v hum=%v volts=%v pct=%v door=%v faults=%q", u.Probe, deref(u.TemperatureC), deref(other),
			deref(r.HumidityPct), deref(r.BatteryVolts), deref(r.BatteryPercent), deref(r.DoorOpen), u.Faults)
	}
	if (w.failed == "") != (u.Failed == "") || !strings.Contains(u.Failed, w.failed) {
		t.Errorf("failed %q, want %q", u.Failed, w.failed)
	}
	if len(u.Faults) != len(w.faults) {
		t.Fatalf("faults %q, want %q", u.Faults, w.faults)
	}
	for i, f := range w.faults {
		if !strings.Contains(u.Faults[i], f) {
			t.Errorf("fault %d %q, want it to contain %q", i, u.Faults[i], f)
		}
	}
}

func object(t testing.TB, v map[string]any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The decoded objects of payload formatters (TTN decoded_payload, ChirpStack object), read by
// field name: what shared/ttn's mapping read, now onto the model's probes. Sources of the names:
// the old system's normalisation (origin-webhooks.md §4.1/§4.2) and the vendors' formatters.
func TestDecodedObjectMapping(t *testing.T) {
	lht65, _ := Lookup("dragino/lht65")
	cases := []struct {
		name  string
		model Model
		obj   map[string]any
		want  unitWant
	}{
		{"lht65n formatter output", lht65, map[string]any{"BatV": 3.062, "Bat_status": 3.0, "Hum_SHT": 88.6, "TempC_DS": 27.81, "TempC_SHT": 28.29},
			unitWant{temp: fp(28.29), other: fp(27.81), hum: fp(88.6), volts: fp(3.062)}},
		{"probe only is the unit's", lht65, map[string]any{"TempC_DS": -18.5, "BatV": 3.0}, unitWant{temp: fp(-18.5), volts: fp(3)}},
		{"toFixed strings", Generic(), map[string]any{"TempC_SHT": "4.10", "Hum_SHT": " 61.2 ", "BatV": "3.05"}, unitWant{temp: fp(4.1), hum: fp(61.2), volts: fp(3.05)}},
		{"fahrenheit", Generic(), map[string]any{"temperature_f": 38.5}, unitWant{temp: fp(3.61)}},
		{"fahrenheit string", Generic(), map[string]any{"TempF": "-4"}, unitWant{temp: fp(-20)}},
		{"celsius wins over fahrenheit", Generic(), map[string]any{"temperature": 3.0, "temperature_f": 99.0}, unitWant{temp: fp(3)}},
		{"milesight", Generic(), map[string]any{"battery": 92.0, "temperature": 30.8, "humidity": 50.5}, unitWant{temp: fp(30.8), hum: fp(50.5), pct: ip(92)}},
		{"elsys formatter (vdd mV)", Generic(), map[string]any{"temperature": 22.6, "humidity": 41.0, "vdd": 3638.0, "externalTemperature": -19.4},
			unitWant{temp: fp(22.6), other: fp(-19.4), hum: fp(41), volts: fp(3.638)}},
		{"battery percent names", Generic(), map[string]any{"battery_level": 77.4}, unitWant{pct: ip(77)}},
		{"battery with Bat_status is not a percent", Generic(), map[string]any{"battery": 3.0, "Bat_status": 3.0}, unitWant{faults: []string{FaultNoObjectField}}},
		{"fractional battery is not guessed", Generic(), map[string]any{"battery": 3.05, "temperature": 1.0}, unitWant{temp: fp(1)}},
		{"battery over 100 ignored", Generic(), map[string]any{"battery": 3600.0, "temperature": 1.0}, unitWant{temp: fp(1)}},
		{"door bool", Generic(), map[string]any{"door_open": true}, unitWant{door: bp(true)}},
		{"lds02 status", Generic(), map[string]any{"DOOR_OPEN_STATUS": 0.0, "BAT_V": 3.035}, unitWant{door: bp(false), volts: fp(3.035)}},
		{"door string", Generic(), map[string]any{"door": "Open"}, unitWant{door: bp(true)}},
		{"door string closed", Generic(), map[string]any{"door_status": "closed"}, unitWant{door: bp(false)}},
		{"magnet status string", Generic(), map[string]any{"magnet_status": "close"}, unitWant{door: bp(false)}},
		{"contact true means closed", Generic(), map[string]any{"contact": true}, unitWant{door: bp(false)}},
		{"contact false means open", Generic(), map[string]any{"contact": false}, unitWant{door: bp(true)}},
		{"contact string open", Generic(), map[string]any{"contact": "open"}, unitWant{door: bp(true)}},
		{"unknown door value ignored", Generic(), map[string]any{"door": "ajar", "temperature": 2.0}, unitWant{temp: fp(2)}},
		{"elsys digital skipped", Generic(), map[string]any{"digital": 1.0, "pulseAbs": 12.0, "temperature": 5.0}, unitWant{temp: fp(5)}},
		{"disconnected secondary probe", lht65, map[string]any{"TempC_SHT": 21.0, "TempC_DS": 327.67},
			unitWant{temp: fp(21), faults: []string{"external temperature 327.67 °C is outside what the LHT65 measures (-55..125 °C)"}}},
		{"disconnected probe as the only temperature reaches the engine", lht65, map[string]any{"TempC_DS": 327.67}, unitWant{temp: fp(327.67)}},
		{"implausible main reaches the engine", Generic(), map[string]any{"temperature": -3276.8}, unitWant{temp: fp(-3276.8)}},
		{"ultra-low freezer", Generic(), map[string]any{"temperature": -80.5}, unitWant{temp: fp(-80.5)}},
		{"hot", Generic(), map[string]any{"temperature": 120.0}, unitWant{temp: fp(120)}},
		{"humidity out of range", Generic(), map[string]any{"humidity": 120.0, "temperature": 4.0}, unitWant{temp: fp(4), faults: []string{"humidity 120 % is outside 0..100 %"}}},
		{"volts mV", Generic(), map[string]any{"BatV": 3050.0}, unitWant{volts: fp(3.05)}},
		{"volts out of range", Generic(), map[string]any{"battery_voltage": 7.2}, unitWant{faults: []string{"battery 7.2 V is outside 0..5 V"}}},
		{"percent out of range", Generic(), map[string]any{"battery_percent": 150.0}, unitWant{faults: []string{"battery 150 % is outside 0..100 %"}}},
		{"not a number", Generic(), map[string]any{"temperature": "N/A", "temp": 3.5}, unitWant{temp: fp(3.5), faults: []string{`temperature field "temperature" is not a number`}}},
		{"NaN and Inf strings rejected", Generic(), map[string]any{"temperature": "NaN", "humidity": "Inf", "BatV": "0x1p1"},
			unitWant{faults: []string{"not a number", "not a number", "not a number"}}},
		{"bool temperature rejected", Generic(), map[string]any{"temperature": true}, unitWant{faults: []string{"not a number"}}},
		{"null is absent", Generic(), map[string]any{"temperature": nil, "temp": 2.5}, unitWant{temp: fp(2.5)}},
		{"rounding", Generic(), map[string]any{"temperature": 3.14159, "humidity": 55.55, "BatV": 3.0456}, unitWant{temp: fp(3.14), hum: fp(55.6), volts: fp(3.046)}},
		{"negative zero", Generic(), map[string]any{"temperature": -0.001}, unitWant{temp: fp(0)}},
		{"empty object", Generic(), map[string]any{}, unitWant{faults: []string{FaultNoObjectField}}},
		{"edges inclusive", Generic(), map[string]any{"temperature": -60.0, "humidity": 0.0, "BatV": 0.0, "battery": 100.0}, unitWant{temp: fp(-60), hum: fp(0), volts: fp(0), pct: ip(100)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.model.DecodeUplink(0, nil, object(t, c.obj))
			checkUnit(t, c.model, r, "", c.want)
		})
	}
}

// The object's probes land on the model's: a one-probe model's probe reads either field, a door
// sensor's board temperature is not the unit's, and a multi-probe model follows its probe order.
func TestDecodedObjectProbes(t *testing.T) {
	pt100, _ := Lookup("milesight-iot/em500-pt100")
	r := pt100.DecodeUplink(0, nil, object(t, map[string]any{"temperature": -78.4}))
	if u := pt100.Unit(r, ""); u.Probe != "probe" || u.TemperatureC == nil || *u.TemperatureC != -78.4 {
		t.Fatalf("EM500-PT100: %+v", u)
	}
	door, _ := Lookup("browan/tbdw100")
	r = door.DecodeUplink(0, nil, object(t, map[string]any{"temperature": 24.0, "door_open": false}))
	if u := door.Unit(r, ""); u.TemperatureC != nil || *r.DoorOpen {
		t.Fatalf("a door sensor's board temperature became the unit's: %+v", u)
	}
	if u := door.Unit(r, "board"); u.TemperatureC == nil || *u.TemperatureC != 24 {
		t.Fatalf("chosen board probe: %+v", u)
	}
	lht65, _ := Lookup("dragino/lht65n")
	r = lht65.DecodeUplink(0, nil, object(t, map[string]any{"TempC_SHT": 4.2, "TempC_DS": -19.1}))
	if u := lht65.Unit(r, "external"); u.Probe != "external" || *u.TemperatureC != -19.1 {
		t.Fatalf("the sensor's probe setting: %+v", u)
	}
}

// The network's object wins when it says something; an object without a recognised field gives
// way to the bytes when the model can decode them; a model without a decoder and no object is a
// payload fault, never a panic.
func TestDecodeUplinkPrecedence(t *testing.T) {
	lht65, _ := Lookup("dragino/lht65n")
	raw := mustHex("CBF60B0D0376010ADD7FFF")
	r := lht65.DecodeUplink(2, raw, object(t, map[string]any{"TempC_SHT": 5.0}))
	if c, _ := r.Temperature("internal"); c != 5 || r.HumidityPct != nil {
		t.Fatalf("the object must win: %+v", r)
	}
	r = lht65.DecodeUplink(2, raw, object(t, map[string]any{"bytes": "y/YL"}))
	if c, _ := r.Temperature("internal"); c != 28.29 || len(r.Faults) != 0 {
		t.Fatalf("an object without a known field gives way to the bytes: %+v", r)
	}
	r = lht65.DecodeUplink(2, raw, json.RawMessage(`[1, 2]`))
	if c, _ := r.Temperature("internal"); c != 28.29 {
		t.Fatalf("an object that is not a JSON object is ignored: %+v", r)
	}
	r = Generic().DecodeUplink(2, raw, nil)
	if len(r.Faults) != 1 || r.Faults[0].Message != FaultNoDecoder || len(r.Temperatures) != 0 {
		t.Fatalf("no decoder: %+v", r)
	}
	r = Generic().DecodeUplink(2, raw, object(t, map[string]any{"bytes": "y/YL"}))
	if len(r.Faults) != 1 || r.Faults[0].Message != FaultNoObjectField {
		t.Fatalf("no decoder, object without a known field: %+v", r)
	}
}

// The unit's probe: the setting, else the default, else the probe that reported; a failed unit
// probe is Failed (the engine: the unit is not measured), the other probe's failure a fault.
func TestUnitProbe(t *testing.T) {
	lht65, _ := Lookup("dragino/lht65")
	cases := []struct {
		name, hex, setting string
		want               unitWant
	}{
		{"internal, probe disconnected", "CBF60B0D0376017FFF7FFF", "", unitWant{temp: fp(28.29), hum: fp(88.6), volts: fp(3.062), faults: []string{"external probe not connected"}}},
		{"chosen external probe disconnected", "CBF60B0D0376017FFF7FFF", "external", unitWant{other: fp(28.29), hum: fp(88.6), volts: fp(3.062), failed: "external probe not connected"}},
		{"chosen external probe", "0B490B0D037601F8B87FFF", "external", unitWant{temp: fp(-18.64), other: fp(28.29), hum: fp(88.6), volts: fp(2.889)}},
		{"built-in sensor failed", "CBF67FFF037600000000 00", "", unitWant{volts: fp(3.062), failed: "built-in sensor failed"}},
		{"ext 15: no built-in values, no probe", "CBF60B0D03760F00000000", "", unitWant{volts: fp(3.062)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustHex(c.hex)
			if len(b) < 11 {
				b = append(b, make([]byte, 11-len(b))...)
			}
			checkUnit(t, lht65, lht65.Decode(2, b), c.setting, c.want)
		})
	}
}

// A sensor's probe setting must be one of its model's probes; canonical ids are stored as such.
func TestCheckProbeAndCanonicalName(t *testing.T) {
	for _, c := range []struct {
		decoder, model, probe string
		ok                    bool
	}{
		{"", "dragino/lht65n", "external", true},
		{"", "Dragino LHT65N", "", true},
		{"", "dragino/lht65n", "probe3", false},
		{"milesight-iot/em500-pt100", "", "probe", true},
		{"", "milesight-iot/em500-pt100", "internal", false},
		{"", "a fridge probe nobody knows", "external", true},
		{"", "a fridge probe nobody knows", "probe", false},
	} {
		if err := CheckProbe(c.decoder, c.model, c.probe); (err == nil) != c.ok {
			t.Errorf("%q/%q probe %q: %v", c.decoder, c.model, c.probe, err)
		}
	}
	for in, want := range map[string]string{"Dragino/LHT65N": "dragino/lht65n", "LHT65N": "LHT65N",
		"acme/unknown-1": "acme/unknown-1", "Walk-in probe": "Walk-in probe"} {
		if got := CanonicalName(in); got != want {
			t.Errorf("CanonicalName(%q) = %q, want %q", in, got, want)
		}
	}
}
