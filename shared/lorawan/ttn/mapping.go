package ttn

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Field names of decoded_payload (the output of TTN payload formatters), by meaning. The first
// present, usable field of each list wins. Sources: the old system's normalisation
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

func mapDecoded(dp map[string]any) values {
	var v values
	v.temp = firstNumber(dp, ambientTempFields, "temperature", &v)
	v.probe = firstNumber(dp, probeTempFields, "probe temperature", &v)
	if v.temp == nil {
		if f := firstNumber(dp, fahrenheitFields, "temperature", &v); f != nil {
			v.temp = f64((*f - 32) * 5 / 9)
		}
	}
	v.hum = firstNumber(dp, humidityFields, "humidity", &v)
	v.volts = firstNumber(dp, voltsFields, "battery voltage", &v)
	v.pct = firstNumber(dp, percentFields, "battery percent", &v)
	if v.pct == nil {
		// "battery" is a percentage only when it is a whole number in 0..100 and the formatter
		// does not also emit a Dragino-style Bat_status enum (which some put in "battery").
		if _, enum := dp["Bat_status"]; !enum {
			if x, ok := number(dp["battery"]); ok && x >= 0 && x <= 100 && x == math.Trunc(x) {
				v.pct = f64(x)
			}
		}
	}
	for _, k := range doorFields {
		if b, ok := doorState(dp[k], false); ok {
			v.door = &b
			break
		}
	}
	if v.door == nil {
		for _, k := range contactFields {
			if b, ok := doorState(dp[k], true); ok {
				v.door = &b
				break
			}
		}
	}
	return v
}

// firstNumber returns the first field of keys holding a usable number. A present field whose
// value is not a number (e.g. "N/A") is reported as a fault and the next name is tried.
func firstNumber(dp map[string]any, keys []string, what string, v *values) *float64 {
	for _, k := range keys {
		raw, ok := dp[k]
		if !ok || raw == nil {
			continue
		}
		if x, ok := number(raw); ok {
			return &x
		}
		v.fault("%s field %q is not a number", what, k)
	}
	return nil
}

// number converts a JSON-decoded value to a finite float64: numbers (float64, json.Number, Go
// integer types) and numeric strings ("28.29", as toFixed() formatters emit). Booleans, NaN and
// ±Inf are rejected.
func number(x any) (float64, bool) {
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
	n, isNum := number(x)
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
