package decoders

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The network's own decoding of an uplink wins over ours when it is present: TTN's
// decoded_payload and ChirpStack's object are the output of a payload formatter the customer (or
// the device repository) chose, a JSON object read here by field name.
//
// Field names of the decoded object, by meaning. The first present, usable field of each list
// wins. Sources: the old system's normalisation
// (origin-webhooks.md §4.1/§4.2: payloadNormalization.ts aliases and door keys), the vendors'
// TTN formatters (Dragino lht65n.js: TempC_SHT, Hum_SHT, BatV, TempC_DS, Bat_status; lds02.js:
// BAT_V, DOOR_OPEN_STATUS; Milesight em300-th.js: temperature, humidity, battery (%); Elsys
// elsys.js: temperature, humidity, vdd (mV), externalTemperature). Scaled integers are never
// guessed: only these explicit names are read.
var (
	ambientTempFields = []string{"TempC_SHT", "TempC1", "temperature", "Temperature", "temp", "Temp",
		"temperature_c", "temp_c", "ambient_temperature", "air_temperature"}
	probeTempFields = []string{"TempC_DS", "probe_temperature", "externalTemperature",
		"external_temperature", "ext_temperature", "TempC_TMP117", "TempC2"}
	fahrenheitFields = []string{"temperature_f", "TempF", "temp_f", "temperatureF"}
	humidityFields   = []string{"Hum_SHT", "humidity", "Humidity", "relative_humidity",
		"relativeHumidity", "humidity_pct", "rh", "RH"}
	voltsFields = []string{"BatV", "BAT_V", "bat_v", "battery_v", "battery_voltage", "batteryVoltage",
		"battery_volt_abs", "vbat", "vdd"}
	percentFields = []string{"battery_level", "battery_percent", "batteryLevel", "BatteryLevel", "battery_pct"}
	// Door fields where true/1/"open" means open.
	doorFields = []string{"door_open", "DOOR_OPEN_STATUS", "door_status", "doorStatus", "door",
		"open_state_abs", "open_close", "open", "magnet_status", "door_state"}
	// Contact fields where true/1 means the contact is made (door CLOSED), as for Zigbee2MQTT
	// "contact"; the strings "open"/"closed" keep their literal meaning.
	contactFields = []string{"contact", "contactStatus", "contact_status"}
)

// fromObject maps a network's decoded object onto a reading of the model: the ambient
// temperature fields to the model's first probe, the probe fields to its second (its only one
// when it has one), for a model the registry does not know "internal" and "external" (Generic).
// Values keep the precision the old TTN mapping stored (°C to 2 decimals, % to 1, V to 3).
// recognised is false when the object holds no field of these lists.
func (m Model) fromObject(obj json.RawMessage) (r Reading, recognised bool) {
	var dp map[string]any
	if json.Unmarshal(obj, &dp) != nil || dp == nil {
		return m.finish(&builder{}), false
	}
	var b builder
	ambient := firstNumber(dp, ambientTempFields, "temperature", &b)
	probe := firstNumber(dp, probeTempFields, "probe temperature", &b)
	if ambient == nil {
		if f := firstNumber(dp, fahrenheitFields, "temperature", &b); f != nil {
			c := (*f - 32) / 9 * 5 // in this order: no overflow to ±Inf
			ambient = &c
		}
	}
	ambientProbe, secondProbe := m.objectProbes()
	if ambient != nil {
		b.temp(ambientProbe, round(*ambient, 2))
	}
	if probe != nil && (secondProbe != ambientProbe || ambient == nil) {
		b.temp(secondProbe, round(*probe, 2))
	}
	if h := firstNumber(dp, humidityFields, "humidity", &b); h != nil {
		b.humidity(round(*h, 1))
	}
	if v := firstNumber(dp, voltsFields, "battery voltage", &b); v != nil {
		volts := *v
		if volts > 100 { // millivolts
			volts /= 1000
		}
		b.volts(round(volts, 3))
	}
	pct := firstNumber(dp, percentFields, "battery percent", &b)
	if pct == nil {
		// "battery" is a percentage only when it is a whole number in 0..100 and the formatter
		// does not also emit a Dragino-style Bat_status enum (which some put in "battery").
		if _, enum := dp["Bat_status"]; !enum {
			if x, ok := jsonNumber(dp["battery"]); ok && x >= 0 && x <= 100 && x == math.Trunc(x) {
				pct = &x
			}
		}
	}
	if pct != nil {
		// An integer column: values far outside 0..100 are implausible all the same.
		b.percent(int(math.Max(math.Min(math.Round(*pct), 1e6), -1e6)))
	}
	for _, k := range doorFields {
		if open, ok := doorState(dp[k], false); ok {
			b.door(open)
			break
		}
	}
	if b.r.DoorOpen == nil {
		for _, k := range contactFields {
			if open, ok := doorState(dp[k], true); ok {
				b.door(open)
				break
			}
		}
	}
	recognised = !b.empty()
	return m.finish(&b), recognised
}

// objectProbes names the probes a decoded object's ambient and probe fields belong to.
func (m Model) objectProbes() (ambient, probe string) {
	switch len(m.Probes) {
	case 0:
		return "internal", "external"
	case 1:
		return m.Probes[0].Name, m.Probes[0].Name
	}
	return m.Probes[0].Name, m.Probes[1].Name
}

// round rounds to dec decimals; values it cannot round (huge ones) are kept.
func round(x float64, dec int) float64 {
	p := math.Pow10(dec)
	if y := math.Round(x*p) / p; isFinite(y) {
		return y
	}
	return x
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// firstNumber returns the first field of keys holding a usable number. A present field whose
// value is not a number (e.g. "N/A") is reported as a payload fault and the next name is tried.
func firstNumber(dp map[string]any, keys []string, what string, b *builder) *float64 {
	for _, k := range keys {
		raw, ok := dp[k]
		if !ok || raw == nil {
			continue
		}
		if x, ok := jsonNumber(raw); ok {
			return &x
		}
		b.payloadFault("%s field %q is not a number", what, k)
	}
	return nil
}

// jsonNumber converts a JSON-decoded value to a finite float64: numbers (float64, json.Number, Go
// integer types) and numeric strings ("28.29", as toFixed() formatters emit). Booleans, NaN and
// ±Inf are rejected.
func jsonNumber(x any) (float64, bool) {
	var f float64
	switch t := x.(type) {
	case float64:
		f = t
	case float32:
		f = float64(t)
	case int:
		f = float64(t)
	case int64:
		f = float64(t)
	case int32:
		f = float64(t)
	case uint8:
		f = float64(t)
	case json.Number:
		p, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return 0, false
		}
		f = p
	case string:
		s := strings.TrimSpace(t)
		if s == "" || len(s) > 32 {
			return 0, false
		}
		// Only plain decimal notation: no hex, no "Inf"/"NaN", no underscores.
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
				return 0, false
			}
		}
		p, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false
		}
		f = p
	default:
		return 0, false
	}
	if !isFinite(f) {
		return 0, false
	}
	return f, true
}

// doorState interprets a door/contact value; inverted is for contact fields (true = closed).
func doorState(x any, inverted bool) (open bool, ok bool) {
	switch t := x.(type) {
	case bool:
		return t != inverted, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "open", "opened":
			return true, true
		case "close", "closed":
			return false, true
		case "true", "1", "yes", "on":
			return !inverted, true
		case "false", "0", "no", "off":
			return inverted, true
		}
		return false, false
	}
	n, isNum := jsonNumber(x)
	if !isNum {
		return false, false
	}
	switch n {
	case 1:
		return !inverted, true
	case 0:
		return inverted, true
	}
	return false, false
}
