package domain

import (
	"testing"
	"time"
)

func TestBucketCount(t *testing.T) {
	at := func(s string) time.Time { return rfc3339(t, s) }
	tests := []struct {
		from, to string
		w        time.Duration
		want     int64
	}{
		{"2026-03-01T00:00:00Z", "2026-03-31T00:00:00Z", time.Hour, 720},
		{"2026-03-01T00:30:00Z", "2026-03-01T02:30:00Z", time.Hour, 3}, // partial at both ends
		{"2026-03-01T00:00:00Z", "2026-03-01T00:00:01Z", 24 * time.Hour, 1},
		{"2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", 5 * time.Minute, 288},
		{"2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", time.Hour, 0},
		{"2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z", time.Hour, 0},
		{"1999-12-31T23:00:00Z", "2000-01-01T01:00:00Z", time.Hour, 2}, // before the origin
		{"2025-02-01T00:00:00Z", "2026-03-08T00:00:00Z", 24 * time.Hour, 400},
	}
	for _, tt := range tests {
		if got := BucketCount(at(tt.from), at(tt.to), tt.w); got != tt.want {
			t.Errorf("BucketCount(%s, %s, %v) = %d, want %d", tt.from, tt.to, tt.w, got, tt.want)
		}
	}
}
