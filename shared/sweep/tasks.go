package sweep

import (
	"context"
	"log/slog"
	"time"

	"github.com/frostguard/functions/shared/store"
)

// DedupeRetention is how long webhook dedupe keys (ttn_uplinks,
// telnyx_events) are kept: far longer than any provider retries a delivery.
const DedupeRetention = 30 * 24 * time.Hour

// pruneBatch bounds one prune run per table.
const pruneBatch = 5000

// Tasks returns the sweeper's tasks in running order (the dispatcher task
// is added by the caller): conditions first, so an alert they open is
// escalated in the same sweep when its first step is due. now is the clock
// (tests pin it); frontendURL is where messages send people to acknowledge.
//
// There is no trial-expiry task: nothing changes when a trial ends until
// billing (issue 6) decides what an expired trial may do, and the api reads
// trial_ends_at directly.
func Tasks(db *store.DB, now func() time.Time, frontendURL string) []Task {
	return []Task{
		{Name: "checkins", Timeout: 20 * time.Second, Run: func(ctx context.Context) error {
			n, err := checkins(ctx, db, now(), frontendURL)
			logCount(ctx, "checkins", n)
			return err
		}},
		{Name: "doors", Timeout: 15 * time.Second, Run: func(ctx context.Context) error {
			n, err := doors(ctx, db, now(), frontendURL)
			logCount(ctx, "doors", n)
			return err
		}},
		{Name: "escalation", Timeout: 20 * time.Second, Run: func(ctx context.Context) error {
			n, err := escalate(ctx, db, now(), frontendURL)
			logCount(ctx, "escalation", n)
			return err
		}},
		{Name: "prune-dedupe", Timeout: 15 * time.Second, Run: func(ctx context.Context) error {
			up, ev, err := db.PruneDedupe(ctx, now().Add(-DedupeRetention), pruneBatch)
			if up+ev > 0 {
				slog.InfoContext(ctx, "pruned dedupe keys", "ttn_uplinks", up, "telnyx_events", ev)
			}
			return err
		}},
	}
}

func logCount(ctx context.Context, task string, n int) {
	if n > 0 {
		slog.InfoContext(ctx, "sweep changes", "task", task, "count", n)
	}
}
