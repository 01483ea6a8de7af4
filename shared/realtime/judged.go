package realtime

import (
	"context"
	"log/slog"
	"time"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

// JudgementEvents are the live events of a committed judgement of one
// unit (a sensor reading through a webhook, a hand reading through the
// api, the sweeper's offline checks): the status change first, then the
// alerts it opened and resolved. The alerts' ids are found when published
// (the judgement's writes do not return them).
func JudgementEvents(orgID, unitID string, w store.Judgement) []Event {
	var out []Event
	if c := w.StatusChange; c != nil && c.From != c.To {
		out = append(out, Event{Type: UnitStateChanged, OrgID: orgID, UnitID: unitID, At: c.At,
			Data: UnitStateChangedData{UnitID: unitID, PreviousState: c.From, NewState: c.To, Timestamp: c.At, Reason: reasonOf(w)}})
	}
	for _, o := range w.Opens {
		out = append(out, Event{Type: AlertTriggered, OrgID: orgID, UnitID: unitID, At: o.At,
			Data: AlertTriggeredData{UnitID: unitID, SensorID: o.SensorID, AlertType: o.Type, Severity: o.Severity, Title: o.Title,
				Message: o.Message, TriggerTemperature: o.TemperatureC, ThresholdViolated: o.LimitC, TriggeredAt: o.At}})
	}
	for _, r := range w.Resolves {
		out = append(out, Event{Type: AlertResolved, OrgID: orgID, UnitID: unitID, At: r.At,
			Data: AlertResolvedData{UnitID: unitID, SensorID: r.SensorID, AlertType: r.Type, ResolvedAt: r.At, Resolution: "auto"}})
	}
	return out
}

// reasonOf says why a status moved: the alert that opened or resolved with
// it, when there is one.
func reasonOf(w store.Judgement) string {
	switch {
	case len(w.Opens) > 0:
		return w.Opens[0].Title
	case len(w.Resolves) > 0:
		return w.Resolves[0].Reason
	}
	return ""
}

// ReadingEvent announces that a unit has a new reading; the publisher
// turns it into the unit's batch (at most one per BatchEvery).
func ReadingEvent(orgID, unitID string, at time.Time) Event {
	return Event{Type: ReadingsBatch, OrgID: orgID, UnitID: unitID, At: at, Data: ReadingsBatchData{UnitID: unitID}}
}

// maxBatch bounds one batch (a unit reports every few minutes; a burst of
// backlog is on the chart, not in a toast).
const maxBatch = 100

// complete fills in what a flow could not know before its commit: the ids
// of the alerts a judgement opened or resolved, and a batch's readings. ok
// is false for an event not to send (the unit's batch slot is taken).
func (f *Fanout) complete(ctx context.Context, e Event) (Event, bool, error) {
	var err error
	switch d := e.Data.(type) {
	case AlertTriggeredData:
		d.AlertID, err = f.alertID(ctx, e.OrgID, d.AlertID, d.UnitID, d.AlertType, d.SensorID)
		e.Data = d
		return e, err == nil, err
	case AlertResolvedData:
		d.AlertID, err = f.alertID(ctx, e.OrgID, d.AlertID, d.UnitID, d.AlertType, d.SensorID)
		e.Data = d
		return e, err == nil, err
	case ReadingsBatchData:
		since, ok, err := f.DB.ClaimReadingsBatch(ctx, e.OrgID, d.UnitID, BatchEvery)
		if err != nil || !ok {
			return e, false, err
		}
		rows, err := f.DB.ReadingsStoredSince(ctx, e.OrgID, d.UnitID, since, maxBatch)
		if err != nil {
			return e, false, err
		}
		if len(rows) == 0 {
			slog.DebugContext(ctx, "no readings for a live batch", "unit", d.UnitID)
			return e, false, nil
		}
		d.Readings = make([]Reading, len(rows))
		for i, r := range rows {
			d.Readings[i] = Reading(r)
		}
		d.Count = len(d.Readings)
		e.Data = d
	}
	return e, true, nil
}

// AlertChangeEvent is the event of a person's change to an alert, as the
// store answered it: alert:acknowledged or alert:resolved (the api's
// routes, an ACK texted back). ok is false for an alert in neither state.
func AlertChangeEvent(orgID string, a domain.Alert) (Event, bool) {
	switch {
	case a.ResolvedAt != nil:
		resolution := "manual"
		if a.Resolution != nil {
			resolution = *a.Resolution
		}
		return Event{Type: AlertResolved, OrgID: orgID, UnitID: a.UnitID, At: *a.ResolvedAt,
			Data: AlertResolvedData{AlertID: a.ID, UnitID: a.UnitID, SensorID: deref(a.SensorID), AlertType: a.Type,
				ResolvedAt: *a.ResolvedAt, Resolution: resolution}}, true
	case a.AcknowledgedAt != nil:
		return Event{Type: AlertAcknowledged, OrgID: orgID, UnitID: a.UnitID, At: *a.AcknowledgedAt,
			Data: AlertAcknowledgedData{AlertID: a.ID, UnitID: a.UnitID, AcknowledgedAt: *a.AcknowledgedAt,
				AcknowledgedBy: deref(a.AcknowledgedBy)}}, true
	}
	return Event{}, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// alertID is id, or when a flow could not know it (a judgement's writes do
// not return ids), the unit's newest alert of the type.
func (f *Fanout) alertID(ctx context.Context, orgID, id, unitID, alertType, sensorID string) (string, error) {
	if id != "" {
		return id, nil
	}
	return f.DB.LatestAlertID(ctx, orgID, unitID, alertType, sensorID)
}

// PublishAlertChange publishes a person's acknowledgement or resolution of
// a (the alert as the store answered it) after its commit: the api's routes
// and an ACK texted back take this one path.
func PublishAlertChange(ctx context.Context, p Publisher, orgID string, a domain.Alert) {
	if e, ok := AlertChangeEvent(orgID, a); ok {
		Or(p).Publish(ctx, e)
	}
}
