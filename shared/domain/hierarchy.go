package domain

import (
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
}

// DefaultUnitConfig is the configuration a new unit of type t starts with.
func DefaultUnitConfig(t UnitType) UnitConfig {
	c := UnitConfig{TempMinC: 0, TempMaxC: 5, HysteresisC: 0.5, ConfirmSeconds: 600,
		DoorConfirmSeconds: 1200, CheckinIntervalSeconds: 300}
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
	MinThresholdC       = -100
	MaxThresholdC       = 100
	MaxConfirmSeconds   = 86400
	MinCheckinSeconds   = 30
	MaxCheckinSeconds   = 86400
	MinManualLogSeconds = 300
	MaxManualLogSeconds = 604800
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
	Status          UnitStatus  `json:"status"`
	StatusSince     time.Time   `json:"status_since"`
	LastReadingAt   *time.Time  `json:"last_reading_at"`
	LastTempC       *float64    `json:"last_temp_c"`
	DoorOpen        bool        `json:"door_open"`
	DoorChangedAt   *time.Time  `json:"door_changed_at"`
	LastManualLogAt *time.Time  `json:"last_manual_log_at"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
	DeletedAt       *time.Time  `json:"deleted_at,omitempty"`
	Display         UnitDisplay `json:"display"`
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
