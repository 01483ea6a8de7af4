package sweep

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// fixture is one organisation with a site, a unit (5 min check-ins) with a
// sensor, two contacts and an org-wide policy, on a fresh database. The
// clock is fixed at t0 and moved by the tests.
type fixture struct {
	t                      *testing.T
	db                     *store.DB
	t0, now                time.Time
	org, site, unit, senID string
	alice, bob             string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, _ := testenv.OpenDB(t)
	t0 := time.Now().UTC().Truncate(time.Second)
	f := &fixture{t: t, db: db, t0: t0, now: t0}
	f.row([]any{&f.org}, `INSERT INTO organizations (name, slug) VALUES ('Org', 'org-sweep') RETURNING id`)
	f.row([]any{&f.site}, `INSERT INTO sites (organization_id, name, timezone) VALUES ($1, 'Main St', 'America/New_York') RETURNING id`, f.org)
	var area string
	f.row([]any{&area}, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Kitchen') RETURNING id`, f.org, f.site)
	// Created an hour ago so the never-reported grace has passed unless a
	// test says otherwise.
	f.row([]any{&f.unit}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, created_at)
		VALUES ($1, $2, $3, 'Walk-in', 0, 5, $4) RETURNING id`, f.org, f.site, area, t0.Add(-time.Hour))
	f.row([]any{&f.senID}, `INSERT INTO sensors (organization_id, unit_id, dev_eui, created_at, updated_at)
		VALUES ($1, $2, 'A84041000181A1B2', $3, $3) RETURNING id`, f.org, f.unit, t0.Add(-time.Hour))
	f.row([]any{&f.alice}, `INSERT INTO escalation_contacts (organization_id, name, phone, email, priority)
		VALUES ($1, 'Alice', '+15555550101', 'Alice@Example.test', 0) RETURNING id`, f.org)
	f.row([]any{&f.bob}, `INSERT INTO escalation_contacts (organization_id, name, phone, priority)
		VALUES ($1, 'Bob', '+15555550102', 1) RETURNING id`, f.org)
	return f
}

func (f *fixture) row(dst []any, sql string, args ...any) {
	f.t.Helper()
	if err := testenv.Pool(f.db).QueryRow(context.Background(), sql, args...).Scan(dst...); err != nil {
		f.t.Fatalf("%v\n%s", err, sql)
	}
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := testenv.Pool(f.db).Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%v\n%s", err, sql)
	}
}

func (f *fixture) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	f.row([]any{&n}, sql, args...)
	return n
}

// policy writes the org-wide policy for every type.
func (f *fixture) policy(steps ...alerting.Step) {
	f.t.Helper()
	b, _ := json.Marshal(steps)
	f.exec(`INSERT INTO notification_policies (organization_id, steps) VALUES ($1, $2)
		ON CONFLICT ON CONSTRAINT notification_policies_scope_key DO UPDATE SET steps = EXCLUDED.steps`, f.org, b)
}

// temperatureAt records a temperature reading of the fixture's sensor at
// at, as the ingest does (unit and sensor).
func (f *fixture) temperatureAt(at time.Time) {
	f.t.Helper()
	f.exec(`UPDATE units SET last_reading_at = $2, last_temperature_at = $2 WHERE id = $1`, f.unit, at)
	f.exec(`UPDATE sensors SET last_seen_at = $2, last_temperature_at = $2 WHERE id = $1`, f.senID, at)
}

// at moves the clock to t0 + d.
func (f *fixture) at(d time.Duration) { f.now = f.t0.Add(d) }

// run runs the named task at the fixture's clock.
func (f *fixture) run(name string) {
	f.t.Helper()
	for _, task := range Tasks(f.db, func() time.Time { return f.now }, "https://app.test", nil) {
		if task.Name == name {
			if err := task.Run(context.Background()); err != nil {
				f.t.Fatalf("%s: %v", name, err)
			}
			return
		}
	}
	f.t.Fatalf("no task %q", name)
}

// alert is the unit's alert of typ (the newest one).
type alertRow struct {
	ID, Status, Severity string
	Step                 int
	Next                 *time.Time
	Triggered            time.Time
}

func (f *fixture) alert(typ string) (alertRow, bool) {
	f.t.Helper()
	var a alertRow
	err := testenv.Pool(f.db).QueryRow(context.Background(), `SELECT id, status, severity, escalation_step, next_escalation_at, triggered_at
		FROM alerts WHERE unit_id = $1 AND type = $2 ORDER BY created_at DESC, triggered_at DESC LIMIT 1`, f.unit, typ).
		Scan(&a.ID, &a.Status, &a.Severity, &a.Step, &a.Next, &a.Triggered)
	if err != nil {
		return a, false
	}
	return a, true
}

func (f *fixture) unitStatus() string {
	f.t.Helper()
	var s string
	f.row([]any{&s}, `SELECT status FROM units WHERE id = $1`, f.unit)
	return s
}

func step(after int, channels []string, contacts ...string) alerting.Step {
	return alerting.Step{AfterMinutes: after, Channels: channels, ContactIDs: contacts}
}

var sms = []string{"sms"}
