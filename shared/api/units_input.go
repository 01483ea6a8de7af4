package api

import (
	"fmt"
	"strings"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// unitInput is the body of POST /units (area_id and name required) and of
// PATCH /units/{id} (any subset). Thresholds come either in °C (the *_c
// fields) or in the unit named by temp_unit (temp_min, temp_max,
// hysteresis), never both for one threshold.
type unitInput struct {
	AreaID      hierOpt[string]          `json:"area_id"`
	Name        hierOpt[string]          `json:"name"`
	Description hierOpt[string]          `json:"description"`
	Type        hierOpt[domain.UnitType] `json:"type"`
	SortOrder   hierOpt[int]             `json:"sort_order"`
	// the unit's values of the alert rule's fields (a unit's own rule
	// follows what changes here)
	alertRuleInput
	CoolingSlopeCPerHour hierOpt[float64]                `json:"cooling_slope_c_per_hour"`
	CoolingReadings      hierOpt[int]                    `json:"cooling_readings"`
	DefrostSchedule      hierOpt[[]domain.DefrostWindow] `json:"defrost_schedule"`
	TempUnit             hierOpt[domain.TempUnit]        `json:"temp_unit"`
	TempMin              hierOpt[float64]                `json:"temp_min"`
	TempMax              hierOpt[float64]                `json:"temp_max"`
	Hysteresis           hierOpt[float64]                `json:"hysteresis"`
}

// newUnit builds a unit to create: the type's default configuration with
// the input applied over it.
func (in unitInput) newUnit() (domain.Unit, []apperr.FieldError) {
	var fe []apperr.FieldError
	u := domain.Unit{Type: domain.Fridge}
	hierUnitType(&fe, in.Type, &u.Type)
	u.UnitConfig = domain.DefaultUnitConfig(u.Type)
	return u, in.apply(&u, true, fe)
}

func hierUnitType(fe *[]apperr.FieldError, o hierOpt[domain.UnitType], dst *domain.UnitType) {
	if !o.value(fe, "type") {
		return
	}
	if !o.V.Valid() {
		names := make([]string, len(domain.UnitTypes))
		for i, t := range domain.UnitTypes {
			names[i] = string(t)
		}
		*fe = append(*fe, apperr.FieldError{Field: "type", Message: "must be one of " + strings.Join(names, ", ")})
		return
	}
	*dst = o.V
}

// apply merges the input into u and validates the merged configuration as
// a whole, so that a patch of one threshold is checked against the stored
// other one. Changing the type keeps the thresholds: they were chosen for
// this appliance, and a silent reset would hide an excursion.
func (in unitInput) apply(u *domain.Unit, create bool, fe []apperr.FieldError) []apperr.FieldError {
	if !create {
		hierUnitType(&fe, in.Type, &u.Type)
	}
	hierParentID(&fe, "area_id", in.AreaID, create, &u.AreaID)
	hierName(&fe, in.Name, create, &u.Name)
	hierText(&fe, "description", in.Description, hierMaxText, &u.Description)
	hierSortOrder(&fe, in.SortOrder, &u.SortOrder)

	c := &u.UnitConfig
	// The field each threshold came from, so errors name what the client sent.
	renamed := map[string]string{}
	unit, unitOK := in.displayUnit(&fe)
	threshold := func(cField, field string, inC, inU hierOpt[float64], delta bool, dst *float64) {
		if inC.Set && inU.Set {
			fe = append(fe, apperr.FieldError{Field: field, Message: "give " + cField + " or " + field + ", not both"})
			return
		}
		if inC.value(&fe, cField) {
			*dst = domain.ToCelsius(inC.V, domain.Celsius) // numeric(6,2): round as the column will
		}
		if inU.value(&fe, field) && unitOK {
			if delta {
				*dst = domain.DeltaToCelsius(inU.V, unit)
			} else {
				*dst = domain.ToCelsius(inU.V, unit)
			}
			renamed[cField] = field
		}
	}
	threshold("temp_min_c", "temp_min", in.TempMinC, in.TempMin, false, &c.TempMinC)
	threshold("temp_max_c", "temp_max", in.TempMaxC, in.TempMax, false, &c.TempMaxC)
	threshold("hysteresis_c", "hysteresis", in.HysteresisC, in.Hysteresis, true, &c.HysteresisC)
	if in.ConfirmSeconds.value(&fe, "confirm_seconds") {
		c.ConfirmSeconds = in.ConfirmSeconds.V
	}
	if in.DoorConfirmSeconds.value(&fe, "door_confirm_seconds") {
		c.DoorConfirmSeconds = in.DoorConfirmSeconds.V
	}
	if in.CheckinIntervalSeconds.value(&fe, "checkin_interval_seconds") {
		c.CheckinIntervalSeconds = in.CheckinIntervalSeconds.V
	}
	if in.DoorWarnMinutes.value(&fe, "door_warn_minutes") {
		c.DoorWarnMinutes = in.DoorWarnMinutes.V
	}
	if in.DoorCriticalMinutes.value(&fe, "door_critical_minutes") {
		c.DoorCriticalMinutes = in.DoorCriticalMinutes.V
	}
	if in.OfflineMultiplier.value(&fe, "offline_multiplier") {
		c.OfflineMultiplier = in.OfflineMultiplier.V
	}
	if in.CoolingSlopeCPerHour.value(&fe, "cooling_slope_c_per_hour") {
		c.CoolingSlopeCPerHour = domain.ToCelsius(in.CoolingSlopeCPerHour.V, domain.Celsius) // numeric(5,2)
	}
	if in.CoolingReadings.value(&fe, "cooling_readings") {
		c.CoolingReadings = in.CoolingReadings.V
	}
	if in.DefrostSchedule.value(&fe, "defrost_schedule") {
		c.DefrostSchedule = in.DefrostSchedule.V
		if c.DefrostSchedule == nil {
			c.DefrostSchedule = []domain.DefrostWindow{}
		}
	}
	if o := in.ManualLogIntervalSeconds; o.Set {
		if o.Null {
			c.ManualLogIntervalSeconds = nil
		} else {
			v := o.V
			c.ManualLogIntervalSeconds = &v
		}
	}

	reported := map[string]bool{}
	for _, e := range fe {
		reported[e.Field] = true
	}
	minGiven := in.TempMinC.Set || in.TempMin.Set
	maxGiven := in.TempMaxC.Set || in.TempMax.Set
	for _, e := range c.Check() {
		if e.Field == "temp_min_c" && maxGiven && !minGiven && c.TempMinC >= c.TempMaxC {
			// Only the maximum moved: it is the field to fix.
			e = apperr.FieldError{Field: "temp_max_c", Message: fmt.Sprintf("must be above temp_min_c (%.2f °C)", c.TempMinC)}
		}
		if f, ok := renamed[e.Field]; ok {
			e.Field = f
		}
		if !reported[e.Field] {
			fe = append(fe, e)
		}
	}
	return fe
}

// displayUnit is the unit of temp_min, temp_max and hysteresis: required
// (never guessed from the organisation's preference) when any is given.
func (in unitInput) displayUnit(fe *[]apperr.FieldError) (domain.TempUnit, bool) {
	given := in.TempMin.Set || in.TempMax.Set || in.Hysteresis.Set
	switch {
	case in.TempUnit.Set && (in.TempUnit.Null || !in.TempUnit.V.Valid()):
		*fe = append(*fe, apperr.FieldError{Field: "temp_unit", Message: "must be C or F"})
		return "", false
	case given && !in.TempUnit.Set:
		*fe = append(*fe, apperr.FieldError{Field: "temp_unit", Message: "is required with temp_min, temp_max or hysteresis"})
		return "", false
	}
	return in.TempUnit.V, true
}
