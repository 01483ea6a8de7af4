package api

import (
	"math"
	"testing"

	"github.com/frostguard/functions/shared/alertrules"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

// FuzzUnitInput: any body of POST/PATCH /units either fails as a 400 with
// field errors, or yields a configuration the alert engine can run: finite
// thresholds in °C with min below max, a hysteresis that leaves a band, and
// positive timers. A unit that passes validation but never alarms is the
// worst outcome for food safety, so that is the property checked.
func FuzzUnitInput(f *testing.F) {
	for _, s := range []string{
		`{"area_id":"8d0c5f36-9a8b-4e0b-9d43-2f1f3a1c9e77","name":"Walk-in","temp_min_c":0,"temp_max_c":5}`,
		`{"area_id":"8d0c5f36-9a8b-4e0b-9d43-2f1f3a1c9e77","name":"F","type":"freezer","temp_unit":"F","temp_min":-10,"temp_max":5,"hysteresis":1}`,
		`{"area_id":"8d0c5f36-9a8b-4e0b-9d43-2f1f3a1c9e77","name":"x","temp_min_c":5,"temp_max_c":5}`,
		`{"area_id":"8d0c5f36-9a8b-4e0b-9d43-2f1f3a1c9e77","name":"x","temp_min_c":1e308,"temp_max_c":1e309}`,
		`{"area_id":"8d0c5f36-9a8b-4e0b-9d43-2f1f3a1c9e77","name":"x","hysteresis_c":3,"temp_min_c":0,"temp_max_c":5}`,
		`{"area_id":null,"name":"","temp_unit":"K","temp_min":1}`,
		`{"name":"x","confirm_seconds":-1,"checkin_interval_seconds":0}`,
		`{"temp_min_c":0,"temp_min":32,"temp_unit":"F"}`,
		`{"area_id":"8d0c5f36-9a8b-4e0b-9d43-2f1f3a1c9e77","name":"x","door_warn_minutes":2,"door_critical_minutes":3,"cooling_slope_c_per_hour":0.2,"cooling_readings":4,"defrost_schedule":[{"start_minute":1430,"duration_minutes":20},{"start_minute":10,"duration_minutes":5}]}`,
		`{"area_id":"8d0c5f36-9a8b-4e0b-9d43-2f1f3a1c9e77","name":"x","defrost_schedule":[{"start_minute":1,"duration_minutes":5,"x":1}]}`,
		`[]`, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in unitInput
		if err := web.Unmarshal(body, &in); err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a bad body must be a 400, got %v", err)
			}
			return
		}
		u, fe := in.newUnit()
		if len(fe) > 0 {
			if err := hierValidation(fe); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("field errors must be a 400, got %v", err)
			}
			return
		}
		c := u.UnitConfig
		for name, v := range map[string]float64{"min": c.TempMinC, "max": c.TempMaxC, "hysteresis": c.HysteresisC} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted a non-finite %s: %+v", name, c)
			}
		}
		if !(c.TempMinC < c.TempMaxC) {
			t.Fatalf("accepted min %.2f >= max %.2f", c.TempMinC, c.TempMaxC)
		}
		if c.HysteresisC < 0 || c.TempMinC+c.HysteresisC > c.TempMaxC-c.HysteresisC {
			t.Fatalf("accepted a hysteresis that leaves no in-range band: %+v", c)
		}
		if c.ConfirmSeconds < 0 || c.DoorConfirmSeconds < 0 || c.CheckinIntervalSeconds <= 0 {
			t.Fatalf("accepted timers %+v", c)
		}
		if c.DoorWarnMinutes < 1 || c.DoorCriticalMinutes <= c.DoorWarnMinutes || c.CoolingReadings < 4 ||
			len(domain.CheckDefrostSchedule(c.DefrostSchedule)) > 0 || !(c.CoolingSlopeCPerHour == 0 || c.CoolingSlopeCPerHour >= 0.2) {
			t.Fatalf("accepted alerting settings %+v", c)
		}
		if u.Name == "" || !domain.IsUUID(u.AreaID) {
			t.Fatalf("created a unit without a name or area: %+v", u)
		}
	})
}

// FuzzAlertRuleInput: a rule PATCH body is a 400 or a rule whose every
// field fits its limits (and its column: finite, numeric(6,2) range), so a
// stored rule never fails the database's CHECKs nor resolves to a value a
// unit could not hold.
func FuzzAlertRuleInput(f *testing.F) {
	for _, s := range []string{
		`{"temp_max_c":6,"door_warn_minutes":8,"manual_log_interval_seconds":null}`,
		`{"temp_min_c":3,"temp_max_c":2}`,
		`{"temp_min_c":1e308,"hysteresis_c":-0}`,
		`{"manual_log_interval_seconds":0,"checkin_interval_seconds":30,"confirm_seconds":86400}`,
		`{"door_warn_minutes":10,"door_critical_minutes":10}`,
		`{"temp_max":3}`, `{"confirm_seconds":"60"}`, `[]`, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in alertRuleInput
		if err := web.Unmarshal(body, &in); err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a bad body must be a 400, got %v", err)
			}
			return
		}
		var r alertrules.Rule
		in.apply(&r)
		if len(r.Check()) > 0 {
			return
		}
		for name, v := range map[string]*float64{"temp_min_c": r.TempMinC, "temp_max_c": r.TempMaxC, "hysteresis_c": r.HysteresisC} {
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < -100 || *v > 100) {
				t.Fatalf("accepted %s = %v", name, *v)
			}
		}
		for name, v := range map[string]*int{"confirm_seconds": r.ConfirmSeconds, "door_confirm_seconds": r.DoorConfirmSeconds,
			"manual_log_interval_seconds": r.ManualLogIntervalSeconds} {
			if v != nil && *v < 0 {
				t.Fatalf("accepted %s = %d", name, *v)
			}
		}
		if v := r.CheckinIntervalSeconds; v != nil && *v < domain.MinCheckinSeconds {
			t.Fatalf("accepted a check-in every %d s", *v)
		}
		if w, c := r.DoorWarnMinutes, r.DoorCriticalMinutes; (w != nil && *w < 1) || (c != nil && *c < 2) || (w != nil && c != nil && *c <= *w) {
			t.Fatalf("accepted door minutes %v %v", w, c)
		}
	})
}
