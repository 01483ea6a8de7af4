package domain

import "time"

// The states the SPA's dashboard shows a unit in, coarser than the alert
// machine's statuses.
const (
	StateNormal   = "normal"
	StateWarning  = "warning"
	StateOffline  = "offline"
	StateCritical = "critical"
)

// UnitStates lists them, best first.
var UnitStates = []string{StateNormal, StateWarning, StateOffline, StateCritical}

// StateOf maps a unit status to its dashboard state: an alarm is critical,
// a unit out of range (or logged by hand too late) a warning, a unit whose
// readings stopped offline.
func StateOf(s UnitStatus) string {
	switch s {
	case UnitOK:
		return StateNormal
	case UnitExcursion, UnitRestoring, UnitManualRequired:
		return StateWarning
	case UnitOffline, UnitMonitoringInterrupted:
		return StateOffline
	default: // alarm_active, and anything newer: show it, loudly
		return StateCritical
	}
}

// StateRank orders states from best (0) to worst.
func StateRank(state string) int {
	for i, s := range UnitStates {
		if s == state {
			return i
		}
	}
	return len(UnitStates)
}

// WorseState is the worse of two states ("" counts as nothing).
func WorseState(a, b string) string {
	if a == "" || (b != "" && StateRank(b) > StateRank(a)) {
		return b
	}
	return a
}

// OrganizationStats is the organisation at a glance (GET .../stats).
type OrganizationStats struct {
	Units       UnitStats       `json:"units"`
	WorstState  string          `json:"worst_state"` // "" when there is no unit
	Sites       []SiteStats     `json:"sites"`
	Alerts      AlertStats      `json:"alerts"`
	Sensors     SensorStats     `json:"sensors"`
	Compliance  ComplianceStats `json:"compliance"`
	SiteCount   int             `json:"site_count"`
	MemberCount int             `json:"member_count"`
	GeneratedAt time.Time       `json:"generated_at"`
}

// UnitStats counts the live units by status and by dashboard state.
type UnitStats struct {
	Total    int                `json:"total"`
	ByStatus map[UnitStatus]int `json:"by_status"`
	ByState  map[string]int     `json:"by_state"`
}

// SiteStats is one live site: its units, open alerts and worst unit.
type SiteStats struct {
	SiteID         string `json:"site_id"`
	SiteName       string `json:"site_name"`
	UnitCount      int    `json:"unit_count"`
	OpenAlertCount int    `json:"open_alert_count"`
	WorstState     string `json:"worst_state"` // "" for a site without units
}

// AlertStats counts the open alerts of live units.
type AlertStats struct {
	Open           int            `json:"open"`
	OpenBySeverity map[string]int `json:"open_by_severity"`
	OpenByStatus   map[string]int `json:"open_by_status"` // active, acknowledged
}

// SensorStats counts the registered sensors, those installed in a live unit
// that stopped reporting (no uplink for twice the unit's check-in interval,
// or never), and those with an open low-battery alert.
type SensorStats struct {
	Total      int `json:"total"`
	Offline    int `json:"offline"`
	LowBattery int `json:"low_battery"`
}

// ComplianceStats is the time in range of the units that have a sensor,
// over the last 24 hours and 7 days: the HACCP report's computation.
type ComplianceStats struct {
	Last24h    ComplianceWindow `json:"last_24h"`
	Last7d     ComplianceWindow `json:"last_7d"`
	ComputedAt time.Time        `json:"computed_at"`
}

// ComplianceWindow sums the units' time in range over one window: time no
// reading holds (a sensor silent for longer than twice its check-in
// interval) counts as not in range, as in the report.
type ComplianceWindow struct {
	Units           int      `json:"units"`
	DurationSeconds int64    `json:"duration_seconds"`
	InRangeSeconds  int64    `json:"in_range_seconds"`
	InRangePercent  *float64 `json:"in_range_percent"` // null without duration
}
