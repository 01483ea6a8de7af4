// Package domain holds FrostGuard's vocabulary shared by every layer:
// temperature units and conversions, and other pure rules that several
// packages need. Storage is always degrees Celsius; conversion happens only
// at the edges (API input and output, message text).
package domain

import (
	"fmt"
	"math"
)

// TempUnit is a display unit.
type TempUnit string

const (
	Celsius    TempUnit = "C"
	Fahrenheit TempUnit = "F"
)

// Valid reports whether u is C or F.
func (u TempUnit) Valid() bool { return u == Celsius || u == Fahrenheit }

// ToCelsius converts an absolute temperature in unit u to °C.
func ToCelsius(v float64, u TempUnit) float64 {
	if u == Fahrenheit {
		return round2((v - 32) * 5 / 9)
	}
	return round2(v)
}

// FromCelsius converts an absolute temperature in °C to unit u.
func FromCelsius(c float64, u TempUnit) float64 {
	if u == Fahrenheit {
		return round2(c*9/5 + 32)
	}
	return round2(c)
}

// DeltaToCelsius converts a temperature difference (hysteresis) in unit u to
// °C: a difference has no offset, only the scale.
func DeltaToCelsius(d float64, u TempUnit) float64 {
	if u == Fahrenheit {
		return round2(d * 5 / 9)
	}
	return round2(d)
}

// DeltaFromCelsius converts a difference in °C to unit u.
func DeltaFromCelsius(d float64, u TempUnit) float64 {
	if u == Fahrenheit {
		return round2(d * 9 / 5)
	}
	return round2(d)
}

// Format renders a °C value in unit u for people ("4.5 °C", "40.1 °F").
func Format(c float64, u TempUnit) string {
	if !u.Valid() {
		u = Celsius
	}
	return fmt.Sprintf("%.1f °%s", FromCelsius(c, u), u)
}

// round2 matches the database's numeric(6,2).
func round2(v float64) float64 { return math.Round(v*100) / 100 }
