package offboard_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/devstack"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/offboard"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

type sentMail struct{ to, subject, body, key string }

type mailbox struct {
	mu   sync.Mutex
	sent []sentMail
}

func (m *mailbox) SendEmail(_ context.Context, to, subject, body, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, sentMail{to, subject, body, key})
	return "re-1", nil
}

type fixture struct {
	t          *testing.T
	db         *store.DB
	files      *objects.Bucket
	mail       *mailbox
	svc        offboard.Service
	org, other string
	now        time.Time
}

func newFixture(t *testing.T) *fixture {
	db, _ := testenv.OpenDB(t)
	secrets, err := devstack.LoadSecrets(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := devstack.Environment(map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/db"}, secrets, "http://127.0.0.1:3000")
	seed, err := devstack.Seed(context.Background(), db, secrets, devstack.SeedOptions{BaseURL: "http://127.0.0.1:3000", Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Storage{Endpoint: testenv.Require(t, "MINIO_ENDPOINT"), AccessKey: testenv.Require(t, "MINIO_ROOT_USER"),
		SecretKey: testenv.Require(t, "MINIO_ROOT_PASSWORD"), Region: "us-east-1"}
	f := &fixture{t: t, db: db, files: objects.Open(cfg, testenv.Require(t, "MINIO_BUCKET_ASSETS")), mail: &mailbox{},
		org: seed.OrgID, other: seed.OtherOrgID, now: time.Now()}
	f.svc = offboard.Service{DB: db, Files: f.files, Email: f.mail, Now: func() time.Time { return f.now }}
	for _, org := range []string{f.org, f.other} {
		f.clearObjects(org) // the seed's organisations have fixed ids
		t.Cleanup(func() { f.clearObjects(org) })
		f.fill(org)
	}
	return f
}

func (f *fixture) clearObjects(org string) {
	for _, p := range objects.OrgPrefixes(org) {
		if _, err := f.files.DeletePrefix(context.Background(), p); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := testenv.Pool(f.db).Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%v\n%s", err, sql)
	}
}

// fill gives an organisation rows in the tables the seed leaves empty and
// objects under each of its prefixes.
func (f *fixture) fill(org string) {
	f.t.Helper()
	ctx := context.Background()
	var unit, sensor, site string
	if err := testenv.Pool(f.db).QueryRow(ctx, `SELECT u.id, u.site_id, coalesce(s.id::text, '') FROM units u
		LEFT JOIN sensors s ON s.unit_id = u.id WHERE u.organization_id = $1 LIMIT 1`, org).Scan(&unit, &site, &sensor); err != nil {
		f.t.Fatal(err)
	}
	if sensor == "" {
		if err := testenv.Pool(f.db).QueryRow(ctx, `INSERT INTO sensors (organization_id, unit_id, dev_eui, model)
			VALUES ($1, $2, $3, 'Dragino LHT65') RETURNING id`, org, unit, strings.ToUpper(strings.ReplaceAll(org, "-", "")[:16])).Scan(&sensor); err != nil {
			f.t.Fatal(err)
		}
	}
	// Readings in two months (two partitions), an alert with its event and
	// notification, a door event, a manual log, an audit row, hourly rollups.
	for i, at := range []time.Time{f.now.Add(-time.Hour), f.now.AddDate(0, -1, 0)} {
		f.exec(`INSERT INTO sensor_readings (organization_id, unit_id, sensor_id, recorded_at, temperature_c, source)
			VALUES ($1, $2, $3, $4, $5, 'ttn')`, org, unit, sensor, at, 3.5+float64(i))
	}
	var alert string
	if err := testenv.Pool(f.db).QueryRow(ctx, `INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, message, triggered_at, ack_code)
		VALUES ($1, $2, 'temp_excursion', 'critical', 'active', 'Too warm', 'Walk-in at 9 °C', now(), upper(substr(md5(random()::text), 1, 6))) RETURNING id`, org, unit).Scan(&alert); err != nil {
		f.t.Fatal(err)
	}
	f.exec(`INSERT INTO alert_events (organization_id, alert_id, kind, at) VALUES ($1, $2, 'triggered', now())`, org, alert)
	f.exec(`INSERT INTO notifications (organization_id, alert_id, kind, channel, recipient, body, escalation_step)
		VALUES ($1, $2, 'alert', 'sms', '+15555550123', 'Too warm', 0)`, org, alert)
	f.exec(`INSERT INTO door_events (organization_id, unit_id, sensor_id, changed_at, state) VALUES ($1, $2, $3, now(), 'open')`, org, unit, sensor)
	f.exec(`INSERT INTO manual_temperature_logs (organization_id, unit_id, temperature_c, recorded_at) VALUES ($1, $2, 4.1, now())`, org, unit)
	f.exec(`INSERT INTO audit_log (organization_id, action, entity_type, at) VALUES ($1, 'PATCH /x', 'unit', now())`, org)
	f.exec(`INSERT INTO sensor_readings_hourly (organization_id, unit_id, hour, min_c, max_c, sum_c, count)
		VALUES ($1, $2, date_trunc('hour', now()) - interval '3 years', 3, 5, 8, 2)`, org, unit)
	f.exec(`INSERT INTO readings_archives (organization_id, month, s3_key, rows, bytes) VALUES ($1, '2023-01-01', $2, 1, 1)`,
		org, objects.ArchivePrefix+org+"/readings/2023-01.csv.gz")
	for _, prefix := range objects.OrgPrefixes(org) {
		body := strings.NewReader("object of " + org)
		if err := f.files.Put(ctx, prefix+"sample.txt", "text/plain", body, body.Size()); err != nil {
			f.t.Fatal(err)
		}
	}
}

// orgRows counts an organisation's rows in every table with an
// organization_id column (partitions included), straight from the catalog:
// independent of the code under test.
func (f *fixture) orgRows(org string) map[string]int64 {
	f.t.Helper()
	ctx := context.Background()
	rows, err := testenv.Pool(f.db).Query(ctx, `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND c.column_name = 'organization_id' AND t.table_type = 'BASE TABLE'`)
	if err != nil {
		f.t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 20 {
		f.t.Fatalf("%d tables with organization_id (%v)", len(tables), err)
	}
	out := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := testenv.Pool(f.db).QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()+` WHERE organization_id = $1`, org).Scan(&n); err != nil {
			f.t.Fatal(err)
		}
		out[table] = n
	}
	var n int64
	_ = testenv.Pool(f.db).QueryRow(ctx, `SELECT count(*) FROM organizations WHERE id = $1`, org).Scan(&n)
	out["organizations"] = n
	return out
}

func TestExportHoldsEveryTableOfTheOrganisation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e, err := f.db.RequestExport(ctx, f.org, "", "owner@demo-bistro.test")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := f.db.RequestExport(ctx, f.org, "", "owner@demo-bistro.test")
	if again.ID != e.ID {
		t.Errorf("a second request made a second pending export")
	}
	if n, err := f.svc.BuildExports(ctx); err != nil || n != 1 {
		t.Fatalf("BuildExports = %d, %v", n, err)
	}
	done, err := f.db.Export(ctx, f.org, e.ID)
	if err != nil || done.Status != "ready" || done.S3Key != objects.ExportsPrefix+f.org+"/"+e.ID+".zip" {
		t.Fatalf("export %+v, %v", done, err)
	}
	if _, err := f.db.Export(ctx, f.other, e.ID); err == nil {
		t.Error("another organisation sees the export")
	}

	// The e-mailed link downloads the zip (a presigned GET the S3 server verifies).
	if len(f.mail.sent) != 1 || f.mail.sent[0].to != "owner@demo-bistro.test" || f.mail.sent[0].key != "export-"+e.ID {
		t.Fatalf("mail %+v", f.mail.sent)
	}
	link := f.mail.sent[0].body[strings.Index(f.mail.sent[0].body, "http"):]
	link = link[:strings.IndexAny(link, "\n ")]
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("download: %d %s", res.StatusCode, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][][]string{}
	for _, zf := range zr.File {
		r, _ := zf.Open()
		if strings.HasSuffix(zf.Name, ".csv") {
			records, err := csv.NewReader(r).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", zf.Name, err)
			}
			files[strings.TrimSuffix(zf.Name, ".csv")] = records
		}
		r.Close()
	}
	want := f.orgRows(f.org)
	parents := map[string]bool{}
	for table, n := range want {
		if strings.HasPrefix(table, "sensor_readings_y") || table == "sensor_readings_default" {
			continue // partitions: their rows are in sensor_readings.csv
		}
		parents[table] = true
		records, ok := files[table]
		if !ok {
			t.Errorf("the export has no %s.csv", table)
			continue
		}
		if int64(len(records)-1) != n {
			t.Errorf("%s.csv has %d rows, the organisation has %d", table, len(records)-1, n)
		}
		col := -1
		for i, h := range records[0] {
			if h == "organization_id" || (table == "organizations" && h == "id") {
				col = i
			}
		}
		for _, rec := range records[1:] {
			if col < 0 || rec[col] != f.org {
				t.Fatalf("%s.csv holds a row of another organisation: %v", table, rec)
			}
		}
	}
	if len(files) != len(parents) {
		t.Errorf("the export has %d tables, the schema %d", len(files), len(parents))
	}
	if want["sensor_readings"] != 2 || want["alerts"] != 1 {
		t.Errorf("fixture: %v", want)
	}
	var manifest struct {
		Rows map[string]int64 `json:"rows"`
	}
	for _, zf := range zr.File {
		if zf.Name == "manifest.json" {
			r, _ := zf.Open()
			_ = json.NewDecoder(r).Decode(&manifest)
			r.Close()
		}
	}
	if manifest.Rows["sensor_readings"] != 2 {
		t.Errorf("manifest %v", manifest.Rows)
	}
}

func TestDeletionLeavesNoRowOfTheOrganisationInAnyTable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.db.RequestExport(ctx, f.org, "", "owner@demo-bistro.test"); err != nil {
		t.Fatal(err)
	}
	before, otherBefore := f.orgRows(f.org), f.orgRows(f.other)
	d, err := f.db.RequestDeletion(ctx, f.org, "", f.now, domain.OrganizationDeletionGrace)
	if err != nil {
		t.Fatal(err)
	}
	// Within the grace period nothing happens, and it can be cancelled.
	if n, err := f.svc.DeleteDue(ctx); err != nil || n != 0 {
		t.Fatalf("DeleteDue inside the grace period = %d, %v", n, err)
	}
	if ok, _ := f.db.CancelDeletion(ctx, f.org); !ok {
		t.Fatal("the pending deletion could not be cancelled")
	}
	f.now = d.DueAt.Add(time.Minute)
	if n, _ := f.svc.DeleteDue(ctx); n != 0 {
		t.Fatal("a cancelled deletion went ahead")
	}
	if _, err := f.db.RequestDeletion(ctx, f.org, "", f.now.Add(-domain.OrganizationDeletionGrace-time.Hour), domain.OrganizationDeletionGrace); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.DeleteDue(ctx); err != nil || n != 1 {
		t.Fatalf("DeleteDue = %d, %v", n, err)
	}

	for table, n := range f.orgRows(f.org) {
		if n != 0 {
			t.Errorf("%s still holds %d rows of the deleted organisation", table, n)
		}
	}
	for table, n := range f.orgRows(f.other) {
		if n != otherBefore[table] {
			t.Errorf("%s: the other organisation went from %d rows to %d", table, otherBefore[table], n)
		}
	}
	for _, p := range objects.OrgPrefixes(f.org) {
		if keys, err := f.files.List(ctx, p); err != nil || len(keys) != 0 {
			t.Errorf("objects left under %s: %v %v", p, keys, err)
		}
	}
	for _, p := range objects.OrgPrefixes(f.other) {
		if keys, _ := f.files.List(ctx, p); len(keys) != 1 {
			t.Errorf("the other organisation's objects under %s: %v", p, keys)
		}
	}
	// The audit record, outside the deleted data.
	var name string
	var rows map[string]int64
	var deleted int
	if err := testenv.Pool(f.db).QueryRow(ctx, `SELECT organization_name, rows_deleted, objects_deleted FROM organization_deletions
		WHERE deleted_organization_id = $1`, f.org).Scan(&name, &rows, &deleted); err != nil {
		t.Fatal(err)
	}
	if name == "" || deleted != len(objects.OrgPrefixes(f.org)) || rows["alerts"] != before["alerts"] || rows["organizations"] != 1 ||
		rows["sensor_readings"] != before["sensor_readings"] {
		t.Errorf("audit: %q %v %d (before %v)", name, rows, deleted, before)
	}
}

func TestDeletionWaitsForTheSubscriptionToBeCancelled(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE subscriptions SET stripe_subscription_id = 'sub_123', status = 'active', cancel_at_period_end = false WHERE organization_id = $1`, f.org)
	if _, err := f.db.RequestDeletion(context.Background(), f.org, "", f.now, domain.OrganizationDeletionGrace); err == nil || !strings.Contains(err.Error(), "cancel") {
		t.Fatalf("deletion with an active subscription: %v", err)
	}
}
