package judge

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/alerting"
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
// the sensors' only; the sensor's model narrows the plausible range.
func TestInputs(t *testing.T) {
	u := unit()
	open := []store.OpenAlertRef{{Type: "temp_excursion"}, {Type: "sensor_fault", SensorID: "s1"}}
	sensor := Reading{Obs: alerting.Observation{At: t0, SensorID: "s1"}, SensorModel: "Milesight EM300-TH"}
	cfg, st, o := Inputs(u, open, sensor)
	if cfg.Plausible != (alerting.Range{MinC: -30, MaxC: 60}) || cfg.Cooling.SlopeCPerHour != 1.5 || len(cfg.Defrost) != 1 ||
		cfg.Defrost[0].StartMinute != 120 || cfg.Location.String() != "Europe/Paris" {
		t.Fatalf("sensor config %+v", cfg)
	}
	if !st.LastReadingAt.Equal(t0.Add(-10*time.Minute)) || len(st.Recent) != 2 || !o.Unit["temp_excursion"] || !o.Sensor["s1"]["sensor_fault"] {
		t.Fatalf("sensor state %+v open %+v", st, o)
	}
	mcfg, mst, _ := Inputs(u, open, Reading{Obs: alerting.Observation{At: t0, Manual: true}, SensorModel: "Milesight EM300-TH"})
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
		SensorModel: "Dragino LHT65", Now: t0}, p, "https://app.test")
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

// The measuring range comes from the sensor model registry (issue 15's
// shared/lorawan/decoders): the span of the model's documented probes.
func TestMeasuringRangeFromTheRegistry(t *testing.T) {
	cases := []struct {
		decoder, model string
		want           *alerting.Range
	}{
		{"", "Dragino LHT65", &alerting.Range{MinC: -55, MaxC: 125}}, // built-in -40..85 and the external probe -55..125
		{"dragino-lht65", "", &alerting.Range{MinC: -55, MaxC: 125}},
		{"", "a probe nobody knows", nil},
	}
	for _, c := range cases {
		got := MeasuringRange(c.decoder, c.model)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%q/%q: %v, want %v", c.decoder, c.model, got, c.want)
		}
	}
}
