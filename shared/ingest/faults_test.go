package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// Issue 14: the TTN layer turned temperatures outside -60..100 °C into
// warnings before the engine saw them, so a disconnected probe (327.67 °C),
// 120 °C or -80 °C opened only a warning sensor_fault and the unit stayed
// "ok". Through the real webhook: each is a critical sensor_fault of that
// sensor, paged at once through the policy, the unit shows
// monitoring_interrupted, the impossible value is not stored as a
// temperature (the raw payload keeps it), and the next good reading
// resolves the fault and restores the unit.
func TestImplausibleReadingIsACriticalFaultThatPages(t *testing.T) {
	for _, c := range []struct {
		name    string
		decoded map[string]any
	}{
		{"disconnected probe", map[string]any{"TempC_DS": 327.67, "BatV": 3.05}},
		{"120 °C in a cooler", map[string]any{"TempC_SHT": 120.0}},
		{"-80 °C in a cooler", map[string]any{"TempC_SHT": -80.0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "stored")
			a := f.post(uplink{At: f.now.Add(5 * time.Minute), FCnt: 2, Decoded: c.decoded}.body()).must(t, 200, "stored")
			if a.Result.UnitStatus != "monitoring_interrupted" || a.Result.AlertsOpened != 1 {
				t.Fatalf("answer %+v: the unit must show it", a.Result)
			}
			var severity, sensor, unitStatus string
			var step int
			f.row(&severity, `SELECT severity FROM alerts WHERE type = 'sensor_fault' AND status = 'active'`)
			f.row(&sensor, `SELECT sensor_id::text FROM alerts WHERE type = 'sensor_fault'`)
			f.row(&step, `SELECT escalation_step FROM alerts WHERE type = 'sensor_fault'`)
			f.row(&unitStatus, `SELECT status FROM units WHERE id = $1`, f.unitID)
			if severity != "critical" || sensor != f.sensor || step != 1 || unitStatus != "monitoring_interrupted" {
				t.Fatalf("alert %s of sensor %s (step %d), unit %s", severity, sensor, step, unitStatus)
			}
			if n := f.count(`SELECT count(*) FROM notifications WHERE kind = 'alert'`); n != 2 {
				t.Fatalf("%d pages queued, want sms + email at once", n)
			}
			if n := f.count(`SELECT count(*) FROM sensor_readings WHERE f_cnt = 2 AND temperature_c IS NULL AND raw IS NOT NULL`); n != 1 {
				t.Fatal("the impossible value was stored as a temperature")
			}
			var lastTemp float64
			f.row(&lastTemp, `SELECT last_temp_c::float8 FROM units WHERE id = $1`, f.unitID)
			if lastTemp != 3 {
				t.Fatalf("last_temp_c %v: the unit's last temperature must stay the last true one", lastTemp)
			}
			f.post(uplink{At: f.now.Add(10 * time.Minute), FCnt: 3, Decoded: temp(3.2)}.body()).must(t, 200, "stored")
			a = f.post(uplink{At: f.now.Add(15 * time.Minute), FCnt: 4, Decoded: temp(3.1)}.body()).must(t, 200, "stored")
			var faultStatus string
			f.row(&faultStatus, `SELECT status FROM alerts WHERE type = 'sensor_fault'`)
			if a.Result.UnitStatus != "ok" || faultStatus != "resolved" {
				t.Fatalf("after two good readings: unit %s, fault %s", a.Result.UnitStatus, faultStatus)
			}
		})
	}
}

// An ultra-low freezer (-80 °C, pharma) still works: -80 °C is its normal,
// -95 °C a cold excursion that pages, not a sensor fault.
func TestUltraLowFreezerThroughTheWebhook(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE units SET type = 'ultra_low_freezer', temp_min_c = -90, temp_max_c = -60 WHERE id = $1`, f.unitID)
	f.exec(`UPDATE sensors SET model = 'PT100 ultra-low probe' WHERE id = $1`, f.sensor)
	for i, c := range []float64{-80, -79.5, -95, -96, -96} {
		f.post(uplink{At: f.now.Add(time.Duration(i) * 5 * time.Minute), FCnt: i + 1, Decoded: temp(c)}.body()).must(t, 200, "stored")
	}
	var typ, severity string
	f.row(&typ, `SELECT string_agg(type || ':' || severity, ',') FROM alerts`)
	f.row(&severity, `SELECT status FROM units WHERE id = $1`, f.unitID)
	if typ != "temp_excursion:critical" || severity != "alarm_active" {
		t.Fatalf("alerts %q, unit %s", typ, severity)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings WHERE temperature_c < -70`); n != 5 {
		t.Fatalf("%d readings stored with their temperature", n)
	}
}

// Check-ins per measured quantity: an uplink with a plausible temperature
// moves the sensor's and the unit's last_temperature_at; a battery-only
// uplink moves last_reading_at only.
func TestTemperatureCheckinsAreTrackedPerQuantity(t *testing.T) {
	f := newFixture(t)
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "stored")
	f.post(uplink{At: f.now.Add(5 * time.Minute), FCnt: 2, Decoded: map[string]any{"BatV": 3.01}}.body()).must(t, 200, "stored")
	var unitTemp, unitAny, sensorTemp time.Time
	if err := testenv.Pool(f.db).QueryRow(context.Background(), `SELECT u.last_temperature_at, u.last_reading_at, s.last_temperature_at
		FROM units u JOIN sensors s ON s.unit_id = u.id WHERE u.id = $1`, f.unitID).Scan(&unitTemp, &unitAny, &sensorTemp); err != nil {
		t.Fatal(err)
	}
	if !unitTemp.Equal(f.now) || !sensorTemp.Equal(f.now) || !unitAny.Equal(f.now.Add(5*time.Minute)) {
		t.Fatalf("unit temperature %v, any %v, sensor temperature %v", unitTemp, unitAny, sensorTemp)
	}
}

// Issue 14: battery thresholds are the sensor model's (2.5 V and 10 % were
// hard-coded). A 2.9 V reading is fine by default and low for a model whose
// threshold is 3.0 V; the setting is matched case-insensitively.
func TestBatteryThresholdsAreTheSensorModels(t *testing.T) {
	f := newFixture(t)
	f.post(uplink{At: f.now, FCnt: 1, Decoded: map[string]any{"TempC_SHT": 3.0, "BatV": 2.9}}.body()).must(t, 200, "stored")
	if n := f.count(`SELECT count(*) FROM alerts WHERE type = 'low_battery'`); n != 0 {
		t.Fatal("2.9 V is not low by default")
	}
	f.exec(`INSERT INTO sensor_model_settings (organization_id, model, low_battery_volts, low_battery_percent)
		VALUES ($1, 'DRAGINO lht65', 3.0, 10)`, f.orgID)
	a := f.post(uplink{At: f.now.Add(5 * time.Minute), FCnt: 2, Decoded: map[string]any{"TempC_SHT": 3.0, "BatV": 2.9}}.body()).must(t, 200, "stored")
	var msg string
	f.row(&msg, `SELECT message FROM alerts WHERE type = 'low_battery' AND sensor_id = $1`, f.sensor)
	if a.Result.AlertsOpened != 1 || msg != "Sensor battery at 2.90 V (threshold 3.00 V). Replace the battery soon." {
		t.Fatalf("opened %d: %q", a.Result.AlertsOpened, msg)
	}
}
