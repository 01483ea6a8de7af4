package ttn

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
			if m.Kind != c.kind {
				t.Fatalf("kind %q, want %q", m.Kind, c.kind)
			}
			if m.ApplicationID != "ft-org-acme" || m.DeviceID == "" {
				t.Fatalf("ids %q %q", m.ApplicationID, m.DeviceID)
			}
			want, _ := time.Parse(time.RFC3339Nano, c.at)
			if !m.ReceivedAt.Equal(want) || m.ReceivedAt.Location() != time.UTC {
				t.Fatalf("received_at %v, want %v UTC", m.ReceivedAt, want)
			}
			if (m.Uplink != nil) != (c.kind == KindUplink) {
				t.Fatalf("Uplink set=%v for kind %s", m.Uplink != nil, m.Kind)
			}
			if m.IsJoin() != (c.kind == KindJoinAccept) {
				t.Fatal("IsJoin")
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
	if m.DevEUI != "A840410000000001" || len(m.CorrelationIDs) != 7 {
		t.Fatalf("dev_eui %q corr %v", m.DevEUI, m.CorrelationIDs)
	}
	up := m.Uplink
	if up.FPort != 2 || up.FCnt != 1532 {
		t.Fatalf("fport %d fcnt %d", up.FPort, up.FCnt)
	}
	if got := strings.ToUpper(hexs(up.FRMPayload)); got != "CBF60B0D0376010ADD7FFF" {
		t.Fatalf("frm_payload %s", got)
	}
	if up.DecodedPayload["TempC_SHT"] != 28.29 {
		t.Fatalf("decoded_payload %v", up.DecodedPayload)
	}
	if !up.ReceivedAt.Equal(time.Date(2026, 1, 1, 10, 0, 0, 120954000, time.UTC)) {
		t.Fatalf("uplink received_at %v", up.ReceivedAt)
	}
	// Two gateways at -84 dBm: the one with the better SNR (9.75) wins over -97 and 3.5.
	if up.RSSI == nil || *up.RSSI != -84 || up.SNR == nil || *up.SNR != 9.75 {
		t.Fatalf("best gateway rssi %v snr %v", deref(up.RSSI), deref(up.SNR))
	}
	if up.GatewayCount != 3 || up.SpreadingFactor == nil || *up.SpreadingFactor != 9 {
		t.Fatalf("gateways %d sf %v", up.GatewayCount, up.SpreadingFactor)
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
	if up.FPort != 0 || up.FCnt != 0 || len(up.FRMPayload) != 0 || up.DecodedPayload != nil {
		t.Fatalf("%+v", up)
	}
	// rssi absent: channel_rssi is used.
	if up.RSSI == nil || *up.RSSI != -101 || up.SNR == nil || *up.SNR != 6 || up.GatewayCount != 1 {
		t.Fatalf("rssi %v snr %v gw %d", deref(up.RSSI), deref(up.SNR), up.GatewayCount)
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
			up := m.Uplink
			if !eqI(up.RSSI, c.rssi) || !eqF(up.SNR, c.snr) || up.GatewayCount != c.gws {
				t.Fatalf("rssi %v snr %v gws %d", deref(up.RSSI), deref(up.SNR), up.GatewayCount)
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
		{"empty", ``, ErrMalformed},
		{"not json", `hello`, ErrMalformed},
		{"truncated", `{"end_device_ids":{`, ErrMalformed},
		{"array", `[1,2]`, ErrMalformed},
		{"string", `"x"`, ErrMalformed},
		{"null", `null`, ErrNoApplication},
		{"no application", `{"end_device_ids":{"device_id":"d"},"received_at":"2026-01-01T00:00:00Z"}`, ErrNoApplication},
		{"application id not a string", `{"end_device_ids":{"application_ids":{"application_id":7}},"received_at":"2026-01-01T00:00:00Z"}`, ErrNoApplication},
		{"no received_at", `{` + ok + `,"uplink_message":{}}`, ErrReceivedAt},
		{"bad received_at", `{` + ok + `,"received_at":"yesterday"}`, ErrReceivedAt},
		{"zero received_at", `{` + ok + `,"received_at":"0001-01-01T00:00:00Z"}`, ErrReceivedAt},
		{"received_at not a string", `{` + ok + `,"received_at":12}`, ErrReceivedAt},
		{"bad base64", `{` + ok + `,"received_at":"2026-01-01T00:00:00Z","uplink_message":{"frm_payload":"!!!"}}`, ErrMalformed},
		{"uplink not an object", `{` + ok + `,"received_at":"2026-01-01T00:00:00Z","uplink_message":[1]}`, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	ok := `"end_device_ids":{"device_id":"d","dev_eui":"a8:40:41:00:00:00:00:01","application_ids":{"application_id":"app"}},"received_at":"2026-01-01T12:00:00+02:00"`
	cases := []struct {
		name  string
		extra string
		check func(t *testing.T, m Message)
	}{
		{"unknown kind", `,"something_new":{}`, func(t *testing.T, m Message) {
			if m.Kind != KindUnknown {
				t.Fatal(m.Kind)
			}
		}},
		{"offset time to UTC, EUI normalised", ``, func(t *testing.T, m Message) {
			if m.ReceivedAt != time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC) || m.DevEUI != "A840410000000001" {
				t.Fatal(m.ReceivedAt, m.DevEUI)
			}
		}},
		{"odd optional types ignored", `,"correlation_ids":"x","uplink_message":{"f_port":"2","f_cnt":-5,"decoded_payload":[1],"settings":{"data_rate":{"lora":{"spreading_factor":99}}},"rx_metadata":{"a":1},"received_at":"nope"}`, func(t *testing.T, m Message) {
			up := m.Uplink
			if up == nil || up.FPort != 0 || up.FCnt != 0 || up.DecodedPayload != nil || up.SpreadingFactor != nil || !up.ReceivedAt.Equal(m.ReceivedAt) {
				t.Fatalf("%+v", up)
			}
		}},
		{"unpadded base64", `,"uplink_message":{"frm_payload":"y/YLDQN2AQrdf/8"}`, func(t *testing.T, m Message) {
			if len(m.Uplink.FRMPayload) != 11 {
				t.Fatal(m.Uplink.FRMPayload)
			}
		}},
		{"null uplink is not an uplink", `,"uplink_message":null,"join_accept":{}`, func(t *testing.T, m Message) {
			if m.Kind != KindJoinAccept {
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

func TestNormalizeEUI(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "a840410000000001": "A840410000000001", "A8-40-41-00-00-00-00-01": "A840410000000001",
		"a840": "", "a8404100000000011": "", "zz40410000000001": "", "A840 4100 0000 0001": "A840410000000001",
	} {
		if got := normalizeEUI(in); got != want {
			t.Errorf("normalizeEUI(%q) = %q, want %q", in, got, want)
		}
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
	em.DevEUI = ""
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
