package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/lorawan/ttn"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

const (
	appID  = "frostguard-test-app"
	secret = "fgttn_test_secret_0123456789"
	devEUI = "A84041000181C0DE"
)

// fixture is one organisation with a cooler (0..5 °C) watched by one
// sensor, an on-call contact and a two-step policy.
type fixture struct {
	t       testing.TB
	db      *store.DB
	dsn     string
	h       http.Handler
	handler *Handler
	orgID   string
	unitID  string
	sensor  string
	now     time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, dsn := testenv.OpenDB(t)
	f := &fixture{t: t, db: db, dsn: dsn, now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	hash := sha256.Sum256([]byte(secret))
	var siteID, areaID, contactID string
	f.row(&f.orgID, `INSERT INTO organizations (name, slug, temp_unit, timezone) VALUES ('Bistro', 'bistro', 'F', 'America/New_York') RETURNING id`)
	f.row(&siteID, `INSERT INTO sites (organization_id, name) VALUES ($1, 'Main St') RETURNING id`, f.orgID)
	f.row(&areaID, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Kitchen') RETURNING id`, f.orgID, siteID)
	f.row(&f.unitID, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, hysteresis_c, status_since)
		VALUES ($1, $2, $3, 'Walk-in', 0, 5, 0.5, $4) RETURNING id`, f.orgID, siteID, areaID, f.now.Add(-time.Hour))
	f.row(&f.sensor, `INSERT INTO sensors (organization_id, unit_id, dev_eui, model) VALUES ($1, $2, $3, 'Dragino LHT65') RETURNING id`, f.orgID, f.unitID, devEUI)
	f.exec(`INSERT INTO network_connections (organization_id, application_id, secret_hash, secret_last4) VALUES ($1, $2, $3, 'cdef')`, f.orgID, appID, hash[:])
	f.row(&contactID, `INSERT INTO escalation_contacts (organization_id, name, phone, email) VALUES ($1, 'Chef', '+15555550100', 'Chef@Example.test') RETURNING id`, f.orgID)
	steps := fmt.Sprintf(`[{"after_minutes":0,"channels":["sms","email"],"contact_ids":["%s"]},{"after_minutes":15,"channels":["sms"],"contact_ids":["%s"]}]`, contactID, contactID)
	f.exec(`INSERT INTO notification_policies (organization_id, steps) VALUES ($1, $2)`, f.orgID, steps)
	f.handler = &Handler{Network: ttn.Parser{}, DB: db, FrontendURL: "https://app.example", Now: func() time.Time { return f.now.Add(24 * time.Hour) }}
	f.h = web.Standard(f.handler, web.Options{Function: "ttn-webhook", MaxBodyBytes: 64 << 10})
	return f
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := testenv.Pool(f.db).Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%v\n%s", err, sql)
	}
}

func (f *fixture) row(dst any, sql string, args ...any) {
	f.t.Helper()
	if err := testenv.Pool(f.db).QueryRow(context.Background(), sql, args...).Scan(dst); err != nil {
		f.t.Fatalf("%v\n%s", err, sql)
	}
}

func (f *fixture) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	f.row(&n, sql, args...)
	return n
}

// uplink is a TTN v3 uplink_message delivery.
type uplink struct {
	App, DevEUI string
	At          time.Time
	FCnt        int
	Decoded     map[string]any
	Correlation string
	// Payload and FPort are the frm_payload bytes (default "AAA=" on port 2).
	Payload []byte
	FPort   int
	// Brand and Model are the device repository ids (version_ids), if any.
	Brand, Model string
}

func (u uplink) body() string {
	if u.App == "" {
		u.App = appID
	}
	if u.DevEUI == "" {
		u.DevEUI = devEUI
	}
	if u.Correlation == "" {
		u.Correlation = fmt.Sprintf("as:up:01TEST%s%d", u.DevEUI, u.At.UnixNano())
	}
	if u.Payload == nil {
		u.Payload = []byte{0, 0}
	}
	if u.FPort == 0 {
		u.FPort = 2
	}
	m := map[string]any{
		"end_device_ids": map[string]any{"device_id": "cooler-probe", "dev_eui": u.DevEUI,
			"application_ids": map[string]any{"application_id": u.App}},
		"correlation_ids": []string{u.Correlation, "gs:uplink:01TEST"},
		"received_at":     u.At.Format(time.RFC3339Nano),
		"uplink_message": map[string]any{
			"f_port": u.FPort, "f_cnt": u.FCnt, "frm_payload": base64.StdEncoding.EncodeToString(u.Payload), "decoded_payload": u.Decoded,
			"rx_metadata": []any{
				map[string]any{"gateway_ids": map[string]any{"gateway_id": "gw-1"}, "rssi": -97, "snr": 8.5},
				map[string]any{"gateway_ids": map[string]any{"gateway_id": "gw-2"}, "rssi": -80, "snr": 6.0},
			},
			"settings":    map[string]any{"data_rate": map[string]any{"lora": map[string]any{"bandwidth": 125000, "spreading_factor": 7}}},
			"received_at": u.At.Format(time.RFC3339Nano),
		},
	}
	if u.Brand != "" {
		m["uplink_message"].(map[string]any)["version_ids"] = map[string]any{"brand_id": u.Brand, "model_id": u.Model, "firmware_version": "1.8"}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func temp(c float64) map[string]any {
	return map[string]any{"TempC_SHT": c, "Hum_SHT": 55.5, "BatV": 3.05}
}

type answer struct {
	Status int
	Body   string
	Result Result
}

func (f *fixture) post(body string, headers ...string) answer {
	f.t.Helper()
	if len(headers) == 0 {
		headers = []string{"X-Webhook-Secret", secret}
	}
	return f.deliver(f.h, "/webhooks/ttn", body, headers)
}

// deliver POSTs a JSON body to a webhook handler with the given header pairs.
func (f *fixture) deliver(h http.Handler, target, body string, headers []string) answer {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{Status: rec.Code, Body: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &a.Result)
	return a
}

func (a answer) must(t *testing.T, status int, result string) answer {
	t.Helper()
	if a.Status != status || a.Result.Status != result {
		t.Fatalf("got %d %q, want %d %q: %s", a.Status, a.Result.Status, status, result, a.Body)
	}
	return a
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	body := uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()
	for name, headers := range map[string][]string{
		"no secret":           {"X-Other", "x"},
		"wrong secret":        {"X-Webhook-Secret", "fgttn_wrong"},
		"another org's style": {"Authorization", "Basic " + secret},
	} {
		if a := f.post(body, headers...); a.Status != http.StatusUnauthorized || !strings.Contains(a.Body, `"UNAUTHENTICATED"`) {
			t.Errorf("%s: %d %s", name, a.Status, a.Body)
		}
	}
	if n := f.count(`SELECT count(*) FROM uplink_dedupe`) + f.count(`SELECT count(*) FROM sensor_readings`); n != 0 {
		t.Fatalf("a refused delivery stored %d rows", n)
	}
	f.post(body, "X-Downlink-Apikey", secret).must(t, 200, "stored")
	f.post(uplink{At: f.now.Add(time.Minute), FCnt: 2, Decoded: temp(3)}.body(), "Authorization", "Bearer "+secret).must(t, 200, "stored")

	// The optional global secret admits any registered application.
	f.handler.GlobalSecret = "global-secret"
	f.post(uplink{At: f.now.Add(2 * time.Minute), FCnt: 3, Decoded: temp(3)}.body(), "X-Webhook-Secret", "global-secret").must(t, 200, "stored")
	f.post(uplink{App: "nobody-s-app", At: f.now, Decoded: temp(3)}.body(), "X-Webhook-Secret", "global-secret").must(t, 202, "unknown_application")
	f.exec(`UPDATE network_connections SET is_active = false`)
	f.handler.GlobalSecret = ""
	if a := f.post(uplink{At: f.now.Add(3 * time.Minute), FCnt: 4, Decoded: temp(3)}.body()); a.Status != 401 {
		t.Errorf("a disabled connection: %d", a.Status)
	}
}

func TestMalformedAndOversizedBodies(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct {
		body   string
		status int
	}{
		"not json":       {`{"end_device_ids":`, 400},
		"no application": {`{"received_at":"2026-11-26T12:00:00Z","uplink_message":{}}`, 400},
		"no received_at": {`{"end_device_ids":{"application_ids":{"application_id":"x"}},"uplink_message":{}}`, 400},
		"oversized":      {`{"pad":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
	}
	for name, c := range cases {
		if a := f.post(c.body); a.Status != c.status || !strings.Contains(a.Body, `"error"`) {
			t.Errorf("%s: %d %s", name, a.Status, a.Body)
		}
	}
}

func TestUplinkIsStoredWithSensorHealth(t *testing.T) {
	f := newFixture(t)
	f.post(uplink{At: f.now, FCnt: 42, Decoded: temp(3.42)}.body()).must(t, 200, "stored")
	var tempC, hum float64
	var rssi, gateways, sf int
	var snr float64
	if err := testenv.Pool(f.db).QueryRow(context.Background(), `SELECT temperature_c::float8, humidity::float8, rssi, snr::float8, gateway_count, spreading_factor
		FROM sensor_readings WHERE unit_id = $1 AND recorded_at = $2`, f.unitID, f.now).Scan(&tempC, &hum, &rssi, &snr, &gateways, &sf); err != nil {
		t.Fatal(err)
	}
	if tempC != 3.42 || hum != 55.5 || rssi != -80 || snr != 6 || gateways != 2 || sf != 7 {
		t.Errorf("reading: %v %v rssi %d snr %v gw %d sf %d", tempC, hum, rssi, snr, gateways, sf)
	}
	var seen time.Time
	var volts float64
	var fcnt int
	if err := testenv.Pool(f.db).QueryRow(context.Background(), `SELECT last_seen_at, battery_voltage::float8, last_f_cnt FROM sensors WHERE id = $1`, f.sensor).Scan(&seen, &volts, &fcnt); err != nil {
		t.Fatal(err)
	}
	if !seen.Equal(f.now) || volts != 3.05 || fcnt != 42 {
		t.Errorf("sensor health: %v %v %d", seen, volts, fcnt)
	}
	var last float64
	f.row(&last, `SELECT last_temp_c::float8 FROM units WHERE id = $1`, f.unitID)
	if last != 3.42 {
		t.Errorf("unit last temperature %v", last)
	}
}

func TestDuplicatesStoreNothingTwice(t *testing.T) {
	f := newFixture(t)
	body := uplink{At: f.now, FCnt: 7, Decoded: temp(3)}.body()
	f.post(body).must(t, 200, "stored")
	f.post(body).must(t, 200, "duplicate")
	// The same uplink without an as:up id dedupes on DevEUI + f_cnt + time.
	noCorrelation := strings.Replace(uplink{At: f.now.Add(time.Minute), FCnt: 8, Decoded: temp(3)}.body(), `"as:up:`, `"ns:up:`, 1)
	f.post(noCorrelation).must(t, 200, "stored")
	f.post(noCorrelation).must(t, 200, "duplicate")

	// Twenty concurrent copies of one new delivery: exactly one is stored.
	concurrent := uplink{At: f.now.Add(2 * time.Minute), FCnt: 9, Decoded: temp(3)}.body()
	var wg sync.WaitGroup
	statuses := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- f.post(concurrent).Result.Status
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[string]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts["stored"] != 1 || counts["duplicate"] != 19 {
		t.Errorf("concurrent copies: %v", counts)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 3 {
		t.Errorf("%d readings, want 3", n)
	}
}

func TestUnknownDevicesAreOfferedNotMatchedAcrossTenants(t *testing.T) {
	f := newFixture(t)
	// Another organisation registers the DevEUI the unknown device will use.
	var other string
	f.row(&other, `INSERT INTO organizations (name, slug) VALUES ('Other', 'other') RETURNING id`)
	f.exec(`INSERT INTO sensors (organization_id, dev_eui) VALUES ($1, 'FFFFFFFFFFFF0001')`, other)
	f.post(uplink{DevEUI: "FFFFFFFFFFFF0001", At: f.now, Decoded: temp(3)}.body()).must(t, 202, "unclaimed")
	f.post(uplink{DevEUI: "FFFFFFFFFFFF0001", At: f.now.Add(time.Minute), Decoded: temp(3)}.body()).must(t, 202, "unclaimed")
	if n := f.count(`SELECT uplink_count FROM unclaimed_devices WHERE organization_id = $1 AND dev_eui = 'FFFFFFFFFFFF0001'`, f.orgID); n != 2 {
		t.Errorf("unclaimed uplink_count %d", n)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 0 {
		t.Errorf("an unclaimed device stored %d readings", n)
	}
	// A sensor without a unit keeps its health, stores no reading.
	f.exec(`UPDATE sensors SET unit_id = NULL WHERE id = $1`, f.sensor)
	f.post(uplink{At: f.now, Decoded: temp(3)}.body()).must(t, 202, "no_unit")
	if n := f.count(`SELECT count(*) FROM sensors WHERE id = $1 AND last_seen_at IS NOT NULL`, f.sensor); n != 1 {
		t.Error("sensor health not recorded")
	}
}

func TestOtherMessageKinds(t *testing.T) {
	f := newFixture(t)
	join := fmt.Sprintf(`{"end_device_ids":{"device_id":"cooler-probe","dev_eui":"%s","application_ids":{"application_id":"%s"}},
		"correlation_ids":["as:up:join"],"received_at":"%s","join_accept":{"session_key_id":"AYz","received_at":"%s"}}`,
		devEUI, appID, f.now.Format(time.RFC3339Nano), f.now.Format(time.RFC3339Nano))
	f.post(join).must(t, 200, "joined")
	ack := fmt.Sprintf(`{"end_device_ids":{"device_id":"cooler-probe","application_ids":{"application_id":"%s"}},
		"received_at":"%s","downlink_ack":{"f_port":1}}`, appID, f.now.Format(time.RFC3339Nano))
	f.post(ack).must(t, 200, "ignored")
	if a := f.post(ack, "X-Webhook-Secret", "wrong"); a.Status != 401 {
		t.Errorf("an ignored kind must still authenticate: %d", a.Status)
	}
}

func TestUnreachableDatabaseIs503AndTheRetryIsAppliedOnce(t *testing.T) {
	f := newFixture(t)
	down, err := store.Open("postgres://u@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	body := uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()
	outage := web.Standard(&Handler{Network: ttn.Parser{}, DB: down}, web.Options{Function: "ttn-webhook"})
	req := httptest.NewRequest(http.MethodPost, "/webhooks/ttn", strings.NewReader(body))
	req.Header.Set("X-Webhook-Secret", secret)
	rec := httptest.NewRecorder()
	outage.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("during the outage: %d %s", rec.Code, rec.Body)
	}
	// TTN retries once the database is back: applied exactly once.
	f.post(body).must(t, 200, "stored")
	f.post(body).must(t, 200, "duplicate")
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 1 {
		t.Errorf("%d readings", n)
	}
}
