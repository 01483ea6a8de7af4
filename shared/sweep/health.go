package sweep

import (
	"fmt"
	"time"

	"github.com/frostguard/functions/shared/store"
)

// Monitoring the monitor: the api's GET /healthz says "degraded" when the
// sweeper stopped doing its job, so whoever watches the service learns it
// before a fridge does.
const (
	// MaxSweepAge: the last successful sweep is older than this (the
	// schedule is every minute).
	MaxSweepAge = 3 * time.Minute
	// MaxDueAge: a notification has been due this long without being sent
	// (the dispatcher runs after every alert commit and in every sweep).
	MaxDueAge = 2 * time.Minute
)

// Problems judges the sweeper's heartbeat and the outbox at now: what is
// wrong, in words, or nil.
func Problems(h store.SweeperHealth, now time.Time) []string {
	var out []string
	switch {
	case !h.Recorded:
		out = append(out, "the alert sweeper has never recorded a run")
	case h.LastSuccessAt == nil:
		out = append(out, fmt.Sprintf("no sweep has ever succeeded (the last run, at %s, failed: %s)",
			h.LastRunAt.UTC().Format(time.RFC3339), h.LastError))
	case now.Sub(*h.LastSuccessAt) > MaxSweepAge:
		msg := fmt.Sprintf("the last successful sweep finished %s ago, at %s", ago(now.Sub(*h.LastSuccessAt)),
			h.LastSuccessAt.UTC().Format(time.RFC3339))
		if h.LastRunAt.After(*h.LastSuccessAt) && h.LastError != "" {
			msg += fmt.Sprintf("; the last run, at %s, failed: %s", h.LastRunAt.UTC().Format(time.RFC3339), h.LastError)
		}
		out = append(out, msg)
	}
	if h.OldestDueAt != nil && now.Sub(*h.OldestDueAt) > MaxDueAge {
		out = append(out, fmt.Sprintf("notifications have been due for %s without being sent (since %s)",
			ago(now.Sub(*h.OldestDueAt)), h.OldestDueAt.UTC().Format(time.RFC3339)))
	}
	return out
}

func ago(d time.Duration) string {
	if d < time.Minute {
		return d.Truncate(time.Second).String()
	}
	return d.Truncate(time.Minute).String()
}
