package domain

import "testing"

func TestConversions(t *testing.T) {
	cases := []struct {
		c, f float64
	}{{0, 32}, {100, 212}, {-40, -40}, {5, 41}, {-18, -0.4}, {3.33, 37.99}}
	for _, tc := range cases {
		if got := FromCelsius(tc.c, Fahrenheit); got != tc.f {
			t.Errorf("FromCelsius(%v) = %v, want %v", tc.c, got, tc.f)
		}
		if got := ToCelsius(tc.f, Fahrenheit); got != round2(tc.c) && got-round2(tc.c) > 0.01 {
			t.Errorf("ToCelsius(%v) = %v, want %v", tc.f, got, tc.c)
		}
		if got := ToCelsius(tc.c, Celsius); got != round2(tc.c) {
			t.Errorf("ToCelsius(C) changed the value: %v", got)
		}
	}
	if DeltaToCelsius(1.8, Fahrenheit) != 1 || DeltaFromCelsius(1, Fahrenheit) != 1.8 || DeltaToCelsius(2, Celsius) != 2 {
		t.Error("differences convert by scale only")
	}
	if Format(4.5, Celsius) != "4.5 °C" || Format(5, Fahrenheit) != "41.0 °F" || Format(5, "K") != "5.0 °C" {
		t.Errorf("Format: %q %q", Format(4.5, Celsius), Format(5, Fahrenheit))
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(4.0)
	f.Add(-40.0)
	f.Fuzz(func(t *testing.T, c float64) {
		if c < -200 || c > 200 {
			return
		}
		back := ToCelsius(FromCelsius(c, Fahrenheit), Fahrenheit)
		if d := back - round2(c); d > 0.011 || d < -0.011 {
			t.Fatalf("%v °C -> °F -> %v °C", c, back)
		}
	})
}
