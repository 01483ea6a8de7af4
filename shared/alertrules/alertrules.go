// Package alertrules resolves a unit's effective alert rule (issue 20):
// thresholds and timings may be set on the organisation, a site or the unit
// itself, and each field of a unit's rule comes from the most specific
// scope that sets it (unit, then site, then organisation), else from the
// unit type's defaults (domain.DefaultUnitConfig). Resolve is the one
// resolver: the store materialises its answer into the unit's own columns
// whenever a scope, the unit's type or its site changes, so that the alert
// engine (shared/judge) and the sweeper read nothing but the effective
// rule. The package is pure.
package alertrules

import (
	"fmt"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// Scope is where a rule is set, or where an effective value came from.
type Scope string

const (
	ScopeUnit         Scope = "unit"
	ScopeSite         Scope = "site"
	ScopeOrganization Scope = "organization"
	// ScopeUnitType is the unit type's default (no rule sets the field).
	ScopeUnitType Scope = "unit_type"
)

// Valid reports whether s is a scope a rule can be set on.
func (s Scope) Valid() bool { return s == ScopeUnit || s == ScopeSite || s == ScopeOrganization }

// Rule is what one scope sets: a nil field inherits from the next scope.
// Temperatures are °C (rounded to the columns' 0.01), times seconds or
// minutes as named.
type Rule struct {
	TempMinC               *float64 `json:"temp_min_c"`
	TempMaxC               *float64 `json:"temp_max_c"`
	HysteresisC            *float64 `json:"hysteresis_c"`
	ConfirmSeconds         *int     `json:"confirm_seconds"`
	DoorConfirmSeconds     *int     `json:"door_confirm_seconds"`
	CheckinIntervalSeconds *int     `json:"checkin_interval_seconds"`
	// ManualLogIntervalSeconds: 0 says "no manual logs required" (and
	// stops a wider scope's requirement); nil inherits.
	ManualLogIntervalSeconds *int `json:"manual_log_interval_seconds"`
	DoorWarnMinutes          *int `json:"door_warn_minutes"`
	DoorCriticalMinutes      *int `json:"door_critical_minutes"`
	// OfflineMultiplier: check-in intervals missed before offline.
	OfflineMultiplier *int `json:"offline_multiplier"`
}

// Fields names every field of a Rule, in its JSON order.
var Fields = []string{"temp_min_c", "temp_max_c", "hysteresis_c", "confirm_seconds", "door_confirm_seconds",
	"checkin_interval_seconds", "manual_log_interval_seconds", "door_warn_minutes", "door_critical_minutes", "offline_multiplier"}

// Empty reports whether r sets nothing.
func (r Rule) Empty() bool { return r == Rule{} }

// Layer is the rule of one scope.
type Layer struct {
	Scope Scope
	ID    string // the organisation's, site's or unit's id
	Rule  Rule
}

// Source is where an effective value came from.
type Source struct {
	Scope Scope  `json:"scope"`
	ID    string `json:"id,omitempty"` // empty for the unit type's default
}

// Effective is a unit's resolved rule: the configuration its alerting
// runs with (the rule's fields of domain.UnitConfig) and, per field, where
// each value came from.
type Effective struct {
	Config  domain.UnitConfig
	Sources map[string]Source
}

// Resolve is the unit's effective rule for a unit of type t under layers,
// most specific first (unit, site, organisation; any may be missing): field
// by field, the first layer that sets it wins, else the type's default.
// Only the rule's fields of Config are set (cooling and defrost stay the
// unit's own).
func Resolve(t domain.UnitType, layers ...Layer) Effective {
	def := domain.DefaultUnitConfig(t)
	e := Effective{Sources: make(map[string]Source, len(Fields))}
	c := &e.Config
	c.TempMinC = pick(&e, "temp_min_c", layers, func(r Rule) *float64 { return r.TempMinC }, def.TempMinC)
	c.TempMaxC = pick(&e, "temp_max_c", layers, func(r Rule) *float64 { return r.TempMaxC }, def.TempMaxC)
	c.HysteresisC = pick(&e, "hysteresis_c", layers, func(r Rule) *float64 { return r.HysteresisC }, def.HysteresisC)
	c.ConfirmSeconds = pick(&e, "confirm_seconds", layers, func(r Rule) *int { return r.ConfirmSeconds }, def.ConfirmSeconds)
	c.DoorConfirmSeconds = pick(&e, "door_confirm_seconds", layers, func(r Rule) *int { return r.DoorConfirmSeconds }, def.DoorConfirmSeconds)
	c.CheckinIntervalSeconds = pick(&e, "checkin_interval_seconds", layers, func(r Rule) *int { return r.CheckinIntervalSeconds },
		def.CheckinIntervalSeconds)
	manual := pick(&e, "manual_log_interval_seconds", layers, func(r Rule) *int { return r.ManualLogIntervalSeconds },
		manualOf(def.ManualLogIntervalSeconds))
	if manual > 0 {
		c.ManualLogIntervalSeconds = &manual
	}
	c.DoorWarnMinutes = pick(&e, "door_warn_minutes", layers, func(r Rule) *int { return r.DoorWarnMinutes }, def.DoorWarnMinutes)
	c.DoorCriticalMinutes = pick(&e, "door_critical_minutes", layers, func(r Rule) *int { return r.DoorCriticalMinutes },
		def.DoorCriticalMinutes)
	c.OfflineMultiplier = pick(&e, "offline_multiplier", layers, func(r Rule) *int { return r.OfflineMultiplier }, def.OfflineMultiplier)
	return e
}

// pick is one field of Resolve: the first layer's value, else def.
func pick[T any](e *Effective, field string, layers []Layer, get func(Rule) *T, def T) T {
	for _, l := range layers {
		if v := get(l.Rule); v != nil {
			e.Sources[field] = Source{Scope: l.Scope, ID: l.ID}
			return *v
		}
	}
	e.Sources[field] = Source{Scope: ScopeUnitType}
	return def
}

func manualOf(v *int) int {
	if v == nil {
		return 0
	}
	return *v
}

// Value is an effective field's value as the api shows it (nil: a manual
// log interval that is not required).
func (e Effective) Value(field string) any {
	c := e.Config
	switch field {
	case "temp_min_c":
		return c.TempMinC
	case "temp_max_c":
		return c.TempMaxC
	case "hysteresis_c":
		return c.HysteresisC
	case "confirm_seconds":
		return c.ConfirmSeconds
	case "door_confirm_seconds":
		return c.DoorConfirmSeconds
	case "checkin_interval_seconds":
		return c.CheckinIntervalSeconds
	case "manual_log_interval_seconds":
		if c.ManualLogIntervalSeconds == nil {
			return nil
		}
		return *c.ManualLogIntervalSeconds
	case "door_warn_minutes":
		return c.DoorWarnMinutes
	case "door_critical_minutes":
		return c.DoorCriticalMinutes
	case "offline_multiplier":
		return c.OfflineMultiplier
	}
	panic("alertrules: unknown field " + field)
}

// Apply writes e's fields into c, leaving the rest of c (cooling, defrost)
// as it is.
func (e Effective) Apply(c *domain.UnitConfig) {
	r := e.Config
	c.TempMinC, c.TempMaxC, c.HysteresisC = r.TempMinC, r.TempMaxC, r.HysteresisC
	c.ConfirmSeconds, c.DoorConfirmSeconds, c.CheckinIntervalSeconds = r.ConfirmSeconds, r.DoorConfirmSeconds, r.CheckinIntervalSeconds
	c.ManualLogIntervalSeconds = r.ManualLogIntervalSeconds
	c.DoorWarnMinutes, c.DoorCriticalMinutes = r.DoorWarnMinutes, r.DoorCriticalMinutes
	c.OfflineMultiplier = r.OfflineMultiplier
}

// Check validates what one scope sets, field by field (the limits of
// domain.UnitConfig.Check), and the pairs it sets together; the unit's
// whole effective configuration is checked once resolved.
func (r Rule) Check() []apperr.FieldError {
	var errs []apperr.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, apperr.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	between := func(field string, v *int, lo, hi int) {
		if v != nil && (*v < lo || *v > hi) {
			add(field, "must be between %d and %d, or null to inherit", lo, hi)
		}
	}
	for _, t := range []struct {
		field string
		v     *float64
	}{{"temp_min_c", r.TempMinC}, {"temp_max_c", r.TempMaxC}} {
		if t.v != nil && (*t.v < domain.MinThresholdC || *t.v > domain.MaxThresholdC) {
			add(t.field, "must be between %d and %d °C, or null to inherit", domain.MinThresholdC, domain.MaxThresholdC)
		}
	}
	if r.TempMinC != nil && r.TempMaxC != nil && *r.TempMinC >= *r.TempMaxC {
		add("temp_min_c", "must be below temp_max_c (%.2f °C)", *r.TempMaxC)
	}
	if r.HysteresisC != nil && (*r.HysteresisC < 0 || *r.HysteresisC > domain.MaxThresholdC) {
		add("hysteresis_c", "must be between 0 and %d °C, or null to inherit", domain.MaxThresholdC)
	}
	between("confirm_seconds", r.ConfirmSeconds, 0, domain.MaxConfirmSeconds)
	between("door_confirm_seconds", r.DoorConfirmSeconds, 0, domain.MaxConfirmSeconds)
	between("checkin_interval_seconds", r.CheckinIntervalSeconds, domain.MinCheckinSeconds, domain.MaxCheckinSeconds)
	if v := r.ManualLogIntervalSeconds; v != nil && *v != 0 && (*v < domain.MinManualLogSeconds || *v > domain.MaxManualLogSeconds) {
		add("manual_log_interval_seconds", "must be 0 (not required), between %d and %d, or null to inherit",
			domain.MinManualLogSeconds, domain.MaxManualLogSeconds)
	}
	between("door_warn_minutes", r.DoorWarnMinutes, 1, domain.MaxDoorMinutes)
	between("door_critical_minutes", r.DoorCriticalMinutes, 2, domain.MaxDoorMinutes)
	between("offline_multiplier", r.OfflineMultiplier, 1, domain.MaxOfflineMultiplier)
	if r.DoorWarnMinutes != nil && r.DoorCriticalMinutes != nil && *r.DoorCriticalMinutes <= *r.DoorWarnMinutes {
		add("door_critical_minutes", "must be above door_warn_minutes (%d)", *r.DoorWarnMinutes)
	}
	return errs
}
