package decoders

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// For chooses the model of a sensor: its decoder or model field (Resolve), else the device
// repository entry its network sent with the uplink (ByRepository), else Generic. known is false
// for Generic.
func For(decoder, model, brandID, modelID string) (m Model, known bool) {
	if m, ok := Resolve(decoder, model); ok {
		return m, true
	}
	if m, ok := ByRepository(brandID, modelID); ok {
		return m, true
	}
	return Generic(), false
}

// Generic is the model of a sensor the registry does not know. Its bytes cannot be decoded; its
// network's decoded object is read with an "internal" (ambient) and an "external" probe, the
// internal one the unit's by default, both with the fallback range.
func Generic() Model {
	return Model{Name: "sensor", Probes: []Probe{
		{Name: "internal", Description: "the ambient temperature of a decoded object"},
		{Name: "external", Description: "the probe temperature of a decoded object"},
	}, DefaultProbe: "internal"}
}

// Known reports a model of the registry (not Generic).
func (m Model) Known() bool { return m.ID != "" }

// FaultNoObjectField is the payload fault of a decoded object in which no field is recognised
// (and no bytes the model could decode instead).
const FaultNoObjectField = "the network's decoded object has no recognised field"

// DecodeUplink is what an uplink says, whatever the network: the network's own decoded object
// wins when it is present and holds a field we recognise; otherwise the payload bytes are
// decoded by the model. A model without a decoder (Generic) and no usable object gives the payload
// fault FaultNoDecoder. Never panics.
func (m Model) DecodeUplink(fport int, payload []byte, object json.RawMessage) Reading {
	if obj := bytes.TrimSpace(object); len(obj) > 0 && obj[0] == '{' {
		r, recognised := m.fromObject(obj)
		if recognised || m.decode == nil || len(payload) == 0 {
			if !recognised && len(r.Faults) == 0 {
				r.Faults = append(r.Faults, Fault{Kind: FaultPayload, Message: FaultNoObjectField})
			}
			return r
		}
	}
	if m.decode == nil {
		return Reading{Model: m.ID, Frame: FrameInfo, Faults: []Fault{{Kind: FaultPayload, Message: FaultNoDecoder}}}
	}
	return m.Decode(fport, payload)
}

// Unit is what one reading says about the unit its sensor watches: the alert engine's input.
type Unit struct {
	// Probe is the unit's probe for this reading: the sensor's setting, else the model's default,
	// else (when the default reported nothing at all) the first probe that reported a value or a
	// fault. "" when the model gives no unit temperature unless a probe is chosen.
	Probe string
	// TemperatureC is that probe's temperature: the plausible value, or the implausible value it
	// reported (a value outside the probe's measuring range cannot be true: the engine judges it
	// against the probe's measuring range, shared/judge.MeasuringRange, and makes it a critical sensor fault). nil when it reported
	// none.
	TemperatureC *float64
	// Failed is the device's own report that the unit's probe is disconnected or failed ("" if
	// none): the unit is not being measured.
	Failed string
	// Faults are the reading's other faults (TemperatureC and Failed already say the unit
	// probe's), for the engine: each opens a warning sensor fault.
	Faults []string
}

// Unit is the unit's part of a reading of this model, for the probe setting of its sensor.
func (m Model) Unit(r Reading, setting string) Unit {
	u := Unit{Probe: m.unitProbe(r, setting)}
	if u.Probe != "" {
		if c, ok := r.Temperature(u.Probe); ok {
			u.TemperatureC = &c
		}
	}
	for _, f := range r.Faults {
		mine := u.Probe != "" && f.Probe == u.Probe && f.Quantity == Temperature
		switch {
		case mine && f.Kind == FaultImplausible && f.Value != nil && u.TemperatureC == nil:
			v := *f.Value
			u.TemperatureC = &v
		case mine && f.Kind == FaultSensor && u.Failed == "":
			u.Failed = f.Message
		default:
			u.Faults = append(u.Faults, f.Message)
		}
	}
	return u
}

// unitProbe chooses the unit's probe for one reading (see Unit.Probe).
func (m Model) unitProbe(r Reading, setting string) string {
	if setting != "" {
		return setting
	}
	if m.DefaultProbe == "" {
		return ""
	}
	reported := func(name string) bool {
		_, ok := r.Temperature(name)
		return ok || r.ProbeFaulted(name)
	}
	if reported(m.DefaultProbe) {
		return m.DefaultProbe
	}
	for _, p := range m.Probes {
		if reported(p.Name) {
			return p.Name
		}
	}
	return m.DefaultProbe
}

// CheckProbe checks a sensor's probe setting against the model its decoder and model fields
// choose (For without repository ids: a sensor of a model the registry does not know has
// Generic's probes, "internal" and "external"). "" is the model's default and always valid. The
// api's registration and the store's update call it, so a probe that the model does not have is
// never stored.
func CheckProbe(decoder, model, probe string) error {
	m, _ := For(decoder, model, "", "")
	if err := m.ValidateProbe(probe); err != nil {
		if !m.Known() {
			return fmt.Errorf("a sensor of an unknown model has the probes internal and external, not %q", probe)
		}
		return err
	}
	return nil
}

// CanonicalName is how a sensor's model or decoder field is stored: the canonical id
// ("dragino/lht65n") when the text is written as a device-repository id ("<vendor>/<model>", any
// case) the registry knows; anything else (free text, legacy decoder names) unchanged.
func CanonicalName(text string) string {
	if !strings.Contains(text, "/") {
		return text
	}
	if m, ok := Lookup(text); ok {
		return m.ID
	}
	return text
}
