package ttn

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/frostguard/functions/shared/lorawan"
	"github.com/frostguard/functions/shared/lorawan/decoders"
)

func seedFixtures(f *testing.F) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	var out [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzParse: no panic on any body, and an accepted one is a complete Event whose uplink any
// model decodes without a panic.
func FuzzParse(f *testing.F) {
	for _, b := range seedFixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"end_device_ids":{"application_ids":{"application_id":"a"}},"received_at":"2026-01-01T00:00:00.999999999Z","uplink_message":{"frm_payload":"AA==","rx_metadata":[{"rssi":-1}]}}`))
	f.Add([]byte(`{"end_device_ids":{"application_ids":{"application_id":"a"}},"received_at":"2026-01-01T00:00:00Z","uplink_message":{"decoded_payload":{"TempC_SHT":"4.10","TempC_DS":327.67,"BatV":3050,"door":"open","battery":87}}}`))
	f.Add([]byte(`null`))
	models := append(decoders.Models(), decoders.Generic())
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := Parse(body)
		if err != nil {
			return
		}
		if e.Device.ApplicationID == "" || e.ReceivedAt.IsZero() || e.NetworkKind == "" || e.Network != lorawan.NetworkTTN {
			t.Fatalf("accepted message without application id / received_at / kind: %+v", e)
		}
		if (e.Uplink != nil) != (e.Kind == lorawan.KindUplink) || (e.Ack != nil) != (e.Kind == lorawan.KindAck) {
			t.Fatalf("Uplink/Ack vs kind %s", e.Kind)
		}
		if e.DedupeKey() == "" {
			t.Fatal("empty dedupe key")
		}
		if up := e.Uplink; up != nil {
			if up.FPort < 0 || up.FPort > 255 || up.FCnt < 0 || up.ReceivedAt.IsZero() || up.Radio.GatewayCount < 0 {
				t.Fatalf("uplink %+v", up)
			}
			if r := up.Radio.RSSI; r != nil && (*r < -250 || *r > 50) {
				t.Fatalf("rssi %d", *r)
			}
			for _, m := range models {
				r := m.DecodeUplink(up.FPort, up.Payload, up.Decoded)
				m.Unit(r, "")
			}
		}
	})
}
