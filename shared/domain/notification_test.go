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
