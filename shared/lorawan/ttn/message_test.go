package ttn

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/lorawan"
	"github.com/frostguard/functions/shared/lorawan/decoders"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseKinds(t *testing.T) {
	cases := []struct {
		file string
		kind Kind
		at   string
	}{
		{"uplink_decoded.json", KindUplink, "2026-01-01T10:00:00.123456789Z"},
		{"uplink_raw.json", KindUplink, "2026-01-01T10:00:00.123456789Z"},
		{"uplink_no_fport_fcnt.json", KindUplink, "2026-01-01T10:05:00.000000001Z"},
		{"uplink_normalized.json", KindUplinkNormalized, "2026-01-01T10:00:00.123456789Z"},
		{"join_accept.json", KindJoinAccept, "2026-01-01T09:59:58.935284891Z"},
		{"downlink_ack.json", KindDownlinkAck, "2026-01-01T10:32:24.590413417Z"},
		{"downlink_nack.json", KindDownlinkNack, "2026-01-01T10:32:24.590413417Z"},
		{"downlink_sent.json", KindDownlinkSent, "2026-01-01T10:31:00.1Z"},
		{"downlink_queued.json", KindDownlinkQueued, "2026-01-01T10:30:00.5Z"},
		{"downlink_failed.json", KindDownlinkFailed, "2026-01-01T10:33:00Z"},
		{"downlink_queue_invalidated.json", KindDownlinkQueueInvalidated, "2026-01-01T10:34:00.25Z"},
		{"location_solved.json", KindLocationSolved, "2026-01-01T10:00:01.5Z"},
		{"service_data.json", KindServiceData, "2026-01-01T10:00:02.75Z"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			m, err := Parse(fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.NetworkKind != string(c.kind) || m.Network != lorawan.NetworkTTN {
				t.Fatalf("kind %q, want %q", m.NetworkKind, c.kind)
			}
			if m.Device.ApplicationID != "ft-org-acme" || m.Device.ID == "" {
				t.Fatalf("ids %q %q", m.Device.ApplicationID, m.Device.ID)
			}
			want, _ := time.Parse(time.RFC3339Nano, c.at)
			if !m.ReceivedAt.Equal(want) || m.ReceivedAt.Location() != time.UTC {
				t.Fatalf("received_at %v, want %v UTC", m.ReceivedAt, want)
			}
			if (m.Uplink != nil) != (c.kind == KindUplink) || (m.Kind == lorawan.KindUplink) != (c.kind == KindUplink) {
				t.Fatalf("Uplink set=%v for kind %s", m.Uplink != nil, m.NetworkKind)
			}
			if (m.Kind == lorawan.KindJoin) != (c.kind == KindJoinAccept) {
				t.Fatal("join")
			}
			if ack := c.kind == KindDownlinkAck || c.kind == KindDownlinkNack; (m.Kind == lorawan.KindAck) != ack || (m.Ack != nil) != ack ||
				(ack && m.Ack.Acknowledged != (c.kind == KindDownlinkAck)) {
				t.Fatalf("ack %+v for kind %s", m.Ack, c.kind)
			}
		})
	}
}

func TestParseUplinkFields(t *testing.T) {
	m, err := Parse(fixture(t, "uplink_decoded.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.ReceivedAt.Nanosecond() != 123456789 {
		t.Fatalf("nanoseconds lost: %v", m.ReceivedAt)
	}
	if m.Device.DevEUI != "A840410000000001" || m.MessageID != "as:up:01JGH8Z4Q5R6S7T8V9W0X1Y2Z3" {
		t.Fatalf("dev_eui %q message id %q", m.Device.DevEUI, m.MessageID)
	}
	up := m.Uplink
	if up.FPort != 2 || up.FCnt != 1532 {
		t.Fatalf("fport %d fcnt %d", up.FPort, up.FCnt)
	}
	if got := strings.ToUpper(hexs(up.Payload)); got != "CBF60B0D0376010ADD7FFF" {
		t.Fatalf("frm_payload %s", got)
	}
	if !strings.HasPrefix(string(up.Decoded), "{") || !strings.Contains(string(up.Decoded), `"TempC_SHT": 28.29`) {
		t.Fatalf("decoded_payload %s", up.Decoded)
	}
	if !up.ReceivedAt.Equal(time.Date(2026, 1, 1, 10, 0, 0, 120954000, time.UTC)) {
		t.Fatalf("uplink received_at %v", up.ReceivedAt)
	}
	// Two gateways at -84 dBm: the one with the better SNR (9.75) wins over -97 and 3.5.
	r := up.Radio
	if r.RSSI == nil || *r.RSSI != -84 || r.SNR == nil || *r.SNR != 9.75 {
		t.Fatalf("best gateway rssi %v snr %v", deref(r.RSSI), deref(r.SNR))
	}
	if r.GatewayCount != 3 || r.SpreadingFactor == nil || *r.SpreadingFactor != 9 || r.FrequencyHz != 868100000 {
		t.Fatalf("gateways %d sf %v frequency %d", r.GatewayCount, r.SpreadingFactor, r.FrequencyHz)
	}
	if repo := m.Device.Repository; repo.BrandID != "dragino" || repo.ModelID != "lht65n" {
		t.Fatalf("version_ids %+v", repo)
	}
	if !strings.HasPrefix(string(up.Raw), "{") || !strings.Contains(string(up.Raw), `"rx_metadata"`) {
		t.Fatalf("raw %s", up.Raw)
	}
}

func TestParseUplinkAbsentZeroes(t *testing.T) {
	m, err := Parse(fixture(t, "uplink_no_fport_fcnt.json"))
	if err != nil {
		t.Fatal(err)
	}
	up := m.Uplink
	if up.FPort != 0 || up.FCnt != 0 || len(up.Payload) != 0 || up.Decoded != nil {
		t.Fatalf("%+v", up)
	}
	// rssi absent: channel_rssi is used.
	if r := up.Radio; r.RSSI == nil || *r.RSSI != -101 || r.SNR == nil || *r.SNR != 6 || r.GatewayCount != 1 {
		t.Fatalf("rssi %v snr %v gw %d", deref(r.RSSI), deref(r.SNR), r.GatewayCount)
	}
	if m.ReceivedAt.Nanosecond() != 1 {
		t.Fatalf("received_at %v", m.ReceivedAt)
	}
}

func TestBestGateway(t *testing.T) {
	cases := []struct {
		name string
		md   string
		rssi *int
		snr  *float64
		gws  int
	}{
		{"none", `[]`, nil, nil, 0},
		{"no rssi at all", `[{"gateway_ids":{"gateway_id":"a"},"snr":5}]`, nil, nil, 1},
		{"highest rssi", `[{"gateway_ids":{"gateway_id":"a"},"rssi":-110,"snr":12},{"gateway_ids":{"gateway_id":"b"},"rssi":-70,"snr":-3}]`, ip(-70), fp(-3), 2},
		{"snr tie-break", `[{"gateway_ids":{"gateway_id":"a"},"rssi":-90,"snr":1},{"gateway_ids":{"gateway_id":"b"},"rssi":-90,"snr":8.5}]`, ip(-90), fp(8.5), 2},
		{"rssi beats channel_rssi", `[{"gateway_ids":{"gateway_id":"a"},"rssi":-95,"channel_rssi":-60}]`, ip(-95), nil, 1},
		{"fractional rssi rounded", `[{"gateway_ids":{"gateway_id":"a"},"channel_rssi":-97.6}]`, ip(-98), nil, 1},
		{"same gateway two antennas", `[{"gateway_ids":{"gateway_id":"a"},"rssi":-99,"antenna_index":0},{"gateway_ids":{"gateway_id":"a"},"rssi":-93,"antenna_index":1}]`, ip(-93), nil, 1},
		{"implausible rssi ignored", `[{"gateway_ids":{"gateway_id":"a"},"rssi":1e300},{"gateway_ids":{"gateway_id":"b"},"rssi":-120}]`, ip(-120), nil, 2},
		{"entries without ids counted", `[{"rssi":-80},{"rssi":-81}]`, ip(-80), nil, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := `{"end_device_ids":{"device_id":"d","application_ids":{"application_id":"a"}},"received_at":"2026-01-01T00:00:00Z","uplink_message":{"rx_metadata":` + c.md + `}}`
			m, err := Parse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			r := m.Uplink.Radio
			if !eqI(r.RSSI, c.rssi) || !eqF(r.SNR, c.snr) || r.GatewayCount != c.gws {
				t.Fatalf("rssi %v snr %v gws %d", deref(r.RSSI), deref(r.SNR), r.GatewayCount)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	ok := `"end_device_ids":{"device_id":"d","application_ids":{"application_id":"app"}}`
	cases := []struct {
		name string
		body string
		want error
	}{
		{"empty", ``, lorawan.ErrMalformed},
		{"not json", `hello`, lorawan.ErrMalformed},
		{"truncated", `{"end_device_ids":{`, lorawan.ErrMalformed},
		{"array", `[1,2]`, lorawan.ErrMalformed},
		{"string", `"x"`, lorawan.ErrMalformed},
		{"null", `null`, ErrNoApplication},
		{"no application", `{"end_device_ids":{"device_id":"d"},"received_at":"2026-01-01T00:00:00Z"}`, ErrNoApplication},
		{"application id not a string", `{"end_device_ids":{"application_ids":{"application_id":7}},"received_at":"2026-01-01T00:00:00Z"}`, ErrNoApplication},
		{"no received_at", `{` + ok + `,"uplink_message":{}}`, ErrReceivedAt},
		{"bad received_at", `{` + ok + `,"received_at":"yesterday"}`, ErrReceivedAt},
		{"zero received_at", `{` + ok + `,"received_at":"0001-01-01T00:00:00Z"}`, ErrReceivedAt},
		{"received_at not a string", `{` + ok + `,"received_at":12}`, ErrReceivedAt},
		{"bad base64", `{` + ok + `,"received_at":"2026-01-01T00:00:00Z","uplink_message":{"frm_payload":"!!!"}}`, lorawan.ErrMalformed},
		{"uplink not an object", `{` + ok + `,"received_at":"2026-01-01T00:00:00Z","uplink_message":[1]}`, lorawan.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.body))
			if !errors.Is(err, c.want) || !errors.Is(err, lorawan.ErrMalformed) {
				t.Fatalf("err %v, want %v (a lorawan.ErrMalformed)", err, c.want)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	ok := `"end_device_ids":{"device_id":"d","dev_eui":"a8:40:41:00:00:00:00:01","application_ids":{"application_id":"app"}},"received_at":"2026-01-01T12:00:00+02:00"`
	cases := []struct {
		name  string
		extra string
		check func(t *testing.T, m lorawan.Event)
	}{
		{"unknown kind", `,"something_new":{}`, func(t *testing.T, m lorawan.Event) {
			if m.NetworkKind != string(KindUnknown) || m.Kind != lorawan.KindOther {
				t.Fatal(m.Kind)
			}
		}},
		{"offset time to UTC, EUI normalised", ``, func(t *testing.T, m lorawan.Event) {
			if m.ReceivedAt != time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC) || m.Device.DevEUI != "A840410000000001" {
				t.Fatal(m.ReceivedAt, m.Device.DevEUI)
			}
		}},
		{"odd optional types ignored", `,"correlation_ids":"x","uplink_message":{"f_port":"2","f_cnt":-5,"decoded_payload":[1],"settings":{"data_rate":{"lora":{"spreading_factor":99}},"frequency":"x"},"rx_metadata":{"a":1},"received_at":"nope","version_ids":7}`, func(t *testing.T, m lorawan.Event) {
			up := m.Uplink
			if up == nil || up.FPort != 0 || up.FCnt != 0 || up.Decoded != nil || up.Radio.SpreadingFactor != nil || up.Radio.FrequencyHz != 0 ||
				!up.ReceivedAt.Equal(m.ReceivedAt) || m.Device.Repository != (lorawan.RepositoryIDs{}) {
				t.Fatalf("%+v", up)
			}
		}},
		{"unpadded base64", `,"uplink_message":{"frm_payload":"y/YLDQN2AQrdf/8"}`, func(t *testing.T, m lorawan.Event) {
			if len(m.Uplink.Payload) != 11 {
				t.Fatal(m.Uplink.Payload)
			}
		}},
		{"null uplink is not an uplink", `,"uplink_message":null,"join_accept":{}`, func(t *testing.T, m lorawan.Event) {
			if m.NetworkKind != string(KindJoinAccept) || m.Kind != lorawan.KindJoin {
				t.Fatal(m.Kind)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte(`{` + ok + c.extra + `}`))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, m)
		})
	}
}

func TestDedupeKey(t *testing.T) {
	m, err := Parse(fixture(t, "uplink_decoded.json"))
	if err != nil {
		t.Fatal(err)
	}
	if k := m.DedupeKey(); k != "as:up:01JGH8Z4Q5R6S7T8V9W0X1Y2Z3" {
		t.Fatalf("key %q", k)
	}
	// Same delivery again (a TTN retry): same key.
	m2, _ := Parse(fixture(t, "uplink_decoded.json"))
	if m2.DedupeKey() != m.DedupeKey() {
		t.Fatal("retry changed the key")
	}

	em, err := Parse(fixture(t, "uplink_em300.json")) // no as:up: correlation id
	if err != nil {
		t.Fatal(err)
	}
	if k := em.DedupeKey(); k != "24E124136B316002:77:2026-01-01T10:00:00.123456789Z" {
		t.Fatalf("fallback key %q", k)
	}
	em.Device.DevEUI = ""
	if k := em.DedupeKey(); k != "em300-freezer-2:77:2026-01-01T10:00:00.123456789Z" {
		t.Fatalf("device id key %q", k)
	}

	// A downlink_ack carries the triggering uplink's as:up: id; its key must not collide.
	ack, _ := Parse(fixture(t, "downlink_ack.json"))
	if k := ack.DedupeKey(); k != "downlink_ack/as:up:01E19B9J8ED6HZW5CC41KPGHVD" {
		t.Fatalf("ack key %q", k)
	}
	sent, _ := Parse(fixture(t, "downlink_sent.json"))
	if k := sent.DedupeKey(); k != "downlink_sent/A840410000000001:0:2026-01-01T10:31:00.1Z" {
		t.Fatalf("sent key %q", k)
	}
}

// The secret is read from every header form TTN webhooks (ours and the origin's) send.
func TestSecretHeaders(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"ours", map[string]string{"X-Webhook-Secret": " s1 "}, "s1"},
		{"origin's receiver", map[string]string{"X-API-Key": "s2"}, "s2"},
		{"downlink api key", map[string]string{"X-Downlink-Apikey": "s3"}, "s3"},
		{"bearer", map[string]string{"Authorization": "Bearer s4"}, "s4"},
		{"bare authorization (origin's provisioning)", map[string]string{"Authorization": "s5"}, "s5"},
		{"another scheme", map[string]string{"Authorization": "Basic s6"}, ""},
		{"ours first", map[string]string{"X-Webhook-Secret": "s7", "Authorization": "Bearer other"}, "s7"},
		{"none", map[string]string{"X-Other": "x"}, ""},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c.headers {
			h.Set(k, v)
		}
		if got := (Parser{}).Secret(h); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func hexs(b []byte) string {
	const h = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, h[c>>4], h[c&15])
	}
	return string(out)
}

func ip(i int) *int          { return &i }
func fp(f float64) *float64  { return &f }
func bp(b bool) *bool        { return &b }
func eqI(a, b *int) bool     { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func eqF(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func eqB(a, b *bool) bool    { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// The fixtures' uplinks give the readings shared/ttn's own decoders gave them (its
// TestDecodeFromFixtures), through the Event and the shared decoders: the network's
// decoded_payload when present, else the sensor's model on the bytes.
func TestFixturesDecode(t *testing.T) {
	cases := []struct {
		file, model string
		temp, other *float64
		hum, volts  *float64
		pct         *int
		door        *bool
		fault       string
	}{
		{file: "uplink_decoded.json", model: "dragino-lht65", temp: fp(28.29), other: fp(27.81), hum: fp(88.6), volts: fp(3.062)},
		{file: "uplink_raw.json", model: "dragino-lht65", temp: fp(28.29), other: fp(27.81), hum: fp(88.6), volts: fp(3.062)},
		{file: "uplink_em300.json", model: "milesight-em300-th", temp: fp(20), hum: fp(30), pct: ip(50)},
		{file: "uplink_lds02.json", model: "dragino-lds02", door: bp(true), volts: fp(3.035)},
		{file: "uplink_strings_fahrenheit.json", temp: fp(3.61), hum: fp(61.5), pct: ip(87), door: bp(false)},
		{file: "uplink_raw.json", fault: decoders.FaultNoDecoder},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.model, func(t *testing.T) {
			e, err := Parse(fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			m, ok := decoders.Resolve("", c.model)
			if !ok {
				m = decoders.Generic()
			}
			up := e.Uplink
			r := m.DecodeUplink(up.FPort, up.Payload, up.Decoded)
			u := m.Unit(r, "")
			var other *float64
			for _, p := range r.Temperatures {
				if p.Probe != u.Probe {
					other = fp(p.C)
				}
			}
			if !eqF(u.TemperatureC, c.temp) || !eqF(other, c.other) || !eqF(r.HumidityPct, c.hum) || !eqF(r.BatteryVolts, c.volts) ||
				!eqI(r.BatteryPercent, c.pct) || !eqB(r.DoorOpen, c.door) {
				t.Errorf("temp=%v other=%v hum=%v volts=%v pct=%v door=%v", deref(u.TemperatureC), deref(other), deref(r.HumidityPct),
					deref(r.BatteryVolts), deref(r.BatteryPercent), deref(r.DoorOpen))
			}
			if faults := r.FaultMessages(); (c.fault == "") != (len(faults) == 0) || (c.fault != "" && faults[0] != c.fault) {
				t.Errorf("faults %q, want %q", faults, c.fault)
			}
		})
	}
}
