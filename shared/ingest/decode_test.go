package ingest

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An LHT65 uplink whose Ext byte has bit 7 set says the external probe is
// not connected (the vendor's codec, vendor/dragino/lht65.js: bit 7 "sensor
// no connection", bit 6 the poll-message flag). Its built-in sensor's
// values are current: they are stored, and the probe is a fault. shared/ttn
// read bit 7 as a datalog poll reply and dropped the whole reading.
func TestLHT65ProbeNotConnectedKeepsTheBuiltInReading(t *testing.T) {
	f := newFixture(t)
	a := f.post(uplink{At: f.now, FCnt: 1, Payload: mustHex(t, "CBF60B0D0376810ADD7FFF")}.body()).must(t, 200, "stored")
	var temp, hum, volts float64
	f.row(&temp, `SELECT temperature_c::float8 FROM sensor_readings WHERE sensor_id = $1`, f.sensor)
	f.row(&hum, `SELECT humidity::float8 FROM sensor_readings WHERE sensor_id = $1`, f.sensor)
	f.row(&volts, `SELECT battery_voltage::float8 FROM sensors WHERE id = $1`, f.sensor)
	if temp != 28.29 || hum != 88.6 || volts != 3.062 {
		t.Fatalf("stored %v °C %v %% %v V, want the built-in sensor's 28.29 °C 88.6 %% 3.062 V", temp, hum, volts)
	}
	if !slices.ContainsFunc(a.Result.Faults, func(s string) bool { return strings.Contains(s, "not connected") }) {
		t.Errorf("faults %q: want the external probe not connected", a.Result.Faults)
	}
}

// The measuring range of the probe that measured the unit narrows what is plausible: -35 °C
// from a Milesight EM300-TH (-30..70 °C, its device repository entry) in a walk-in freezer is a
// critical fault of the sensor; the same -35 °C from a sensor of unknown model is a cold
// excursion.
func TestProbeRangeNarrowsThePlausibleRange(t *testing.T) {
	em300 := mustHex(t, "0367A2FE") // temperature -35.0 °C (int16 LE /10)
	for _, c := range []struct {
		model, status, alert string
	}{
		{"Milesight EM300-TH", "monitoring_interrupted", "sensor_fault:critical"},
		{"", "excursion", ""},
	} {
		t.Run(c.model, func(t *testing.T) {
			f := newFixture(t)
			f.exec(`UPDATE units SET type = 'walk_in_freezer', temp_min_c = -30, temp_max_c = -15 WHERE id = $1`, f.unitID)
			f.exec(`UPDATE sensors SET model = nullif($2, '') WHERE id = $1`, f.sensor, c.model)
			decoded := map[string]any(nil)
			if c.model == "" {
				decoded = map[string]any{"temperature": -35.0}
			}
			a := f.post(uplink{At: f.now, FCnt: 1, FPort: 85, Payload: em300, Decoded: decoded}.body()).must(t, 200, "stored")
			var alerts string
			f.row(&alerts, `SELECT coalesce(string_agg(type || ':' || severity, ','), '') FROM alerts`)
			if a.Result.UnitStatus != c.status || alerts != c.alert {
				t.Fatalf("unit %s, alerts %q; want %s, %q (%s)", a.Result.UnitStatus, alerts, c.status, c.alert, a.Body)
			}
		})
	}
}

// A unit measured by an external probe (the sensor's probe setting) whose device says it is
// disconnected (Dragino's 0x7FFF) is not measured: a critical sensor fault, paged at once, and
// the unit shows monitoring_interrupted; the built-in sensor's temperature never stands in.
func TestDisconnectedUnitProbeInterruptsTheUnit(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE sensors SET probe = 'external' WHERE id = $1`, f.sensor)
	f.post(uplink{At: f.now, FCnt: 1, Payload: mustHex(t, "CBF60B0D037601012C7FFF")}.body()).must(t, 200, "stored") // probe 3 °C
	a := f.post(uplink{At: f.now.Add(5 * time.Minute), FCnt: 2, Payload: mustHex(t, "CBF601F4037601 7FFF7FFF")}.body()).must(t, 200, "stored")
	var severity, title, msg string
	f.row(&severity, `SELECT severity FROM alerts WHERE type = 'sensor_fault'`)
	f.row(&title, `SELECT title FROM alerts WHERE type = 'sensor_fault'`)
	f.row(&msg, `SELECT message FROM alerts WHERE type = 'sensor_fault'`)
	if a.Result.UnitStatus != "monitoring_interrupted" || a.Result.Probe != "external" || severity != "critical" ||
		title != "Sensor fault: probe failed" || !strings.Contains(msg, "external probe not connected") {
		t.Fatalf("unit %s probe %s; alert %s %q %q", a.Result.UnitStatus, a.Result.Probe, severity, title, msg)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings WHERE f_cnt = 2 AND temperature_c IS NULL`); n != 1 {
		t.Fatal("the built-in sensor's 5 °C stood in for the disconnected probe")
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE kind = 'alert'`); n != 2 {
		t.Fatalf("%d pages, want sms + email at once", n)
	}
}

// A sensor's probe setting chooses the probe that measures the unit; the answer reports every
// probe.
func TestProbeSettingChoosesTheUnitProbe(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE units SET type = 'freezer', temp_min_c = -25, temp_max_c = -15 WHERE id = $1`, f.unitID)
	f.exec(`UPDATE sensors SET probe = 'external' WHERE id = $1`, f.sensor)
	a := f.post(uplink{At: f.now, FCnt: 1, Payload: mustHex(t, "0B490B0D037601F8B87FFF")}.body()).must(t, 200, "stored")
	var temp float64
	f.row(&temp, `SELECT temperature_c::float8 FROM sensor_readings WHERE sensor_id = $1`, f.sensor)
	if temp != -18.64 || a.Result.UnitStatus != "ok" || a.Result.Model != "dragino/lht65" || len(a.Result.Probes) != 2 ||
		a.Result.Probes[0] != (Probe{"internal", 28.29}) || a.Result.Probes[1] != (Probe{"external", -18.64}) {
		t.Fatalf("stored %v °C; answer %s", temp, a.Body)
	}
}

// A sensor registered without a model is decoded by the model its network names (TTN's
// version_ids, the device repository's ids); a sensor's own model wins over them.
func TestRepositoryIDsChooseTheDecoder(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE sensors SET model = NULL WHERE id = $1`, f.sensor)
	raw := mustHex(t, "CBF60B0D0376010ADD7FFF")
	a := f.post(uplink{At: f.now, FCnt: 1, Payload: raw, Brand: "dragino", Model: "lht65n"}.body()).must(t, 200, "stored")
	if a.Result.Model != "dragino/lht65n" || len(a.Result.Faults) != 0 {
		t.Fatalf("answer %s", a.Body)
	}
	a = f.post(uplink{At: f.now.Add(time.Minute), FCnt: 2, Payload: raw}.body()).must(t, 200, "stored")
	if a.Result.Model != "" || len(a.Result.Faults) != 1 || a.Result.Faults[0] != "no decoder for this sensor model" {
		t.Fatalf("without a model or repository ids: %s", a.Body)
	}
	f.exec(`UPDATE sensors SET model = 'EM300-TH' WHERE id = $1`, f.sensor)
	a = f.post(uplink{At: f.now.Add(2 * time.Minute), FCnt: 3, FPort: 85, Payload: mustHex(t, "0175320367C80004683C"), Brand: "dragino", Model: "lht65n"}.body()).
		must(t, 200, "stored")
	if a.Result.Model != "milesight-iot/em300-th" {
		t.Fatalf("the sensor's model must win: %s", a.Body)
	}
}

// A frame that measured nothing (a Milesight device-information report) is a sign of life: the
// sensor's health moves, and no reading, no fault, no missing value is recorded.
func TestInfoFrameIsASignOfLife(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE sensors SET model = 'milesight-iot/em300-th' WHERE id = $1`, f.sensor)
	a := f.post(uplink{At: f.now, FCnt: 1, FPort: 85, Payload: mustHex(t, "FF0B01FF0110")}.body()).must(t, 200, "alive")
	if len(a.Result.Faults) != 0 {
		t.Fatalf("faults %q", a.Result.Faults)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`) + f.count(`SELECT count(*) FROM alerts`); n != 0 {
		t.Fatalf("%d readings and alerts for an information frame", n)
	}
	if n := f.count(`SELECT count(*) FROM sensors WHERE id = $1 AND last_seen_at = $2 AND last_f_cnt = 1`, f.sensor, f.now); n != 1 {
		t.Fatal("the sensor's health did not move")
	}
}
