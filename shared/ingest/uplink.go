package ingest

import (
	"context"
	"math"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/judge"
	"github.com/frostguard/functions/shared/lorawan"
	"github.com/frostguard/functions/shared/lorawan/decoders"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
)

// uplink decodes one uplink with its sensor's model, stores the reading and applies the alert
// engine's decision, judged by the one path every reading takes (shared/judge).
func (h *Handler) uplink(ctx context.Context, tx *store.UplinkTx, t store.UplinkTarget, ev lorawan.Event, at time.Time, res Result) (Result, error) {
	up := ev.Uplink
	repo := ev.Device.Repository
	model, _ := decoders.For(t.SensorDecoder, t.SensorModel, repo.BrandID, repo.ModelID)
	reading := model.DecodeUplink(up.FPort, up.Payload, up.Decoded)
	unit := model.Unit(reading, t.SensorProbe)
	res.Model, res.Probe = model.ID, unit.Probe
	if len(reading.Temperatures) > 1 {
		for _, p := range reading.Temperatures {
			res.Probes = append(res.Probes, Probe{Name: p.Probe, TemperatureC: p.C})
		}
	}
	res.Faults = reading.FaultMessages()
	health := &store.SensorHealth{BatteryPercent: reading.BatteryPercent, BatteryVolts: reading.BatteryVolts,
		RSSI: up.Radio.RSSI, SNR: up.Radio.SNR, FCnt: &up.FCnt}
	if t.Unit == nil || reading.Frame == decoders.FrameInfo && len(reading.Faults) == 0 {
		// Nothing to judge: a sensor without a unit keeps its health only, and a frame that
		// measured nothing (a version or configuration report) is a sign of life, not a
		// reading that is missing its values.
		res.Status = "alive"
		if t.Unit == nil {
			res.Status = "no_unit"
		}
		return res, tx.Commit(ctx, store.UplinkWrites{Health: health, UplinkAt: at})
	}
	r := judge.Reading{
		Obs: alerting.Observation{At: at, SensorID: t.SensorID, TemperatureC: unit.TemperatureC, DoorOpen: reading.DoorOpen,
			BatteryVolts: reading.BatteryVolts, BatteryPercent: reading.BatteryPercent, Faults: unit.Faults, ProbeFailed: unit.Failed},
		Model: model, Probe: unit.Probe, Now: h.now(), LowBatteryVolts: t.SensorLowBatteryVolts, LowBatteryPercent: t.SensorLowBatteryPercent,
	}
	v, err := judge.Judge(ctx, *t.Unit, t.OpenAlert, r, tx, h.FrontendURL)
	if err != nil {
		return Result{}, err
	}
	if v.StoredTemperatureC != nil {
		health.TemperatureAt = &at
	}
	w := store.UplinkWrites{
		UplinkAt:  at,
		Health:    health,
		Judgement: v.Writes,
		Reading: &store.ReadingRow{
			TemperatureC: v.StoredTemperatureC, HumidityPct: reading.HumidityPct, BatteryPercent: reading.BatteryPercent,
			BatteryVolts: reading.BatteryVolts, DoorOpen: reading.DoorOpen, RSSI: up.Radio.RSSI, SNR: up.Radio.SNR,
			GatewayCount: up.Radio.GatewayCount, SpreadingFactor: up.Radio.SpreadingFactor, FCnt: up.FCnt, Raw: up.Raw,
		},
	}
	res, err = h.commit(ctx, tx, w, v, res)
	if err == nil && h.Live != nil {
		// Committed: the unit's watchers see the reading and what it did.
		h.Live.Publish(ctx, append(realtime.JudgementEvents(t.OrgID, t.Unit.ID, w.Judgement), realtime.ReadingEvent(t.OrgID, t.Unit.ID, at))...)
	}
	return res, err
}

// status applies a network's device status (the battery of LoRaWAN's DevStatusAns) to the
// sensor's health. It is no reading and is not judged: its time is the uplink's that carried the
// answer, and moving the unit's last reading to it would make that very uplink look late.
func (h *Handler) status(ctx context.Context, tx *store.UplinkTx, ev lorawan.Event, at time.Time, res Result) (Result, error) {
	res.Status = "status"
	health := &store.SensorHealth{}
	if s := ev.Status; s != nil && s.BatteryPercent != nil {
		p := int(math.Round(*s.BatteryPercent))
		health.BatteryPercent = &p
	}
	return res, tx.Commit(ctx, store.UplinkWrites{Health: health, UplinkAt: at})
}

// commit writes the second round trip and sends what it queued.
func (h *Handler) commit(ctx context.Context, tx *store.UplinkTx, w store.UplinkWrites, v judge.Verdict, res Result) (Result, error) {
	if err := tx.Commit(ctx, w); err != nil {
		return Result{}, err
	}
	if h.Dispatch != nil && queuedNotifications(w.Judgement) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		h.Dispatch(dctx)
		cancel()
	}
	d := v.Decision
	if res.Status == "" {
		res.Status = "stored"
	}
	res.UnitStatus, res.Late = string(d.State.Status), d.Late
	res.AlertsOpened, res.AlertsResolved, res.opened, res.resolved = len(d.Opens), len(d.Resolves), d.Opens, d.Resolves
	return res, nil
}

// queuedNotifications reports whether the commit queued anything to send.
func queuedNotifications(w store.Judgement) bool {
	for _, o := range w.Opens {
		if len(o.Notifications) > 0 {
			return true
		}
	}
	return len(w.Resolves) > 0
}
