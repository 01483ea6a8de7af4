package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/apperr"
)

// Site is a physical location of an organisation (a restaurant, a store).
type Site struct {
	ID             string     `json:"id"`
	OrganizationID string     `json:"organization_id"`
	Name           string     `json:"name"`
	AddressLine1   *string    `json:"address_line1"`
	AddressLine2   *string    `json:"address_line2"`
	City           *string    `json:"city"`
	Region         *string    `json:"region"`
	PostalCode     *string    `json:"postal_code"`
	Country        *string    `json:"country"`
	Timezone       *string    `json:"timezone"` // nil: the organisation's
	Latitude       *float64   `json:"latitude"`
	Longitude      *float64   `json:"longitude"`
	AreaCount      int        `json:"area_count"`       // live areas
	UnitCount      int        `json:"unit_count"`       // live units
	OpenAlertCount int        `json:"open_alert_count"` // open alerts of its live units
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	DeletedAt      *time.Time `json:"deleted_at,omitempty"`
}

// Area is a part of a site (a kitchen, a back room) grouping units.
type Area struct {
	ID             string     `json:"id"`
	OrganizationID string     `json:"organization_id"`
	SiteID         string     `json:"site_id"`
	Name           string     `json:"name"`
	Description    *string    `json:"description"`
	SortOrder      int        `json:"sort_order"`
	UnitCount      int        `json:"unit_count"` // live units
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	DeletedAt      *time.Time `json:"deleted_at,omitempty"`
}

// UnitType is the kind of monitored appliance; it picks default thresholds.
type UnitType string

const (
	Fridge        UnitType = "fridge"
	Freezer       UnitType = "freezer"
	DisplayCase   UnitType = "display_case"
	WalkInCooler  UnitType = "walk_in_cooler"
	WalkInFreezer UnitType = "walk_in_freezer"
	BlastChiller  UnitType = "blast_chiller"
	// UltraLowFreezer: -80 °C storage (vaccines, pharma, labs).
	UltraLowFreezer UnitType = "ultra_low_freezer"
	OtherUnitType   UnitType = "other"
)

// UnitTypes lists every unit type.
var UnitTypes = []UnitType{Fridge, Freezer, DisplayCase, WalkInCooler, WalkInFreezer, BlastChiller, UltraLowFreezer, OtherUnitType}

// Valid reports whether t is a known unit type.
func (t UnitType) Valid() bool {
	for _, v := range UnitTypes {
		if v == t {
			return true
		}
	}
	return false
}

// UnitStatus is the alert state machine's state of a unit.
type UnitStatus string

const (
	UnitOK                    UnitStatus = "ok"
	UnitExcursion             UnitStatus = "excursion"
	UnitAlarmActive           UnitStatus = "alarm_active"
	UnitRestoring             UnitStatus = "restoring"
	UnitOffline               UnitStatus = "offline"
	UnitMonitoringInterrupted UnitStatus = "monitoring_interrupted"
	UnitManualRequired        UnitStatus = "manual_required"
)

// UnitStatuses lists every unit status.
var UnitStatuses = []UnitStatus{UnitOK, UnitExcursion, UnitAlarmActive, UnitRestoring, UnitOffline,
	UnitMonitoringInterrupted, UnitManualRequired}

// UnitConfig is a unit's alerting configuration, in °C and seconds.
type UnitConfig struct {
	TempMinC                 float64 `json:"temp_min_c"`
	TempMaxC                 float64 `json:"temp_max_c"`
	HysteresisC              float64 `json:"hysteresis_c"`
	ConfirmSeconds           int     `json:"confirm_seconds"`
	DoorConfirmSeconds       int     `json:"door_confirm_seconds"`
	CheckinIntervalSeconds   int     `json:"checkin_interval_seconds"`
	ManualLogIntervalSeconds *int    `json:"manual_log_interval_seconds"` // nil: no manual logging
	// Door open too long: warning, then critical, after these minutes from
	// the real open transition.
	DoorWarnMinutes     int `json:"door_warn_minutes"`
	DoorCriticalMinutes int `json:"door_critical_minutes"`
	// OfflineMultiplier is how many check-in intervals a unit may miss
	// before it is offline (a warning); monitoring is interrupted (critical)
	// at CriticalMissedCheckins missed, or at this many when more.
	OfflineMultiplier int `json:"offline_multiplier"`
	// Suspected cooling failure: a steady rise of at least this many °C an
	// hour over the last CoolingReadings readings while in range (0: off).
	CoolingSlopeCPerHour float64 `json:"cooling_slope_c_per_hour"`
	CoolingReadings      int     `json:"cooling_readings"`
	// DefrostSchedule is the unit's recurring daily defrost windows, in its
	// site's local time: a warm excursion shorter than the window does not
	// page.
	DefrostSchedule []DefrostWindow `json:"defrost_schedule"`
}

// DefrostWindow is one daily defrost of a unit: it starts StartMinute
// minutes after local midnight and lasts DurationMinutes (it may run past
// midnight).
type DefrostWindow struct {
	StartMinute     int `json:"start_minute"`
	DurationMinutes int `json:"duration_minutes"`
}

// UnmarshalJSON reads a window strictly: both fields required, no other
// (a misspelt "start" must not become a window at midnight).
func (w *DefrostWindow) UnmarshalJSON(b []byte) error {
	var in struct {
		StartMinute     *int `json:"start_minute"`
		DurationMinutes *int `json:"duration_minutes"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("a defrost window is {\"start_minute\", \"duration_minutes\"}: %w", err)
	}
	if in.StartMinute == nil || in.DurationMinutes == nil {
		return errors.New("a defrost window needs start_minute and duration_minutes")
	}
	w.StartMinute, w.DurationMinutes = *in.StartMinute, *in.DurationMinutes
	return nil
}

// Limits of a defrost schedule.
const (
	MaxDefrostWindows = 12
	MinDefrostMinutes = 5
	MaxDefrostMinutes = 120
	minutesPerDay     = 24 * 60
)

// CheckDefrostSchedule validates a schedule: at most MaxDefrostWindows
// windows, each starting within the day and lasting MinDefrostMinutes to
// MaxDefrostMinutes, none overlapping another (across midnight too). It
// returns what is wrong (nil when valid).
func CheckDefrostSchedule(ws []DefrostWindow) []string {
	var bad []string
	if len(ws) > MaxDefrostWindows {
		bad = append(bad, fmt.Sprintf("at most %d windows a day", MaxDefrostWindows))
	}
	for i, w := range ws {
		if w.StartMinute < 0 || w.StartMinute >= minutesPerDay {
			bad = append(bad, fmt.Sprintf("window %d: start_minute must be between 0 and %d", i, minutesPerDay-1))
		}
		if w.DurationMinutes < MinDefrostMinutes || w.DurationMinutes > MaxDefrostMinutes {
			bad = append(bad, fmt.Sprintf("window %d: duration_minutes must be between %d and %d", i, MinDefrostMinutes, MaxDefrostMinutes))
		}
	}
	if len(bad) > 0 {
		return bad
	}
	for i, a := range ws {
		for j, b := range ws {
			if i < j && defrostOverlap(a, b) {
				bad = append(bad, fmt.Sprintf("windows %d and %d overlap", i, j))
			}
		}
	}
	return bad
}

// defrostOverlap reports whether two daily windows share a minute (on a
// 24-hour circle).
func defrostOverlap(a, b DefrostWindow) bool {
	for _, shift := range []int{-minutesPerDay, 0, minutesPerDay} {
		bs := b.StartMinute + shift
		if a.StartMinute < bs+b.DurationMinutes && bs < a.StartMinute+a.DurationMinutes {
			return true
		}
	}
	return false
}

// DefaultUnitConfig is the configuration a new unit of type t starts with.
func DefaultUnitConfig(t UnitType) UnitConfig {
	c := UnitConfig{TempMinC: 0, TempMaxC: 5, HysteresisC: 0.5, ConfirmSeconds: 600,
		DoorConfirmSeconds: 1200, CheckinIntervalSeconds: 300, DoorWarnMinutes: 5, DoorCriticalMinutes: 15, OfflineMultiplier: 1,
		CoolingSlopeCPerHour: 1.5, CoolingReadings: 15, DefrostSchedule: []DefrostWindow{}}
	switch t {
	case Freezer, WalkInFreezer:
		c.TempMinC, c.TempMaxC = -30, -15
	case BlastChiller:
		c.TempMinC, c.TempMaxC = -40, 3
	case UltraLowFreezer:
		c.TempMinC, c.TempMaxC = -90, -60
	}
	return c
}

// Limits of a unit's configuration. They are checked here, with field-level
// messages, before the database's own CHECKs could answer a bare 500.
const (
	MinThresholdC        = -100
	MaxThresholdC        = 100
	MaxConfirmSeconds    = 86400
	MinCheckinSeconds    = 30
	MaxCheckinSeconds    = 86400
	MinManualLogSeconds  = 300
	MaxManualLogSeconds  = 604800
	MaxDoorMinutes       = 1440
	MaxOfflineMultiplier = 24
	MinCoolingSlope      = 0.2
	MaxCoolingSlope      = 50.0
	MinCoolingReadings   = 4
	MaxCoolingReadings   = 30
)

// Check validates c as a whole (after a patch is merged into the stored
// configuration) and names the offending fields by their °C names.
func (c UnitConfig) Check() []apperr.FieldError {
	var errs []apperr.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, apperr.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	rangeOK := true
	if c.TempMinC < MinThresholdC || c.TempMinC > MaxThresholdC {
		add("temp_min_c", "must be between %d and %d °C", MinThresholdC, MaxThresholdC)
		rangeOK = false
	}
	if c.TempMaxC < MinThresholdC || c.TempMaxC > MaxThresholdC {
		add("temp_max_c", "must be between %d and %d °C", MinThresholdC, MaxThresholdC)
		rangeOK = false
	}
	if rangeOK && c.TempMinC >= c.TempMaxC {
		add("temp_min_c", "must be below temp_max_c (%.2f °C)", c.TempMaxC)
		rangeOK = false
	}
	switch {
	case c.HysteresisC < 0:
		add("hysteresis_c", "must be 0 or more")
	case rangeOK && c.TempMaxC-c.TempMinC <= 2*c.HysteresisC:
		add("hysteresis_c", "must be less than half of the range temp_max_c - temp_min_c (%.2f °C)", c.TempMaxC-c.TempMinC)
	}
	if c.ConfirmSeconds < 0 || c.ConfirmSeconds > MaxConfirmSeconds {
		add("confirm_seconds", "must be between 0 and %d", MaxConfirmSeconds)
	}
	if c.DoorConfirmSeconds < 0 || c.DoorConfirmSeconds > MaxConfirmSeconds {
		add("door_confirm_seconds", "must be between 0 and %d", MaxConfirmSeconds)
	}
	if c.CheckinIntervalSeconds < MinCheckinSeconds || c.CheckinIntervalSeconds > MaxCheckinSeconds {
		add("checkin_interval_seconds", "must be between %d and %d", MinCheckinSeconds, MaxCheckinSeconds)
	}
	if v := c.ManualLogIntervalSeconds; v != nil && (*v < MinManualLogSeconds || *v > MaxManualLogSeconds) {
		add("manual_log_interval_seconds", "must be between %d and %d, or null", MinManualLogSeconds, MaxManualLogSeconds)
	}
	switch {
	case c.DoorWarnMinutes < 1 || c.DoorWarnMinutes > MaxDoorMinutes:
		add("door_warn_minutes", "must be between 1 and %d", MaxDoorMinutes)
	case c.DoorCriticalMinutes <= c.DoorWarnMinutes || c.DoorCriticalMinutes > MaxDoorMinutes:
		add("door_critical_minutes", "must be above door_warn_minutes (%d) and at most %d", c.DoorWarnMinutes, MaxDoorMinutes)
	}
	if c.OfflineMultiplier < 1 || c.OfflineMultiplier > MaxOfflineMultiplier {
		add("offline_multiplier", "must be between 1 and %d", MaxOfflineMultiplier)
	}
	if s := c.CoolingSlopeCPerHour; s != 0 && !(s >= MinCoolingSlope && s <= MaxCoolingSlope) {
		add("cooling_slope_c_per_hour", "must be 0 (off) or between %g and %g", MinCoolingSlope, MaxCoolingSlope)
	}
	if c.CoolingReadings < MinCoolingReadings || c.CoolingReadings > MaxCoolingReadings {
		add("cooling_readings", "must be between %d and %d", MinCoolingReadings, MaxCoolingReadings)
	}
	for _, msg := range CheckDefrostSchedule(c.DefrostSchedule) {
		add("defrost_schedule", "%s", msg)
	}
	return errs
}

// Unit is a monitored fridge, freezer or room: its place in the hierarchy,
// its configuration and the alert machine's persisted state.
type Unit struct {
	ID             string   `json:"id"`
	OrganizationID string   `json:"organization_id"`
	SiteID         string   `json:"site_id"`
	AreaID         string   `json:"area_id"`
	SiteName       string   `json:"site_name"`
	AreaName       string   `json:"area_name"`
	Name           string   `json:"name"`
	Description    *string  `json:"description"`
	Type           UnitType `json:"type"`
	SortOrder      int      `json:"sort_order"`
	UnitConfig
	Status        UnitStatus `json:"status"`
	StatusSince   time.Time  `json:"status_since"`
	LastReadingAt *time.Time `json:"last_reading_at"`
	LastTempC     *float64   `json:"last_temp_c"`
	// LastTemperatureAt is when the unit's temperature was last measured
	// (its check-ins); LastReadingAt includes door and battery uplinks.
	LastTemperatureAt *time.Time `json:"last_temperature_at"`
	DoorOpen          bool       `json:"door_open"`
	DoorChangedAt     *time.Time `json:"door_changed_at"`
	LastManualLogAt   *time.Time `json:"last_manual_log_at"`
	// SilencedUntil and SilenceReason: the unit's alarms are silenced (a
	// snooze or maintenance window) until then, why; null otherwise.
	SilencedUntil *time.Time  `json:"silenced_until"`
	SilenceReason *string     `json:"silence_reason"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	DeletedAt     *time.Time  `json:"deleted_at,omitempty"`
	Display       UnitDisplay `json:"display"`
}

// UnitDisplay is a unit's temperatures in the organisation's preferred unit,
// so the UI shows them without converting.
type UnitDisplay struct {
	TempUnit   TempUnit `json:"temp_unit"`
	TempMin    float64  `json:"temp_min"`
	TempMax    float64  `json:"temp_max"`
	Hysteresis float64  `json:"hysteresis"`
	LastTemp   *float64 `json:"last_temp"`
}

// SetDisplay fills u.Display in unit tu (°C when tu is not valid).
func (u *Unit) SetDisplay(tu TempUnit) {
	if !tu.Valid() {
		tu = Celsius
	}
	u.Display = UnitDisplay{
		TempUnit:   tu,
		TempMin:    FromCelsius(u.TempMinC, tu),
		TempMax:    FromCelsius(u.TempMaxC, tu),
		Hysteresis: DeltaFromCelsius(u.HysteresisC, tu),
	}
	if u.LastTempC != nil {
		v := FromCelsius(*u.LastTempC, tu)
		u.Display.LastTemp = &v
	}
}

// IsIANAZone reports whether name is an IANA time zone ("Europe/Paris",
// "UTC"). The empty name and "Local", which time.LoadLocation also accepts,
// are not zones a person chose.
func IsIANAZone(name string) bool {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// UnitSilence is a snooze or maintenance window of a unit: its readings are
// still stored and judged and its alerts still open, but no alarm message
// goes out until it ends; paging then resumes.
type UnitSilence struct {
	ID            string     `json:"id"`
	UnitID        string     `json:"unit_id"`
	Reason        string     `json:"reason"`
	Note          *string    `json:"note"`
	StartsAt      time.Time  `json:"starts_at"`
	EndsAt        time.Time  `json:"ends_at"` // as set; EndedEarlyAt when ended before
	EndedEarlyAt  *time.Time `json:"ended_early_at"`
	Active        bool       `json:"active"`
	CreatedBy     *string    `json:"created_by"`
	CreatedByName *string    `json:"created_by_name"`
	EndedBy       *string    `json:"ended_by"`
	CreatedAt     time.Time  `json:"created_at"`
}

// Silence reasons and bounds.
var SilenceReasons = []string{"cleaning", "defrost", "stocking", "maintenance", "other"}

const (
	MinSilenceMinutes = 5
	MaxSilenceMinutes = 720 // 12 hours
	MaxSilenceNote    = 500
)

// UTC puts the silence's times in UTC.
func (s *UnitSilence) UTC() {
	s.StartsAt, s.EndsAt, s.CreatedAt = s.StartsAt.UTC(), s.EndsAt.UTC(), s.CreatedAt.UTC()
	if s.EndedEarlyAt != nil {
		t := s.EndedEarlyAt.UTC()
		s.EndedEarlyAt = &t
	}
}
