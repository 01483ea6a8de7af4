// Package judge is the one path that judges every reading (issue 14): a
// sensor uplink (shared/ingest) and a person's manual log (shared/api) both
// map the unit as the store read it (store.UnitAlerting, one SELECT) to the
// alert engine's inputs here, run the engine, and turn its decision into
// the rows of the reading's transaction, every alert it opens paged through
// the unit's policy (shared/paging). A rule added here reaches both flows.
package judge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/lorawan/decoders"
	"github.com/frostguard/functions/shared/paging"
	"github.com/frostguard/functions/shared/store"
)

// Reading is what is judged: the engine's observation and where it comes
// from.
type Reading struct {
	Obs alerting.Observation // Obs.Manual for a manual log
	// Model is the sensor's model as the uplink was decoded with it
	// (shared/lorawan/decoders.For) and Probe the probe of it that measured
	// the unit (decoders.Unit): their measuring range narrows what is
	// plausible (MeasuringRange).
	Model decoders.Model
	Probe string
	// LowBatteryVolts and LowBatteryPercent are the sensor model's battery
	// thresholds (0: the defaults).
	LowBatteryVolts   float64
	LowBatteryPercent int
	// Author names the person of a manual log (for the alert's history).
	Author string
	// Now is the clock when the reading is judged: paging of an alert it
	// opens starts at the later of the reading's time and now.
	Now time.Time
}

// Verdict is the engine's decision and what to write for it.
type Verdict struct {
	Decision alerting.Decision
	Writes   store.Judgement
	// StoredTemperatureC is the temperature to store with the reading: the
	// reading's own when plausible, nil when it cannot be true (a
	// disconnected probe's 327.67 °C never reaches charts and reports; the
	// raw payload keeps it).
	StoredTemperatureC *float64
}

// Inputs maps a unit as the store read it to the engine's configuration,
// state and open alerts, for a reading from r.
func Inputs(u store.UnitAlerting, open []store.OpenAlertRef, r Reading) (alerting.Config, alerting.State, alerting.Open) {
	cfg := alerting.Config{MinC: u.MinC, MaxC: u.MaxC, HysteresisC: u.HysteresisC,
		ConfirmSeconds: u.ConfirmSeconds, DoorConfirmSeconds: u.DoorConfirmSeconds,
		LowBatteryVolts: r.LowBatteryVolts, LowBatteryPercent: r.LowBatteryPercent,
		Cooling:  alerting.CoolingRule{SlopeCPerHour: u.CoolingSlopeCPerHour, Readings: u.CoolingReadings},
		Location: domain.Location(u.TimeZone),
	}
	var model *alerting.Range
	if !r.Obs.Manual {
		model = MeasuringRange(r.Model, r.Probe)
	}
	cfg.Plausible = alerting.PlausibleRange(domain.UnitType(u.Type), u.MinC, u.MaxC, model)
	if len(u.DefrostSchedule) > 0 {
		// Validated on the way in (alerting.CheckDefrostSchedule); a row the
		// engine cannot read has no windows rather than failing the reading.
		_ = json.Unmarshal(u.DefrostSchedule, &cfg.Defrost)
	}

	st := alerting.State{Status: domain.UnitStatus(u.Status), StatusSince: u.StatusSince, InBandCount: u.InBandCount, DoorOpen: u.DoorOpen}
	if u.LastReadingAt != nil {
		st.LastReadingAt = *u.LastReadingAt
	}
	if r.Obs.Manual && u.LastManualLogAt != nil && u.LastManualLogAt.After(st.LastReadingAt) {
		// A hand reading is late against the newest reading of either kind;
		// a sensor reading only against the sensors' (a person's log must
		// not make the sensors' own readings late).
		st.LastReadingAt = *u.LastManualLogAt
	}
	if u.LastTemperatureAt != nil {
		st.LastTemperatureAt = *u.LastTemperatureAt
	}
	if u.DoorChangedAt != nil {
		st.DoorChangedAt = *u.DoorChangedAt
	}
	for _, s := range u.Recent {
		st.Recent = append(st.Recent, alerting.Sample{At: s.At, C: s.C})
	}

	o := alerting.Open{Unit: map[string]bool{}, Sensor: map[string]map[string]bool{}}
	for _, a := range open {
		if a.SensorID == "" {
			o.Unit[a.Type] = true
			continue
		}
		if o.Sensor[a.SensorID] == nil {
			o.Sensor[a.SensorID] = map[string]bool{}
		}
		o.Sensor[a.SensorID][a.Type] = true
	}
	return cfg, st, o
}

// Judge runs the engine on r and returns what the reading's transaction
// writes: the unit's state, the status change, door, history lines, and
// every alert it opens with its first notifications (the unit's policy,
// read through plans) or resolves with "back to normal".
func Judge(ctx context.Context, u store.UnitAlerting, open []store.OpenAlertRef, r Reading, plans store.PlanReader, frontendURL string) (Verdict, error) {
	cfg, st, o := Inputs(u, open, r)
	d := alerting.Evaluate(cfg, st, o, r.Obs)
	v := Verdict{Decision: d}
	if t := r.Obs.TemperatureC; t != nil && cfg.Plausible.Contains(*t) {
		v.StoredTemperatureC = t
	}
	w := &v.Writes
	manual := r.Obs.Manual
	if !d.Late && (d.Changed || !manual) {
		s := d.State
		w.UnitState = &store.UnitStateRow{Status: string(s.Status), StatusSince: s.StatusSince, InBandCount: s.InBandCount}
		if !manual {
			row := &store.SensorStateRow{LastReadingAt: s.LastReadingAt, LastTempC: v.StoredTemperatureC,
				DoorOpen: s.DoorOpen, DoorChangedAt: timePtr(s.DoorChangedAt)}
			if !s.LastTemperatureAt.Equal(st.LastTemperatureAt) {
				row.LastTemperatureAt = timePtr(s.LastTemperatureAt)
			}
			w.UnitState.Sensor = row
		}
		if d.DoorTransition != nil {
			open := d.DoorTransition.Open
			w.DoorChange = &open
		}
		if s.Status != domain.UnitStatus(u.Status) {
			w.StatusChange = &store.StatusChangeRow{From: u.Status, To: string(s.Status), At: r.Obs.At, TemperatureC: v.StoredTemperatureC}
		}
	}
	triggered := map[string]map[string]any{}
	for _, e := range d.Events {
		switch e.Kind {
		case alerting.KindTriggered:
			triggered[e.AlertType+"@"+sensorOf(e.Data)] = e.Data
		case alerting.KindResolved: // recorded with the resolve itself
		default:
			w.Events = append(w.Events, store.AlertEventRow{AlertType: e.AlertType, Kind: e.Kind, Note: e.Note, At: e.At, Data: e.Data})
		}
	}
	var msgIn alerting.MessageInput
	if len(d.Opens)+len(d.Resolves) > 0 {
		msgIn = alerting.NewMessageInput(u.SiteName, u.Name, u.TimeZone, domain.TempUnit(u.TempUnit), frontendURL)
	}
	for _, op := range d.Opens {
		plan, err := plans.NotificationPlan(ctx, op.Type)
		if err != nil {
			return v, fmt.Errorf("judge: %w", err)
		}
		row := paging.OpenRow(op, plan, msgIn, r.Now, u.Silence)
		row.EventData = triggered[op.Type+"@"+op.SensorID]
		if manual {
			if row.EventData == nil {
				row.EventData = map[string]any{}
			}
			row.EventData["source"] = "manual_log"
			note := "confirmed by manual temperature logs (" + r.Author + ")"
			if row.EventNote != "" {
				note += "; " + row.EventNote
			}
			row.EventNote = note
		}
		w.Opens = append(w.Opens, row)
	}
	for _, x := range d.Resolves {
		in := msgIn
		in.TemperatureC = v.StoredTemperatureC
		reason := x.Reason
		if manual {
			reason += " (manual temperature log)"
		}
		row := paging.ResolveRow(x.Type, x.At, reason, in)
		row.SensorID = x.SensorID
		w.Resolves = append(w.Resolves, row)
	}
	return v, nil
}

// MeasuringRange is the temperature range (°C) a sensor of model m can
// measure, from the sensor model registry (shared/lorawan/decoders): the
// documented range of the probe that measured the unit when it has one (an
// EM500-PT100's probe reaches -200 °C, an LHT65's built-in sensor only
// -40), else the span of the model's documented probes (the reading may come
// from any of them); nil when nothing is documented (the unit type's band
// applies alone).
func MeasuringRange(m decoders.Model, probe string) *alerting.Range {
	if p, ok := m.Probe(probe); ok && probe != "" && p.Documented() {
		return &alerting.Range{MinC: p.MinC, MaxC: p.MaxC}
	}
	var r *alerting.Range
	for _, p := range m.Probes {
		if !p.Documented() {
			continue
		}
		if r == nil {
			r = &alerting.Range{MinC: p.MinC, MaxC: p.MaxC}
			continue
		}
		r.MinC, r.MaxC = min(r.MinC, p.MinC), max(r.MaxC, p.MaxC)
	}
	return r
}

func sensorOf(data map[string]any) string {
	s, _ := data["sensor_id"].(string)
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
