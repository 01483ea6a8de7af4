// Package sweep runs the alert-sweeper's periodic tasks. Each task is
// independent: one failing (or running out of time) never stops the others,
// and every task must be safe when two sweeps overlap (EventBridge may
// deliver a schedule twice, and a slow run can meet the next one).
//
// # Time
//
// A run has one deadline, inside the Lambda timeout: the invocation's own
// deadline minus Margin (for the heartbeat and the error report), and never
// later than Budget after the start. Dispatching due notifications runs
// first (nothing already queued waits behind the condition checks) and last
// (what the checks queued goes out in the same run); the last pass always
// keeps DispatchReserve of the run, so no other task can starve it. Every
// other task runs, in order, inside what is left, each also bounded by its
// own Timeout. A task stopped by the deadline, or never started because the
// deadline came first, is reported as out of time (a log line at error
// level, the run's error, and the heartbeat's report): it continues in the
// next minute's run, which starts with what is still undone (the candidate
// queries skip what is already handled).
package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/store"
)

// Task is one periodic job.
type Task struct {
	Name string
	// Timeout bounds one run of the task so a stuck task cannot eat the
	// whole invocation (the run's deadline bounds it too).
	Timeout time.Duration
	Run     func(ctx context.Context) error
}

// Defaults of a Runner.
const (
	// DefaultBudget bounds a run without a deadline of its own (local runs);
	// under Lambda the invocation's deadline minus Margin bounds it too.
	DefaultBudget = 45 * time.Second
	// DefaultMargin is kept after the run for the heartbeat and the flush of
	// error reports (the Lambda timeout is 55 s).
	DefaultMargin = 5 * time.Second
	// DefaultDispatchReserve is the time always left for the last dispatch.
	DefaultDispatchReserve = 10 * time.Second
	// DefaultDispatchFirst bounds the first dispatch pass.
	DefaultDispatchFirst = 10 * time.Second
)

// ErrOutOfTime marks a task the run's deadline stopped or never started.
var ErrOutOfTime = errors.New("ran out of time")

// Runner runs the sweep: Dispatch, the Tasks in order, Dispatch again.
type Runner struct {
	// Dispatch sends due notifications (may be nil). Its Timeout bounds the
	// first pass (DefaultDispatchFirst when 0).
	Dispatch *Task
	Tasks    []Task
	Budget   time.Duration // DefaultBudget when 0
	Margin   time.Duration // DefaultMargin when 0
	// DispatchReserve: the last dispatch always has at least this long
	// (DefaultDispatchReserve when 0).
	DispatchReserve time.Duration
	// Heartbeat records the run (nil: not recorded).
	Heartbeat func(context.Context, store.SweepRun) error
}

// Run runs the sweep and returns every task's error joined (out-of-time
// tasks included), after recording the heartbeat.
func (r Runner) Run(ctx context.Context) error {
	start := time.Now()
	deadline := start.Add(orDefault(r.Budget, DefaultBudget))
	if d, ok := ctx.Deadline(); ok {
		deadline = earliest(deadline, d.Add(-orDefault(r.Margin, DefaultMargin)))
	}
	runCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	reserve := orDefault(r.DispatchReserve, DefaultDispatchReserve)

	var reports []store.SweepTaskReport
	var errs []error
	run := func(t Task, until time.Time, timeout time.Duration) {
		rep, err := r.runTask(runCtx, t, until, timeout)
		reports = append(reports, rep)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if r.Dispatch != nil {
		run(*r.Dispatch, deadline.Add(-reserve), orDefault(r.Dispatch.Timeout, DefaultDispatchFirst))
	}
	for _, t := range r.Tasks {
		run(t, deadline.Add(-reserve), orDefault(t.Timeout, 20*time.Second))
	}
	if r.Dispatch != nil {
		last := *r.Dispatch
		last.Name += "-last"
		run(last, deadline, 0)
	}

	finished := time.Now()
	rec := store.SweepRun{StartedAt: start, FinishedAt: finished, OK: len(errs) == 0, Tasks: reports}
	err := errors.Join(errs...)
	if err != nil {
		rec.Error = truncate(err.Error(), 2000)
	}
	if rec.OK {
		metrics.Add(ctx, metrics.SweepSucceeded, 1) // the "sweeper not succeeding" alarm reads this
	}
	if r.Heartbeat != nil {
		// The heartbeat is written even when the run's context is spent.
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		if herr := r.Heartbeat(hctx, rec); herr != nil {
			slog.ErrorContext(ctx, "recording the sweep heartbeat failed", "err", herr)
			err = errors.Join(err, fmt.Errorf("heartbeat: %w", herr))
		}
		hcancel()
	}
	return err
}

// runTask runs t until the earlier of until and now+timeout (timeout 0: no
// bound of its own). A task whose time is already spent is not started.
func (r Runner) runTask(ctx context.Context, t Task, until time.Time, timeout time.Duration) (store.SweepTaskReport, error) {
	rep := store.SweepTaskReport{Name: t.Name}
	start := time.Now()
	if timeout > 0 {
		until = earliest(until, start.Add(timeout))
	}
	if !until.After(start) || ctx.Err() != nil {
		rep.NotStarted, rep.OutOfTime = true, true
		rep.Error = ErrOutOfTime.Error()
		metrics.Add(ctx, metrics.SweepTaskFailures, 1, "Task", t.Name)
		slog.ErrorContext(ctx, "sweep task not started: the run ran out of time", "task", t.Name)
		return rep, fmt.Errorf("%s: not started: %w", t.Name, ErrOutOfTime)
	}
	tctx, cancel := context.WithDeadline(ctx, until)
	err := t.Run(tctx)
	stopped := tctx.Err() != nil
	cancel()
	rep.DurationMS = float64(time.Now().Sub(start).Microseconds()) / 1000
	metrics.Duration(ctx, metrics.SweepTaskDuration, time.Since(start), "Task", t.Name)
	if stopped && (err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		// The deadline cut the task short (a task may also notice it and
		// return nil with work left): report it, whatever it returned.
		rep.OutOfTime = true
		err = fmt.Errorf("%w after %.0f ms", ErrOutOfTime, rep.DurationMS)
	}
	if err != nil {
		metrics.Add(ctx, metrics.SweepTaskFailures, 1, "Task", t.Name)
		rep.Error = truncate(err.Error(), 500)
		if rep.OutOfTime {
			slog.ErrorContext(ctx, "sweep task ran out of time", "task", t.Name, "duration_ms", rep.DurationMS)
		} else {
			slog.ErrorContext(ctx, "sweep task failed", "task", t.Name, "duration_ms", rep.DurationMS, "err", err)
		}
		return rep, fmt.Errorf("%s: %w", t.Name, err)
	}
	slog.InfoContext(ctx, "sweep task done", "task", t.Name, "duration_ms", rep.DurationMS)
	return rep, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
