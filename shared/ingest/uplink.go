package ingest

import (
	"context"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/judge"
	"github.com/frostguard/functions/shared/lorawan/ttn"
	"github.com/frostguard/functions/shared/store"
)

// uplink stores one reading and applies the alert engine's decision, judged
// by the one path every reading takes (shared/judge).
func (h *Handler) uplink(ctx context.Context, tx *store.UplinkTx, t store.UplinkTarget, msg ttn.Message, at time.Time) (Result, error) {
	if t.SensorID == "" {
		// Not registered in this organisation: offer it for claiming.
		return Result{Status: "unclaimed", Kind: string(msg.Kind)}, tx.Commit(ctx, store.UplinkWrites{Unclaimed: deviceName(msg), UplinkAt: at})
	}
	up := msg.Uplink
	reading := ttn.Decode(up, ttn.DecoderFor(t.SensorDecoder, t.SensorModel))
	health := &store.SensorHealth{BatteryPercent: reading.BatteryPercent, BatteryVolts: reading.BatteryVolts, RSSI: up.RSSI, SNR: up.SNR, FCnt: up.FCnt}
	if t.Unit == nil {
		return Result{Status: "no_unit", Kind: string(msg.Kind), Faults: reading.Faults},
			tx.Commit(ctx, store.UplinkWrites{Health: health, UplinkAt: at})
	}
	v, err := judge.Judge(ctx, *t.Unit, t.OpenAlert, judge.Reading{
		Obs: alerting.Observation{At: at, SensorID: t.SensorID, TemperatureC: reading.TemperatureC, DoorOpen: reading.DoorOpen,
			BatteryVolts: reading.BatteryVolts, BatteryPercent: reading.BatteryPercent, Faults: reading.Faults},
		SensorModel: t.SensorModel, SensorDecoder: t.SensorDecoder, Now: h.now(),
		LowBatteryVolts: t.SensorLowBatteryVolts, LowBatteryPercent: t.SensorLowBatteryPercent,
	}, tx, h.FrontendURL)
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
			BatteryVolts: reading.BatteryVolts, DoorOpen: reading.DoorOpen, RSSI: up.RSSI, SNR: up.SNR,
			GatewayCount: up.GatewayCount, SpreadingFactor: up.SpreadingFactor, FCnt: up.FCnt, Raw: up.Raw,
		},
	}
	if err := tx.Commit(ctx, w); err != nil {
		return Result{}, err
	}
	if h.Dispatch != nil && queuedNotifications(w.Judgement) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		h.Dispatch(dctx)
		cancel()
	}
	d := v.Decision
	return Result{Status: "stored", Kind: string(msg.Kind), UnitStatus: string(d.State.Status), Late: d.Late,
		AlertsOpened: len(d.Opens), AlertsResolved: len(d.Resolves), Faults: reading.Faults, opened: d.Opens, resolved: d.Resolves}, nil
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
