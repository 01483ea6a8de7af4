// Package realtime is the live channel of the SPA: an API Gateway WebSocket
// API (and the same protocol on `make dev`'s /ws) over which every member of
// an organisation receives, as they happen, the events its screens react to
// (alarms, escalations, recoveries, units going offline, new readings).
//
// Connections are rows in PostgreSQL (store.RealtimeConnection). A flow that
// changed something publishes after its commit (Publisher): the events go
// to the organisation's matching connections through the gateway's
// management API (PostToConnection, SigV4), bounded in time, never failing
// the flow; a connection the gateway reports gone (410) is deleted.
package realtime

import (
	"encoding/json"
	"time"
)

// Event types, as the SPA's Socket.IO listeners name them.
const (
	AlertTriggered    = "alert:triggered"
	AlertEscalated    = "alert:escalated"
	AlertAcknowledged = "alert:acknowledged"
	AlertResolved     = "alert:resolved"
	UnitStateChanged  = "unit:state:changed"
	ReadingsBatch     = "sensor:readings:batch"
)

// Types is every event type, in the order the docs list them.
var Types = []string{AlertTriggered, AlertEscalated, AlertAcknowledged, AlertResolved, UnitStateChanged, ReadingsBatch}

// Event is one message of the channel: one JSON text frame
// {"type", "organization_id", "at", "data"}.
type Event struct {
	Type  string    `json:"type"`
	OrgID string    `json:"organization_id"`
	At    time.Time `json:"at"`
	Data  any       `json:"data"`
	// UnitID chooses the audience (connections watching the unit or its
	// site); empty: only those watching the whole organisation.
	UnitID string `json:"-"`
}

// Encode is the event's wire form.
func (e Event) Encode() ([]byte, error) { return json.Marshal(e) }

// AlertTriggeredData is alert:triggered: an alert opened.
type AlertTriggeredData struct {
	AlertID            string    `json:"alert_id"`
	UnitID             string    `json:"unit_id"`
	SensorID           string    `json:"sensor_id,omitempty"` // the sensor-scoped types (low_battery, sensor_fault)
	AlertType          string    `json:"alert_type"`
	Severity           string    `json:"severity"`
	Title              string    `json:"title"`
	Message            string    `json:"message"`
	TriggerTemperature *float64  `json:"trigger_temperature"` // °C
	ThresholdViolated  *float64  `json:"threshold_violated"`  // °C: the limit crossed
	TriggeredAt        time.Time `json:"triggered_at"`
}

// AlertEscalatedData is alert:escalated: an escalation step was paged.
type AlertEscalatedData struct {
	AlertID         string `json:"alert_id"`
	UnitID          string `json:"unit_id"`
	EscalationLevel int    `json:"escalation_level"`
}

// AlertAcknowledgedData is alert:acknowledged.
type AlertAcknowledgedData struct {
	AlertID        string    `json:"alert_id"`
	UnitID         string    `json:"unit_id"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"` // user id; empty when acknowledged by a code in a message
}

// AlertResolvedData is alert:resolved (by a reading back in range, by hand,
// or by the sweeper).
type AlertResolvedData struct {
	AlertID    string    `json:"alert_id"`
	UnitID     string    `json:"unit_id"`
	SensorID   string    `json:"sensor_id,omitempty"`
	AlertType  string    `json:"alert_type"`
	ResolvedAt time.Time `json:"resolved_at"`
	Resolution string    `json:"resolution"` // auto, manual
}

// UnitStateChangedData is unit:state:changed: the unit's status moved
// (ok, excursion, alarm_active, restoring, offline, ...).
type UnitStateChangedData struct {
	UnitID        string    `json:"unit_id"`
	PreviousState string    `json:"previous_state"`
	NewState      string    `json:"new_state"`
	Timestamp     time.Time `json:"timestamp"`
	Reason        string    `json:"reason,omitempty"`
}

// Reading is one reading of a batch.
type Reading struct {
	SensorID       string    `json:"sensor_id"`
	RecordedAt     time.Time `json:"recorded_at"`
	TemperatureC   *float64  `json:"temperature_c"`
	HumidityPct    *float64  `json:"humidity,omitempty"`
	BatteryPercent *int      `json:"battery_percent,omitempty"`
	DoorOpen       *bool     `json:"door_open,omitempty"`
}

// ReadingsBatchData is sensor:readings:batch: a unit's readings since its
// previous batch (at most one batch per unit per BatchEvery).
type ReadingsBatchData struct {
	UnitID   string    `json:"unit_id"`
	Readings []Reading `json:"readings"`
	Count    int       `json:"count"`
}

// BatchEvery is the least time between two reading batches of one unit.
const BatchEvery = 5 * time.Second
