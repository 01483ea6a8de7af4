// Package report builds the HACCP compliance report: per unit and per local
// day, temperature statistics, time in range, excursions, monitoring gaps,
// alerts with their acknowledgement and resolution, and manual logs; and
// renders it as JSON (the structs), CSV and PDF. It is pure: the caller
// loads the rows and hands them over; nothing here touches a database.
package report

import (
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// Unit is a unit to report on, with what the computation needs.
type Unit struct {
	ID       string
	Name     string
	SiteID   string
	SiteName string
	AreaName string
	// TimeZone is the IANA zone days are counted in: the site's, else the
	// organisation's.
	TimeZone string
	TempMinC float64
	TempMaxC float64
	// CheckinInterval is how often the unit reports; a reading holds for at
	// most twice this, and a longer silence is a monitoring gap.
	CheckinInterval time.Duration
	// ManualLogInterval is how often a person must log a reading by hand
	// (0: not required).
	ManualLogInterval time.Duration
}

// Reading is one temperature reading of a unit.
type Reading struct {
	At    time.Time
	TempC float64
}

// Alert is an alert of a unit as loaded (names are display names).
type Alert struct {
	ID               string     `json:"id"`
	UnitID           string     `json:"-"`
	Type             string     `json:"type"`
	Severity         string     `json:"severity"`
	Status           string     `json:"status"`
	Title            string     `json:"title"`
	TriggeredAt      time.Time  `json:"triggered_at"`
	TemperatureC     *float64   `json:"temperature_c"`
	Temperature      *float64   `json:"temperature"`
	AcknowledgedAt   *time.Time `json:"acknowledged_at"`
	AcknowledgedBy   *string    `json:"acknowledged_by"`
	AcknowledgedNote *string    `json:"acknowledged_note"`
	ResolvedAt       *time.Time `json:"resolved_at"`
	ResolvedBy       *string    `json:"resolved_by"`
	ResolvedNote     *string    `json:"resolved_note"`
	Resolution       *string    `json:"resolution"`
	// CorrectiveActions are what was done about the food, oldest first.
	CorrectiveActions []domain.CorrectiveAction `json:"corrective_actions"`
}

// ManualLog is a hand reading of a unit (By is the display name).
type ManualLog struct {
	ID               string    `json:"id"`
	UnitID           string    `json:"-"`
	RecordedAt       time.Time `json:"recorded_at"`
	TemperatureC     float64   `json:"temperature_c"`
	Temperature      float64   `json:"temperature"`
	By               *string   `json:"by"`
	Notes            *string   `json:"notes"`
	CorrectiveAction *string   `json:"corrective_action"`
}

// Report is the whole report. Times are UTC instants; each unit names the
// timezone its days are counted in. Temperatures come as `_c` (°C) and in
// TempUnit, the organisation's display unit (fields without suffix).
type Report struct {
	Organization Organization    `json:"organization"`
	TempUnit     domain.TempUnit `json:"temp_unit"`
	From         time.Time       `json:"from"`
	To           time.Time       `json:"to"`
	GeneratedAt  time.Time       `json:"generated_at"`
	Units        []UnitReport    `json:"units"`
}

// Organization names the report's organisation.
type Organization struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TimeZone string `json:"timezone"`
}

// UnitInfo describes a reported unit.
type UnitInfo struct {
	ID                     string  `json:"id"`
	Name                   string  `json:"name"`
	SiteID                 string  `json:"site_id"`
	SiteName               string  `json:"site_name"`
	AreaName               string  `json:"area_name"`
	TimeZone               string  `json:"timezone"`
	TempMinC               float64 `json:"temp_min_c"`
	TempMaxC               float64 `json:"temp_max_c"`
	TempMin                float64 `json:"temp_min"`
	TempMax                float64 `json:"temp_max"`
	CheckinIntervalSeconds int64   `json:"checkin_interval_seconds"`
	// ManualLogIntervalSeconds is null when hand logs are not required.
	ManualLogIntervalSeconds *int64 `json:"manual_log_interval_seconds"`
}

// UnitReport is one unit: its range (the requested one in its timezone,
// ending no later than the report's generation), a summary and its days.
type UnitReport struct {
	Unit    UnitInfo  `json:"unit"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Summary Stats     `json:"summary"`
	Days    []Day     `json:"days"`
}

// Stats are the figures of a day or of a whole range.
//
// Time in range is time-weighted: a reading holds until the next one, for
// at most twice the check-in interval; time no reading holds is no data,
// which is not in range. DurationSeconds = in range + out of range + no
// data. An excursion is a stretch of uninterrupted out-of-range holding
// (it starts at the first reading out of [min, max] and ends at the next
// reading back in range, or when the data stops); a day counts the
// excursions and gaps that start in it, and the seconds of excursion
// (= out of range) and gap that fall in it. A gap is a silence longer than
// twice the check-in interval, from the last reading to the next one.
type Stats struct {
	Readings          int      `json:"readings"`
	MinC              *float64 `json:"min_c"`
	MaxC              *float64 `json:"max_c"`
	AvgC              *float64 `json:"avg_c"`
	Min               *float64 `json:"min"`
	Max               *float64 `json:"max"`
	Avg               *float64 `json:"avg"`
	DurationSeconds   int64    `json:"duration_seconds"`
	InRangeSeconds    int64    `json:"in_range_seconds"`
	OutOfRangeSeconds int64    `json:"out_of_range_seconds"`
	NoDataSeconds     int64    `json:"no_data_seconds"`
	// InRangePercent is null for an empty duration.
	InRangePercent   *float64 `json:"in_range_percent"`
	ExcursionCount   int      `json:"excursion_count"`
	ExcursionSeconds int64    `json:"excursion_seconds"`
	GapCount         int      `json:"gap_count"`
	GapSeconds       int64    `json:"gap_seconds"`
	AlertCount       int      `json:"alert_count"`
	ManualLogCount   int      `json:"manual_log_count"`
}

// Day is one local calendar day of a unit (clipped to the range).
type Day struct {
	Date  string    `json:"date"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Stats
	Excursions []Excursion `json:"excursions"`
	Gaps       []Gap       `json:"gaps"`
	Alerts     []Alert     `json:"alerts"`
	ManualLogs []ManualLog `json:"manual_logs"`
	// halves are the day's morning and afternoon, for the daily log's
	// checks (not part of the HACCP report's JSON).
	halves [2]half
}

// Excursion is a stretch out of range, listed on the day it starts, with
// its whole duration (clipped to the range).
type Excursion struct {
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds int64     `json:"duration_seconds"`
	// Direction is "above" or "below" the range (of the peak reading).
	Direction string  `json:"direction"`
	PeakC     float64 `json:"peak_c"`
	Peak      float64 `json:"peak"`
}

// Gap is a monitoring gap, listed on the day it starts.
type Gap struct {
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds int64     `json:"duration_seconds"`
}
