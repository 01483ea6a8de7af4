package domain

import (
	"testing"
	"time"
)

func TestInGoodStanding(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	future, past := now.Add(time.Hour), now.Add(-time.Hour)
	cases := []struct {
		status string
		trial  *time.Time
		want   bool
	}{
		{"trial", &future, true},
		{"trial", &past, false},
		{"trial", nil, true},
		{"active", &past, true},
		{"past_due", nil, true},
		{"canceled", &future, false},
		{"paused", nil, false},
		{"incomplete", nil, false},
	}
	for _, tc := range cases {
		if got := InGoodStanding(tc.status, tc.trial, now); got != tc.want {
			t.Errorf("InGoodStanding(%s, %v) = %v, want %v", tc.status, tc.trial, got, tc.want)
		}
	}
}
