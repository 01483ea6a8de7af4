package ttn

import "testing"

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"uplink_decoded.json", "uplink_em300.json", "join_accept.json"} {
		body := fixture(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	m, err := Parse(fixture(b, "uplink_decoded.json"))
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, decoder string
		up            *Uplink
	}{
		{"decoded_payload", "", m.Uplink},
		{DecoderDraginoLHT65, DecoderDraginoLHT65, &Uplink{FPort: 2, FRMPayload: mustHex("CBF60B0D0376010ADD7FFF")}},
		{DecoderMilesightEM300TH, DecoderMilesightEM300TH, &Uplink{FPort: 85, FRMPayload: mustHex("0175320367C80004683C")}},
		{DecoderDraginoLDS02, DecoderDraginoLDS02, &Uplink{FPort: 10, FRMPayload: mustHex("8BDB0100002A00000300")}},
		{DecoderElsys, DecoderElsys, &Uplink{FPort: 5, FRMPayload: mustHex("0100E20229070E360402A10500")}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Decode(c.up, c.decoder)
			}
		})
	}
}
