package ttn

import "testing"

// BenchmarkParse: a delivery to an Event (decoding is shared/lorawan/decoders' BenchmarkDecode).
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
