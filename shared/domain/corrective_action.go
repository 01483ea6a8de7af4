package domain

import "time"

// Corrective actions: what was done about the food when an alert was
// handled. HACCP asks for one on record whenever a critical limit was
// crossed; the reports show them beside the alert.
const (
	CorrectiveDiscarded         = "discarded"
	CorrectiveMoved             = "moved"
	CorrectiveCoreTempChecked   = "core_temperature_checked"
	CorrectiveEquipmentAdjusted = "equipment_adjusted"
	CorrectiveOther             = "other"
	// MaxCorrectiveActions bounds the actions of one request.
	MaxCorrectiveActions = 10
)

// CorrectiveActionKinds lists every action, in the order forms show them.
var CorrectiveActionKinds = []string{CorrectiveDiscarded, CorrectiveMoved, CorrectiveCoreTempChecked,
	CorrectiveEquipmentAdjusted, CorrectiveOther}

// ValidCorrectiveAction reports whether a is a known action.
func ValidCorrectiveAction(a string) bool {
	for _, k := range CorrectiveActionKinds {
		if a == k {
			return true
		}
	}
	return false
}

// CorrectiveAction is one recorded action. Core temperatures come in °C
// and in the display unit (CoreTemperature, TempUnit).
type CorrectiveAction struct {
	ID               string    `json:"id"`
	AlertID          string    `json:"alert_id"`
	Action           string    `json:"action"`
	CoreTemperatureC *float64  `json:"core_temperature_c"`
	CoreTemperature  *float64  `json:"core_temperature"`
	TempUnit         TempUnit  `json:"temp_unit"`
	MovedToUnitID    *string   `json:"moved_to_unit_id"`
	MovedToUnitName  *string   `json:"moved_to_unit_name"`
	Note             *string   `json:"note"`
	RecordedByUserID *string   `json:"recorded_by_user_id"`
	RecordedBy       *string   `json:"recorded_by"` // display name
	RecordedAt       time.Time `json:"recorded_at"`
}

// SetDisplayUnit fills the display temperature from the °C one.
func (c *CorrectiveAction) SetDisplayUnit(u TempUnit) {
	if !u.Valid() {
		u = Celsius
	}
	c.TempUnit, c.CoreTemperature = u, nil
	if c.CoreTemperatureC != nil {
		v := FromCelsius(*c.CoreTemperatureC, u)
		c.CoreTemperature = &v
	}
}

// Describe is the action in one line, as reports print it (temperatures in
// the display unit set by SetDisplayUnit).
func (c CorrectiveAction) Describe() string {
	var s string
	switch c.Action {
	case CorrectiveDiscarded:
		s = "Food discarded"
	case CorrectiveMoved:
		s = "Food moved"
		if c.MovedToUnitName != nil && *c.MovedToUnitName != "" {
			s += " to " + *c.MovedToUnitName
		}
	case CorrectiveCoreTempChecked:
		s = "Core temperature checked"
		if c.CoreTemperatureC != nil {
			s += ": " + Format(*c.CoreTemperatureC, c.TempUnit)
		}
	case CorrectiveEquipmentAdjusted:
		s = "Equipment adjusted or repaired"
	default:
		s = "Other action"
	}
	if c.Note != nil && *c.Note != "" {
		s += " (" + *c.Note + ")"
	}
	return s
}
