// Package decoders turns a sensor's payload bytes into what it measured: temperatures per probe
// in °C, humidity, door state, battery, and faults. It knows the cold-chain models of The Things
// Network's device repository by their canonical ids (<vendor>/<model>, e.g. "dragino/lht65n"),
// by the free-text names and legacy decoder names sensors carry, and by the repository ids a
// network sends; for each model it states what it measures, its probes and their measuring
// ranges, and its low-battery thresholds (registry.go).
//
// Every decoder works on (model, fPort, bytes) only, implements the vendor's published formula
// (each file names its sources), checks every length before reading, and never panics: bytes it
// cannot read give a payload fault, never a crash. The package is pure.
package decoders

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Quantity is something a model measures.
type Quantity string

const (
	Temperature Quantity = "temperature"
	Humidity    Quantity = "humidity"
	Door        Quantity = "door"
	Battery     Quantity = "battery"
)

// Frame says what an uplink carried.
type Frame string

const (
	// FrameMeasurement carries current values (at least one temperature, humidity or door).
	FrameMeasurement Frame = "measurement"
	// FrameStatus carries the device's battery or state but no measurement.
	FrameStatus Frame = "status"
	// FrameHistory carries past measurements only (datalog, backlog): see Reading.History.
	FrameHistory Frame = "history"
	// FrameInfo carries nothing measured: a version, configuration or calibration report. The
	// device is alive; nothing is missing.
	FrameInfo Frame = "info"
)

// Reading is what one uplink said.
type Reading struct {
	Model string // the canonical id of the model that decoded it
	Frame Frame
	// Temperatures are the plausible current temperatures, one per probe that reported, in the
	// model's probe order, °C. A probe that reported a sentinel or an implausible value is absent
	// here and present in Faults.
	Temperatures []ProbeTemperature
	HumidityPct  *float64
	DoorOpen     *bool
	BatteryVolts *float64
	// BatteryPercent is 0..100. Sensors that report a range ("80-100%") give its lower bound.
	BatteryPercent *int
	// BatteryLow is the device's own low-battery flag, where its payload has one.
	BatteryLow bool
	// History holds past measurements the uplink carried (datalogs, backlogs, aggregates but their
	// newest), oldest first; they are not the current reading.
	History []Sample
	Faults  []Fault
}

// ProbeTemperature is one probe's temperature in °C.
type ProbeTemperature struct {
	Probe string
	C     float64
}

// Sample is one past measurement carried by an uplink.
type Sample struct {
	// At is the device's own time of the measurement when its payload has an unambiguous one.
	At           *time.Time
	Temperatures []ProbeTemperature
	HumidityPct  *float64
	DoorOpen     *bool
}

// FaultKind classifies a fault.
type FaultKind string

const (
	// FaultPayload: the bytes cannot be read as this model's payload (unknown fPort, too short,
	// unknown message type, failed checksum, another model's payload). Nothing was measured.
	FaultPayload FaultKind = "payload"
	// FaultSensor: the device says a sensor failed or a probe is not connected (Dragino's 0x7FFF,
	// Laird's fault flag...).
	FaultSensor FaultKind = "sensor"
	// FaultImplausible: a value outside what the model can measure (its probe's documented range,
	// 0..100 % humidity, a battery outside 0..5 V or 0..100 %): a reading that cannot be true.
	FaultImplausible FaultKind = "implausible"
)

// Fault is something wrong with an uplink or a sensor.
type Fault struct {
	Kind     FaultKind
	Quantity Quantity // what it concerns; "" for a payload fault
	Probe    string   // the temperature probe it concerns, if any
	// Value is the implausible value (FaultImplausible), in °C, %, V.
	Value   *float64
	Message string
}

func (f Fault) String() string { return f.Message }

// FaultNoDecoder is the message of the payload fault for a model the registry does not know.
const FaultNoDecoder = "no decoder for this sensor model"

// Temperature returns the named probe's plausible temperature in this reading.
func (r Reading) Temperature(probe string) (float64, bool) {
	for _, t := range r.Temperatures {
		if t.Probe == probe {
			return t.C, true
		}
	}
	return 0, false
}

// ProbeFaulted reports a sensor or implausible fault of the named probe.
func (r Reading) ProbeFaulted(probe string) bool {
	for _, f := range r.Faults {
		if f.Probe == probe && f.Quantity == Temperature {
			return true
		}
	}
	return false
}

// FaultMessages are the faults' messages, for storage and answers.
func (r Reading) FaultMessages() []string {
	out := make([]string, len(r.Faults))
	for i, f := range r.Faults {
		out[i] = f.Message
	}
	return out
}

// Plausibility bounds that do not depend on the model.
const (
	MaxBatteryVolts = 5.0
	// FallbackMinC and FallbackMaxC bound a probe whose measuring range is not documented: beyond
	// them no cold-chain sensor reads (ultra-low freezers run at -80 °C).
	FallbackMinC = -100.0
	FallbackMaxC = 150.0
)

// builder accumulates what a decoder reads, before the model's ranges are applied.
type builder struct {
	r Reading
}

func (b *builder) temp(probe string, c float64) {
	b.r.Temperatures = append(b.r.Temperatures, ProbeTemperature{Probe: probe, C: c})
}

func (b *builder) humidity(pct float64) { b.r.HumidityPct = &pct }

func (b *builder) door(open bool) { b.r.DoorOpen = &open }

func (b *builder) volts(v float64) { b.r.BatteryVolts = &v }

func (b *builder) percent(p int) { b.r.BatteryPercent = &p }

func (b *builder) sample(s Sample) { b.r.History = append(b.r.History, s) }

// payloadFault records bytes that cannot be read; decoders return right after it.
func (b *builder) payloadFault(format string, args ...any) {
	b.r.Faults = append(b.r.Faults, Fault{Kind: FaultPayload, Message: fmt.Sprintf(format, args...)})
}

// probeFault records a probe the device says is disconnected or failed.
func (b *builder) probeFault(probe, format string, args ...any) {
	b.r.Faults = append(b.r.Faults, Fault{Kind: FaultSensor, Quantity: Temperature, Probe: probe, Message: fmt.Sprintf(format, args...)})
}

// sensorFault records a failure the device reports for no particular probe.
func (b *builder) sensorFault(format string, args ...any) {
	b.r.Faults = append(b.r.Faults, Fault{Kind: FaultSensor, Message: fmt.Sprintf(format, args...)})
}

// empty reports that nothing current was read.
func (b *builder) empty() bool {
	r := &b.r
	return len(r.Temperatures) == 0 && r.HumidityPct == nil && r.DoorOpen == nil && r.BatteryVolts == nil && r.BatteryPercent == nil
}

// finish applies the model's ranges, rounds away binary noise, and sets the frame unless the
// decoder did.
func (m *Model) finish(b *builder) Reading {
	r := b.r
	r.Model = m.ID
	r.Temperatures = m.plausibleTemps(r.Temperatures, &r.Faults)
	for i := range r.History {
		s := &r.History[i]
		s.Temperatures = m.plausibleTemps(s.Temperatures, &r.Faults)
		s.HumidityPct = plausible(s.HumidityPct, 0, 100, Humidity, "%", &r.Faults)
	}
	r.HumidityPct = plausible(r.HumidityPct, 0, 100, Humidity, "%", &r.Faults)
	r.BatteryVolts = plausible(r.BatteryVolts, 0, MaxBatteryVolts, Battery, "V", &r.Faults)
	if p := r.BatteryPercent; p != nil && (*p < 0 || *p > 100) {
		v := float64(*p)
		r.Faults = append(r.Faults, Fault{Kind: FaultImplausible, Quantity: Battery, Value: &v, Message: fmt.Sprintf("battery %d %% is outside 0..100 %%", *p)})
		r.BatteryPercent = nil
	}
	if r.Frame == "" {
		switch {
		case len(r.Temperatures) > 0 || r.HumidityPct != nil || r.DoorOpen != nil || hasFault(r.Faults, FaultSensor, FaultImplausible):
			r.Frame = FrameMeasurement
		case r.BatteryVolts != nil || r.BatteryPercent != nil || r.BatteryLow:
			r.Frame = FrameStatus
		case len(r.History) > 0:
			r.Frame = FrameHistory
		default:
			r.Frame = FrameInfo
		}
	}
	return r
}

func hasFault(fs []Fault, kinds ...FaultKind) bool {
	for _, f := range fs {
		for _, k := range kinds {
			if f.Kind == k {
				return true
			}
		}
	}
	return false
}

// plausibleTemps keeps the temperatures within their probe's range and turns the others into
// faults.
func (m *Model) plausibleTemps(ts []ProbeTemperature, faults *[]Fault) []ProbeTemperature {
	kept := ts[:0]
	for _, t := range ts {
		c := clean(t.C)
		p := m.probe(t.Probe)
		lo, hi := p.Range()
		if !(c >= lo && c <= hi) {
			v := c
			*faults = append(*faults, Fault{Kind: FaultImplausible, Quantity: Temperature, Probe: t.Probe, Value: &v,
				Message: fmt.Sprintf("%s temperature %s °C is outside what the %s measures (%s..%s °C)", t.Probe, num(c), m.Name, num(lo), num(hi))})
			continue
		}
		kept = append(kept, ProbeTemperature{Probe: t.Probe, C: c})
	}
	if len(kept) == 0 {
		return nil
	}
	// The model's probe order, whatever the payload's (Dragino's Ext=9 sends the probe first).
	slices.SortStableFunc(kept, func(a, b ProbeTemperature) int { return m.probeIndex(a.Probe) - m.probeIndex(b.Probe) })
	return kept
}

// probeIndex is the probe's position in the model, unknown probes last.
func (m *Model) probeIndex(name string) int {
	for i, p := range m.Probes {
		if p.Name == name {
			return i
		}
	}
	return len(m.Probes)
}

func plausible(p *float64, lo, hi float64, q Quantity, unit string, faults *[]Fault) *float64 {
	if p == nil {
		return nil
	}
	v := clean(*p)
	if !(v >= lo && v <= hi) {
		*faults = append(*faults, Fault{Kind: FaultImplausible, Quantity: q, Value: &v,
			Message: fmt.Sprintf("%s %s %s is outside %s..%s %s", q, num(v), unit, num(lo), num(hi), unit)})
		return nil
	}
	*p = v // the decoder's own value: no need for another
	return p
}

// clean rounds to 6 decimals: every vendor formula is an integer over a power of ten (or a sum of
// such), so this removes binary noise (52.330000000000005) and keeps the vendor's precision.
func clean(x float64) float64 {
	y := math.Round(x*1e6) / 1e6
	if math.IsInf(y, 0) && !math.IsInf(x, 0) {
		return x // too large to round (a decoded object's value): implausible anyway
	}
	if y == 0 {
		return 0 // no negative zero
	}
	return y
}

func num(x float64) string { return fmt.Sprintf("%g", x) }

// accept checks the port and the minimum length of a payload, recording a payload fault when
// either is wrong.
func (b *builder) accept(name string, fport, wantPort int, payload []byte, minLen int) bool {
	switch {
	case fport != wantPort:
		b.payloadFault("unknown fPort %d (%s data is on fPort %d)", fport, name, wantPort)
	case len(payload) < minLen:
		b.payloadFault("payload too short for the %s (%d bytes, want %d)", name, len(payload), minLen)
	default:
		return true
	}
	return false
}

// walkRecords walks a payload of records from start: a key of keyLen bytes, then a value whose
// length the key fixes (size; false for a key it does not know), passing each value's offset to
// visit. As the vendors' decoders do, an unknown key ends the walk (its length is unknown): a
// payload fault only when nothing was read before it. A record cut short is a payload fault.
func (b *builder) walkRecords(p []byte, start, keyLen int, name, what string, size func(key []byte) (int, bool), visit func(key []byte, at int)) {
	for i := start; i+keyLen <= len(p); {
		key := p[i : i+keyLen]
		n, ok := size(key)
		if !ok {
			if b.empty() && len(b.r.History) == 0 {
				b.payloadFault("%s: unknown %s %s at byte %d", name, what, hexBytes(key), i)
			}
			return
		}
		at := i + keyLen
		if at+n > len(p) {
			b.payloadFault("payload truncated for %s (%s %s at byte %d)", name, what, hexBytes(key), i)
			return
		}
		visit(key, at)
		i = at + n
	}
}

// hexBytes formats a record key as "0x03 0x67".
func hexBytes(key []byte) string {
	parts := make([]string, len(key))
	for i, c := range key {
		parts[i] = fmt.Sprintf("0x%02X", c)
	}
	return strings.Join(parts, " ")
}
