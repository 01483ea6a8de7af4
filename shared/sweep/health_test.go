package sweep

import (
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
)

func TestProblems(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	cases := []struct {
		name string
		h    store.SweeperHealth
		want []string // substrings, one per problem
	}{
		{"never ran", store.SweeperHealth{}, []string{"never recorded a run"}},
		{"fresh", store.SweeperHealth{Recorded: true, LastSuccessAt: at(time.Minute), LastRunAt: now}, nil},
		{"exactly 3 min", store.SweeperHealth{Recorded: true, LastSuccessAt: at(3 * time.Minute), LastRunAt: now}, nil},
		{"stale", store.SweeperHealth{Recorded: true, LastSuccessAt: at(3*time.Minute + time.Second), LastRunAt: *at(3*time.Minute + time.Second)},
			[]string{"last successful sweep finished 3m0s ago"}},
		{"stale and failing", store.SweeperHealth{Recorded: true, LastSuccessAt: at(10 * time.Minute), LastRunAt: *at(time.Minute), LastError: "doors: boom"},
			[]string{"failed: doors: boom"}},
		{"never succeeded", store.SweeperHealth{Recorded: true, LastRunAt: *at(time.Minute), LastError: "x"}, []string{"no sweep has ever succeeded"}},
		{"due 2 min is fine", store.SweeperHealth{Recorded: true, LastSuccessAt: at(0), OldestDueAt: at(2 * time.Minute)}, nil},
		{"due too long", store.SweeperHealth{Recorded: true, LastSuccessAt: at(0), OldestDueAt: at(150 * time.Second)},
			[]string{"due for 2m0s without being sent"}},
		{"both", store.SweeperHealth{Recorded: true, LastSuccessAt: at(time.Hour), OldestDueAt: at(time.Hour)},
			[]string{"1h0m0s ago", "due for 1h0m0s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Problems(c.h, now)
			if len(got) != len(c.want) {
				t.Fatalf("%q, want %d problems", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q lacks %q", got[i], w)
				}
			}
		})
	}
}
