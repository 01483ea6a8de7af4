package judge

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/lorawan/decoders"
	"github.com/frostguard/functions/shared/store"
)

var t0 = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

func unit() store.UnitAlerting {
	sensorAt, logAt := t0.Add(-10*time.Minute), t0.Add(-2*time.Minute)
	return store.UnitAlerting{ID: "u1", OrgID: "o1", Name: "Walk-in", SiteName: "Main", TimeZone: "Europe/Paris", TempUnit: "C",
		Type: "walk_in_freezer", MinC: -30, MaxC: -15, HysteresisC: 0.5, ConfirmSeconds: 600, DoorConfirmSeconds: 1200,
		CoolingSlopeCPerHour: 1.5, CoolingReadings: 15, DefrostSchedule: json.RawMessage(`[{"start_minute":120,"duration_minutes":45}]`),
		Status: "ok", StatusSince: t0.Add(-time.Hour), LastReadingAt: &sensorAt, LastManualLogAt: &logAt, LastTemperatureAt: &sensorAt,
		Recent: []store.TempSample{{At: t0.Add(-15 * time.Minute), C: -20}, {At: sensorAt, C: -20.5}}}
}

// One mapping for both flows: the same configuration; a hand reading is
// late against the newest reading of either kind, a sensor reading against
// the sensors' only; the sensor probe's measuring range narrows the plausible range.
func TestInputs(t *testing.T) {
	u := unit()
	open := []store.OpenAlertRef{{Type: "temp_excursion"}, {Type: "sensor_fault", SensorID: "s1"}}
	em300, _ := decoders.Lookup("milesight-iot/em300-th") // -30..70 °C
	sensor := Reading{Obs: alerting.Observation{At: t0, SensorID: "s1"}, Model: em300}
	cfg, st, o := Inputs(u, open, sensor)
	if cfg.Plausible != (alerting.Range{MinC: -30, MaxC: 60}) || cfg.Cooling.SlopeCPerHour != 1.5 || len(cfg.Defrost) != 1 ||
		cfg.Defrost[0].StartMinute != 120 || cfg.Location.String() != "Europe/Paris" {
		t.Fatalf("sensor config %+v", cfg)
	}
	if !st.LastReadingAt.Equal(t0.Add(-10*time.Minute)) || len(st.Recent) != 2 || !o.Unit["temp_excursion"] || !o.Sensor["s1"]["sensor_fault"] {
		t.Fatalf("sensor state %+v open %+v", st, o)
	}
	mcfg, mst, _ := Inputs(u, open, Reading{Obs: alerting.Observation{At: t0, Manual: true}, Model: em300})
	if mcfg.Plausible != (alerting.Range{MinC: -60, MaxC: 60}) || !mst.LastReadingAt.Equal(t0.Add(-2*time.Minute)) {
		t.Fatalf("manual: plausible %+v, last reading %v", mcfg.Plausible, mst.LastReadingAt)
	}
	u.DefrostSchedule = json.RawMessage(`"nonsense"`)
	if cfg, _, _ := Inputs(u, nil, sensor); len(cfg.Defrost) != 0 {
		t.Fatalf("an unreadable schedule: %+v", cfg.Defrost)
	}
}

type plans struct{ asked []string }

func (p *plans) NotificationPlan(_ context.Context, typ string) (store.NotificationPlan, error) {
	p.asked = append(p.asked, typ)
	return store.NotificationPlan{Found: true, Steps: []alerting.Step{
		{AfterMinutes: 0, Channels: []string{"sms"}, ContactIDs: []string{"c1"}},
		{AfterMinutes: 15, Channels: []string{"sms"}, ContactIDs: []string{"c1"}}},
		Contacts: map[string]store.Contact{"c1": {ID: "c1", Phone: "+15555550100"}}}, nil
}

// The verdict's writes: an implausible value is never stored as a
// temperature; a late reading's sensor fault pages from now, not from its
// reading time (escalation steps then follow from now, not all at once).
func TestJudgeImplausibleLateReading(t *testing.T) {
	u := unit()
	hot := 327.67
	p := &plans{}
	v, err := Judge(context.Background(), u, nil, Reading{Obs: alerting.Observation{At: t0.Add(-time.Hour), SensorID: "s1", TemperatureC: &hot},
		Model: lht65(t), Now: t0}, p, "https://app.test")
	if err != nil {
		t.Fatal(err)
	}
	if v.StoredTemperatureC != nil || !v.Decision.Late || v.Writes.UnitState != nil || len(v.Writes.Opens) != 1 {
		t.Fatalf("verdict %+v", v)
	}
	o := v.Writes.Opens[0]
	if o.Type != "sensor_fault" || o.Severity != "critical" || o.SensorID != "s1" || !o.PagingFrom.Equal(t0) ||
		o.NextEscalationAt == nil || !o.NextEscalationAt.Equal(t0.Add(15*time.Minute)) || len(o.Notifications) != 1 {
		t.Fatalf("open %+v", o)
	}
	if len(p.asked) != 1 || p.asked[0] != "sensor_fault" {
		t.Fatalf("plans asked %v", p.asked)
	}
}

func lht65(t *testing.T) decoders.Model {
	m, ok := decoders.Lookup("dragino/lht65")
	if !ok {
		t.Fatal("dragino/lht65 is not in the registry")
	}
	return m
}

// The measuring range comes from the sensor model registry (issue 15's
// shared/lorawan/decoders): the probe that measured the unit picks it, else
// the span of the model's documented probes.
func TestMeasuringRangeFromTheRegistry(t *testing.T) {
	pt100, _ := decoders.Lookup("milesight-iot/em500-pt100")
	cases := []struct {
		name  string
		model decoders.Model
		probe string
		want  *alerting.Range
	}{
		{"the built-in sensor", lht65(t), "internal", &alerting.Range{MinC: -40, MaxC: 85}},
		{"the external DS18B20", lht65(t), "external", &alerting.Range{MinC: -55, MaxC: 125}},
		{"no probe: the span of the model's probes", lht65(t), "", &alerting.Range{MinC: -55, MaxC: 125}},
		{"a probe the model has not: the span", lht65(t), "probe3", &alerting.Range{MinC: -55, MaxC: 125}},
		{"a PT100 reaches -200", pt100, "probe", &alerting.Range{MinC: -200, MaxC: 850}},
		{"a sensor the registry does not know", decoders.Generic(), "internal", nil},
	}
	for _, c := range cases {
		got := MeasuringRange(c.model, c.probe)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
