package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// The alert-list benchmark: the first page of GET .../alerts for an
// organisation with 100,000 alerts (200 units, a year of history, the
// newest 400 still open), through the real handler (JWT, membership, query,
// JSON), with the default filters and with filtered ones.
//
//	go test -run '^$' -bench AlertList -benchtime 300x ./shared/api/
//
// FROSTGUARD_BENCH_EXPLAIN=1 logs each query's plan.

const (
	benchAlerts     = 100_000
	benchAlertUnits = 200
	benchAlertOpen  = 400
)

func BenchmarkAlertList(b *testing.B) {
	quietLogs(b)
	ab := newAlertsBench(b)
	base := "/api/v1/orgs/" + ab.orgID + "/alerts"
	cases := []struct {
		name string
		q    url.Values
		want int // items on the first page
	}{
		// what the alert page asks for first: everything, newest first
		{"default", url.Values{}, defaultLimit},
		// the open alerts of one site (the site page's list)
		{"open-site", url.Values{"status": {"open"}, "site_id": {ab.siteID}}, benchAlertOpen / 10},
		// one unit's history of one type over the last 90 days (an
		// inspection: "every excursion of the walk-in this quarter")
		{"unit-type-90d", url.Values{"unit_id": {ab.unitID}, "type": {domain.AlertTempExcursion},
			"from": {ab.now.Add(-90 * 24 * time.Hour).Format(time.RFC3339)}}, -1},
		// a client's sync poll: what changed in the last 12 minutes (the
		// two newest alerts), a filter no index orders
		{"updated-since", url.Values{"updated_since": {ab.now.Add(-12 * time.Minute).Format(time.RFC3339)}}, 2},
	}
	for _, c := range cases {
		path := base
		if len(c.q) > 0 {
			path += "?" + c.q.Encode()
		}
		if os.Getenv("FROSTGUARD_BENCH_EXPLAIN") != "" {
			ab.explain(b, c.name, c.q)
		}
		b.Run(c.name, func(b *testing.B) {
			first, n := ab.get(b, path)
			if c.want >= 0 && n != c.want {
				b.Fatalf("%s: %d items on the first page, want %d", c.name, n, c.want)
			}
			if n == 0 {
				b.Fatalf("%s: an empty page measures nothing", c.name)
			}
			var took []time.Duration
			for b.Loop() {
				d, _ := ab.get(b, path)
				took = append(took, d)
			}
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
			testenv.ReportLatencies(b, took, 0.50, 0.99)
			b.ReportMetric(float64(n), "items")
		})
	}
}

type alertsBench struct {
	handler                      http.Handler
	conn                         *pgx.Conn
	token                        string
	orgID, siteID, unitID, owner string
	now                          time.Time
}

// get requests path once and returns the handler's time and the page size.
func (ab *alertsBench) get(b *testing.B, path string) (time.Duration, int) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+ab.token)
	rec := httptest.NewRecorder()
	start := time.Now()
	ab.handler.ServeHTTP(rec, req)
	took := time.Since(start)
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != http.StatusOK || err != nil {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return took, len(page.Items)
}

func newAlertsBench(b *testing.B) *alertsBench {
	b.Helper()
	db, dsn := testenv.OpenDB(b)
	ctx := context.Background()
	signer, v := newTestVerifier(b)
	mux := http.NewServeMux()
	New(db, v).Register(mux)
	ab := &alertsBench{handler: web.Standard(mux, web.Options{Function: "api"}), now: time.Now().UTC().Truncate(time.Second)}
	var err error
	if ab.token, err = signer.Mint(auth.Identity{Subject: benchSubject, Email: "bench@example.test", Name: "Bench"}, 24*time.Hour); err != nil {
		b.Fatal(err)
	}
	u, err := db.EnsureUser(ctx, benchSubject, "bench@example.test", "Bench")
	if err != nil {
		b.Fatal(err)
	}
	ab.owner = u.ID
	if ab.conn, err = pgx.Connect(ctx, dsn); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ab.conn.Close(context.Background()) })
	started := time.Now()
	ab.load(b)
	b.Logf("loaded %d alerts in %s", benchAlerts, time.Since(started).Round(time.Millisecond))
	return ab
}

// load creates the organisation (10 sites x 4 areas x 5 units) and its
// alerts in one INSERT ... SELECT: alert g (1 = newest) belongs to unit
// g % 200 and type (g / 200) % 7 and was triggered g x 5 minutes ago (a
// year in all). The newest 400 are open, one per (unit, type) as the
// unique index demands (with distinct ack codes); a third of those
// acknowledged, and none updated since it was raised. A second
// organisation of the same size makes the organisation filter count.
func (ab *alertsBench) load(b *testing.B) {
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := ab.conn.Exec(context.Background(), sql, args...); err != nil {
			b.Fatalf("%v\n%s", err, sql)
		}
	}
	exec(`INSERT INTO organizations (name, slug) VALUES ('Bench', 'bench'), ('Other', 'other')`)
	exec(`INSERT INTO sites (organization_id, name) SELECT id, 'Site ' || i FROM organizations, generate_series(1, 10) i`)
	exec(`INSERT INTO areas (organization_id, site_id, name) SELECT organization_id, id, 'Area ' || i FROM sites, generate_series(1, 4) i`)
	exec(`INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		SELECT organization_id, site_id, id, 'Unit ' || i, 0, 5 FROM areas, generate_series(1, 5) i`)
	exec(`CREATE TEMP TABLE bench_alert_units AS
		SELECT organization_id, id, (row_number() OVER (PARTITION BY organization_id ORDER BY id) - 1)::int AS n FROM units`)
	exec(`CREATE INDEX ON bench_alert_units (organization_id, n)`)
	exec(`INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, triggered_at, temperature_c, limit_c,
			acknowledged_at, resolved_at, resolution, ack_code, created_at, updated_at)
		SELECT u.organization_id, u.id, t.type, t.severity,
			CASE WHEN g > $2 THEN 'resolved' WHEN g % 3 = 0 THEN 'acknowledged' ELSE 'active' END,
			t.type || ' on unit ' || u.n, $3::timestamptz - g * interval '5 minutes',
			CASE WHEN t.type = 'temp_excursion' THEN 7.5 END, CASE WHEN t.type = 'temp_excursion' THEN 5 END,
			CASE WHEN g <= $2 AND g % 3 = 0 OR g > $2 THEN $3::timestamptz - g * interval '5 minutes' + interval '3 minutes' END,
			CASE WHEN g > $2 THEN $3::timestamptz - g * interval '5 minutes' + interval '20 minutes' END,
			CASE WHEN g > $2 THEN 'auto' END,
			upper('B' || lpad(to_hex(g), 6, '0')),
			$3::timestamptz - g * interval '5 minutes',
			$3::timestamptz - g * interval '5 minutes' + CASE WHEN g > $2 THEN interval '20 minutes' ELSE interval '0' END
		FROM organizations o, generate_series(1, $1) g
		JOIN bench_alert_units u ON u.n = g % $4
		JOIN (VALUES (0, 'temp_excursion', 'critical'), (1, 'door_open', 'warning'), (2, 'low_battery', 'info'),
			(3, 'monitoring_interrupted', 'warning'), (4, 'sensor_fault', 'warning'), (5, 'missed_manual_entry', 'warning'),
			(6, 'suspected_cooling_failure', 'critical')) t(k, type, severity) ON t.k = (g / $4) % 7
		WHERE u.organization_id = o.id`, benchAlerts, benchAlertOpen, ab.now, benchAlertUnits)
	// what autovacuum would have done by now (units too: with no
	// statistics the planner takes the organisation for one unit)
	exec(`VACUUM (ANALYZE) alerts`)
	exec(`ANALYZE units`)
	err := ab.conn.QueryRow(context.Background(), `SELECT o.id, u.site_id, u.id FROM organizations o
		JOIN bench_alert_units bu ON bu.organization_id = o.id AND bu.n = 1 JOIN units u ON u.id = bu.id
		WHERE o.slug = 'bench'`).Scan(&ab.orgID, &ab.siteID, &ab.unitID)
	if err != nil {
		b.Fatal(err)
	}
	exec(`INSERT INTO memberships (organization_id, user_id, role, status, accepted_at) VALUES ($1, $2, 'owner', 'active', now())`,
		ab.orgID, ab.owner)
	var n, open int
	if err := ab.conn.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE status <> 'resolved')
		FROM alerts WHERE organization_id = $1`, ab.orgID).Scan(&n, &open); err != nil || n != benchAlerts || open != benchAlertOpen {
		b.Fatalf("loaded %d alerts, %d open (%v); want %d, %d", n, open, err, benchAlerts, benchAlertOpen)
	}
}

// explain logs the plan of the list query for the filters q, as
// store.ListAlerts builds it (same WHERE clauses, first page).
func (ab *alertsBench) explain(b *testing.B, name string, q url.Values) {
	where := []string{"a.organization_id = $1"}
	args := []any{ab.orgID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", fmt.Sprintf("$%d", len(args)), 1))
	}
	if v := q.Get("unit_id"); v != "" {
		add("a.unit_id = ?", v)
	}
	if v := q.Get("site_id"); v != "" {
		add("u.site_id = ?", v)
	}
	switch v := q.Get("status"); v {
	case "":
	case "open":
		where = append(where, "a.status <> 'resolved'")
	default:
		add("a.status = ?", v)
	}
	if v := q.Get("type"); v != "" {
		add("a.type = ?", v)
	}
	if v := q.Get("severity"); v != "" {
		add("a.severity = ?", v)
	}
	if v := q.Get("from"); v != "" {
		t, _ := time.Parse(time.RFC3339, v)
		add("a.triggered_at >= ?", t)
	}
	if v := q.Get("updated_since"); v != "" {
		t, _ := time.Parse(time.RFC3339, v)
		add("a.updated_at > ?", t)
	}
	sql := "EXPLAIN (ANALYZE, BUFFERS) " + alertSelectForExplain + "\nWHERE " + strings.Join(where, " AND ") +
		fmt.Sprintf("\nORDER BY a.triggered_at DESC, a.id DESC LIMIT %d", defaultLimit+1)
	for range 2 { // the second run is the warm one
		rows, err := ab.conn.Query(context.Background(), sql, args...)
		if err != nil {
			b.Fatalf("%v\n%s", err, sql)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s:\n%s", name, strings.Join(lines, "\n"))
	}
}

// alertSelectForExplain is store's alertSelect (unexported there): the
// joins decide the plan, the select list hardly does.
const alertSelectForExplain = `SELECT a.*, u.name, u.site_id, ack.display_name, res.display_name
FROM alerts a
JOIN units u ON u.id = a.unit_id AND u.organization_id = a.organization_id
LEFT JOIN users ack ON ack.id = a.acknowledged_by
LEFT JOIN users res ON res.id = a.resolved_by`
