package alertrules

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/frostguard/functions/shared/domain"
)

// layerSetting builds a Rule setting only field to v.
func layerSetting(t *testing.T, field string, v int) Rule {
	t.Helper()
	var r Rule
	if err := json.Unmarshal([]byte(fmt.Sprintf(`{%q: %d}`, field, v)), &r); err != nil {
		t.Fatal(err)
	}
	if r.Empty() {
		t.Fatalf("%s is not a field of Rule", field)
	}
	return r
}

// TestResolveEveryFieldAtEveryLevel is the resolver's table: for every
// field of the rule and every level (unit, site, organisation, the unit
// type's default), the field is set at that level and at every wider
// one with different values, and the effective value and its source are
// the most specific level's; every other field stays the type's default.
func TestResolveEveryFieldAtEveryLevel(t *testing.T) {
	// The freezer's defaults, written out (not read from DefaultUnitConfig).
	freezerDefault := map[string]any{"temp_min_c": -30.0, "temp_max_c": -15.0, "hysteresis_c": 0.5, "confirm_seconds": 600,
		"door_confirm_seconds": 1200, "checkin_interval_seconds": 300, "manual_log_interval_seconds": nil,
		"door_warn_minutes": 5, "door_critical_minutes": 15, "offline_multiplier": 1}
	if len(freezerDefault) != len(Fields) || reflect.TypeOf(Rule{}).NumField() != len(Fields) {
		t.Fatalf("the table covers %d fields, Fields names %d, Rule has %d", len(freezerDefault), len(Fields),
			reflect.TypeOf(Rule{}).NumField())
	}
	values := map[Scope]int{ScopeUnit: 601, ScopeSite: 602, ScopeOrganization: 603}
	ids := map[Scope]string{ScopeUnit: "u1", ScopeSite: "s1", ScopeOrganization: "o1"}
	levels := []Scope{ScopeUnit, ScopeSite, ScopeOrganization, ScopeUnitType}
	for _, field := range Fields {
		for i, level := range levels {
			t.Run(field+"/"+string(level), func(t *testing.T) {
				// Every scope is present (empty below the level), most specific first.
				var layers []Layer
				for j, s := range levels[:3] {
					l := Layer{Scope: s, ID: ids[s]}
					if j >= i {
						l.Rule = layerSetting(t, field, values[s])
					}
					layers = append(layers, l)
				}
				e := Resolve(domain.Freezer, layers...)
				want, wantSrc := freezerDefault[field], Source{Scope: ScopeUnitType}
				if level != ScopeUnitType {
					want, wantSrc = values[level], Source{Scope: level, ID: ids[level]}
					if _, isFloat := freezerDefault[field].(float64); isFloat {
						want = float64(values[level])
					}
				}
				if got := e.Value(field); got != want {
					t.Errorf("value = %v (%T), want %v (%T)", got, got, want, want)
				}
				if got := e.Sources[field]; got != wantSrc {
					t.Errorf("source = %+v, want %+v", got, wantSrc)
				}
				for _, other := range Fields {
					if other == field {
						continue
					}
					if got := e.Value(other); got != freezerDefault[other] {
						t.Errorf("%s = %v, want the default %v", other, got, freezerDefault[other])
					}
					if got := e.Sources[other]; got != (Source{Scope: ScopeUnitType}) {
						t.Errorf("%s came from %+v", other, got)
					}
				}
			})
		}
	}
}

// A unit's 0 manual-log interval stops the organisation's requirement.
func TestResolveManualLogZeroStopsWiderRequirement(t *testing.T) {
	zero, four := 0, 14400
	e := Resolve(domain.Fridge, Layer{Scope: ScopeUnit, ID: "u", Rule: Rule{ManualLogIntervalSeconds: &zero}},
		Layer{Scope: ScopeOrganization, ID: "o", Rule: Rule{ManualLogIntervalSeconds: &four}})
	if e.Config.ManualLogIntervalSeconds != nil || e.Sources["manual_log_interval_seconds"] != (Source{ScopeUnit, "u"}) {
		t.Fatalf("got %v from %+v", e.Config.ManualLogIntervalSeconds, e.Sources["manual_log_interval_seconds"])
	}
	e = Resolve(domain.Fridge, Layer{Scope: ScopeSite, ID: "s"}, Layer{Scope: ScopeOrganization, ID: "o",
		Rule: Rule{ManualLogIntervalSeconds: &four}})
	if e.Config.ManualLogIntervalSeconds == nil || *e.Config.ManualLogIntervalSeconds != four {
		t.Fatalf("the organisation's requirement: %v", e.Config.ManualLogIntervalSeconds)
	}
}

func TestRuleCheck(t *testing.T) {
	i := func(v int) *int { return &v }
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		r     Rule
		field string // "" = valid
	}{
		{Rule{}, ""},
		{Rule{TempMinC: f(2), TempMaxC: f(8), ManualLogIntervalSeconds: i(0)}, ""},
		{Rule{TempMinC: f(8), TempMaxC: f(2)}, "temp_min_c"},
		{Rule{TempMaxC: f(101)}, "temp_max_c"},
		{Rule{HysteresisC: f(-1)}, "hysteresis_c"},
		{Rule{ConfirmSeconds: i(-1)}, "confirm_seconds"},
		{Rule{DoorConfirmSeconds: i(86401)}, "door_confirm_seconds"},
		{Rule{CheckinIntervalSeconds: i(10)}, "checkin_interval_seconds"},
		{Rule{ManualLogIntervalSeconds: i(60)}, "manual_log_interval_seconds"},
		{Rule{DoorWarnMinutes: i(0)}, "door_warn_minutes"},
		{Rule{DoorWarnMinutes: i(10), DoorCriticalMinutes: i(10)}, "door_critical_minutes"},
		{Rule{OfflineMultiplier: i(25)}, "offline_multiplier"},
		{Rule{OfflineMultiplier: i(3)}, ""},
	}
	for _, c := range cases {
		errs := c.r.Check()
		switch {
		case c.field == "" && len(errs) > 0:
			t.Errorf("%+v: %v", c.r, errs)
		case c.field != "" && (len(errs) != 1 || errs[0].Field != c.field):
			t.Errorf("%+v: %v, want one error on %s", c.r, errs, c.field)
		}
	}
}
