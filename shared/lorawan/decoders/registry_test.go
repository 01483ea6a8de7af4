package decoders

import (
	"strings"
	"testing"
)

// The names sensors carry today keep selecting the decoder they selected in shared/lorawan/ttn
// (TestDecoderFor there), now as a model; canonical ids and repository ids select directly.
func TestResolve(t *testing.T) {
	cases := []struct{ decoder, model, want string }{
		// shared/lorawan/ttn TestDecoderFor, the same names.
		{"dragino-lds02", "LHT65N", "dragino/lds02"}, // a configured decoder wins over the model text
		{" Elsys ", "", "elsys/ers"},
		{"custom-js", "Dragino LHT65N-E1", "dragino/lht65n"}, // an unknown decoder is ignored
		{"", "lht65", "dragino/lht65"},
		{"", "Milesight EM300-TH-868M", "milesight-iot/em300-th"},
		{"", "em300_mcs", "milesight-iot/em300-mcs"},
		{"", "EM320-TH", "milesight-iot/em320-th"},
		{"", "LDS02-EU868", "dragino/lds02"},
		{"", "ELSYS ERS Lite", "elsys/ers"},
		{"", "EMS Door", "elsys/ems-door"},
		{"", "ERS-CO2", "elsys/ers"},
		{"", "Systems hub", ""},
		{"", "", ""},
		{"", "Acme FR-1", ""},
		// The api's own example: decoder "dragino_lht65" (underscore), model "LHT65".
		{"dragino_lht65", "LHT65", "dragino/lht65"},
		// Canonical ids, in either field, any case.
		{"", "dragino/lht52", "dragino/lht52"},
		{"Milesight-IoT/EM500-PT100", "", "milesight-iot/em500-pt100"},
		{"", "netvox/r718ab", "netvox/r718ab"},
		{"", "sensecap/sensecap210x", "sensecap/sensecaps2101-temp-humid"},
		// A family decoder refined by the model text; a decoder of another family is not.
		{"elsys", "EMS Door", "elsys/ems-door"},
		{"elsys", "ELT-2 probe", "elsys/elt-2"},
		{"dragino-lht65", "EMS", "dragino/lht65"},
		{"", "EM300-SLD", "milesight-iot/em300-th"}, // any other EM300, as before
		{"", "LHT52 kitchen", "dragino/lht52"},
	}
	for _, c := range cases {
		m, ok := Resolve(c.decoder, c.model)
		if got := m.ID; got != c.want || ok != (c.want != "") {
			t.Errorf("Resolve(%q, %q) = %q %v, want %q", c.decoder, c.model, got, ok, c.want)
		}
	}
}

func TestByRepository(t *testing.T) {
	cases := []struct{ brand, model, want string }{
		{"dragino", "lht65n", "dragino/lht65n"},
		{"Dragino", "LHT65N", "dragino/lht65n"},
		{"milesight-iot", "em300-th", "milesight-iot/em300-th"},
		{"sensecap", "sensecaps2101-temp-humid", "sensecap/sensecaps2101-temp-humid"},
		{"netvox", "r718n1", ""},        // not a cold-chain model
		{"milesight-iot", "lht65n", ""}, // the brand matters
		{"", "", ""},
	}
	for _, c := range cases {
		m, ok := ByRepository(c.brand, c.model)
		if m.ID != c.want || ok != (c.want != "") {
			t.Errorf("ByRepository(%q, %q) = %q, want %q", c.brand, c.model, m.ID, c.want)
		}
	}
	// Repository ids are not names: "repo:..." selects nothing through Lookup.
	if _, ok := Lookup("repo:dragino/lht65n"); ok {
		t.Error("Lookup accepted a repository key")
	}
}

// Every model is consistent: a canonical id, probes for what it measures, a default probe among
// them, documented ranges that are ranges, and a decoder that survives empty input.
func TestRegistryConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Models() {
		vendor, model, ok := strings.Cut(m.ID, "/")
		if !ok || vendor == "" || model == "" || key(m.ID) != m.ID || seen[m.ID] {
			t.Errorf("%q is not a unique canonical <vendor>/<model> id", m.ID)
		}
		seen[m.ID] = true
		if got, ok := Lookup(m.ID); !ok || got.ID != m.ID {
			t.Errorf("%s: Lookup by id", m.ID)
		}
		for _, a := range m.Aliases {
			if got, ok := Lookup(a); !ok || got.ID != m.ID {
				t.Errorf("%s: alias %q selects %q", m.ID, a, got.ID)
			}
		}
		for _, r := range m.RepositoryModels {
			if got, ok := ByRepository(vendor, r); !ok || got.ID != m.ID {
				t.Errorf("%s: repository id %s/%s selects %q", m.ID, vendor, r, got.ID)
			}
		}
		if m.Measure(Temperature) != (len(m.Probes) > 0) {
			t.Errorf("%s: measures temperature %v but has %d probes", m.ID, m.Measure(Temperature), len(m.Probes))
		}
		if !m.Measure(Temperature) && !m.Measure(Door) {
			t.Errorf("%s measures neither a temperature nor a door", m.ID)
		}
		if m.DefaultProbe != "" {
			if _, ok := m.Probe(m.DefaultProbe); !ok {
				t.Errorf("%s: default probe %q is not one of its probes", m.ID, m.DefaultProbe)
			}
		}
		for _, p := range m.Probes {
			lo, hi := p.Range()
			if !(lo < hi) || (p.RangeSource != "") != p.Documented() || hi > 900 {
				t.Errorf("%s probe %s: range %v..%v from %q", m.ID, p.Name, lo, hi, p.RangeSource)
			}
			if err := m.ValidateProbe(p.Name); err != nil {
				t.Error(err)
			}
		}
		if err := m.ValidateProbe("nonexistent"); err == nil || !strings.Contains(err.Error(), m.ID) {
			t.Errorf("%s: unknown probe accepted: %v", m.ID, err)
		}
		if m.Battery.LowVolts < 0 || m.Battery.LowPercent < 0 || m.Battery.LowPercent > 100 || (m.Battery.LowVolts > 0 || m.Battery.LowPercent > 0) != (m.Battery.Source != "") {
			t.Errorf("%s: battery thresholds %+v", m.ID, m.Battery)
		}
		for _, port := range []int{0, 1, 2, 5, 6, 10, 85, 100, 103, 255} {
			if r := m.Decode(port, nil); measured(r) {
				t.Errorf("%s: an empty payload on fPort %d measured something: %+v", m.ID, port, r)
			}
		}
	}
	if len(seen) != 30 {
		t.Errorf("%d models", len(seen))
	}
}

func TestDecodeUnknownModel(t *testing.T) {
	r := Decode("acme/fr-1", 2, []byte{1, 2})
	if measured(r) || len(r.Faults) != 1 || r.Faults[0].Kind != FaultPayload || r.Faults[0].Message != FaultNoDecoder {
		t.Fatalf("%+v", r)
	}
	if r := Decode("LHT65N", 2, mustHex("CBF60B0D0376010ADD7FFF")); r.Model != "dragino/lht65n" || len(r.Temperatures) != 2 {
		t.Fatalf("by alias: %+v", r)
	}
}

// The unit's temperature: the chosen probe, else the model's default, else (only when the
// default did not report at all) the first probe that did; a model without a default gives none.
func TestUnitTemperature(t *testing.T) {
	lht, _ := Lookup("dragino/lht65n")
	elt, _ := Lookup("elsys/elt-2")
	door, _ := Lookup("browan/tbdw100")
	both := lht.Decode(2, mustHex("0B490B0D037601F8B87FFF")) // internal 28.29, probe -18.64
	doorReading := door.Decode(100, mustHex("00CB3500008A3A00"))
	cases := []struct {
		name    string
		m       Model
		r       Reading
		setting string
		want    *ProbeTemperature
	}{
		{"default: the built-in sensor", lht, both, "", &ProbeTemperature{"internal", 28.29}},
		{"a freezer chooses its probe", lht, both, "external", &ProbeTemperature{"external", -18.64}},
		{"a chosen probe that failed gives none, never the other", lht, lht.Decode(2, mustHex("CBF60B0D0376017FFF7FFF")), "external", nil},
		{"a default that failed gives none", lht, lht.Decode(2, mustHex("CBF67FFF03E80100007FFF")), "", nil},
		{"probe-id mode (Ext 15) measures nothing", lht, lht.Decode(2, mustHex("0ADD0B0DC3760F65A1B2C3")), "", nil},
		{"a default that did not report: the probe that did", elt, elt.Decode(5, mustHex("0CFF4C")), "", &ProbeTemperature{"external", -18}},
		{"a door sensor's board temperature is not the unit's", door, doorReading, "", nil},
		{"unless chosen", door, doorReading, "board", &ProbeTemperature{"board", 21}},
	}
	for _, c := range cases {
		got, ok := c.m.UnitTemperature(c.r, c.setting)
		if ok != (c.want != nil) || ok && got != *c.want {
			t.Errorf("%s: %+v %v, want %+v (reading %+v)", c.name, got, ok, c.want, c.r)
		}
	}
}
