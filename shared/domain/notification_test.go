package domain

import "testing"

func TestMaskPhone(t *testing.T) {
	cases := map[string]string{
		"+15555550100":  "+*******0100",
		"+447700900123": "+********0123",
		"+1234":         "+1234",
		"+123":          "+123",
		"":              "",
	}
	for in, want := range cases {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	cases := map[string]string{
		"+15555550100": "+15555550100", " +1 555.555.0100 ": "+15555550100", "(+44) 20-7946-0000": "+442079460000",
		"0033 1 23 45 67 89": "+33123456789", "5555550100": "", "+0123": "", "+1": "", "": "",
	}
	for in, want := range cases {
		got, ok := NormalizePhone(in)
		if (want == "") == ok || (ok && got != want) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
