package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/frostguard/functions/shared/alertrules"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/testenv"
)

// The SQL copy of the unit types' defaults (unit_type_default_rule, which
// decides what a unit written whole keeps as its own rule) equals
// domain.DefaultUnitConfig for every type.
func TestUnitTypeDefaultRuleMatchesTheDomain(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	for _, typ := range append(domain.UnitTypes, "not_a_type") {
		var got domain.UnitConfig
		err := testenv.Pool(db).QueryRow(context.Background(), `SELECT temp_min_c::float8, temp_max_c::float8, hysteresis_c::float8,
				confirm_seconds, door_confirm_seconds, checkin_interval_seconds, door_warn_minutes, door_critical_minutes,
				offline_multiplier
			FROM unit_type_default_rule($1)`, typ).Scan(&got.TempMinC, &got.TempMaxC, &got.HysteresisC, &got.ConfirmSeconds,
			&got.DoorConfirmSeconds, &got.CheckinIntervalSeconds, &got.DoorWarnMinutes, &got.DoorCriticalMinutes,
			&got.OfflineMultiplier)
		if err != nil {
			t.Fatal(err)
		}
		want := alertrules.Resolve(typ).Config
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: SQL %+v, domain %+v", typ, got, want)
		}
	}
}

// A unit written whole by a writer other than the api (the origin import,
// the seed) keeps every value it was given that differs from its type's
// default as its own rule, and a later direct update of a value makes that
// value its own: a rule change elsewhere never loses them.
func TestUnitsWrittenDirectlyKeepTheirValues(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := testenv.Pool(db).Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	var org, site, area, unit string
	if err := testenv.Pool(db).QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ('Imported', 'imported-rules') RETURNING id`).Scan(&org); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Pool(db).QueryRow(ctx, `INSERT INTO sites (organization_id, name) VALUES ($1, 'S') RETURNING id`, org).Scan(&site); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Pool(db).QueryRow(ctx, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'A') RETURNING id`, org, site).Scan(&area); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Pool(db).QueryRow(ctx, `INSERT INTO units (organization_id, site_id, area_id, name, type, temp_min_c, temp_max_c, confirm_seconds)
		VALUES ($1, $2, $3, 'Imported freezer', 'freezer', -25, -15, 900) RETURNING id`, org, site, area).Scan(&unit); err != nil {
		t.Fatal(err)
	}
	own, err := db.AlertRule(ctx, org, alertrules.ScopeUnit, unit)
	if err != nil {
		t.Fatal(err)
	}
	if own.Rule.TempMinC == nil || *own.Rule.TempMinC != -25 || own.Rule.TempMaxC != nil || own.Rule.ConfirmSeconds == nil ||
		*own.Rule.ConfirmSeconds != 900 || own.Rule.CheckinIntervalSeconds != nil {
		t.Fatalf("own rule after insert: %+v", own.Rule)
	}
	exec(`UPDATE units SET door_warn_minutes = 9 WHERE id = $1`, unit)
	// The organisation's rule reaches only what the unit does not set.
	thirty, sixty := 30, 60
	if _, err := db.SetAlertRule(ctx, org, alertrules.ScopeOrganization, org, "", func(r *alertrules.Rule) error {
		r.DoorWarnMinutes, r.CheckinIntervalSeconds, r.ConfirmSeconds = &thirty, &sixty, &sixty
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	u, err := db.GetUnit(ctx, org, unit)
	if err != nil {
		t.Fatal(err)
	}
	if u.TempMinC != -25 || u.TempMaxC != -15 || u.ConfirmSeconds != 900 || u.DoorWarnMinutes != 9 || u.CheckinIntervalSeconds != 60 {
		t.Fatalf("after the organisation's rule: %+v", u.UnitConfig)
	}
	var lines int
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT count(*) FROM alert_rule_history WHERE organization_id = $1 AND scope = 'unit' AND source = 'unit'`,
		org).Scan(&lines); err != nil || lines != 2 {
		t.Fatalf("%d history lines of the unit's own rule (%v), want 2 (insert, update)", lines, err)
	}
}
