package domain

import "time"

// Manual temperature log limits.
const (
	// ManualLogMaxNote bounds note and corrective_action (characters).
	ManualLogMaxNote = 2000
	// ManualLogMaxAge: a hand reading older than this is not a log any
	// more, it is a reconstruction; HACCP records are written when taken.
	ManualLogMaxAge = 7 * 24 * time.Hour
	// ManualLogMaxSkew tolerates a phone clock slightly ahead of ours.
	ManualLogMaxSkew = 2 * time.Minute
	// Plausible range of a hand reading (°C): outside it the value is a
	// typo, never an excursion (the alert engine's plausible range).
	ManualLogMinC = -100.0
	ManualLogMaxC = 150.0
)

// ManualLog is one HACCP hand reading. Temperature is in the organisation's
// display unit (TempUnit); TemperatureC is what is stored.
type ManualLog struct {
	ID               string    `json:"id"`
	UnitID           string    `json:"unit_id"`
	TemperatureC     float64   `json:"temperature_c"`
	Temperature      float64   `json:"temperature"`
	TempUnit         TempUnit  `json:"temp_unit"`
	RecordedAt       time.Time `json:"recorded_at"`
	Note             *string   `json:"note"`
	CorrectiveAction *string   `json:"corrective_action"`
	AuthorUserID     *string   `json:"author_user_id"`
	AuthorName       *string   `json:"author_name"`
	CreatedAt        time.Time `json:"created_at"`
}

// ManualLogResult is the answer to a new manual log: the log and what the
// alert engine made of it.
type ManualLogResult struct {
	Log             ManualLog  `json:"log"`
	UnitStatus      UnitStatus `json:"unit_status"`
	UnitStatusSince time.Time  `json:"unit_status_since"`
	// Late: the log is not newer than the unit's newest reading or log, so
	// it was recorded but did not move the unit's state.
	Late           bool     `json:"late"`
	AlertsOpened   []string `json:"alerts_opened"`
	AlertsResolved []string `json:"alerts_resolved"`
}
