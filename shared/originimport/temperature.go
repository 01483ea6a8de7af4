package originimport

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// The origin stored temperatures in a column documented as Celsius, but
// some rows hold Fahrenheit: its first system stored °F throughout, its API
// took whatever a client sent, and nothing records which a row is. A row's
// value is therefore judged record by record, by this rule (docs/MIGRATION.md
// "Temperatures" states it for people; TestNormaliseRule proves it):
//
//  1. payload: the row's raw payload is JSON and names the value's scale
//     (a key such as temperature_f / TempF, or temperature_c / TempC_SHT,
//     holding the stored value): that scale.
//  2. range: exactly one of "the value is °C" and "the value is °F" puts
//     the temperature inside the plausible band of the unit's type
//     (PlausibleBand: a fridge is never at 38 °C, a freezer never at 30 °C):
//     that one. Rules 1 and 2 make the reading an anchor for its device.
//  3. series: both are plausible, and the newest anchor of the same device
//     and source (a device reports in one scale) is at most SeriesWindow
//     older: the anchor's scale.
//  4. neither is plausible: implausible. The value is kept as stored (°C,
//     the column's declared unit: what the origin showed) and reported; it
//     is usually a sensor's error code (-127 from a disconnected probe).
//  5. otherwise: ambiguous. Kept as stored (°C) and reported, never guessed.
//
// A value that does not fit numeric(6,2) (or is not a number: the origin's
// numeric column can hold NaN) is out_of_range: stored as NULL,
// the origin's value kept in the reading's raw JSON.

// Scale is the verdict on one stored value.
type Scale string

const (
	Celsius     Scale = "celsius"
	Fahrenheit  Scale = "fahrenheit"
	Ambiguous   Scale = "ambiguous"
	Implausible Scale = "implausible"
	OutOfRange  Scale = "out_of_range"
)

// Evidence is which rule decided a scale.
type Evidence string

const (
	ByPayload Evidence = "payload"
	ByRange   Evidence = "range"
	BySeries  Evidence = "series"
	ByNothing Evidence = ""
)

// SeriesWindow is how far back an anchor carries its scale (rule 3).
const SeriesWindow = 24 * time.Hour

// Band is a plausible temperature range, °C.
type Band struct{ Min, Max float64 }

func (b Band) holds(c float64) bool { return c >= b.Min && c <= b.Max }

// PlausibleBand is where a unit of the type can really be, excursions
// included (a fridge left open in a hot kitchen, a freezer defrosting), in
// °C. It is deliberately wider than any alarm range and narrower than
// the other scale's reading of a normal value: 3 °C read as °F is -16 °C, not
// a fridge; 38 °F read as °C is 38 °C, not a fridge either.
func PlausibleBand(unitType string) Band {
	switch unitType {
	case "fridge", "display_case", "walk_in_cooler":
		return Band{-10, 30}
	case "freezer", "walk_in_freezer":
		return Band{-40, 25}
	case "blast_chiller":
		return Band{-40, 90}
	default:
		return Band{-40, 60}
	}
}

// FahrenheitToCelsius converts, rounded to 0.01 like our numeric(6,2).
func FahrenheitToCelsius(f float64) float64 { return round2((f - 32) * 5 / 9) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// maxStored is the largest magnitude numeric(6,2) holds.
const maxStored = 9999.99

// Normalised is one value after the rule.
type Normalised struct {
	C        *float64 // nil: out_of_range
	Scale    Scale
	Evidence Evidence
}

// Trivial reports whether the value was °C by its own range: nothing to
// record beside it.
func (n Normalised) Trivial() bool { return n.Scale == Celsius && n.Evidence == ByRange }

// Normaliser applies the rule to the readings of one unit in time order,
// remembering each device's newest anchor.
type Normaliser struct {
	band    Band
	anchors map[string]anchor
}

type anchor struct {
	at    time.Time
	scale Scale
}

// NewNormaliser starts the rule for a unit of the type.
func NewNormaliser(unitType string) *Normaliser {
	return &Normaliser{band: PlausibleBand(unitType), anchors: map[string]anchor{}}
}

// Normalise judges one stored value. series names the device and source it
// came from ("" for no series: the value stands alone); payload is the
// row's raw payload ("" if none).
func (n *Normaliser) Normalise(series string, at time.Time, stored float64, payload string) Normalised {
	asC, asF := round2(stored), FahrenheitToCelsius(stored)
	out := Normalised{}
	if s := payloadScale(payload, stored); s != "" {
		out.Scale, out.Evidence = s, ByPayload
	} else {
		c, f := n.band.holds(asC), n.band.holds(asF)
		switch {
		case c && !f:
			out.Scale, out.Evidence = Celsius, ByRange
		case f && !c:
			out.Scale, out.Evidence = Fahrenheit, ByRange
		case !c && !f:
			out.Scale = Implausible
		default:
			out.Scale = Ambiguous
			if a, ok := n.anchors[series]; ok && series != "" && !at.Before(a.at) && at.Sub(a.at) <= SeriesWindow {
				out.Scale, out.Evidence = a.scale, BySeries
			}
		}
	}
	if series != "" && (out.Evidence == ByPayload || out.Evidence == ByRange) {
		n.anchors[series] = anchor{at: at, scale: out.Scale}
	}
	v := asC
	if out.Scale == Fahrenheit {
		v = asF
	}
	if math.IsNaN(v) || math.Abs(v) > maxStored { // numeric holds NaN and ±Infinity; ours must not
		out.Scale, out.Evidence = OutOfRange, ByNothing
		return out
	}
	out.C = &v
	return out
}

// payloadScale reads rule 1: a JSON payload naming the scale of a value
// equal to the stored one.
func payloadScale(payload string, stored float64) Scale {
	payload = strings.TrimSpace(payload)
	if payload == "" || payload[0] != '{' {
		return ""
	}
	var m map[string]any
	if json.Unmarshal([]byte(payload), &m) != nil {
		return ""
	}
	for k, v := range m {
		f, ok := v.(float64)
		if !ok || math.Abs(f-stored) > 0.005 {
			continue
		}
		if s := keyScale(k); s != "" {
			return s
		}
	}
	return ""
}

// keyScale is the scale a payload key names: temperature_f, temp_f, TempF,
// tempF... are °F; temperature_c, TempC_SHT, TempC_DS, temp_c... are °C.
func keyScale(key string) Scale {
	k := strings.ToLower(key)
	if !strings.HasPrefix(k, "temp") {
		return ""
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(k, "temperature"), "temp")
	rest = strings.TrimPrefix(rest, "_")
	switch {
	case rest == "f" || strings.HasPrefix(rest, "f_"):
		return Fahrenheit
	case rest == "c" || strings.HasPrefix(rest, "c_"):
		return Celsius
	}
	return ""
}

// ThresholdC converts a unit's threshold (whole degrees in the unit's
// temp_unit, F by the origin's default) to °C.
func ThresholdC(v float64, tempUnit string) float64 {
	if strings.EqualFold(tempUnit, "C") {
		return round2(v)
	}
	return FahrenheitToCelsius(v)
}
