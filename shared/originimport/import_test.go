package originimport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/originimport/origintest"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// env is an origin filled with the quirk fixture and an empty FrostGuard.
type env struct {
	t      *testing.T
	origin string
	db     *store.DB
	dsn    string
	now    time.Time
}

func newEnv(t *testing.T, readings int) *env {
	t.Helper()
	e := &env{t: t, now: time.Now().UTC().Truncate(time.Second)}
	e.origin = origintest.New(t, origintest.Live)
	if err := origintest.Fill(context.Background(), e.origin, origintest.Options{Now: e.now, Readings: readings}); err != nil {
		t.Fatal(err)
	}
	e.db, e.dsn = testenv.OpenDB(t)
	return e
}

func (e *env) run(opts Options) *Report {
	e.t.Helper()
	ctx := context.Background()
	o, err := OpenOrigin(ctx, e.origin)
	if err != nil {
		e.t.Fatal(err)
	}
	defer o.Close(ctx)
	if opts.Now == nil {
		opts.Now = func() time.Time { return e.now }
	}
	rep, err := Run(ctx, testenv.Pool(e.db), o, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// org is an organisation's report, failing the test if it is absent.
func (r *Report) org(t *testing.T, name string) OrgReport {
	t.Helper()
	for _, o := range r.Organizations {
		if o.ID == origintest.ID(name) {
			return o
		}
	}
	t.Fatalf("no report for %s", name)
	return OrgReport{}
}

func (e *env) row(sql string, dst ...any) {
	e.t.Helper()
	if err := testenv.Pool(e.db).QueryRow(context.Background(), sql).Scan(dst...); err != nil {
		e.t.Fatalf("%v\n%s", err, sql)
	}
}

func (e *env) rowArgs(sql string, args []any, dst ...any) {
	e.t.Helper()
	if err := testenv.Pool(e.db).QueryRow(context.Background(), sql, args...).Scan(dst...); err != nil {
		e.t.Fatalf("%v\n%s", err, sql)
	}
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	e.rowArgs(sql, args, &n)
	return n
}

var both = []string{origintest.ID("bistro"), origintest.ID("harbor")}

// mustImport runs an import of orgs that must end with every one imported
// and every line of the report balanced.
func (e *env) mustImport(opts Options) *Report {
	e.t.Helper()
	rep := e.run(opts)
	for _, o := range rep.Organizations {
		if o.Status != "imported" && o.Status != "updated" {
			var b bytes.Buffer
			rep.Print(&b)
			e.t.Fatalf("%s: %s %s\n%s", o.Name, o.Status, o.Error, b.String())
		}
		for _, l := range o.Tables {
			if !l.Balanced {
				e.t.Errorf("%s %s -> %s does not balance: %+v", o.Name, l.Origin, l.Ours, l)
			}
		}
	}
	return rep
}

func ptr[T any](v T) *T { return &v }

// TestImportQuirkFixture imports bistro (every quirk of the origin) and
// harbor, and checks the counts and one value of each rule.
func TestImportQuirkFixture(t *testing.T) {
	e := newEnv(t, 300)
	rep := e.mustImport(Options{Orgs: both})
	id := origintest.ID
	b := rep.org(t, "bistro")

	// the organisations: live, slugs valid, plans from the subscriptions
	var name, slug, tz, unit, plan string
	var limit int
	var customer *string
	var state *string
	e.rowArgs(`SELECT name, slug, timezone, temp_unit, plan, sensor_limit, stripe_customer_id, import_state FROM organizations WHERE id = $1`,
		[]any{id("bistro")}, &name, &slug, &tz, &unit, &plan, &limit, &customer, &state)
	if name != "Bistro Verde" || slug != "bistro-verde" || tz != "America/New_York" || unit != "F" || plan != "pro" || limit != 25 ||
		customer == nil || *customer != "cus_BISTRO" || state != nil {
		t.Errorf("bistro: %s %s %s %s %s %d %v %v", name, slug, tz, unit, plan, limit, customer, state)
	}
	e.rowArgs(`SELECT slug, plan FROM organizations WHERE id = $1`, []any{id("harbor")}, &slug, &plan)
	if slug != "harbor-fish" || plan != "starter" {
		t.Errorf("harbor: %s %s", slug, plan)
	}
	var subStatus string
	var trialEnd *time.Time
	e.rowArgs(`SELECT status, trial_ends_at FROM subscriptions WHERE organization_id = $1`, []any{id("harbor")}, &subStatus, &trialEnd)
	if subStatus != "trial" || trialEnd != nil {
		t.Errorf("harbor's subscription: %s %v", subStatus, trialEnd)
	}
	e.rowArgs(`SELECT status, stripe_subscription_id FROM subscriptions WHERE organization_id = $1`, []any{id("bistro")}, &subStatus, &customer)
	if subStatus != "active" || customer == nil || *customer != "sub_BISTRO" {
		t.Errorf("bistro's subscription: the newest row, not %s %v", subStatus, customer)
	}

	// people: the Stack Auth id is the subject; phones made E.164 or dropped;
	// olivia belongs to both organisations
	var phone *string
	var verified *time.Time
	e.rowArgs(`SELECT phone, phone_verified_at FROM users WHERE subject = $1`, []any{id("user/olivia")}, &phone, &verified)
	if phone == nil || *phone != "+15550100001" || verified == nil {
		t.Errorf("olivia: %v %v", phone, verified)
	}
	e.rowArgs(`SELECT phone FROM users WHERE subject = $1`, []any{id("user/adam")}, &phone)
	if phone != nil {
		t.Errorf("adam's national number was imported: %s", *phone)
	}
	if n := e.count(`SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.subject = $1`, id("user/olivia")); n != 2 {
		t.Errorf("olivia has %d memberships, want 2", n)
	}
	if n := e.count(`SELECT count(*) FROM users WHERE subject = $1 AND email IS NULL`, id("user/sam")); n != 1 {
		t.Error("a member without a profile is not a user")
	}

	// units: °F thresholds in °C, the governing rule's overrides and delays
	type unitCfg struct {
		min, max               float64
		confirm, door, checkin int
		manual                 *int
		deleted                bool
		status                 string
	}
	units := map[string]unitCfg{
		"walkin":    {1.67, 5, 600, 1200, 300, nil, false, "ok"},
		"reachin":   {0, 4, 300, 1200, 600, ptr(14400), false, "monitoring_interrupted"},
		"freezer":   {-23.33, -17.78, 600, 1200, 300, nil, false, "alarm_active"},
		"barfridge": {0.56, 4.44, 600, 1200, 300, nil, true, "ok"},
	}
	for n, want := range units {
		var got unitCfg
		var deleted *time.Time
		e.rowArgs(`SELECT temp_min_c::float8, temp_max_c::float8, confirm_seconds, door_confirm_seconds, checkin_interval_seconds,
				manual_log_interval_seconds, deleted_at, status FROM units WHERE id = $1`, []any{id("bistro/unit/" + n)},
			&got.min, &got.max, &got.confirm, &got.door, &got.checkin, &got.manual, &deleted, &got.status)
		got.deleted = deleted != nil
		if fmt.Sprint(got.min, got.max, got.confirm, got.door, got.checkin, deref(got.manual), got.deleted, got.status) !=
			fmt.Sprint(want.min, want.max, want.confirm, want.door, want.checkin, deref(want.manual), want.deleted, want.status) {
			t.Errorf("unit %s: %v %v %v %v %v %v %v %v", n, got.min, got.max, got.confirm, got.door, got.checkin, deref(got.manual), got.deleted, got.status)
		}
	}

	// sensors: DevEUIs normalised, the DevEUI active in two organisations in
	// both (ours are unique per organisation), the devices of deleted units
	// unregistered, the BLE tag not a sensor
	sensors := map[string]string{"bistro/device/walkin-probe": "A84041000181C0DE active", "bistro/device/reachin-probe": "A84041000181C0DF active",
		"harbor/device/dup-probe": "A84041000181C0DF active", "bistro/device/spare": "A84041000181C0E2 active",
		"bistro/device/bar-probe": "A84041000181C0E1 deleted"}
	for dev, want := range sensors {
		var eui string
		var deleted bool
		e.rowArgs(`SELECT dev_eui, deleted_at IS NOT NULL FROM sensors WHERE id = $1`, []any{id(dev)}, &eui, &deleted)
		if got := eui + map[bool]string{true: " deleted", false: " active"}[deleted]; got != want {
			t.Errorf("%s: %s, want %s", dev, got, want)
		}
	}
	if n := e.count(`SELECT count(*) FROM sensors WHERE id = $1`, id("bistro/device/ble-tag")); n != 0 {
		t.Error("the BLE tag became a sensor")
	}

	// the TTN connection: the plaintext secret kept only as SHA-256 and last 4
	var hash []byte
	var last4 string
	e.rowArgs(`SELECT secret_hash, secret_last4 FROM network_connections WHERE kind = 'ttn' AND application_id = 'bistro-app'`, nil, &hash, &last4)
	sum := sha256.Sum256([]byte("ws_bistro_0123456789abcdef"))
	if !bytes.Equal(hash, sum[:]) || last4 != "cdef" {
		t.Errorf("bistro's secret: %x %s", hash, last4)
	}
	if n := e.count(`SELECT count(*) FROM network_connections WHERE organization_id = $1`, id("bistro")); n != 1 {
		t.Errorf("%d connections: the one without an application must not be imported", n)
	}

	// policies in our step shape
	olivia, night := id("bistro/contact/olivia"), id("bistro/contact/night")
	adam := derivedID(id("bistro"), "role-contact", id("user/adam"))
	policy := func(scope string, args ...any) string {
		var steps []byte
		var resolve bool
		var qs, qe *string
		e.rowArgs(`SELECT steps, notify_on_resolve, to_char(quiet_hours_start, 'HH24:MI'), to_char(quiet_hours_end, 'HH24:MI')
			FROM notification_policies WHERE organization_id = $1 AND `+scope, append([]any{id("bistro")}, args...), &steps, &resolve, &qs, &qe)
		var compact bytes.Buffer
		_ = json.Compact(&compact, steps)
		return fmt.Sprintf("%s resolve=%v quiet=%s-%s", compact.String(), resolve, str(qs), str(qe))
	}
	wantOrg := fmt.Sprintf(`[{"channels": ["sms"], "contact_ids": ["%[1]s", "%[2]s"], "after_minutes": 0}, {"channels": ["sms"], "contact_ids": ["%[1]s", "%[2]s", "%[3]s"], "after_minutes": 10}, {"repeat": true, "channels": ["email", "sms"], "contact_ids": ["%[1]s", "%[2]s", "%[3]s"], "after_minutes": 30}] resolve=true quiet=22:00-06:00`, olivia, adam, night)
	if got := policy(`site_id IS NULL AND unit_id IS NULL AND alert_type = 'temp_excursion'`); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(wantOrg, " ", "") {
		t.Errorf("organisation policy:\n got %s\nwant %s", got, wantOrg)
	}
	wantSite := fmt.Sprintf(`[{"channels":["email"],"contact_ids":["%s","%s"],"after_minutes":0}] resolve=false quiet=-`, olivia, adam)
	if got := policy(`site_id = $2 AND alert_type = 'door_open'`, id("bistro/site/main")); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(wantSite, " ", "") {
		t.Errorf("site policy (no acknowledgement required: no escalation):\n got %s\nwant %s", got, wantSite)
	}
	if got := policy(`unit_id = $2 AND alert_type = 'temp_excursion'`, id("bistro/unit/walkin")); !strings.HasPrefix(got, "[] ") {
		t.Errorf("the walk-in's in-app-only alarm_active policy must page nobody: %s", got)
	}
	if n := e.count(`SELECT count(*) FROM escalation_contacts WHERE id = $1 AND phone IS NULL AND email = 'adam@bistro.test'`, adam); n != 1 {
		t.Error("adam, paged by role, has no contact with his e-mail")
	}
	// a phone the origin verified as its user's is verified; no other
	if n := e.count(`SELECT count(*) FROM escalation_contacts WHERE organization_id = $1 AND phone_verified_at IS NOT NULL`, id("bistro")); n != 1 ||
		e.count(`SELECT count(*) FROM escalation_contacts WHERE id = $1 AND phone_verified_at IS NOT NULL`, olivia) != 1 {
		t.Errorf("%d verified contacts, want olivia's only", n)
	}
	var harborCodes []string
	for _, p := range rep.org(t, "harbor").Problems {
		harborCodes = append(harborCodes, p.Code)
	}
	if !strings.Contains(strings.Join(harborCodes, ","), "trial_paging_restricted") {
		t.Errorf("harbor pays nothing and its contact is unverified: %v", harborCodes)
	}

	// alerts: types mapped, escalated open, the duplicate closed, notes kept
	type alert struct{ typ, status, resolution, note string }
	alerts := map[string]alert{
		"resolved":  {"temp_excursion", "resolved", "manual", "Door was left open; closed it"},
		"escalated": {"temp_excursion", "active", "", ""},
		"duplicate": {"temp_excursion", "resolved", "auto", "Closed by the import: a newer open temp_excursion alert of this unit exists (the origin let two be open)."},
		"offline":   {"monitoring_interrupted", "acknowledged", "", "Probe being replaced"},
		"battery":   {"low_battery", "active", "", ""},
	}
	for n, want := range alerts {
		var got alert
		var res, rnote, anote *string
		e.rowArgs(`SELECT type, status, resolution, resolved_note, acknowledged_note FROM alerts WHERE id = $1`, []any{id("bistro/alert/" + n)},
			&got.typ, &got.status, &res, &rnote, &anote)
		got.resolution, got.note = str(res), str(rnote)+str(anote)
		if got != want {
			t.Errorf("alert %s: %+v, want %+v", n, got, want)
		}
	}
	// the alarms still open and unacknowledged in the origin are escalated
	// by FrostGuard from now on; the others never
	if n := e.count(`SELECT count(*) FROM alerts WHERE organization_id = $1 AND next_escalation_at IS NOT NULL`, id("bistro")); n != 2 {
		t.Errorf("%d alerts due for escalation, want 2 (the escalated one and the low battery)", n)
	}
	if n := e.count(`SELECT count(*) FROM alerts WHERE id IN ($1, $2) AND next_escalation_at IS NOT NULL`, id("bistro/alert/escalated"), id("bistro/alert/battery")); n != 2 {
		t.Error("the open alarms are not taken over")
	}
	var temp, lim float64
	var resolvedBy string
	e.rowArgs(`SELECT temperature_c::float8, limit_c::float8, u.subject FROM alerts a JOIN users u ON u.id = a.resolved_by WHERE a.id = $1`,
		[]any{id("bistro/alert/resolved")}, &temp, &lim, &resolvedBy)
	if temp != 6.2 || lim != 5 || resolvedBy != id("user/adam") {
		t.Errorf("the resolved alert: %v °C over %v, by %s", temp, lim, resolvedBy)
	}
	if n := e.count(`SELECT count(*) FROM alerts WHERE id = $1 AND sensor_id = $2`, id("bistro/alert/battery"), id("bistro/device/walkin-probe")); n != 1 {
		t.Error("the low-battery alert is not on the walk-in's only sensor")
	}
	var note string
	e.rowArgs(`SELECT note FROM alert_events WHERE id = $1 AND kind = 'corrective_action'`, []any{id("bistro/corrective")}, &note)
	if note != "Closed the door — Moved stock to the reach-in" {
		t.Errorf("corrective action: %q", note)
	}

	// readings: the temperature rule record by record
	reading := func(where string, args ...any) (c *float64, raw string) {
		var r []byte
		e.rowArgs(`SELECT temperature_c::float8, raw FROM sensor_readings WHERE `+where+` ORDER BY recorded_at LIMIT 1`, args, &c, &r)
		return c, string(r)
	}
	checks := []struct {
		name, where string
		args        []any
		want        *float64
		scale       string
	}{
		{"°F without a device (the origin's first system)", "unit_id = $1 AND sensor_id IS NULL AND source = 'ttn'", []any{id("bistro/unit/walkin")}, ptr(2.22), "fahrenheit"},
		{"°C from the device", "unit_id = $1 AND sensor_id IS NOT NULL AND recorded_at > now() - interval '1 year'", []any{id("bistro/unit/walkin")}, ptr(2.5), ""},
		{"°F named by the payload", "unit_id = $1 AND source = 'api'", []any{id("bistro/unit/walkin")}, ptr(-6.67), "fahrenheit"},
		{"a freezer's °F defrost peak", "unit_id = $1", []any{id("bistro/unit/freezer")}, ptr(-1.0), "fahrenheit"},
		{"the freezer's next reading, °F by its series", "unit_id = $1 AND raw->'origin'->>'evidence' = 'series'", []any{id("bistro/unit/freezer")}, ptr(-18.89), "fahrenheit"},
		{"ambiguous: kept as stored", "unit_id = $1 AND raw->'origin'->>'scale' = 'ambiguous'", []any{id("bistro/unit/freezer")}, ptr(-21.5), "ambiguous"},
		{"a disconnected probe: kept, flagged", "unit_id = $1 AND raw->'origin'->>'scale' = 'implausible'", []any{id("bistro/unit/reachin")}, ptr(-127.0), "implausible"},
		{"too large for us: NULL, the value in raw", "unit_id = $1 AND temperature_c IS NULL", []any{id("bistro/unit/reachin")}, nil, "out_of_range"},
	}
	for _, c := range checks {
		got, raw := reading(c.where, c.args...)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) || !strings.Contains(raw, c.scale) {
			t.Errorf("%s: %v %s, want %v (%s)", c.name, deref(got), raw, deref(c.want), c.scale)
		}
	}
	if n := e.count(`SELECT count(*) FROM sensor_readings_default WHERE unit_id = $1`, id("bistro/unit/walkin")); n != 1 {
		t.Errorf("%d readings in the default partition: the 2014 one belongs there (ten years back is the limit)", n)
	}
	if n := e.count(`SELECT count(*) FROM sensor_readings WHERE unit_id = $1 AND sensor_id IS NULL AND source = 'ttn'
		AND recorded_at > now() - interval '1 year' AND temperature_c::float8 = 2.2`, id("bistro/unit/reachin")); n != 1 {
		t.Error("the reading from harbor's device must be kept without a sensor")
	}
	// manual logs through the same rule
	var logC float64
	e.rowArgs(`SELECT temperature_c::float8 FROM manual_temperature_logs WHERE id = $1`, []any{id("bistro/log/walkin")}, &logC)
	if logC != 3.61 {
		t.Errorf("38.5 on a walk-in is °F: %v", logC)
	}

	// the report: readings counted on both sides, every quirk named
	want := map[string]int64{"fahrenheit by range": 61, "fahrenheit by series": 200, "fahrenheit by payload": 1, "ambiguous": 100,
		"implausible": 1, "out_of_range": 1}
	for k, v := range want {
		if b.Readings.Scales[k] != v {
			t.Errorf("readings %q: %d, want %d (%v)", k, b.Readings.Scales[k], v, b.Readings.Scales)
		}
	}
	codes := map[string]bool{}
	for _, p := range b.Problems {
		codes[p.Code] = true
	}
	for _, c := range []string{"duplicate_dev_eui", "not_lorawan", "phone_invalid", "country_invalid", "subscription_duplicates",
		"second_secret", "alert_duplicate_open", "readings_outside_partitions", "readings_past_retention", "readings_duplicate", "readings_ambiguous", "readings_foreign_device"} {
		if !codes[c] {
			t.Errorf("bistro's report does not name %s: %v", c, codes)
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// tableHashes is a fingerprint of every row our tables hold (bookkeeping
// of the import itself excepted).
func tableHashes(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range []string{"organizations", "users", "memberships", "sites", "areas", "units", "sensors", "network_connections",
		"escalation_contacts", "notification_policies", "subscriptions", "alerts", "alert_events", "manual_temperature_logs",
		"door_events", "sensor_readings"} {
		var h string
		if err := testenv.Pool(db).QueryRow(context.Background(), `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))
			FROM `+pgx.Identifier{table}.Sanitize()+` x`).Scan(&h); err != nil {
			t.Fatal(err)
		}
		out[table] = h
	}
	return out
}

// A second run of a completed import changes nothing: no row inserted or
// updated, every table's content the same.
func TestSecondRunChangesNothing(t *testing.T) {
	e := newEnv(t, 300)
	e.mustImport(Options{Orgs: both})
	before := tableHashes(t, e.db)
	rep := e.mustImport(Options{Orgs: both})
	for _, o := range rep.Organizations {
		if o.Status != "updated" {
			t.Errorf("%s: %s", o.Name, o.Status)
		}
		for _, l := range o.Tables {
			if l.Inserted != 0 || l.Updated != 0 {
				t.Errorf("%s %s: %d inserted, %d updated by a second run", o.Name, l.Origin, l.Inserted, l.Updated)
			}
		}
		if o.Readings.CaughtUp != 0 {
			t.Errorf("%s: %d readings caught up by a second run", o.Name, o.Readings.CaughtUp)
		}
	}
	after := tableHashes(t, e.db)
	for table, h := range before {
		if after[table] != h {
			t.Errorf("%s changed on a second run", table)
		}
	}
	if n := e.count(`SELECT runs FROM origin_imports WHERE organization_id = $1`, origintest.ID("bistro")); n != 2 {
		t.Errorf("runs %d", n)
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
