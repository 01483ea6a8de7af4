package chirpstack

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/lorawan"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		event := strings.TrimSuffix(filepath.Base(p), ".json")
		event, _, _ = strings.Cut(event, "_")
		f.Add(event, "application/json", b)
	}
	f.Add("up", "application/json", []byte(`{"time":"2026-01-01T00:00:00.999999999-01:00","deviceInfo":{"devEui":"0101010101010101"},"fPort":"1e2","fCnt":1.5,"rxInfo":[{"rssi":-1e308}]}`))
	f.Add("status", "", []byte(`{"time":"2026-01-01T00:00:00Z","deviceInfo":{"devEui":"0101010101010101"},"batteryLevel":-0,"margin":"-32"}`))
	f.Add("up", "application/octet-stream", []byte("\x0a\x01"))
	f.Add("", "text/plain", []byte(`null`))
	f.Fuzz(func(t *testing.T, event, contentType string, body []byte) {
		e, err := Parse(lorawan.Delivery{Query: url.Values{"event": {event}}, Header: http.Header{"Content-Type": {contentType}}, Body: body})
		if err != nil {
			return
		}
		if e.Network != lorawan.NetworkChirpStack || e.Kind == "" || e.NetworkKind == "" || e.DedupeKey() == "" {
			t.Fatalf("accepted without network, kind or key: %+v", e)
		}
		if known(e.NetworkKind) && (len(e.Device.DevEUI) != 16 || e.ReceivedAt.IsZero()) {
			t.Fatalf("accepted %s without EUI or time: %+v", e.NetworkKind, e)
		}
		if (e.Uplink != nil) != (e.Kind == lorawan.KindUplink) || (e.Status != nil) != (e.Kind == lorawan.KindStatus) || (e.Ack != nil) != (e.Kind == lorawan.KindAck) {
			t.Fatalf("payload does not match kind %s", e.Kind)
		}
		if up := e.Uplink; up != nil {
			r := up.Radio
			if up.FPort < 0 || up.FPort > 255 || up.FCnt < 0 || up.ReceivedAt.IsZero() || r.GatewayCount < 0 || r.FrequencyHz < 0 ||
				(r.RSSI != nil && (*r.RSSI < -250 || *r.RSSI > 50)) || (r.SpreadingFactor != nil && (*r.SpreadingFactor < 5 || *r.SpreadingFactor > 12)) {
				t.Fatalf("uplink %+v", up)
			}
			if len(up.Decoded) > 0 && up.Decoded[0] != '{' {
				t.Fatalf("decoded object %s", up.Decoded)
			}
		}
		if s := e.Status; s != nil && s.BatteryPercent != nil && (*s.BatteryPercent < 0 || *s.BatteryPercent > 100) {
			t.Fatalf("battery %v", *s.BatteryPercent)
		}
	})
}
