package ingest

import (
	"context"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/ttn"
)

// uplink stores one reading and applies the alert engine's decision.
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
	u := t.Unit
	d := alerting.Evaluate(alertingConfig(u), alertingState(u), openAlerts(t.OpenAlert), alerting.Observation{
		At: at, SensorID: t.SensorID, TemperatureC: reading.TemperatureC, DoorOpen: reading.DoorOpen,
		BatteryVolts: reading.BatteryVolts, BatteryPercent: reading.BatteryPercent, Faults: reading.Faults,
	})
	w := store.UplinkWrites{
		UplinkAt: at,
		Health:   health,
		Reading: &store.ReadingRow{
			TemperatureC: reading.TemperatureC, HumidityPct: reading.HumidityPct, BatteryPercent: reading.BatteryPercent,
			BatteryVolts: reading.BatteryVolts, DoorOpen: reading.DoorOpen, RSSI: up.RSSI, SNR: up.SNR,
			GatewayCount: up.GatewayCount, SpreadingFactor: up.SpreadingFactor, FCnt: up.FCnt, Raw: up.Raw,
		},
	}
	if !d.Late {
		s := d.State
		w.UnitState = &store.UnitStateRow{
			Status: string(s.Status), StatusSince: s.StatusSince, InBandCount: s.InBandCount,
			LastReadingAt: s.LastReadingAt, LastTempC: reading.TemperatureC, DoorOpen: s.DoorOpen, DoorChangedAt: timePtr(s.DoorChangedAt),
		}
		if d.DoorTransition != nil {
			open := d.DoorTransition.Open
			w.DoorChange = &open
		}
		if s.Status != domain.UnitStatus(u.Status) {
			w.StatusChange = &store.StatusChangeRow{From: u.Status, To: string(s.Status), At: at, TemperatureC: reading.TemperatureC}
		}
	}
	for _, e := range d.Events {
		// Opening and resolving are recorded with the alert row itself.
		if e.Kind == alerting.KindTriggered || e.Kind == alerting.KindResolved {
			continue
		}
		w.Events = append(w.Events, store.AlertEventRow{AlertType: e.AlertType, Kind: e.Kind, Note: e.Note, At: e.At, Data: e.Data})
	}
	var msgIn alerting.MessageInput
	if len(d.Opens)+len(d.Resolves) > 0 {
		msgIn = alerting.NewMessageInput(u.SiteName, u.Name, u.TimeZone, domain.TempUnit(u.TempUnit), h.FrontendURL) // time zone loading is off the no-change path
	}
	for _, o := range d.Opens {
		row, err := h.openRow(ctx, tx, o, msgIn)
		if err != nil {
			return Result{}, err
		}
		w.Opens = append(w.Opens, row)
	}
	for _, r := range d.Resolves {
		in := msgIn
		in.AlertType, in.At, in.TemperatureC = r.Type, r.At, reading.TemperatureC
		sms, subject, email := alerting.ResolvedText(in)
		w.Resolves = append(w.Resolves, store.AlertResolveRow{Type: r.Type, SensorID: r.SensorID, At: r.At, Reason: r.Reason,
			SMSBody: sms, EmailSubject: subject, EmailBody: email})
	}
	if err := tx.Commit(ctx, w); err != nil {
		return Result{}, err
	}
	if h.Dispatch != nil && queuedNotifications(w) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		h.Dispatch(dctx)
		cancel()
	}
	return Result{Status: "stored", Kind: string(msg.Kind), UnitStatus: string(d.State.Status), Late: d.Late,
		AlertsOpened: len(d.Opens), AlertsResolved: len(d.Resolves), Faults: reading.Faults, opened: d.Opens, resolved: d.Resolves}, nil
}

// openRow renders an alert and its first escalation step into outbox rows.
func (h *Handler) openRow(ctx context.Context, tx *store.UplinkTx, o alerting.OpenAlert, in alerting.MessageInput) (store.AlertOpenRow, error) {
	row := store.AlertOpenRow{Type: o.Type, Severity: o.Severity, Title: o.Title, Message: o.Message, SensorID: o.SensorID,
		TemperatureC: o.TemperatureC, LimitC: o.LimitC, At: o.At, AckCode: store.NewAckCode()}
	plan, err := tx.NotificationPlan(ctx, o.Type)
	if err != nil {
		return row, err
	}
	if !plan.Found || len(plan.Steps) == 0 {
		row.EventNote = "no notification policy applies: nobody is paged"
		return row, nil
	}
	in.AlertType, in.Severity, in.TemperatureC, in.LimitC, in.At, in.AckCode = o.Type, o.Severity, o.TemperatureC, o.LimitC, o.At, row.AckCode
	sms, subject, email := alerting.AlarmText(in)
	first := plan.Steps[0]
	if first.AfterMinutes > 0 {
		// The first step is delayed: the sweeper sends it when due.
		next := o.At.Add(time.Duration(first.AfterMinutes) * time.Minute)
		row.NextEscalationAt = &next
		return row, nil
	}
	if len(plan.Steps) > 1 {
		next := o.At.Add(time.Duration(plan.Steps[1].AfterMinutes) * time.Minute)
		row.NextEscalationAt = &next
	}
	row.StepsSent = 1
	for _, id := range first.ContactIDs {
		c, ok := plan.Contacts[id]
		if !ok {
			continue // deactivated since the policy was written
		}
		for _, ch := range first.Channels {
			switch {
			case ch == "sms" && c.Phone != "":
				row.Notifications = append(row.Notifications, store.OutboxRow{ContactID: c.ID, Recipient: c.Phone, Channel: "sms", Body: sms})
			case ch == "email" && c.Email != "":
				row.Notifications = append(row.Notifications, store.OutboxRow{ContactID: c.ID, Recipient: strings.ToLower(c.Email), Channel: "email", Subject: subject, Body: email})
			}
		}
	}
	return row, nil
}

func alertingConfig(u *store.UnitAlerting) alerting.Config {
	return alerting.Config{MinC: u.MinC, MaxC: u.MaxC, HysteresisC: u.HysteresisC,
		ConfirmSeconds: u.ConfirmSeconds, DoorConfirmSeconds: u.DoorConfirmSeconds}
}

func alertingState(u *store.UnitAlerting) alerting.State {
	s := alerting.State{Status: domain.UnitStatus(u.Status), StatusSince: u.StatusSince, InBandCount: u.InBandCount, DoorOpen: u.DoorOpen}
	if u.LastReadingAt != nil {
		s.LastReadingAt = *u.LastReadingAt
	}
	if u.DoorChangedAt != nil {
		s.DoorChangedAt = *u.DoorChangedAt
	}
	return s
}

func openAlerts(refs []store.OpenAlertRef) alerting.Open {
	o := alerting.Open{Unit: map[string]bool{}, Sensor: map[string]map[string]bool{}}
	for _, r := range refs {
		if r.SensorID == "" {
			o.Unit[r.Type] = true
			continue
		}
		if o.Sensor[r.SensorID] == nil {
			o.Sensor[r.SensorID] = map[string]bool{}
		}
		o.Sensor[r.SensorID][r.Type] = true
	}
	return o
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// queuedNotifications reports whether the commit queued anything to send.
func queuedNotifications(w store.UplinkWrites) bool {
	for _, o := range w.Opens {
		if len(o.Notifications) > 0 {
			return true
		}
	}
	return len(w.Resolves) > 0
}
