package ttn

import (
	"math"
	"os"
	"path/filepath"
	"testing"
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

func FuzzParse(f *testing.F) {
	for _, b := range seedFixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"end_device_ids":{"application_ids":{"application_id":"a"}},"received_at":"2026-01-01T00:00:00.999999999Z","uplink_message":{"frm_payload":"AA==","rx_metadata":[{"rssi":-1}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Parse(body)
		if err != nil {
			return
		}
		if m.ApplicationID == "" || m.ReceivedAt.IsZero() || m.Kind == "" {
			t.Fatalf("accepted message without application id / received_at / kind: %+v", m)
		}
		if (m.Uplink != nil) != (m.Kind == KindUplink) {
			t.Fatalf("Uplink vs kind %s", m.Kind)
		}
		if m.DedupeKey() == "" {
			t.Fatal("empty dedupe key")
		}
		if up := m.Uplink; up != nil {
			if up.FPort < 0 || up.FPort > 255 || up.FCnt < 0 || up.ReceivedAt.IsZero() || up.GatewayCount < 0 {
				t.Fatalf("uplink %+v", up)
			}
			if up.RSSI != nil && (*up.RSSI < -250 || *up.RSSI > 50) {
				t.Fatalf("rssi %d", *up.RSSI)
			}
			for _, d := range Decoders() {
				checkReading(t, Decode(up, d))
			}
		}
	})
}

// checkReading asserts the Decode invariants: finite values, humidity and battery within their
// plausible ranges.
func checkReading(t *testing.T, r Reading) {
	t.Helper()
	in := func(p *float64, lo, hi float64, what string) {
		if p != nil && !(isFinite(*p) && *p >= lo && *p <= hi) {
			t.Fatalf("%s %v out of [%v, %v]: %+v", what, *p, lo, hi, r)
		}
	}
	in(r.TemperatureC, math.Inf(-1), math.Inf(1), "temperature") // finite: the engine judges plausibility
	in(r.ProbeTemperatureC, math.Inf(-1), math.Inf(1), "probe")
	in(r.HumidityPct, 0, 100, "humidity")
	in(r.BatteryVolts, 0, MaxBatteryVolts, "volts")
	if r.BatteryPercent != nil && (*r.BatteryPercent < 0 || *r.BatteryPercent > 100) {
		t.Fatalf("percent %d", *r.BatteryPercent)
	}
	// A probe without a main temperature is legitimate only when the ambient value was dropped
	// as implausible (found by FuzzDecodeLHT65/FuzzDecodeElsys, testdata/fuzz): it must then
	// have left a fault.
	if r.ProbeTemperatureC != nil && r.TemperatureC == nil && len(r.Faults) == 0 {
		t.Fatalf("probe without main temperature and without fault: %+v", r)
	}
}

func fuzzDecoder(f *testing.F, decoder string, port int, seeds ...string) {
	for _, s := range seeds {
		f.Add(port, mustHex(s))
	}
	f.Add(0, []byte{})
	f.Fuzz(func(t *testing.T, fport int, b []byte) {
		r := Decode(&Uplink{FPort: fport, FRMPayload: b}, decoder)
		if r.Decoder != decoder {
			t.Fatalf("decoder %q", r.Decoder)
		}
		checkReading(t, r)
	})
}

func FuzzDecodeLHT65(f *testing.F) {
	fuzzDecoder(f, DecoderDraginoLHT65, 2, "CBF60B0D0376010ADD7FFF", "0B490B0D037601F8B87FFF",
		"0ADD0B0DC3760965A1B2C3", "CBF60B0D0376810ADD7FFF", "CBF60B")
}

func FuzzDecodeEM300TH(f *testing.F) {
	fuzzDecoder(f, DecoderMilesightEM300TH, 85, "0175320367C80004683C", "01755C036734010468 65",
		"FF0B01FF0110FF166136D446868700130367 4EFF04687F", "20CE9E74466310015D00", "017564060001")
}

func FuzzDecodeLDS02(f *testing.F) {
	fuzzDecoder(f, DecoderDraginoLDS02, 10, "0B880100250001", "8BDB0100002A00000300", "CBDB0200000100000000")
}

func FuzzDecodeElsys(f *testing.F) {
	fuzzDecoder(f, DecoderElsys, 5, "0100E20229070E360402A10500", "0100B402320D01070E10", "030127050A11010B000A0011", "017FFF")
}

// FuzzDecodePayload fuzzes the decoded_payload mapping through Parse (JSON object in, Reading out).
func FuzzDecodePayload(f *testing.F) {
	f.Add([]byte(`{"TempC_SHT":"4.10","TempC_DS":327.67,"BatV":3050,"door":"open","battery":87}`))
	f.Add([]byte(`{"temperature_f":1e308,"humidity":"-0","contact":true,"battery_level":"NaN"}`))
	f.Fuzz(func(t *testing.T, dp []byte) {
		body := append([]byte(`{"end_device_ids":{"application_ids":{"application_id":"a"}},"received_at":"2026-01-01T00:00:00Z","uplink_message":{"decoded_payload":`), dp...)
		body = append(body, "}}"...)
		m, err := Parse(body)
		if err != nil || m.Uplink == nil {
			return
		}
		checkReading(t, Decode(m.Uplink, ""))
	})
}
