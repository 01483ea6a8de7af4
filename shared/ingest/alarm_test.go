package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// A warm cooler through the real webhook: one noisy reading pages nobody;
// ten minutes out of range open one alert and queue exactly one SMS and one
// e-mail (in °F, the organisation's unit); recovery resolves the alert and
// queues "back to normal" to the same people.
func TestWarmCoolerPagesOnceAndRecovers(t *testing.T) {
	f := newFixture(t)
	t0 := f.now
	steps := []struct {
		at     time.Duration
		c      float64
		status string
	}{
		{0, 3, "ok"},
		{time.Minute, 9, "excursion"}, // a spike...
		{2 * time.Minute, 3, "restoring"},
		{3 * time.Minute, 3.5, "ok"}, // ...that paged nobody
		{4 * time.Minute, 8, "excursion"},
		{9 * time.Minute, 8.5, "excursion"},
		{14 * time.Minute, 8.7, "alarm_active"}, // 10 min out of range
		{19 * time.Minute, 9.1, "alarm_active"}, // still one alert
		{24 * time.Minute, 3, "restoring"},
		{29 * time.Minute, 2.5, "ok"},
	}
	for i, s := range steps {
		a := f.post(uplink{At: t0.Add(s.at), FCnt: i + 1, Decoded: temp(s.c)}.body()).must(t, 200, "stored")
		if a.Result.UnitStatus != s.status {
			t.Fatalf("step %d (%v, %.1f °C): unit %s, want %s", i, s.at, s.c, a.Result.UnitStatus, s.status)
		}
		if i == 5 && f.count(`SELECT count(*) FROM notifications`) != 0 {
			t.Fatal("paged before the confirm time")
		}
	}
	if n := f.count(`SELECT count(*) FROM alerts WHERE unit_id = $1 AND type = 'temp_excursion'`, f.unitID); n != 1 {
		t.Fatalf("%d temperature alerts, want exactly 1", n)
	}
	var status, resolution string
	var steps1 int
	var triggered time.Time
	if err := testenv.Pool(f.db).QueryRow(context.Background(), `SELECT status, coalesce(resolution, ''), escalation_step, triggered_at FROM alerts WHERE unit_id = $1`, f.unitID).
		Scan(&status, &resolution, &steps1, &triggered); err != nil {
		t.Fatal(err)
	}
	if status != "resolved" || resolution != "auto" || steps1 != 1 || !triggered.Equal(t0.Add(14*time.Minute)) {
		t.Errorf("alert: %s %s step %d triggered %v", status, resolution, steps1, triggered)
	}
	rows, err := testenv.Pool(f.db).Query(context.Background(), `SELECT kind, channel, recipient, body FROM notifications ORDER BY kind, channel`)
	if err != nil {
		t.Fatal(err)
	}
	type note struct{ Kind, Channel, Recipient, Body string }
	notes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[note])
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 4 {
		t.Fatalf("%d notifications, want 2 alarms + 2 back-to-normal: %+v", len(notes), notes)
	}
	alarmSMS := notes[1] // alert/sms
	if alarmSMS.Kind != "alert" || alarmSMS.Channel != "sms" || alarmSMS.Recipient != "+15555550100" {
		t.Fatalf("alarm sms: %+v", alarmSMS)
	}
	for _, want := range []string{"Walk-in", "Main St", "°F", "ACK"} {
		if !strings.Contains(alarmSMS.Body, want) {
			t.Errorf("the SMS %q does not mention %q", alarmSMS.Body, want)
		}
	}
	if notes[0].Recipient != "chef@example.test" || notes[2].Kind != "resolved" {
		t.Errorf("notifications: %+v", notes)
	}
	if n := f.count(`SELECT count(*) FROM alert_events`); n < 2 {
		t.Errorf("%d alert events: opening and resolution must be recorded", n)
	}
	// Every status transition is in the audit trail, alert or not.
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'unit.status_changed' AND entity_id = $1`, f.unitID); n != 7 {
		t.Errorf("%d status transitions recorded, want 7", n)
	}
}

// A reading delivered late is stored and judged on its own time, but never
// moves the unit's state backwards.
func TestLateReadingIsStoredButDoesNotRewindTheState(t *testing.T) {
	f := newFixture(t)
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "stored")
	f.post(uplink{At: f.now.Add(10 * time.Minute), FCnt: 3, Decoded: temp(3.2)}.body()).must(t, 200, "stored")
	a := f.post(uplink{At: f.now.Add(5 * time.Minute), FCnt: 2, Decoded: temp(9)}.body()).must(t, 200, "stored")
	if !a.Result.Late || a.Result.UnitStatus == "excursion" {
		t.Errorf("late reading: %+v", a.Result)
	}
	var status string
	var last time.Time
	if err := testenv.Pool(f.db).QueryRow(context.Background(), `SELECT status, last_reading_at FROM units WHERE id = $1`, f.unitID).Scan(&status, &last); err != nil {
		t.Fatal(err)
	}
	if status != "ok" || !last.Equal(f.now.Add(10*time.Minute)) {
		t.Errorf("unit %s last %v", status, last)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 3 {
		t.Errorf("%d readings stored, want 3", n)
	}
}

// roundTrips counts what the pool sends: one per query or batch.
type roundTrips struct{ n int }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n++
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n++
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// An uplink that changes no alert costs two database round trips.
func TestAnUplinkCostsTwoRoundTrips(t *testing.T) {
	f := newFixture(t)
	cfg, err := pgxpool.ParseConfig(f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	counter := &roundTrips{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.handler.DB = store.New(pool)
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "stored")
	counter.n = 0
	f.post(uplink{At: f.now.Add(time.Minute), FCnt: 2, Decoded: temp(3.1)}.body()).must(t, 200, "stored")
	if counter.n != 2 {
		t.Errorf("%d round trips, want 2", counter.n)
	}
}
