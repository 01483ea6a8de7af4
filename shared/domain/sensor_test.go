package domain

import (
	"regexp"
	"testing"
	"time"
)

func TestNormalizeDevEUI(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"70B3D57ED005A1B2", "70B3D57ED005A1B2", true},
		{"70b3d57ed005a1b2", "70B3D57ED005A1B2", true},
		{"70-B3-D5-7E-D0-05-A1-B2", "70B3D57ED005A1B2", true},
		{"70:b3:d5:7e:d0:05:a1:b2", "70B3D57ED005A1B2", true},
		{"70 B3 D5 7E D0 05 A1 B2", "70B3D57ED005A1B2", true},
		{" 70B3D57ED005A1B2 ", "70B3D57ED005A1B2", true},
		{"0000000000000000", "0000000000000000", true},
		{"", "", false},
		{"70B3D57ED005A1B", "", false},   // 15 digits
		{"70B3D57ED005A1B2C", "", false}, // 17 digits
		{"70B3D57ED005A1BG", "", false},  // not hex
		{"0x70B3D57ED005A1", "", false},  // prefix
		{"70_B3_D5_7E_D0_05_A1_B2", "", false},
		{"70B3D57ED005A1B\u00b2", "", false}, // a superscript two is not a digit
		{"70B3D57ED005A1B2\n", "", false},
		{"--------", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeDevEUI(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeDevEUI(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

var canonicalDevEUI = regexp.MustCompile(`^[0-9A-F]{16}$`)

func FuzzNormalizeDevEUI(f *testing.F) {
	for _, s := range []string{"70B3D57ED005A1B2", "70-b3-d5-7e-d0-05-a1-b2", "70:B3", "", "zz", "70 B3 D5 7E D0 05 A1 B2 C3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeDevEUI(s)
		if err != nil {
			if got != "" {
				t.Fatalf("error with output %q", got)
			}
			return
		}
		if !canonicalDevEUI.MatchString(got) {
			t.Fatalf("NormalizeDevEUI(%q) = %q: not 16 upper-case hex digits", s, got)
		}
		if again, err := NormalizeDevEUI(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestMayRegisterSensor(t *testing.T) {
	tests := []struct {
		assigned, limit int
		want            bool
	}{
		{0, 5, true},
		{4, 5, true},
		{5, 5, false},
		{6, 5, false}, // over already (plan downgraded): no more
		{0, 0, false}, // a plan without sensors
		{0, 1, true},
		{1, 1, false},
	}
	for _, tt := range tests {
		if got := MayRegisterSensor(tt.assigned, tt.limit); got != tt.want {
			t.Errorf("MayRegisterSensor(%d, %d) = %v, want %v", tt.assigned, tt.limit, got, tt.want)
		}
	}
}

func TestSensorOnline(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	interval := func(s int) *int { return &s }
	tests := []struct {
		name     string
		seen     *time.Time
		interval *int
		want     bool
	}{
		{"never seen", nil, interval(300), false},
		{"within 3 intervals", ago(14 * time.Minute), interval(300), true},
		{"exactly 3 intervals", ago(15 * time.Minute), interval(300), true},
		{"past 3 intervals", ago(15*time.Minute + time.Second), interval(300), false},
		{"long interval", ago(2 * time.Hour), interval(3600), true},
		{"unassigned recent", ago(10 * time.Minute), nil, true},
		{"unassigned stale", ago(16 * time.Minute), nil, false},
		{"clock skew: seen in the future", ago(-time.Minute), interval(300), true},
	}
	for _, tt := range tests {
		if got := SensorOnline(tt.seen, tt.interval, now); got != tt.want {
			t.Errorf("%s: SensorOnline = %v, want %v", tt.name, got, tt.want)
		}
	}
}
