package chirpstack

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/lorawan"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func delivery(event string, body []byte) lorawan.Delivery {
	return lorawan.Delivery{
		Query:  url.Values{"event": {event}},
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body,
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// The documented example of every event type parses to the kind we act on, with the device,
// the time and the dedupe key ChirpStack's retries share.
func TestParseDocumentedEvents(t *testing.T) {
	docDevice := lorawan.Device{
		DevEUI: "0101010101010101", ID: "Test device", ApplicationID: "17c82e96-be03-4f38-aef3-f83d48582d97",
		TenantID: "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", Profile: "Test device-profile",
	}
	cases := []struct {
		file, event string
		kind        lorawan.Kind
		at          string
		key         string
	}{
		{"up.json", EventUp, lorawan.KindUplink, "2022-07-18T09:34:15.775023242Z", "3ac7e3c4-4401-4b8d-9386-a5c902f9202d"},
		{"join.json", EventJoin, lorawan.KindJoin, "2022-07-18T09:33:28.823500726Z", "join/c9dbe358-2578-4fb7-b295-66b44edc45a6"},
		{"status.json", EventStatus, lorawan.KindStatus, "2022-07-18T09:35:06.927172638Z", "status/bf2a9746-1c8b-49be-a92e-f0b89c8534e4"},
		{"ack.json", EventAck, lorawan.KindAck, "2022-07-18T09:38:49.235700766Z", "ack/856a03e7-80f6-4c26-b971-9dcb34a59c2e"},
		{"txack.json", EventTxAck, lorawan.KindOther, "2022-07-18T09:37:48.929184085Z", "txack/3461958127"},
		{"log.json", EventLog, lorawan.KindOther, "2022-07-18T09:39:57.311414029Z", "log/0101010101010101:0:2022-07-18T09:39:57.311414029Z"},
		{"location.json", EventLocation, lorawan.KindOther, "2022-07-18T09:55:11.059481003Z", "location/63d870b9-b769-4d88-8b33-8e43f58851a7"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			e, err := Parse(delivery(c.event, fixture(t, c.file)))
			if err != nil {
				t.Fatal(err)
			}
			if e.Network != lorawan.NetworkChirpStack || e.Kind != c.kind || e.NetworkKind != c.event {
				t.Fatalf("network %q kind %q network kind %q", e.Network, e.Kind, e.NetworkKind)
			}
			if e.Device != docDevice {
				t.Fatalf("device %+v", e.Device)
			}
			if !e.ReceivedAt.Equal(at(c.at)) || e.ReceivedAt.Location() != time.UTC {
				t.Fatalf("received at %v, want %s UTC", e.ReceivedAt, c.at)
			}
			if k := e.DedupeKey(); k != c.key {
				t.Fatalf("dedupe key %q, want %q", k, c.key)
			}
			if (e.Uplink != nil) != (c.kind == lorawan.KindUplink) || (e.Status != nil) != (c.kind == lorawan.KindStatus) ||
				(e.Ack != nil) != (c.kind == lorawan.KindAck) {
				t.Fatalf("payloads uplink=%v status=%v ack=%v for %s", e.Uplink != nil, e.Status != nil, e.Ack != nil, c.kind)
			}
		})
	}
}

func TestParseDocumentedUplink(t *testing.T) {
	e, err := Parse(delivery(EventUp, fixture(t, "up.json")))
	if err != nil {
		t.Fatal(err)
	}
	up := e.Uplink
	// fCnt is 0 and therefore omitted by ChirpStack's JSON; data "qg==" is one byte 0xAA.
	if up.FPort != 1 || up.FCnt != 0 || hex.EncodeToString(up.Payload) != "aa" || up.Decoded != nil || up.Confirmed {
		t.Fatalf("%+v", up)
	}
	if !up.ReceivedAt.Equal(e.ReceivedAt) || !e.ReadingAt().Equal(e.ReceivedAt) {
		t.Fatalf("reading time %v", up.ReceivedAt)
	}
	r := up.Radio
	if r.RSSI == nil || *r.RSSI != -36 || r.SNR == nil || *r.SNR != 10.5 || r.GatewayCount != 1 ||
		r.SpreadingFactor == nil || *r.SpreadingFactor != 11 || r.FrequencyHz != 867100000 {
		t.Fatalf("radio %+v", r)
	}
	if !strings.Contains(string(up.Raw), `"deduplicationId"`) {
		t.Fatalf("raw %s", up.Raw)
	}
}

func TestParseColdRoomUplink(t *testing.T) {
	e, err := Parse(delivery(EventUp, fixture(t, "up_lht65n.json")))
	if err != nil {
		t.Fatal(err)
	}
	if e.Device.DevEUI != "A840410000000001" || e.Device.ID != "walk-in-freezer" || e.Device.Profile != "Dragino LHT65N" {
		t.Fatalf("device %+v", e.Device)
	}
	if e.ReceivedAt.Nanosecond() != 123456789 {
		t.Fatalf("nanoseconds lost: %v", e.ReceivedAt)
	}
	up := e.Uplink
	if up.FPort != 2 || up.FCnt != 1532 || !up.Confirmed || strings.ToUpper(hex.EncodeToString(up.Payload)) != "CBF60B0D0376010ADD7FFF" {
		t.Fatalf("%+v", up)
	}
	if !strings.Contains(string(up.Decoded), `"TempC_SHT": 28.29`) {
		t.Fatalf("decoded object %s", up.Decoded)
	}
	// Two gateways at -84 dBm: the better SNR (9.75) wins over the other and over -97 dBm.
	r := up.Radio
	if r.RSSI == nil || *r.RSSI != -84 || r.SNR == nil || *r.SNR != 9.75 || r.GatewayCount != 3 || *r.SpreadingFactor != 9 {
		t.Fatalf("radio %+v rssi %v snr %v", r, r.RSSI, r.SNR)
	}
	if e.DedupeKey() != "8f0c7e52-3b1d-4f6e-9a44-2d5c1b7e9a10" {
		t.Fatal(e.DedupeKey())
	}
}

func TestParseStatus(t *testing.T) {
	e, err := Parse(delivery(EventStatus, fixture(t, "status.json")))
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Status; s.BatteryPercent == nil || *s.BatteryPercent != 88.3 || s.ExternalPower || s.MarginDB == nil || *s.MarginDB != 10 {
		t.Fatalf("%+v", s)
	}
	e, err = Parse(delivery(EventStatus, fixture(t, "status_external_power.json")))
	if err != nil {
		t.Fatal(err)
	}
	// A mains-powered device reports no battery level, even if a number were present.
	if s := e.Status; s.BatteryPercent != nil || !s.ExternalPower || s.MarginDB == nil || *s.MarginDB != -3 {
		t.Fatalf("%+v", s)
	}
}

func TestParseAck(t *testing.T) {
	e, err := Parse(delivery(EventAck, fixture(t, "ack.json")))
	if err != nil {
		t.Fatal(err)
	}
	if e.Ack == nil || !e.Ack.Acknowledged || e.Ack.FCntDown != 3 {
		t.Fatalf("%+v", e.Ack)
	}
}

func TestParseIntegrationEvent(t *testing.T) {
	e, err := Parse(delivery(EventIntegration, fixture(t, "integration.json")))
	if err != nil {
		t.Fatal(err)
	}
	// LoRa Cloud's answers are not readings: acknowledged, nothing acted on.
	if e.Kind != lorawan.KindOther || e.Uplink != nil || e.Device.DevEUI != "0016C001F000175A" {
		t.Fatalf("%+v", e)
	}
}

func TestParseLenient(t *testing.T) {
	base := `"time":"2026-01-01T12:00:00+02:00","deviceInfo":{"devEui":"A8-40-41-00-00-00-00-01"}`
	cases := []struct {
		name, event, body string
		check             func(t *testing.T, e lorawan.Event)
	}{
		{"offset time to UTC, EUI normalised", EventJoin, `{` + base + `}`, func(t *testing.T, e lorawan.Event) {
			if !e.ReceivedAt.Equal(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)) || e.Device.DevEUI != "A840410000000001" {
				t.Fatal(e.ReceivedAt, e.Device.DevEUI)
			}
		}},
		{"numbers as strings (protobuf JSON)", EventUp, `{` + base + `,"fCnt":"4294967295","fPort":"85","txInfo":{"frequency":"868100000","modulation":{"lora":{"spreadingFactor":"7"}}}}`,
			func(t *testing.T, e lorawan.Event) {
				up := e.Uplink
				if up.FCnt != 4294967295 || up.FPort != 85 || up.Radio.FrequencyHz != 868100000 || *up.Radio.SpreadingFactor != 7 {
					t.Fatalf("%+v", up)
				}
			}},
		{"odd optional types ignored", EventUp, `{` + base + `,"fCnt":-3,"fPort":300,"object":[1],"rxInfo":{"a":1},"txInfo":{"modulation":{"lora":{"spreadingFactor":42}}},"confirmed":"yes"}`,
			func(t *testing.T, e lorawan.Event) {
				up := e.Uplink
				if up.FCnt != 0 || up.FPort != 0 || up.Decoded != nil || up.Radio.GatewayCount != 0 || up.Radio.SpreadingFactor != nil || up.Confirmed {
					t.Fatalf("%+v", up)
				}
			}},
		{"unpadded and url-safe base64", EventUp, `{` + base + `,"data":"y_YLDQN2AQrdf_8"}`, func(t *testing.T, e lorawan.Event) {
			if strings.ToUpper(hex.EncodeToString(e.Uplink.Payload)) != "CBF60B0D0376010ADD7FFF" {
				t.Fatalf("%x", e.Uplink.Payload)
			}
		}},
		{"implausible radio values ignored", EventUp, `{` + base + `,"rxInfo":[{"gatewayId":"a","rssi":999,"snr":5},{"gatewayId":"A"},{"rssi":-120,"snr":-99}]}`,
			func(t *testing.T, e lorawan.Event) {
				r := e.Uplink.Radio
				// "a" and "A" are one gateway (ids are hex); the anonymous entry counts as one more.
				if r.RSSI == nil || *r.RSSI != -120 || r.SNR != nil || r.GatewayCount != 2 {
					t.Fatalf("%+v", r)
				}
			}},
		{"battery out of range is absent", EventStatus, `{` + base + `,"batteryLevel":250,"margin":99}`, func(t *testing.T, e lorawan.Event) {
			if e.Status.BatteryPercent != nil || e.Status.MarginDB != nil {
				t.Fatalf("%+v", e.Status)
			}
		}},
		{"an event type newer than this parser is acknowledged", "downlink_expired", `{"something":"new"}`, func(t *testing.T, e lorawan.Event) {
			if e.Kind != lorawan.KindOther || e.NetworkKind != "downlink_expired" {
				t.Fatalf("%+v", e)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse(delivery(c.event, []byte(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, e)
		})
	}
}

func TestParseErrors(t *testing.T) {
	ok := `"time":"2026-01-01T00:00:00Z","deviceInfo":{"devEui":"0101010101010101"}`
	cases := []struct {
		name, event, contentType, body string
		want                           error
	}{
		{"no event", "", "application/json", `{` + ok + `}`, lorawan.ErrMalformed},
		{"protobuf encoding", EventUp, "application/octet-stream", "\x0a\x243ac7e3c4", lorawan.ErrUnsupported},
		{"empty body", EventUp, "application/json", ``, lorawan.ErrMalformed},
		{"not json", EventUp, "application/json", `hello`, lorawan.ErrMalformed},
		{"truncated", EventUp, "application/json", `{"deviceInfo":{`, lorawan.ErrMalformed},
		{"array", EventUp, "application/json", `[1,2]`, lorawan.ErrMalformed},
		{"null", EventUp, "application/json", `null`, lorawan.ErrMalformed},
		{"null for an unknown event", "new_event", "application/json", `null`, lorawan.ErrMalformed},
		{"no devEui", EventUp, "application/json", `{"time":"2026-01-01T00:00:00Z"}`, lorawan.ErrMalformed},
		{"devEui not an EUI-64", EventJoin, "application/json", `{"time":"2026-01-01T00:00:00Z","deviceInfo":{"devEui":"0101"}}`, lorawan.ErrMalformed},
		{"devEui not a string", EventStatus, "application/json", `{"time":"2026-01-01T00:00:00Z","deviceInfo":{"devEui":101}}`, lorawan.ErrMalformed},
		{"no time", EventUp, "application/json", `{"deviceInfo":{"devEui":"0101010101010101"}}`, lorawan.ErrMalformed},
		{"bad time", EventAck, "application/json", `{"time":"yesterday","deviceInfo":{"devEui":"0101010101010101"}}`, lorawan.ErrMalformed},
		{"zero time", EventLog, "application/json", `{"time":"0001-01-01T00:00:00Z","deviceInfo":{"devEui":"0101010101010101"}}`, lorawan.ErrMalformed},
		{"data not base64", EventUp, "application/json", `{` + ok + `,"data":"!!!"}`, lorawan.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := delivery(c.event, []byte(c.body))
			if c.event == "" {
				d.Query = url.Values{}
			}
			d.Header.Set("Content-Type", c.contentType)
			_, err := Parse(d)
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

// The same documented event through the Parser interface a handler holds.
func TestParserShape(t *testing.T) {
	var p lorawan.Parser = Parser{}
	if p.Network() != lorawan.NetworkChirpStack {
		t.Fatal(p.Network())
	}
	h := http.Header{}
	if p.Secret(h) != "" {
		t.Fatal("secret without a header")
	}
	h.Set("Authorization", "Bearer  s3cret ")
	if p.Secret(h) != "s3cret" {
		t.Fatalf("bearer %q", p.Secret(h))
	}
	h.Set(SecretHeader, "from-header")
	if p.Secret(h) != "from-header" {
		t.Fatalf("header %q", p.Secret(h))
	}
	e, err := p.Parse(delivery(EventUp, fixture(t, "up.json")))
	if err != nil || e.Kind != lorawan.KindUplink {
		t.Fatal(e.Kind, err)
	}
}
