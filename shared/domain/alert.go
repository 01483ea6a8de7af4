package domain

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/apperr"
)

// Alert vocabularies, as the schema's CHECK constraints spell them.
const (
	AlertTempExcursion           = "temp_excursion"
	AlertMonitoringInterrupted   = "monitoring_interrupted"
	AlertMissedManualEntry       = "missed_manual_entry"
	AlertLowBattery              = "low_battery"
	AlertSensorFault             = "sensor_fault"
	AlertDoorOpen                = "door_open"
	AlertSuspectedCoolingFailure = "suspected_cooling_failure"

	AlertActive       = "active"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// AlertTypes, AlertSeverities and AlertStatuses are the closed vocabularies
// of alerts.type, alerts.severity and alerts.status.
var (
	AlertTypes = []string{AlertTempExcursion, AlertMonitoringInterrupted, AlertMissedManualEntry,
		AlertLowBattery, AlertSensorFault, AlertDoorOpen, AlertSuspectedCoolingFailure}
	AlertSeverities = []string{"info", "warning", "critical"}
	AlertStatuses   = []string{AlertActive, AlertAcknowledged, AlertResolved}
)

// AlertNoteMaxLen bounds acknowledge and resolve notes (characters).
const AlertNoteMaxLen = 2000

// Alert is one alert as the api shows it: temperatures in °C and in the
// organisation's display unit.
type Alert struct {
	ID           string   `json:"id"`
	UnitID       string   `json:"unit_id"`
	UnitName     string   `json:"unit_name"`
	SiteID       string   `json:"site_id"`
	SiteName     string   `json:"site_name"`
	AreaID       string   `json:"area_id"`
	AreaName     string   `json:"area_name"`
	SensorID     *string  `json:"sensor_id"`
	Type         string   `json:"type"`
	Severity     string   `json:"severity"`
	Status       string   `json:"status"`
	Title        string   `json:"title"`
	Message      *string  `json:"message"`
	TemperatureC *float64 `json:"temperature_c"`
	LimitC       *float64 `json:"limit_c"`
	// TempUnit is the organisation's display unit; Temperature and Limit
	// are TemperatureC and LimitC in it, so no client converts (the old
	// system mixed °C and °F on screen).
	TempUnit           TempUnit        `json:"temp_unit"`
	Temperature        *float64        `json:"temperature"`
	Limit              *float64        `json:"limit"`
	Details            json.RawMessage `json:"details"`
	TriggeredAt        time.Time       `json:"triggered_at"`
	AcknowledgedAt     *time.Time      `json:"acknowledged_at"`
	AcknowledgedBy     *string         `json:"acknowledged_by"`
	AcknowledgedByName *string         `json:"acknowledged_by_name"`
	AcknowledgedNote   *string         `json:"acknowledged_note"`
	ResolvedAt         *time.Time      `json:"resolved_at"`
	ResolvedBy         *string         `json:"resolved_by"`
	ResolvedByName     *string         `json:"resolved_by_name"`
	ResolvedNote       *string         `json:"resolved_note"`
	Resolution         *string         `json:"resolution"`
	EscalationStep     int             `json:"escalation_step"`
	NextEscalationAt   *time.Time      `json:"next_escalation_at"`
	// AckCode is the "ACK <code>" SMS code; null once resolved (it is only
	// unique among open alerts and may be reused).
	AckCode *string `json:"ack_code"`
	// SilencedUntil: the alert is open but its unit's alarms are silenced
	// (a snooze or maintenance window) until then; null otherwise.
	SilencedUntil *time.Time `json:"silenced_until"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// AlertEvent is one entry of an alert's audit trail.
type AlertEvent struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	ActorUserID *string         `json:"actor_user_id"`
	ActorName   *string         `json:"actor_name"`
	Note        *string         `json:"note"`
	Data        json.RawMessage `json:"data"`
	At          time.Time       `json:"at"`
}

// AlertDetail is an alert with its timeline, oldest event first.
type AlertDetail struct {
	Alert
	Events []AlertEvent `json:"events"`
	// CorrectiveActions are what was done about the food, oldest first.
	CorrectiveActions []CorrectiveAction `json:"corrective_actions"`
}

// UTC puts every time of the alert in UTC, so JSON shows them as ...Z.
func (a *Alert) UTC() {
	a.TriggeredAt, a.CreatedAt, a.UpdatedAt = a.TriggeredAt.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	for _, t := range []*time.Time{a.AcknowledgedAt, a.ResolvedAt, a.NextEscalationAt, a.SilencedUntil} {
		if t != nil {
			*t = t.UTC()
		}
	}
}

// UnitCondition is what is known now about the unit an alert is about.
type UnitCondition struct {
	Status   UnitStatus
	DoorOpen bool
}

// AlertConditionCleared reports whether the unit's current state shows that
// the alert's condition is over. verifiable is false for types whose
// condition the unit state cannot tell (battery, sensor fault, manual
// entries, cooling failure): for those only a person's note can close it.
func AlertConditionCleared(alertType string, u UnitCondition) (cleared, verifiable bool) {
	switch alertType {
	case AlertTempExcursion:
		// restoring is back inside the band: the excursion itself is over.
		return u.Status == UnitOK || u.Status == UnitRestoring, true
	case AlertDoorOpen:
		return !u.DoorOpen, true
	case AlertMonitoringInterrupted:
		return u.Status != UnitOffline && u.Status != UnitMonitoringInterrupted, true
	default:
		return false, false
	}
}

// CheckResolve says whether a person may resolve an alert of alertType with
// this note and these recorded corrective actions given the unit's state:
// the condition must be cleared, or the note or an action must say what was
// done about it (HACCP wants a corrective action on record whenever an
// alert is closed while the problem may persist).
func CheckResolve(alertType string, u UnitCondition, note string, actions int) error {
	if cleared, _ := AlertConditionCleared(alertType, u); cleared {
		return nil
	}
	if strings.TrimSpace(note) != "" || actions > 0 {
		return nil
	}
	return apperr.Validation(apperr.FieldError{Field: "note",
		Message: "a corrective-action note (or a recorded corrective action) is required while the condition persists"})
}

// CheckAlertNote validates an acknowledge or resolve note.
func CheckAlertNote(note string) error {
	if n := len([]rune(note)); n > AlertNoteMaxLen {
		return apperr.Validation(apperr.FieldError{Field: "note", Message: "must be at most 2000 characters"})
	}
	return nil
}

// SetDisplayUnit fills the display fields from the °C ones.
func (a *Alert) SetDisplayUnit(u TempUnit) {
	if !u.Valid() {
		u = Celsius
	}
	a.TempUnit = u
	a.Temperature, a.Limit = nil, nil
	if a.TemperatureC != nil {
		v := FromCelsius(*a.TemperatureC, u)
		a.Temperature = &v
	}
	if a.LimitC != nil {
		v := FromCelsius(*a.LimitC, u)
		a.Limit = &v
	}
}
