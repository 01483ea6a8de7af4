package originimport

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/originimport/origintest"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// originHashes fingerprints every table of the origin.
func originHashes(t *testing.T, dsn string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, table := range tables {
		var h string
		if err := conn.QueryRow(ctx, `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM `+pgx.Identifier{table}.Sanitize()+` x`).Scan(&h); err != nil {
			t.Fatal(err)
		}
		out[table] = h
	}
	return out
}

// The dry run reports everything and writes nothing, on either side; the
// origin is never written by a real run either, and its session refuses
// writes.
func TestDryRunWritesNothing(t *testing.T) {
	e := newEnv(t, 300)
	before := originHashes(t, e.origin)
	rep := e.run(Options{DryRun: true})
	status := map[string]string{}
	for _, o := range rep.Organizations {
		status[o.Name] = o.Status
	}
	want := map[string]string{"Bistro Verde": "would-import", "Harbor Fish Co": "would-import", "Blocked Bakery": "blocked", "Gone Grocers": "skipped"}
	if !reflect.DeepEqual(status, want) {
		t.Fatalf("statuses %v, want %v", status, want)
	}
	if !rep.Failed() {
		t.Error("a blocked organisation must fail the run")
	}
	blocked := rep.org(t, "blocked")
	if len(blocked.Problems) == 0 || blocked.Problems[0].Code != "thresholds_impossible" || blocked.Problems[0].Severity != Blocking {
		t.Errorf("blocked: %+v", blocked.Problems)
	}
	if len(rep.Global) != 1 || rep.Global[0].Code != "orphan" || rep.Global[0].ID != origintest.ID("orphan/device") {
		t.Errorf("orphans: %+v", rep.Global)
	}
	b := rep.org(t, "bistro")
	if b.Readings.Copied != 928 || b.Readings.OutsidePartitions != 1 || b.Readings.Scales["fahrenheit by series"] != 200 {
		t.Errorf("bistro's readings, as they would be copied: %+v", b.Readings)
	}
	for _, l := range b.Tables {
		if !l.Balanced {
			t.Errorf("dry run line %s does not balance: %+v", l.Origin, l)
		}
	}
	for table, h := range tableHashes(t, e.db) {
		if h != "d41d8cd98f00b204e9800998ecf8427e" {
			t.Errorf("the dry run wrote %s", table)
		}
	}
	if n := e.count(`SELECT count(*) FROM origin_imports`) + e.count(`SELECT count(*) FROM origin_import_checkpoints`); n != 0 {
		t.Errorf("the dry run wrote %d bookkeeping rows", n)
	}

	// a real run, then the origin is as it was
	e.mustImport(Options{Orgs: both})
	if after := originHashes(t, e.origin); !reflect.DeepEqual(before, after) {
		t.Error("the origin changed")
	}
	ctx := context.Background()
	o, err := OpenOrigin(ctx, e.origin)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close(ctx)
	if _, err := o.conn.Exec(ctx, `DELETE FROM sensor_readings`); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("the origin session accepted a write: %v", err)
	}
}

// An organisation with a blocking problem is not written at all.
func TestBlockedOrganisationIsNotWritten(t *testing.T) {
	e := newEnv(t, 10)
	rep := e.run(Options{Orgs: []string{origintest.ID("blocked")}})
	if o := rep.org(t, "blocked"); o.Status != "blocked" || !rep.Failed() {
		t.Fatalf("%s", o.Status)
	}
	if n := e.count(`SELECT count(*) FROM organizations`) + e.count(`SELECT count(*) FROM users`); n != 0 {
		t.Fatalf("%d rows written for a blocked organisation", n)
	}
}

// What the origin receives during the cut-over (readings, a late one, an
// acknowledgement, a rename) is copied by the next run into the live
// organisation, which it updates without hiding it again.
func TestDeltaRunCopiesWhatArrivedMeanwhile(t *testing.T) {
	e := newEnv(t, 300)
	e.mustImport(Options{Orgs: both})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.origin) // the origin's own system, still running
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	walkin, probe := origintest.ID("bistro/unit/walkin"), origintest.ID("bistro/device/walkin-probe")
	for _, sql := range []string{
		`INSERT INTO sensor_readings (unit_id, device_id, temperature, recorded_at, received_at, source)
			SELECT '` + walkin + `', '` + probe + `', 4.2, now() - i * interval '1 minute', now(), 'ttn' FROM generate_series(1, 5) i`,
		// a late uplink: recorded two hours ago, stored now
		`INSERT INTO sensor_readings (unit_id, device_id, temperature, recorded_at, received_at, source)
			VALUES ('` + walkin + `', '` + probe + `', 4.4, now() - interval '2 hours' - interval '7 seconds', now(), 'ttn')`,
		`UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = '` + origintest.ID("profile/olivia") + `',
			metadata = '{"acknowledgementNotes":"On it"}' WHERE id = '` + origintest.ID("bistro/alert/escalated") + `'`,
		`UPDATE units SET name = 'Walk-in cooler' WHERE id = '` + walkin + `'`,
		`UPDATE escalation_contacts SET phone = '+351 912 000 111' WHERE id = '` + origintest.ID("harbor/contact/henry") + `'`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	// the night manager verified her phone in FrostGuard; Adam's changed in the origin
	if _, err := testenv.Pool(e.db).Exec(ctx, `UPDATE escalation_contacts SET phone_verified_at = now() WHERE id IN ($1, $2)`,
		origintest.ID("bistro/contact/night"), origintest.ID("harbor/contact/henry")); err != nil {
		t.Fatal(err)
	}
	// Stripe has meanwhile told FrostGuard of an upgrade: its word wins
	if _, err := testenv.Pool(e.db).Exec(ctx, `UPDATE subscriptions SET plan = 'haccp', last_event_created = now() WHERE organization_id = $1`, origintest.ID("bistro")); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.Pool(e.db).Exec(ctx, `UPDATE organizations SET plan = 'haccp', sensor_limit = 100 WHERE id = $1`, origintest.ID("bistro")); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Hour)
	rep := e.mustImport(Options{Orgs: both})
	b := rep.org(t, "bistro")
	if b.Status != "updated" || b.Readings.CaughtUp != 6 {
		t.Fatalf("%s, %d readings caught up, want 6", b.Status, b.Readings.CaughtUp)
	}
	var name, status, note string
	e.rowArgs(`SELECT name FROM units WHERE id = $1`, []any{walkin}, &name)
	e.rowArgs(`SELECT status, acknowledged_note FROM alerts WHERE id = $1`, []any{origintest.ID("bistro/alert/escalated")}, &status, &note)
	if name != "Walk-in cooler" || status != "acknowledged" || note != "On it" {
		t.Errorf("after the delta: %q, alert %s %q", name, status, note)
	}
	if n := e.count(`SELECT count(*) FROM escalation_contacts WHERE id = $1 AND phone_verified_at IS NOT NULL`, origintest.ID("bistro/contact/night")); n != 1 {
		t.Error("a delta run cleared a verification made in FrostGuard")
	}
	if n := e.count(`SELECT count(*) FROM escalation_contacts WHERE id = $1 AND phone = '+351912000111' AND phone_verified_at IS NULL`,
		origintest.ID("harbor/contact/henry")); n != 1 {
		t.Error("a phone changed in the origin kept the old number's verification")
	}
	var plan, subPlan string
	var limit int
	e.rowArgs(`SELECT o.plan, o.sensor_limit, s.plan FROM organizations o JOIN subscriptions s ON s.organization_id = o.id WHERE o.id = $1`,
		[]any{origintest.ID("bistro")}, &plan, &limit, &subPlan)
	if plan != "haccp" || limit != 100 || subPlan != "haccp" {
		t.Errorf("the origin's subscription overwrote Stripe's word: %s %d %s", plan, limit, subPlan)
	}
	if n := e.count(`SELECT count(*) FROM organizations WHERE import_state IS NOT NULL`); n != 0 {
		t.Error("a delta hid a live organisation")
	}
}

// The importer reads the bare drizzle schema too (no legacy table, no
// drifted column).
func TestImportOnTheBareDrizzleSchema(t *testing.T) {
	ctx := context.Background()
	origin := origintest.New(t, origintest.Drizzle)
	conn, err := pgx.Connect(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	id := origintest.ID
	for _, sql := range []string{
		`INSERT INTO organizations (id, name, slug) VALUES ('` + id("plain") + `', 'Plain Deli', 'plain-deli')`,
		`INSERT INTO sites (id, organization_id, name) VALUES ('` + id("plain/site") + `', '` + id("plain") + `', 'Deli')`,
		`INSERT INTO areas (id, site_id, name) VALUES ('` + id("plain/area") + `', '` + id("plain/site") + `', 'Counter')`,
		`INSERT INTO units (id, area_id, name, unit_type, temp_min, temp_max) VALUES ('` + id("plain/unit") + `', '` + id("plain/area") + `', 'Case', 'display_case', 34, 40)`,
		`INSERT INTO devices (id, unit_id, device_eui) VALUES ('` + id("plain/device") + `', '` + id("plain/unit") + `', '0011223344556677')`,
		`INSERT INTO sensor_readings (unit_id, device_id, temperature, recorded_at) SELECT '` + id("plain/unit") + `', '` + id("plain/device") + `', 3.5,
			now() - i * interval '5 minutes' FROM generate_series(1, 50) i`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	db, _ := testenv.OpenDB(t)
	e := &env{t: t, origin: origin, db: db, now: time.Now()}
	if o := e.run(Options{DryRun: true}).org(t, "plain"); o.Status != "would-import" {
		t.Fatalf("dry run: %s %s", o.Status, o.Error)
	}
	rep := e.mustImport(Options{})
	if o := rep.org(t, "plain"); o.Readings.Copied != 50 {
		t.Fatalf("%d readings", o.Readings.Copied)
	}
}

// TestResumeAfterKill kills a real import process in the middle of a
// readings COPY (SIGKILL: no cleanup of any kind), checks that the
// organisation is still hidden and holds exactly the committed batches,
// resumes it, and compares the result with an uninterrupted import of the
// same origin: the same readings, judged the same way.
func TestResumeAfterKill(t *testing.T) {
	if os.Getenv("FROSTGUARD_IMPORT_CHILD") != "" {
		resumeChild(t)
		return
	}
	e := newEnv(t, 12000)
	// the reference: the same origin imported in one go
	refDB, _ := testenv.OpenDB(t)
	ref := &env{t: t, origin: e.origin, db: refDB, now: e.now}
	refRep := ref.mustImport(Options{Orgs: both})

	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeAfterKill$")
	cmd.Env = append(os.Environ(), "FROSTGUARD_IMPORT_CHILD=1", "CHILD_ORIGIN="+e.origin, "CHILD_DB="+e.dsn,
		"CHILD_NOW="+e.now.Format(time.RFC3339Nano))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// wait until batches of several units are committed, then kill
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if n := e.count(`SELECT count(*) FROM origin_import_checkpoints WHERE table_name LIKE 'sensor\_readings:%' AND rows > 0`); n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the child made no progress:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	bistro := origintest.ID("bistro")
	var state *string
	e.rowArgs(`SELECT import_state FROM organizations WHERE id = $1`, []any{bistro}, &state)
	if state == nil || *state != "importing" {
		t.Fatalf("killed mid-import, the organisation is visible (%v)", state)
	}
	committed := e.count(`SELECT coalesce(sum(rows), 0) FROM origin_import_checkpoints WHERE organization_id = $1 AND table_name LIKE 'sensor\_readings:%'`, bistro)
	held := e.count(`SELECT count(*) FROM sensor_readings WHERE organization_id = $1`, bistro)
	if committed == 0 || held != committed {
		t.Fatalf("after the kill: %d readings held, %d committed by checkpoints", held, committed)
	}
	if done := e.count(`SELECT count(*) FROM origin_import_checkpoints WHERE organization_id = $1 AND table_name = 'sensor_readings'`, bistro); done != 0 {
		t.Fatal("the kill came after the readings: nothing was resumed")
	}

	rep := e.mustImport(Options{Orgs: both})
	got, want := rep.org(t, "bistro"), refRep.org(t, "bistro")
	if got.Status != "imported" || got.Readings.Copied != want.Readings.Copied || !reflect.DeepEqual(got.Readings.Scales, want.Readings.Scales) {
		t.Errorf("resumed: %s %d %v\nuninterrupted: %d %v", got.Status, got.Readings.Copied, got.Readings.Scales, want.Readings.Copied, want.Readings.Scales)
	}
	if a, b := readingsHash(t, e.db), readingsHash(t, refDB); a != b {
		t.Error("the resumed import's readings differ from an uninterrupted import's")
	}
}

// readingsHash fingerprints the readings (not their ids, which come from a
// sequence).
func readingsHash(t *testing.T, db *store.DB) string {
	t.Helper()
	var h string
	if err := testenv.Pool(db).QueryRow(context.Background(), `SELECT md5(string_agg(concat_ws(',', unit_id, sensor_id, recorded_at, received_at,
			temperature_c, humidity, battery_percent, rssi, source, raw), '|' ORDER BY unit_id, recorded_at, sensor_id, temperature_c, raw::text))
		FROM sensor_readings`).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// resumeChild is the import the parent kills: small batches, each held
// open a moment after its COPY so that the kill lands inside one.
func resumeChild(t *testing.T) {
	now, err := time.Parse(time.RFC3339Nano, os.Getenv("CHILD_NOW"))
	if err != nil {
		t.Fatal(err)
	}
	db := testenv.Open(t, os.Getenv("CHILD_DB"), 8)
	testAfterCopy = func() { time.Sleep(40 * time.Millisecond) }
	ctx := context.Background()
	o, err := OpenOrigin(ctx, os.Getenv("CHILD_ORIGIN"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, testenv.Pool(db), o, Options{Orgs: both, BatchRows: 500, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	t.Log("the child finished before it was killed")
}
