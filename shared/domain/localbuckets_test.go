package domain

import (
	"testing"
	"time"
)

func TestLocalBucketStarts(t *testing.T) {
	at := func(s string) time.Time { return rfc3339(t, s) }
	tests := []struct {
		name     string
		zone     string
		from, to string
		w        time.Duration
		want     []string
	}{
		{"UTC hours", "UTC", "2026-03-01T10:20:00Z", "2026-03-01T12:00:00Z", time.Hour,
			[]string{"2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"}},
		{"half-hour zone: hours start at :30 UTC", "Asia/Kolkata", "2026-03-01T10:20:00Z", "2026-03-01T11:31:00Z", time.Hour,
			[]string{"2026-03-01T09:30:00Z", "2026-03-01T10:30:00Z", "2026-03-01T11:30:00Z"}},
		{"the day DST ends is 25 hours", "America/New_York", "2026-11-01T12:00:00Z", "2026-11-03T00:00:00Z", 24 * time.Hour,
			[]string{"2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"}},
		{"the day DST starts is 23 hours", "America/New_York", "2026-03-08T06:00:00Z", "2026-03-09T06:00:00Z", 24 * time.Hour,
			[]string{"2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"}},
		{"the hour repeated when clocks go back is two buckets", "America/New_York", "2026-11-01T04:30:00Z", "2026-11-01T07:30:00Z", time.Hour,
			[]string{"2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}},
		{"a skipped midnight: the day starts at 01:00", "America/Santiago", "2026-09-05T12:00:00Z", "2026-09-07T12:00:00Z", 24 * time.Hour,
			[]string{"2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"}},
		{"a 30-minute DST shift makes a 30-minute hour", "Australia/Lord_Howe", "2026-10-03T14:00:00Z", "2026-10-03T16:30:00Z", time.Hour,
			// 00:00, 01:00, then 02:30 (+11:00, the clock jumped from 02:00) until 03:00
			[]string{"2026-10-03T13:30:00Z", "2026-10-03T14:30:00Z", "2026-10-03T15:30:00Z", "2026-10-03T16:00:00Z"}},
		{"other widths: none", "UTC", "2026-03-01T10:00:00Z", "2026-03-01T12:00:00Z", 5 * time.Minute, nil},
		{"empty range: none", "UTC", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", time.Hour, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			got := LocalBucketStarts(at(tt.from), at(tt.to), tt.w, loc)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				if !got[i].Equal(at(w)) {
					t.Errorf("start %d = %s, want %s", i, got[i].UTC().Format(time.RFC3339), w)
				}
			}
		})
	}
}

func TestEvenly(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	from := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	if s := LocalBucketStarts(from, from.AddDate(0, 0, 30), time.Hour, ny); !Evenly(s, time.Hour) {
		t.Error("hours across a DST change in New York are evenly spaced")
	}
	if s := LocalBucketStarts(from, from.AddDate(0, 0, 30), 24*time.Hour, ny); Evenly(s, 24*time.Hour) {
		t.Error("days across a DST change are not evenly spaced")
	}
	if s := LocalBucketStarts(from.AddDate(0, 0, 15), from.AddDate(0, 0, 45), 24*time.Hour, ny); !Evenly(s, 24*time.Hour) {
		t.Error("days without a DST change are evenly spaced")
	}
}

// rfc3339 parses a test's time.
func rfc3339(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
