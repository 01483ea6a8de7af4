package sweep

import (
	"context"
	"log/slog"
	"time"

	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
)

// DedupeRetention is how long webhook dedupe keys (uplink_dedupe,
// telnyx_events) are kept: far longer than any provider retries a delivery.
const DedupeRetention = 30 * 24 * time.Hour

// pruneBatch bounds one prune run per table.
const pruneBatch = 5000

// NewRunner is the alert-sweeper's run: dispatch first and last (see the
// package comment), and Tasks in between; the heartbeat goes to db.
// dispatch sends up to n due notifications and says how many it claimed.
func NewRunner(db *store.DB, dispatch func(ctx context.Context, n int) (claimed int, err error), now func() time.Time, frontendURL string, live realtime.Publisher) Runner {
	return Runner{
		Dispatch:  &Task{Name: "dispatch", Timeout: DefaultDispatchFirst, Run: DispatchAll(dispatch)},
		Tasks:     Tasks(db, now, frontendURL, live),
		Heartbeat: db.RecordSweep,
	}
}

// dispatchBatch is how many notifications one dispatch call claims.
const dispatchBatch = 100

// DispatchAll sends due notifications in batches until a batch comes back
// short (nothing more is due) or ctx ends.
func DispatchAll(dispatch func(ctx context.Context, n int) (int, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := dispatch(ctx, dispatchBatch)
			if err != nil || n < dispatchBatch {
				return err
			}
		}
	}
}

// Tasks returns the sweeper's condition and housekeeping tasks in running
// order (dispatch runs around them, see Runner): conditions first, so an
// alert they open is escalated in the same sweep when its first step is due.
// now is the clock (tests pin it); frontendURL is where messages send people
// to acknowledge.
//
// There is no trial-expiry task: nothing changes when a trial ends until
// billing (issue 6) decides what an expired trial may do, and the api reads
// trial_ends_at directly.
func Tasks(db *store.DB, now func() time.Time, frontendURL string, live realtime.Publisher) []Task {
	live = realtime.Or(live)
	return []Task{
		{Name: "checkins", Timeout: 20 * time.Second, Run: func(ctx context.Context) error {
			n, err := checkins.run(ctx, db, now(), frontendURL, live)
			logCount(ctx, "checkins", n)
			return err
		}},
		{Name: "doors", Timeout: 15 * time.Second, Run: func(ctx context.Context) error {
			n, err := doors.run(ctx, db, now(), frontendURL, live)
			logCount(ctx, "doors", n)
			return err
		}},
		{Name: "manual-logs", Timeout: 10 * time.Second, Run: func(ctx context.Context) error {
			n, err := manualLogs.run(ctx, db, now(), frontendURL, live)
			logCount(ctx, "manual-logs", n)
			return err
		}},
		{Name: "escalation", Timeout: 20 * time.Second, Run: func(ctx context.Context) error {
			n, err := escalate(ctx, db, now(), frontendURL, live)
			logCount(ctx, "escalation", n)
			return err
		}},
		{Name: "reading-partitions", Timeout: 10 * time.Second, Run: func(ctx context.Context) error {
			// A month ahead is the minimum; three gives a quarter of slack
			// should the sweeper be down for weeks.
			created, err := db.EnsureReadingPartitions(ctx, 0, 3)
			if created > 0 {
				slog.InfoContext(ctx, "created sensor_readings partitions", "count", created)
			}
			return err
		}},
		{Name: "prune-dedupe", Timeout: 10 * time.Second, Run: func(ctx context.Context) error {
			up, ev, err := db.PruneDedupe(ctx, now().Add(-DedupeRetention), pruneBatch)
			if up+ev > 0 {
				slog.InfoContext(ctx, "pruned dedupe keys", "uplink_dedupe", up, "telnyx_events", ev)
			}
			return err
		}},
	}
}

// Counted is a task that reports how many items it handled (logged, and the
// SweepTaskItems metric).
func Counted(name string, timeout time.Duration, run func(context.Context) (int, error)) Task {
	return Task{Name: name, Timeout: timeout, Run: func(ctx context.Context) error {
		n, err := run(ctx)
		logCount(ctx, name, n)
		return err
	}}
}

func logCount(ctx context.Context, task string, n int) {
	metrics.Add(ctx, metrics.SweepTaskItems, n, "Task", task)
	if n > 0 {
		slog.InfoContext(ctx, "sweep changes", "task", task, "count", n)
	}
}
