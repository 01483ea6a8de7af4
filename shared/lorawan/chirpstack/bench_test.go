package chirpstack

import "testing"

func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ file, event string }{{"up_lht65n.json", EventUp}, {"up.json", EventUp}, {"status.json", EventStatus}} {
		d := delivery(c.event, fixture(b, c.file))
		b.Run(c.file, func(b *testing.B) {
			b.SetBytes(int64(len(d.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
