package api

import (
	"math"
	"testing"

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
