// Package sweep runs the alert-sweeper's periodic tasks. Each task is
// independent: one failing (or timing out) never stops the others, and every
// task must be safe when two sweeps overlap (EventBridge may deliver a
// schedule twice, and a slow run can meet the next one).
package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Task is one periodic job.
type Task struct {
	Name string
	// Timeout bounds one run so a stuck task cannot eat the whole invocation.
	Timeout time.Duration
	Run     func(ctx context.Context) error
}

// Runner runs a fixed list of tasks.
type Runner struct {
	Tasks []Task
}

// Run runs every task in order and returns their errors joined.
func (r Runner) Run(ctx context.Context) error {
	var errs []error
	for _, t := range r.Tasks {
		start := time.Now()
		tctx, cancel := context.WithTimeout(ctx, t.timeout())
		err := t.Run(tctx)
		cancel()
		ms := float64(time.Since(start).Microseconds()) / 1000
		if err != nil {
			slog.ErrorContext(ctx, "sweep task failed", "task", t.Name, "duration_ms", ms, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", t.Name, err))
			continue
		}
		slog.InfoContext(ctx, "sweep task done", "task", t.Name, "duration_ms", ms)
	}
	return errors.Join(errs...)
}

func (t Task) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return 20 * time.Second
}
