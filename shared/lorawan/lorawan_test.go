package lorawan

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// The dedupe rules are The Things Stack's of today (shared/lorawan/ttn Message.DedupeKey), so moving TTN
// onto the Event keeps every stored key: the network's message id, else EUI (else device id),
// frame counter and time; anything but an uplink namespaced by the network's own kind.
func TestDedupeKey(t *testing.T) {
	at := time.Date(2026, 1, 1, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	up := Event{Kind: KindUplink, NetworkKind: "uplink", MessageID: "as:up:01JGH8Z4Q5R6S7T8V9W0X1Y2Z3", ReceivedAt: at,
		Device: Device{DevEUI: "A840410000000001", ID: "eui-a840410000000001"}, Uplink: &Uplink{FCnt: 77}}
	cases := []struct {
		name string
		e    func(Event) Event
		want string
	}{
		{"uplink: the message id", func(e Event) Event { return e }, "as:up:01JGH8Z4Q5R6S7T8V9W0X1Y2Z3"},
		{"uplink without an id: EUI, counter, time in UTC", func(e Event) Event { e.MessageID = ""; return e },
			"A840410000000001:77:2026-01-01T09:00:00.123456789Z"},
		{"no EUI: the device id", func(e Event) Event { e.MessageID, e.Device.DevEUI = "", ""; return e },
			"eui-a840410000000001:77:2026-01-01T09:00:00.123456789Z"},
		{"a join with the uplink's id does not collide with it", func(e Event) Event {
			e.Kind, e.NetworkKind, e.Uplink = KindJoin, "join_accept", nil
			return e
		}, "join_accept/as:up:01JGH8Z4Q5R6S7T8V9W0X1Y2Z3"},
		{"other kinds without an id count frame 0", func(e Event) Event {
			e.Kind, e.NetworkKind, e.MessageID, e.Uplink = KindOther, "downlink_sent", "", nil
			return e
		}, "downlink_sent/A840410000000001:0:2026-01-01T09:00:00.123456789Z"},
	}
	for _, c := range cases {
		if got := c.e(up).DedupeKey(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDeviceNameAndReadingTime(t *testing.T) {
	if (Device{ID: "walk-in", DevEUI: "A840410000000001"}).Name() != "walk-in" || (Device{DevEUI: "A840410000000001"}).Name() != "A840410000000001" {
		t.Fatal("name")
	}
	msg := time.Date(2026, 1, 1, 10, 0, 1, 0, time.UTC)
	heard := msg.Add(-time.Second)
	if (Event{ReceivedAt: msg, Uplink: &Uplink{ReceivedAt: heard}}).ReadingAt() != heard {
		t.Fatal("the uplink's time dates the reading")
	}
	if (Event{ReceivedAt: msg, Uplink: &Uplink{}}).ReadingAt() != msg || (Event{ReceivedAt: msg}).ReadingAt() != msg {
		t.Fatal("else the event's")
	}
}

func TestHeaderSecret(t *testing.T) {
	cases := []struct {
		headers map[string]string
		names   []string
		want    string
	}{
		{nil, []string{"X-Webhook-Secret"}, ""},
		{map[string]string{"X-Webhook-Secret": " s1 "}, []string{"X-Webhook-Secret"}, "s1"},
		{map[string]string{"X-Downlink-Apikey": "s2"}, []string{"X-Webhook-Secret", "X-Downlink-Apikey"}, "s2"},
		{map[string]string{"Authorization": "Bearer s3"}, []string{"X-Webhook-Secret"}, "s3"},
		{map[string]string{"Authorization": "bearer   s4  "}, nil, "s4"},
		{map[string]string{"Authorization": "Basic czU6"}, []string{"X-Webhook-Secret"}, ""},
		{map[string]string{"Authorization": "Bearer"}, nil, ""},
		// A named header wins over Authorization: the integration chose it.
		{map[string]string{"X-Webhook-Secret": "s6", "Authorization": "Bearer other"}, []string{"X-Webhook-Secret"}, "s6"},
		{map[string]string{"X-Webhook-Secret": "   ", "Authorization": "Bearer s7"}, []string{"X-Webhook-Secret"}, "s7"},
	}
	for i, c := range cases {
		h := http.Header{}
		for k, v := range c.headers {
			h.Set(k, v)
		}
		if got := HeaderSecret(h, c.names...); got != c.want {
			t.Errorf("case %d: %q, want %q", i, got, c.want)
		}
	}
}

func TestNormalizeEUI(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "a840410000000001": "A840410000000001", "A8-40-41-00-00-00-00-01": "A840410000000001",
		"a8:40:41:00:00:00:00:01": "A840410000000001", "A840 4100 0000 0001": "A840410000000001",
		"a840": "", "a8404100000000011": "", "zz40410000000001": "", "0x40410000000001": "",
	} {
		if got := NormalizeEUI(in); got != want {
			t.Errorf("NormalizeEUI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeBase64AndParseTime(t *testing.T) {
	for _, s := range []string{"y/YLDQN2AQrdf/8=", "y/YLDQN2AQrdf/8", "y_YLDQN2AQrdf_8=", "y_YLDQN2AQrdf_8"} {
		if b, err := DecodeBase64(s); err != nil || len(b) != 11 || b[0] != 0xCB {
			t.Errorf("%q: %x %v", s, b, err)
		}
	}
	if _, err := DecodeBase64("!!!"); err == nil {
		t.Error("not base64 accepted")
	}
	if at, ok := ParseTime("2022-07-18T09:34:15.775023242+00:00"); !ok || at.Nanosecond() != 775023242 || at.Location() != time.UTC {
		t.Errorf("%v %v", at, ok)
	}
	for _, s := range []string{"", "yesterday", "0001-01-01T00:00:00Z", "2026-01-01"} {
		if _, ok := ParseTime(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestSummarizeReception(t *testing.T) {
	cases := []struct {
		name string
		rx   []GatewayRx
		rssi *int
		snr  *float64
		gws  int
	}{
		{"none", nil, nil, nil, 0},
		{"no rssi at all", []GatewayRx{{ID: "a", SNR: ptr(5.0)}}, nil, nil, 1},
		{"highest rssi", []GatewayRx{{ID: "a", RSSI: ptr(-110.0), SNR: ptr(12.0)}, {ID: "b", RSSI: ptr(-70.0), SNR: ptr(-3.0)}}, ptr(-70), ptr(-3.0), 2},
		{"snr breaks ties", []GatewayRx{{ID: "a", RSSI: ptr(-90.0), SNR: ptr(1.0)}, {ID: "b", RSSI: ptr(-90.0), SNR: ptr(8.5)}}, ptr(-90), ptr(8.5), 2},
		{"fractional rssi rounded", []GatewayRx{{ID: "a", RSSI: ptr(-97.6)}}, ptr(-98), nil, 1},
		{"same gateway twice counts once", []GatewayRx{{ID: "a", RSSI: ptr(-99.0)}, {ID: "a", RSSI: ptr(-93.0)}}, ptr(-93), nil, 1},
		{"implausible values ignored", []GatewayRx{{ID: "a", RSSI: ptr(1e300)}, {ID: "b", RSSI: ptr(-120.0), SNR: ptr(-99.0)}}, ptr(-120), nil, 2},
		{"entries without ids each count", []GatewayRx{{RSSI: ptr(-80.0)}, {RSSI: ptr(-81.0)}}, ptr(-80), nil, 2},
	}
	for _, c := range cases {
		rssi, snr, gws := SummarizeReception(c.rx)
		if (rssi == nil) != (c.rssi == nil) || rssi != nil && *rssi != *c.rssi || (snr == nil) != (c.snr == nil) || snr != nil && *snr != *c.snr || gws != c.gws {
			t.Errorf("%s: rssi %v snr %v gws %d", c.name, rssi, snr, gws)
		}
	}
}

func FuzzNormalizeEUI(f *testing.F) {
	for _, s := range []string{"a840410000000001", "A8-40-41-00-00-00-00-01", "a8:40", "ÿ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := NormalizeEUI(s)
		if got == "" {
			return
		}
		if len(got) != 16 || strings.Trim(got, "0123456789ABCDEF") != "" || NormalizeEUI(got) != got {
			t.Fatalf("NormalizeEUI(%q) = %q", s, got)
		}
	})
}

func FuzzHeaderSecret(f *testing.F) {
	f.Add("s1", "Bearer s2")
	f.Add("", "bearer\t x ")
	f.Add(" ", "Bearer")
	f.Fuzz(func(t *testing.T, named, auth string) {
		h := http.Header{"X-Webhook-Secret": {named}, "Authorization": {auth}}
		got := HeaderSecret(h, "X-Webhook-Secret")
		if got != strings.TrimSpace(got) {
			t.Fatalf("untrimmed %q", got)
		}
		if strings.TrimSpace(named) != "" && got != strings.TrimSpace(named) {
			t.Fatalf("named header lost: %q", got)
		}
	})
}
