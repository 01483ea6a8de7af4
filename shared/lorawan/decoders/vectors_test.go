package decoders

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The vendors' own examples (testdata/lorawan-device-vectors.json, copied from The Things
// Network's device repository; testdata/README.md): every example of every model that measures a
// temperature or a door is decoded, and what it measured (every temperature with its probe,
// humidity, door state, battery volts or percent, current and past) must equal what the vendor's
// decoder output, to the vendor's precision. Error examples must give a payload fault and
// nothing measured. The few deliberate departures are listed in vectorExceptions, each with its
// reason and what is asserted instead.

type vectorFile struct {
	Models []struct {
		Vendor   string          `json:"vendor"`
		Model    string          `json:"model"`
		Examples []vectorExample `json:"examples"`
	} `json:"models"`
}

type vectorExample struct {
	Description string          `json:"description"`
	FPort       int             `json:"fport"`
	BytesHex    string          `json:"bytes_hex"`
	Expected    json.RawMessage `json:"expected"`
	Errors      []string        `json:"errors"`
}

// notColdChain are the models of the file that measure neither a temperature nor a door.
var notColdChain = map[string]string{
	"netvox/r718n1": "a current meter (Current, Multiplier)",
	"netvox/r718da": "a vibration sensor (status 0/1)",
}

// How to read the vendor's output fields, per model: "temp:<probe>", "hum", "volts", "mvolts",
// "pct", "capacity" (Laird's "80-100%"), "volts-flag" (Netvox's 3.6 or "2.3(low battery)"),
// "door01" (1 open), "door-word" ("open"/"Open"/"close"...), "value-temp:<probe>" (Sensative's
// {"value": 23.4}), "recurse" (arrays and objects of readings), "sensecap" (messages by id),
// "skip" (not a measurement). Fields not listed are in nonMeasurements.
var vendorFields = map[string]map[string]string{
	"dragino/lht65":                   {"TempC_SHT": "temp:internal", "TempC_DS": "temp:external", "Hum_SHT": "hum", "BatV": "volts"},
	"dragino/lht65n":                  {"TempC_SHT": "temp:internal", "TempC_DS": "temp:external", "Hum_SHT": "hum", "BatV": "volts"},
	"dragino/lht52":                   {"TempC_SHT": "temp:internal", "TempC_DS": "temp:external", "Hum_SHT": "hum", "Bat_mV": "mvolts"},
	"dragino/lsn50v2-d20":             {"TempC1": "temp:probe1", "TempC_SHT": "temp:sht", "Hum_SHT": "hum", "BatV": "volts", "Door_status": "skip"},
	"dragino/lsn50v2-d20-d22-d23":     {"Temp_Red": "temp:red", "Temp_White": "temp:white", "Temp_Black": "temp:black", "BatV": "volts"},
	"dragino/d2x-lb":                  {},
	"dragino/lds02":                   {"BAT_V": "volts", "DOOR_OPEN_STATUS": "door01"},
	"dragino/lds01":                   {"BAT_V": "volts", "DOOR_OPEN_STATUS": "door01"},
	"milesight-iot/em300-th":          {"temperature": "temp:internal", "humidity": "hum", "battery": "pct"},
	"milesight-iot/em320-th":          {"temperature": "temp:internal", "humidity": "hum", "battery": "pct"},
	"milesight-iot/em500-pt100":       {"temperature": "temp:probe", "battery": "pct"},
	"milesight-iot/ws301":             {"door": "door-word", "battery": "pct", "install": "skip"},
	"elsys/ers":                       {"temperature": "temp:internal", "humidity": "hum"},
	"elsys/ems":                       {"temperature": "temp:internal", "humidity": "hum"},
	"elsys/ems-door":                  {},
	"netvox/r718a":                    {"Temp": "temp:internal", "Humi": "hum", "Volt": "volts-flag"},
	"netvox/r718ab":                   {"Temp": "temp:internal", "Humi": "hum", "Volt": "volts-flag"},
	"netvox/r718b":                    {"Temp": "temp:probe", "Volt": "volts-flag"},
	"netvox/r311a":                    {"OnOff": "door01", "Volt": "volts-flag"},
	"browan/tbhh100":                  {"temperature": "temp:internal", "humidity": "hum", "battery": "volts", "status": "skip"},
	"browan/tbhv110":                  {"temperature": "temp:ambient", "temperatureBoard": "temp:board", "humidity": "hum", "battery": "volts", "status": "skip"},
	"browan/tbdw100":                  {"temperatureBoard": "temp:board", "battery": "volts", "status": "door01"},
	"laird/rs1xx-temp-rh-sensor":      lairdFields("internal"),
	"laird/rs1xx-ext-temp-1w-sensor":  lairdFields("external"),
	"laird/rs1xx-ext-temp-rtd-sensor": lairdFields("rtd"),
	"laird/rs1xx-ext-multi-sensor":    lairdFields("internal"),
	"sensative/strips":                {"temperature": "value-temp:internal", "battery": "pct"},
	"sensecap/sensecap210x":           {"messages": "sensecap"},
}

func lairdFields(probe string) map[string]string {
	return map[string]string{"temperature": "temp:" + probe, "humidity": "hum", "batteryCapacity": "capacity",
		"voltage": "volts", "readings": "recurse", "state": "door-word"}
}

// nonMeasurements are the vendors' fields that are not something measured: identifiers,
// counters, configuration, versions, alarm flags, enum codes.
var nonMeasurements = strings.Fields(`ADC_CH0V ALARM ALARM_status Bat_status BatteryChange Channel Cmd Current
	CurrentChange DOOR_OPEN_TIMES Datecode DeltValue Device Digital_IStatus Divisor EXTI_Trigger Ext Ext_sensor
	Firmware_Version Freq_Band HWver HumiChange LAST_DOOR_OPEN_DURATION MOD MaxTime MinTime Multiplier SWver
	SensorType Sensor_Model Status Sub_Band Systimestamp TempChange Work_mode alarmMsgCount alertCancellation
	backlogMsgCount batteryType closedDwellTime count counter debounceAdjust eco2 err flood floodAlarm
	historySeqNr humidityAlarmLimitHigh humidityAlarmLimitLow humidityAlarmsEnabled iaq iaqChanged
	ledBle ledLora light loraNotificationOptions motion msgType numberOfReadings openDwellTime operatingMode
	options partNumber payload prevHistSeqNr pulse1 pulseAbs releaseDate releaseNumber resendInterval
	sensorAggregate sensorReadPeriod tempAlarm tempAlarmLimitHigh tempAlarmLimitLow tempAlarmsEnabled
	tempHumidChanged time timestamp userSwitch1Alarm valid voc waterleak x y z`)

// vectorException is a deliberate departure from a vendor example, and what holds instead.
type vectorException struct {
	why   string
	check func(t *testing.T, r Reading)
}

var vectorExceptions = map[string]vectorException{
	// Dragino's "no probe" marker: the vendor's codec prints it as a temperature.
	"dragino/lht52#1": {"TempC_DS 327.67 is 0x7FFF, Dragino's marker for no external probe: a sensor fault, not a temperature",
		func(t *testing.T, r Reading) {
			if _, ok := r.Temperature("external"); ok || !r.ProbeFaulted("external") || !hasFault(r.Faults, FaultSensor) {
				t.Fatalf("want a sensor fault of the external probe and no external temperature: %+v", r)
			}
			if c, ok := r.Temperature("internal"); !ok || c != 22.53 || *r.HumidityPct != 54.4 {
				t.Fatalf("the built-in sensor's values: %+v", r)
			}
		}},
	"dragino/d2x-lb#0": {"the example's output is the LHT65's (BatV 3.062, TempC_SHT 28.29...) although its bytes differ; the D2x-LB codec (d2x-lb.js) reads them, in work mode 3, as 3.318 V and probes at 25.7, 47.7 and 51.1 °C",
		func(t *testing.T, r Reading) {
			want := []ProbeTemperature{{"c1", 25.7}, {"c2", 47.7}, {"c3", 51.1}}
			if !slices.Equal(r.Temperatures, want) || r.BatteryVolts == nil || *r.BatteryVolts != 3.318 || len(r.Faults) != 0 {
				t.Fatalf("want what d2x-lb.js computes from these bytes: %+v", r)
			}
		}},
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/lorawan-device-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		t.Fatal(err)
	}
	return vf
}

func TestVendorVectors(t *testing.T) {
	vf := loadVectors(t)
	skip := map[string]bool{}
	for _, k := range nonMeasurements {
		skip[k] = true
	}
	total, models := 0, 0
	for _, vm := range vf.Models {
		id := vm.Vendor + "/" + vm.Model
		if why, ok := notColdChain[id]; ok {
			if _, found := Lookup(id); found {
				t.Errorf("%s is %s but registered", id, why)
			}
			continue
		}
		m, ok := Lookup(id)
		if !ok {
			t.Errorf("%s measures a temperature or a door but has no decoder", id)
			continue
		}
		fields, ok := vendorFields[id]
		if !ok {
			t.Errorf("%s: no field mapping in this test", id)
			continue
		}
		models++
		passed := 0
		for i, ex := range vm.Examples {
			name := fmt.Sprintf("%s#%d", id, i)
			ok := t.Run(name, func(t *testing.T) {
				b, err := hex.DecodeString(ex.BytesHex)
				if err != nil {
					t.Fatal(err)
				}
				r := m.Decode(ex.FPort, b)
				if r.Model != m.ID {
					t.Fatalf("model %q", r.Model)
				}
				if exc, ok := vectorExceptions[name]; ok {
					t.Logf("departure: %s", exc.why)
					exc.check(t, r)
					return
				}
				if ex.Expected == nil || string(ex.Expected) == "null" {
					// An error example ("unknown FPort"): a payload fault, nothing measured.
					if !hasFault(r.Faults, FaultPayload) || measured(r) {
						t.Fatalf("vendor errors %q: want a payload fault and nothing measured, got %+v", ex.Errors, r)
					}
					return
				}
				var want []observation
				var expected any
				if err := json.Unmarshal(ex.Expected, &expected); err != nil {
					t.Fatal(err)
				}
				vendorObservations(t, fields, skip, expected, &want)
				got := readingObservations(r)
				if !sameObservations(got, want) {
					t.Fatalf("%s (fPort %d, %s)\n got  %v\n want %v\n reading %+v", ex.Description, ex.FPort, ex.BytesHex, got, want, r)
				}
				if hasFault(r.Faults, FaultPayload) {
					t.Fatalf("payload fault on a vendor example: %v", r.Faults)
				}
			})
			total++
			if ok {
				passed++
			}
		}
		t.Logf("coverage: %-34s %d/%d examples", id, passed, len(vm.Examples))
	}
	if models < 28 || total < 88 {
		t.Fatalf("only %d models and %d examples tested", models, total)
	}
}

// observation is one measured value: quantity, probe (temperatures), value.
type observation struct {
	q     string
	probe string
	v     float64
}

func (o observation) String() string {
	if o.probe != "" {
		return fmt.Sprintf("%s[%s]=%g", o.q, o.probe, o.v)
	}
	return fmt.Sprintf("%s=%g", o.q, o.v)
}

func vendorObservations(t *testing.T, fields map[string]string, skip map[string]bool, x any, out *[]observation) {
	t.Helper()
	obj, ok := x.(map[string]any)
	if !ok {
		if arr, ok := x.([]any); ok {
			for _, e := range arr {
				vendorObservations(t, fields, skip, e, out)
			}
		}
		return
	}
	for k, v := range obj {
		how, mapped := fields[k]
		switch {
		case !mapped && skip[k]:
			continue
		case !mapped:
			t.Fatalf("vendor field %q is neither mapped nor listed as not a measurement", k)
		}
		kind, probe, _ := strings.Cut(how, ":")
		add := func(q string, val float64) { *out = append(*out, observation{q, "", val}) }
		switch kind {
		case "skip":
		case "temp":
			*out = append(*out, observation{"temperature", probe, number(t, v)})
		case "value-temp":
			*out = append(*out, observation{"temperature", probe, number(t, v.(map[string]any)["value"])})
		case "hum":
			add("humidity", number(t, v))
		case "volts":
			add("volts", number(t, v))
		case "mvolts":
			add("volts", number(t, v)/1000)
		case "pct":
			add("percent", number(t, v))
		case "capacity": // "80-100%": the lower bound
			lo, _, _ := strings.Cut(v.(string), "-")
			add("percent", number(t, lo))
		case "volts-flag": // 3.6, or "2.3(low battery)"
			if s, ok := v.(string); ok {
				val, flag, _ := strings.Cut(s, "(")
				add("volts", number(t, val))
				if flag == "low battery)" {
					add("low-battery", 1)
				}
			} else {
				add("volts", number(t, v))
			}
		case "door01":
			add("door", number(t, v))
		case "door-word":
			add("door", map[string]float64{"open": 1, "close": 0, "closed": 0}[strings.ToLower(v.(string))])
		case "recurse":
			vendorObservations(t, fields, skip, v, out)
		case "sensecap":
			for _, msg := range v.([]any) {
				m := msg.(map[string]any)
				switch {
				case m["type"] == "report_telemetry" && m["measurementId"] == 4097.0:
					*out = append(*out, observation{"temperature", "air", number(t, m["measurementValue"])})
				case m["type"] == "report_telemetry" && m["measurementId"] == 4098.0:
					add("humidity", number(t, m["measurementValue"]))
				case m["type"] == "upload_battery":
					add("percent", number(t, m["battery"]))
				}
			}
		default:
			t.Fatalf("bad mapping %q", how)
		}
	}
}

func number(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			t.Fatalf("vendor value %q is not a number", x)
		}
		return f
	}
	t.Fatalf("vendor value %v (%T) is not a number", v, v)
	return 0
}

// readingObservations lists everything a reading measured, current and past, and the values it
// refused as implausible (they are what the vendor's decoder printed).
func readingObservations(r Reading) []observation {
	var out []observation
	temps := func(ts []ProbeTemperature) {
		for _, p := range ts {
			out = append(out, observation{"temperature", p.Probe, p.C})
		}
	}
	opt := func(q string, p *float64) {
		if p != nil {
			out = append(out, observation{q, "", *p})
		}
	}
	door := func(d *bool) {
		if d != nil {
			out = append(out, observation{"door", "", map[bool]float64{true: 1, false: 0}[*d]})
		}
	}
	temps(r.Temperatures)
	opt("humidity", r.HumidityPct)
	door(r.DoorOpen)
	opt("volts", r.BatteryVolts)
	if r.BatteryPercent != nil {
		out = append(out, observation{"percent", "", float64(*r.BatteryPercent)})
	}
	if r.BatteryLow {
		out = append(out, observation{"low-battery", "", 1})
	}
	for _, s := range r.History {
		temps(s.Temperatures)
		opt("humidity", s.HumidityPct)
		door(s.DoorOpen)
	}
	for _, f := range r.Faults {
		if f.Kind == FaultImplausible && f.Value != nil {
			q := string(f.Quantity)
			if f.Quantity == Battery {
				q = "volts"
			}
			out = append(out, observation{q, f.Probe, *f.Value})
		}
	}
	return out
}

func sameObservations(a, b []observation) bool {
	key := func(o observation) string { return o.q + "/" + o.probe }
	sort := func(s []observation) {
		slices.SortFunc(s, func(x, y observation) int {
			if c := strings.Compare(key(x), key(y)); c != 0 {
				return c
			}
			return cmp.Compare(x.v, y.v)
		})
	}
	sort(a)
	sort(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if key(a[i]) != key(b[i]) || math.Abs(a[i].v-b[i].v) > 1e-9 {
			return false
		}
	}
	return true
}

// measured reports any value in a reading, current or past.
func measured(r Reading) bool {
	return len(r.Temperatures) > 0 || r.HumidityPct != nil || r.DoorOpen != nil || r.BatteryVolts != nil ||
		r.BatteryPercent != nil || len(r.History) > 0
}
