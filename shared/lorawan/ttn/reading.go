package ttn

import (
	"fmt"
	"math"
	"strings"
)

// Reading is the canonical, unit-normalised content of one uplink.
type Reading struct {
	TemperatureC      *float64 // the main (ambient or probe) temperature in °C, 2 decimals
	ProbeTemperatureC *float64 // an external probe when the device also has an internal sensor, °C, 2 decimals
	HumidityPct       *float64 // relative humidity %, 1 decimal
	BatteryVolts      *float64 // volts, 3 decimals
	BatteryPercent    *int
	DoorOpen          *bool
	// Faults lists decoder errors and implausible values ("temperature 327.67 °C out of range",
	// "payload too short for dragino-lht65 (3 bytes, want 11)"...). Never nil-vs-empty significant.
	Faults  []string
	Decoder string // which decoder produced it: "decoded_payload" or a built-in decoder name
}

// Built-in decoder names.
const (
	DecoderDecodedPayload   = "decoded_payload"
	DecoderDraginoLHT65     = "dragino-lht65"
	DecoderMilesightEM300TH = "milesight-em300-th"
	DecoderDraginoLDS02     = "dragino-lds02"
	DecoderElsys            = "elsys"
)

// FaultNoDecoder is the fault of an uplink with neither decoded_payload nor a built-in decoder.
const FaultNoDecoder = "no decoder for this sensor"

// MaxBatteryVolts bounds a plausible battery voltage; values outside are dropped from the
// Reading and listed in Faults. Temperatures have no range here: whether a temperature can be
// true depends on the unit and the sensor model (alerting.PlausibleRange), and a reading that
// cannot be true is a critical fault of its sensor, which only the engine can judge.
const MaxBatteryVolts = 5.0

// probeNotConnected is the value Dragino devices report for an external probe that is not
// connected (0x7FFF / 100), as the built-in LHT65 decoder reads it.
const probeNotConnected = 327.67

var builtins = map[string]func(fport int, b []byte) values{
	DecoderDraginoLHT65:     decodeLHT65,
	DecoderMilesightEM300TH: decodeEM300TH,
	DecoderDraginoLDS02:     decodeLDS02,
	DecoderElsys:            decodeElsys,
}

// Decoders lists the built-in decoder names (for validating sensors.decoder in the api).
func Decoders() []string {
	return []string{DecoderDraginoLHT65, DecoderMilesightEM300TH, DecoderDraginoLDS02, DecoderElsys}
}

// DecoderFor picks a built-in decoder name from the sensor's configured decoder, else its model
// string (case-insensitive heuristics: "LHT65"/"LHT65N" -> dragino-lht65, "EM300-TH"/"EM300" ->
// milesight-em300-th, "LDS02"/"LDS01" -> dragino-lds02, "Elsys"/"ERS"/"EMS"/"ELT" -> elsys),
// "" if none. A configured decoder that is not a built-in name is ignored (the model decides).
func DecoderFor(decoder, model string) string {
	d := strings.ToLower(strings.TrimSpace(decoder))
	if _, ok := builtins[d]; ok {
		return d
	}
	m := strings.ToUpper(model)
	compact := strings.NewReplacer(" ", "", "-", "", "_", "").Replace(m)
	switch {
	case strings.Contains(compact, "LHT65"):
		return DecoderDraginoLHT65
	case strings.Contains(compact, "EM300") || strings.Contains(compact, "EM320TH"):
		return DecoderMilesightEM300TH
	case strings.Contains(compact, "LDS02") || strings.Contains(compact, "LDS01"):
		return DecoderDraginoLDS02
	case strings.Contains(compact, "ELSYS") || hasWordPrefix(m, "ERS") || hasWordPrefix(m, "EMS") || hasWordPrefix(m, "ELT"):
		return DecoderElsys
	}
	return ""
}

// hasWordPrefix reports whether some word of s (split on non-alphanumerics) starts with p.
func hasWordPrefix(s, p string) bool {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// Decode: when up.DecodedPayload is non-nil, map its fields (see mapping.go); otherwise decode
// up.FRMPayload with the built-in decoder `decoder` (as returned by DecoderFor). When the
// decoded_payload holds no recognised field but a built-in decoder and a frm_payload exist, the
// built-in decoder is used instead. No decoder and no decoded_payload -> Reading with the fault
// FaultNoDecoder (not an error). Never panics, never returns NaN/Inf; implausible values
// (humidity outside 0..100, battery volts outside 0..5, percent outside 0..100) are dropped from
// the reading and listed in Faults. Temperatures are kept whatever their value (the engine
// judges them against the unit's plausible range).
func Decode(up *Uplink, decoder string) Reading {
	if up == nil {
		return Reading{Faults: []string{"no uplink message"}}
	}
	fn := builtins[decoder]
	if up.DecodedPayload != nil {
		v := mapDecoded(up.DecodedPayload)
		if v.empty() && fn != nil && len(up.FRMPayload) > 0 {
			return finalize(fn(up.FPort, up.FRMPayload), decoder)
		}
		if v.empty() && len(v.faults) == 0 {
			v.faults = append(v.faults, "decoded_payload has no recognised field")
		}
		return finalize(v, DecoderDecodedPayload)
	}
	if fn == nil {
		r := Reading{Faults: []string{FaultNoDecoder}}
		if decoder != "" {
			r.Faults = []string{fmt.Sprintf("%s (unknown decoder %q)", FaultNoDecoder, decoder)}
		}
		return r
	}
	return finalize(fn(up.FPort, up.FRMPayload), decoder)
}

// values is what a decoder extracted, before plausibility checks and rounding.
type values struct {
	temp, probe, hum, volts, pct *float64
	door                         *bool
	faults                       []string
}

func (v *values) empty() bool {
	return v.temp == nil && v.probe == nil && v.hum == nil && v.volts == nil && v.pct == nil && v.door == nil
}

func (v *values) fault(format string, args ...any) {
	v.faults = append(v.faults, fmt.Sprintf(format, args...))
}

func f64(x float64) *float64 { return &x }

// finalize applies the plausibility ranges, rounding, and the ambient/probe rule.
func finalize(v values, decoder string) Reading {
	r := Reading{Decoder: decoder, Faults: v.faults}
	bad := func(format string, x float64) { r.Faults = append(r.Faults, fmt.Sprintf(format, trim(x))) }

	temp := checked(v.temp, math.Inf(-1), math.Inf(1), 2, "temperature %s °C is not a number", bad)
	probe := checked(v.probe, math.Inf(-1), math.Inf(1), 2, "probe temperature %s °C is not a number", bad)
	switch {
	// An ambient sensor exists: the probe (if any) is reported separately, even when the ambient
	// value was dropped (TemperatureC then stays nil, with a fault). A secondary probe is not
	// judged by the engine, so its not-connected marker is a fault here (as the built-in LHT65
	// decoder reports it).
	case v.temp != nil:
		if probe != nil && *probe == probeNotConnected {
			r.Faults = append(r.Faults, "external probe not connected (327.67 °C)")
			probe = nil
		}
		r.TemperatureC, r.ProbeTemperatureC = temp, probe
	default:
		r.TemperatureC = probe
	}
	r.HumidityPct = checked(v.hum, 0, 100, 1, "humidity %s %% out of range", bad)
	if v.volts != nil && isFinite(*v.volts) && *v.volts > 100 { // millivolts
		v.volts = f64(*v.volts / 1000)
	}
	r.BatteryVolts = checked(v.volts, 0, MaxBatteryVolts, 3, "battery %s V out of range", bad)
	if p := checked(v.pct, 0, 100, 0, "battery %s %% out of range", bad); p != nil {
		i := int(*p)
		r.BatteryPercent = &i
	}
	r.DoorOpen = v.door
	return r
}

// checked rounds *p to dec decimals and returns it when finite and within [lo, hi].
func checked(p *float64, lo, hi float64, dec int, format string, bad func(string, float64)) *float64 {
	if p == nil {
		return nil
	}
	x := *p
	if !isFinite(x) {
		bad(format, x)
		return nil
	}
	x = round(x, dec)
	if x < lo || x > hi {
		bad(format, x)
		return nil
	}
	if x == 0 {
		x = 0 // no negative zero
	}
	return &x
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func round(x float64, dec int) float64 {
	p := math.Pow10(dec)
	y := math.Round(x*p) / p
	if !isFinite(y) { // huge values: x*p overflowed; they are out of range anyway
		return x
	}
	return y
}

// trim formats a number for a fault message ("327.67", "1e+300", "NaN").
func trim(x float64) string {
	return fmt.Sprintf("%g", x)
}
