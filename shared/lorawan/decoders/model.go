package decoders

import (
	"fmt"
	"slices"
)

// Model is one sensor model the registry knows.
type Model struct {
	// ID is the canonical id: "<vendor>/<model>" as in The Things Network's device repository
	// (vendor/<brand_id>/<model_id>.yaml), e.g. "dragino/lht65n".
	ID           string
	Vendor, Name string
	Measures     []Quantity
	// Probes are the temperature probes the model reports, in the order Readings list them.
	Probes []Probe
	// DefaultProbe is the probe whose temperature is the unit's unless the sensor chooses another
	// ("" when the model gives no unit temperature unless one is chosen, e.g. a door sensor whose
	// only temperature is its circuit board's).
	DefaultProbe string
	Battery      BatteryThresholds
	// Aliases are other names that select the model: the legacy decoder names and free-text model
	// names sensors already carry ("LHT65N", "dragino-lht65"). Matched case-insensitively.
	Aliases []string
	// RepositoryModels are the device repository model_ids (brand_id is the vendor of ID) that
	// select the model when a network sends them.
	RepositoryModels []string
	// Notes say what the decoder deliberately does not take from the payload, and why.
	Notes string

	decode func(fport int, b []byte, out *builder)
}

// Probe is a temperature probe of a model.
type Probe struct {
	Name        string // "internal", "external", "probe"...
	Description string
	// MinC..MaxC is the measuring range the vendor documents for this probe; RangeSource says
	// where it comes from. Zero when undocumented: Range then gives the fallback bounds.
	MinC, MaxC  float64
	RangeSource string
}

// Documented reports a measuring range the vendor (or the sensing element's standard) documents.
func (p Probe) Documented() bool { return p.RangeSource != "" && p.MinC < p.MaxC }

// Range is the probe's documented measuring range, else FallbackMinC..FallbackMaxC. A
// temperature outside it cannot be true: the decoder reports it as a FaultImplausible.
func (p Probe) Range() (minC, maxC float64) {
	if p.Documented() {
		return p.MinC, p.MaxC
	}
	return FallbackMinC, FallbackMaxC
}

// BatteryThresholds are the vendor's low-battery levels; zero where the vendor documents none.
type BatteryThresholds struct {
	LowVolts   float64
	LowPercent int
	Source     string
}

// Measure reports whether the model measures q.
func (m Model) Measure(q Quantity) bool { return slices.Contains(m.Measures, q) }

// probe returns the named probe (a zero Probe, with the fallback range, if the model has none).
func (m *Model) probe(name string) Probe {
	for _, p := range m.Probes {
		if p.Name == name {
			return p
		}
	}
	return Probe{Name: name}
}

// Probe returns the named probe of the model.
func (m Model) Probe(name string) (Probe, bool) {
	for _, p := range m.Probes {
		if p.Name == name {
			return p, true
		}
	}
	return Probe{}, false
}

// ValidateProbe checks a sensor's probe setting: "" (the model's default) or one of its probes.
func (m Model) ValidateProbe(setting string) error {
	if setting == "" {
		return nil
	}
	if _, ok := m.Probe(setting); ok {
		return nil
	}
	names := make([]string, len(m.Probes))
	for i, p := range m.Probes {
		names[i] = p.Name
	}
	return fmt.Errorf("%s has no probe %q (its probes: %v)", m.ID, setting, names)
}

// Decode decodes one uplink's payload. It never panics; unreadable bytes give a FaultPayload.
func (m Model) Decode(fport int, payload []byte) Reading {
	var b builder
	if len(m.Probes) > 0 {
		b.r.Temperatures = make([]ProbeTemperature, 0, len(m.Probes))
	}
	m.decode(fport, payload, &b)
	return m.finish(&b)
}

// UnitTemperature is the temperature of the unit a sensor watches, from one of its readings.
//
// setting is the sensor's probe setting. A chosen probe is the only one used: if it did not
// report, there is no unit temperature (and the reading's faults say why, if it failed). With
// no setting, the model's DefaultProbe is used; if that probe did not report at all (neither a
// value nor a fault: e.g. an LHT65 whose internal sensor is switched off), the first probe that
// did is, so that a probe-only payload still measures the unit. A model without DefaultProbe
// gives no unit temperature unless a probe is chosen.
func (m Model) UnitTemperature(r Reading, setting string) (ProbeTemperature, bool) {
	if setting != "" {
		c, ok := r.Temperature(setting)
		return ProbeTemperature{Probe: setting, C: c}, ok
	}
	if m.DefaultProbe == "" {
		return ProbeTemperature{}, false
	}
	if c, ok := r.Temperature(m.DefaultProbe); ok {
		return ProbeTemperature{Probe: m.DefaultProbe, C: c}, true
	}
	if r.ProbeFaulted(m.DefaultProbe) || len(r.Temperatures) == 0 {
		return ProbeTemperature{}, false
	}
	return r.Temperatures[0], true
}
