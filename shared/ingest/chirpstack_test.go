package ingest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/lorawan/chirpstack"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// The ChirpStack v4 HTTP integration (functions/chirpstack-webhook) through the one ingest path:
// the organisation's ChirpStack secret, ChirpStack's event shapes (shared/lorawan/chirpstack
// testdata: ChirpStack's documented examples), the same decoders, engine and transaction as TTN.

const (
	csSecret = "fgcs_test_secret_0123456789abcdef"
	csTenant = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242"
	csApp    = "17c82e96-be03-4f38-aef3-f83d48582d97"
)

// chirpStack adds the organisation's ChirpStack connection and a chirpstack-webhook handler to
// the fixture; f.post keeps posting to TTN.
type csWebhook struct {
	f *fixture
	h http.Handler
}

func (f *fixture) chirpStack() *csWebhook {
	f.t.Helper()
	hash := sha256.Sum256([]byte(csSecret))
	f.exec(`INSERT INTO network_connections (organization_id, kind, secret_hash, secret_last4) VALUES ($1, 'chirpstack', $2, 'cdef')`, f.orgID, hash[:])
	h := &Handler{Network: chirpstack.Parser{}, DB: f.db, FrontendURL: "https://app.example", Now: f.handler.Now}
	return &csWebhook{f: f, h: web.Standard(h, web.Options{Function: "chirpstack-webhook", MaxBodyBytes: 64 << 10})}
}

// post delivers one event as ChirpStack does: POST ?event=<event>, JSON, the secret as a bearer
// token unless headers say otherwise.
func (c *csWebhook) post(event, body string, headers ...string) answer {
	c.f.t.Helper()
	if len(headers) == 0 {
		headers = []string{"Authorization", "Bearer " + csSecret}
	}
	return c.f.deliver(c.h, "/webhooks/chirpstack?event="+event, body, headers)
}

// csUp is an "up" event in ChirpStack v4's JSON (integration.proto UplinkEvent), carrying what
// the TTN uplink of the same test carries: the same device, time, counter, payload, network
// decoded object and gateways.
func csUp(u uplink) string {
	if u.DevEUI == "" {
		u.DevEUI = devEUI
	}
	if u.Payload == nil {
		u.Payload = []byte{0, 0}
	}
	if u.FPort == 0 {
		u.FPort = 2
	}
	m := map[string]any{
		"deduplicationId": fmt.Sprintf("3ac7e3c4-4401-4b8d-9386-%012x", u.At.UnixNano()%(1<<48)),
		"time":            u.At.Format(time.RFC3339Nano),
		"deviceInfo": map[string]any{"tenantId": csTenant, "tenantName": "Bistro", "applicationId": csApp,
			"applicationName": "cold-rooms", "deviceProfileName": "Dragino LHT65", "deviceName": "cooler-probe",
			"devEui": strings.ToLower(u.DevEUI)},
		"devAddr": "00189440", "dr": 5, "fCnt": u.FCnt, "fPort": u.FPort,
		"data": base64.StdEncoding.EncodeToString(u.Payload),
		"rxInfo": []any{
			map[string]any{"gatewayId": "0016c001f153a14c", "uplinkId": 1, "rssi": -97, "snr": 8.5, "crcStatus": "CRC_OK"},
			map[string]any{"gatewayId": "0016c001f153a14d", "uplinkId": 2, "rssi": -80, "snr": 6.0, "crcStatus": "CRC_OK"},
		},
		"txInfo": map[string]any{"frequency": 868100000,
			"modulation": map[string]any{"lora": map[string]any{"bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
	}
	if u.Decoded != nil {
		m["object"] = u.Decoded
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// ChirpStack's documented example of every event type, delivered to an organisation that
// registered the example device: up stores a reading, join marks the device joined, status
// updates its battery, the others are acknowledged with no effect.
func TestChirpStackDocumentedEvents(t *testing.T) {
	f := newFixture(t)
	cs := f.chirpStack()
	const exampleEUI = "0101010101010101"
	f.exec(`UPDATE sensors SET dev_eui = $1 WHERE id = $2`, exampleEUI, f.sensor)
	fixture := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "lorawan", "chirpstack", "testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// up: the example's one byte on port 1 is not an LHT65 frame: a payload fault, the
	// reading (no temperature) stored with its radio metadata.
	a := cs.post("up", fixture("up")).must(t, 200, "stored")
	if a.Result.Kind != "up" || len(a.Result.Faults) == 0 {
		t.Errorf("up: %s", a.Body)
	}
	var rssi, gateways int
	var snr float64
	var source string
	f.row(&source, `SELECT source FROM sensor_readings WHERE sensor_id = $1`, f.sensor)
	if err := testenv.Pool(f.db).QueryRow(t.Context(), `SELECT rssi, snr, gateway_count FROM sensor_readings WHERE sensor_id = $1`, f.sensor).
		Scan(&rssi, &snr, &gateways); err != nil || source != "chirpstack" || rssi != -36 || snr != 10.5 || gateways != 1 {
		t.Errorf("reading: source %s rssi %d snr %v gateways %d (%v)", source, rssi, snr, gateways, err)
	}
	cs.post("join", fixture("join")).must(t, 200, "joined")
	if n := f.count(`SELECT count(*) FROM sensors WHERE id = $1 AND date_trunc('second', last_joined_at) = '2022-07-18T09:33:28Z'`, f.sensor); n != 1 {
		t.Error("join: last_joined_at not recorded")
	}
	cs.post("status", fixture("status")).must(t, 200, "status")
	if n := f.count(`SELECT count(*) FROM sensors WHERE id = $1 AND battery_percent = 88`, f.sensor); n != 1 {
		t.Error("status: the battery level (88.3 %) is not the sensor's")
	}
	readings := f.count(`SELECT count(*) FROM sensor_readings`)
	for _, event := range []string{"ack", "txack", "log", "location", "integration"} {
		a := cs.post(event, fixture(event)).must(t, 200, "ignored")
		if a.Result.Kind != event {
			t.Errorf("%s: kind %q", event, a.Result.Kind)
		}
	}
	// An event type newer than the parser is acknowledged too.
	cs.post("downlink-v5", `{"deviceInfo":{"devEui":"0101010101010101"}}`).must(t, 200, "ignored")
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != readings {
		t.Errorf("acknowledged events stored %d readings", n-readings)
	}
	// ChirpStack retries a delivery that failed: the same deduplicationId stores nothing twice.
	cs.post("up", fixture("up")).must(t, 200, "duplicate")
}

// The product's promise for every network: the same alarm scenario delivered by The Things
// Network and by ChirpStack stores the same readings, opens and resolves the same alerts and
// sends the same messages (only the readings' source and raw payload differ).
func TestSameAlarmThroughTTNAndChirpStack(t *testing.T) {
	viaTTN, viaCS := newFixture(t), newFixture(t)
	cs := viaCS.chirpStack()
	t0 := viaTTN.now
	for i, s := range []struct {
		at time.Duration
		c  float64
	}{{0, 3}, {time.Minute, 9}, {2 * time.Minute, 3}, {4 * time.Minute, 8}, {9 * time.Minute, 8.5},
		{14 * time.Minute, 8.7}, {19 * time.Minute, 9.1}, {24 * time.Minute, 3}, {29 * time.Minute, 2.5}} {
		u := uplink{At: t0.Add(s.at), FCnt: i + 1, Decoded: temp(s.c)}
		ttnAnswer := viaTTN.post(u.body()).must(t, 200, "stored")
		csAnswer := cs.post("up", csUp(u)).must(t, 200, "stored")
		if ttnAnswer.Result.UnitStatus != csAnswer.Result.UnitStatus || ttnAnswer.Result.AlertsOpened != csAnswer.Result.AlertsOpened ||
			ttnAnswer.Result.AlertsResolved != csAnswer.Result.AlertsResolved {
			t.Fatalf("step %d: TTN %s, ChirpStack %s", i, ttnAnswer.Body, csAnswer.Body)
		}
	}
	// Ids and an alert's acknowledgement code are random: the rest must be equal.
	ids := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|ACK [0-9A-F]{6}`)
	rows := func(f *fixture, sql string) []string {
		r, err := testenv.Pool(f.db).Query(t.Context(), sql)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []string
		for r.Next() {
			v, err := r.Values()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ids.ReplaceAllString(fmt.Sprint(v...), "<id>"))
		}
		return out
	}
	for name, sql := range map[string]string{
		"readings": `SELECT recorded_at, temperature_c, humidity, battery_percent, battery_voltage, door_open, rssi, snr,
			gateway_count, spreading_factor, f_cnt FROM sensor_readings ORDER BY recorded_at`,
		"alerts": `SELECT type, severity, status, triggered_at, resolved_at, coalesce(resolution, ''), escalation_step
			FROM alerts ORDER BY triggered_at, type`,
		"alert events":  `SELECT kind, at, coalesce(note, '') FROM alert_events ORDER BY at, kind`,
		"notifications": `SELECT kind, channel, recipient, body FROM notifications ORDER BY kind, channel, recipient`,
		"unit":          `SELECT status, last_reading_at, last_temp_c, last_temperature_at FROM units`,
		"sensor":        `SELECT last_seen_at, battery_voltage, rssi, snr, last_f_cnt FROM sensors`,
	} {
		got, want := rows(viaCS, sql), rows(viaTTN, sql)
		if len(want) == 0 && name != "alert events" {
			t.Errorf("%s: the TTN run stored none", name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s differ:\nChirpStack %q\nTTN        %q", name, got, want)
		}
	}
	if n := viaCS.count(`SELECT count(*) FROM sensor_readings WHERE source <> 'chirpstack'`); n != 0 {
		t.Errorf("%d ChirpStack readings not marked as such", n)
	}
}

// Bad ChirpStack deliveries get a clear error and store nothing: a missing or wrong secret (or
// another network's) 401, a tenant the connection is not bound to 403, a malformed body 400, an
// oversized one 413, the Protobuf encoding 415; an unknown device is offered for claiming like
// TTN's.
func TestChirpStackBadInput(t *testing.T) {
	f := newFixture(t)
	cs := f.chirpStack()
	up := csUp(uplink{At: f.now, FCnt: 1, Decoded: temp(3)})
	for name, c := range map[string]struct {
		headers []string
		status  int
	}{
		"no secret":             {[]string{"Content-Type", "application/json"}, 401},
		"wrong bearer":          {[]string{"Authorization", "Bearer fgcs_not_it"}, 401},
		"wrong header secret":   {[]string{"X-Webhook-Secret", "fgcs_not_it"}, 401},
		"the TTN secret":        {[]string{"X-Webhook-Secret", secret}, 401},
		"the secret, header":    {[]string{"X-Webhook-Secret", csSecret}, 200},
		"the secret, as bearer": {[]string{"Authorization", "Bearer " + csSecret}, 200},
	} {
		a := cs.post("up", up, c.headers...)
		if a.Status != c.status {
			t.Errorf("%s: %d %s", name, a.Status, a.Body)
		}
		if c.status == 401 && a.Result.Status != "" {
			t.Errorf("%s: a refused delivery answered %s", name, a.Body)
		}
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 1 {
		t.Fatalf("%d readings after one good delivery and its retry", n)
	}
	for name, c := range map[string]struct {
		event, body string
		status      int
	}{
		"no event":          {"", up, 400},
		"not json":          {"up", `{"deviceInfo":`, 400},
		"not an object":     {"up", `[1,2]`, 400},
		"no devEui":         {"up", `{"time":"2026-11-26T12:00:00Z","deviceInfo":{}}`, 400},
		"no time":           {"up", `{"deviceInfo":{"devEui":"a84041000181c0de"}}`, 400},
		"data not base64":   {"up", strings.Replace(up, `"data":"AAA="`, `"data":"%%%"`, 1), 400},
		"oversized":         {"up", `{"pad":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
		"status, no devEui": {"status", `{"time":"2026-11-26T12:00:00Z","batteryLevel":50}`, 400},
	} {
		if a := cs.post(c.event, c.body); a.Status != c.status || !strings.Contains(a.Body, `"error"`) {
			t.Errorf("%s: %d %s", name, a.Status, a.Body)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/chirpstack?event=up", strings.NewReader("\x0a\x10protobuf"))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+csSecret)
	rec := httptest.NewRecorder()
	cs.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "JSON") {
		t.Errorf("protobuf: %d %s", rec.Code, rec.Body)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 1 {
		t.Errorf("%d readings after bad deliveries", n)
	}

	// The connection bound to a tenant refuses another tenant's deliveries.
	f.exec(`UPDATE network_connections SET tenant_id = '00000000-0000-4000-8000-000000000001' WHERE kind = 'chirpstack'`)
	cs.h = web.Standard(&Handler{Network: chirpstack.Parser{}, DB: f.db, Now: f.handler.Now}, web.Options{Function: "chirpstack-webhook"})
	if a := cs.post("up", csUp(uplink{At: f.now.Add(time.Minute), FCnt: 2, Decoded: temp(3)})); a.Status != 403 {
		t.Errorf("another tenant: %d %s", a.Status, a.Body)
	}
	f.exec(`UPDATE network_connections SET tenant_id = NULL WHERE kind = 'chirpstack'`)
	cs.h = web.Standard(&Handler{Network: chirpstack.Parser{}, DB: f.db, Now: f.handler.Now}, web.Options{Function: "chirpstack-webhook"})

	// An unknown device: accepted (ChirpStack keeps the integration healthy) and offered for
	// claiming under ChirpStack's name for it.
	cs.post("up", csUp(uplink{DevEUI: "A84041000181BEEF", At: f.now.Add(2 * time.Minute), FCnt: 3, Decoded: temp(3)})).must(t, 202, "unclaimed")
	var name, kind string
	if err := testenv.Pool(f.db).QueryRow(t.Context(), `SELECT d.device_name, c.kind FROM unclaimed_devices d JOIN network_connections c ON c.id = d.connection_id
		WHERE d.dev_eui = 'A84041000181BEEF'`).Scan(&name, &kind); err != nil || name != "cooler-probe" || kind != "chirpstack" {
		t.Errorf("unclaimed device: %q %q %v", name, kind, err)
	}
}

// A database that is down answers 503 (ChirpStack retries) and the retry is applied once.
func TestChirpStackUnreachableDatabaseIs503(t *testing.T) {
	f := newFixture(t)
	cs := f.chirpStack()
	down, err := store.Open("postgres://u@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	body := csUp(uplink{At: f.now, FCnt: 1, Decoded: temp(3)})
	outage := &csWebhook{f: f, h: web.Standard(&Handler{Network: chirpstack.Parser{}, DB: down}, web.Options{Function: "chirpstack-webhook"})}
	if a := outage.post("up", body); a.Status != http.StatusServiceUnavailable {
		t.Fatalf("during the outage: %d %s", a.Status, a.Body)
	}
	cs.post("up", body).must(t, 200, "stored")
	cs.post("up", body).must(t, 200, "duplicate")
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 1 {
		t.Errorf("%d readings", n)
	}
}
