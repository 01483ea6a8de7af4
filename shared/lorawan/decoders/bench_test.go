package decoders

import "testing"

// BenchmarkDecode measures one uplink's decode per vendor family (the uplink path runs it once
// per reading); compare with shared/lorawan/ttn BenchmarkDecode for the four families it decodes.
func BenchmarkDecode(b *testing.B) {
	cases := []struct {
		model string
		fport int
		hex   string
	}{
		{"dragino/lht65n", 2, "CBF60B0D0376010ADD7FFF"},
		{"milesight-iot/em300-th", 85, "0175320367C80004683C"},
		{"dragino/lds02", 10, "8BDB0100002A00000300"},
		{"elsys/ers", 5, "0100E20229070E360402A10500"},
		{"netvox/r718a", 6, "010B012409EA1A90000000"},
		{"laird/rs1xx-temp-rh-sensor", 1, "0100213443620501000001"},
		{"sensecap/sensecaps2101-temp-humid", 1, "01011098530000010210A87A0000AF51"},
	}
	for _, c := range cases {
		m, ok := Lookup(c.model)
		if !ok {
			b.Fatal(c.model)
		}
		payload := mustHex(c.hex)
		b.Run(c.model, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Decode(c.fport, payload)
			}
		})
	}
}
