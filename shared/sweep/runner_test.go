package sweep

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
)

// trace records which tasks ran, in order, with their deadlines.
type trace struct {
	mu        sync.Mutex
	ran       []string
	deadlines map[string]time.Time
}

func (tr *trace) task(name string, body func(ctx context.Context) error) Task {
	return Task{Name: name, Timeout: time.Hour, Run: func(ctx context.Context) error {
		tr.mu.Lock()
		tr.ran = append(tr.ran, name)
		if tr.deadlines == nil {
			tr.deadlines = map[string]time.Time{}
		}
		d, _ := ctx.Deadline()
		tr.deadlines[name] = d
		tr.mu.Unlock()
		if body == nil {
			return nil
		}
		return body(ctx)
	}}
}

func hog(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// The issue: the task budgets added up to ~140 s against a 55 s Lambda
// timeout, with dispatch last, so a slow check starved the sending of due
// pages. Now dispatch runs first and last, the last pass always keeps its
// reserve, and a task the deadline stopped is reported as out of time.
func TestRunnerDispatchIsNeverStarved(t *testing.T) {
	tr := &trace{}
	dispatch := tr.task("dispatch", nil)
	var heartbeat store.SweepRun
	r := Runner{
		Dispatch:        &dispatch,
		Tasks:           []Task{tr.task("checkins", hog), tr.task("doors", nil)},
		Budget:          time.Hour,
		Margin:          100 * time.Millisecond,
		DispatchReserve: 300 * time.Millisecond,
		Heartbeat: func(_ context.Context, run store.SweepRun) error {
			heartbeat = run
			return nil
		},
	}
	// The invocation's deadline (Lambda's timeout) is the only bound here.
	ctx, cancel := context.WithTimeout(context.Background(), 900*time.Millisecond)
	defer cancel()
	invocation, _ := ctx.Deadline()
	err := r.Run(ctx)

	if want := []string{"dispatch", "checkins", "dispatch"}; !slices.Equal(tr.ran, want) {
		t.Fatalf("ran %v, want %v (doors has no time left after the hog)", tr.ran, want)
	}
	runDeadline := invocation.Add(-r.Margin)
	if d := tr.deadlines["dispatch"]; !d.Equal(runDeadline) {
		t.Errorf("last dispatch deadline %v, want the run's deadline %v", d, runDeadline)
	}
	if d := tr.deadlines["checkins"]; d.After(runDeadline.Add(-r.DispatchReserve)) {
		t.Errorf("checkins may run until %v, past the dispatch reserve (%v)", d, runDeadline.Add(-r.DispatchReserve))
	}
	if !errors.Is(err, ErrOutOfTime) || !strings.Contains(err.Error(), "checkins") || !strings.Contains(err.Error(), "doors: not started") {
		t.Fatalf("run error %v: want checkins out of time and doors not started", err)
	}
	if heartbeat.OK || len(heartbeat.Tasks) != 4 {
		t.Fatalf("heartbeat %+v", heartbeat)
	}
	byName := map[string]store.SweepTaskReport{}
	for _, rep := range heartbeat.Tasks {
		byName[rep.Name] = rep
	}
	if !byName["checkins"].OutOfTime || !byName["doors"].NotStarted || byName["dispatch"].Error != "" || byName["dispatch-last"].Error != "" {
		t.Fatalf("task reports %+v", heartbeat.Tasks)
	}
}

// A task that notices the deadline and returns nil with work left is still
// reported; a task that finishes is not; a failing task does not stop the
// ones after it; a clean run records a success.
func TestRunnerReportsEveryOutcome(t *testing.T) {
	tr := &trace{}
	quiet := func(ctx context.Context) error { <-ctx.Done(); return nil }
	boom := errors.New("boom")
	var runs []store.SweepRun
	hb := func(_ context.Context, run store.SweepRun) error { runs = append(runs, run); return nil }
	r := Runner{Tasks: []Task{
		tr.task("fails", func(context.Context) error { return boom }),
		{Name: "quiet", Timeout: 50 * time.Millisecond, Run: quiet},
		tr.task("after", nil),
	}, Heartbeat: hb}
	err := r.Run(context.Background())
	if !errors.Is(err, boom) || !errors.Is(err, ErrOutOfTime) || !slices.Contains(tr.ran, "after") {
		t.Fatalf("err %v, ran %v", err, tr.ran)
	}
	if len(runs) != 1 || runs[0].OK || !runs[0].Tasks[1].OutOfTime || runs[0].Tasks[0].Error != "boom" || runs[0].Tasks[2].Error != "" {
		t.Fatalf("heartbeat %+v", runs)
	}
	if err := (Runner{Tasks: []Task{tr.task("fine", nil)}, Heartbeat: hb}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !runs[1].OK || runs[1].Error != "" {
		t.Fatalf("clean run recorded %+v", runs[1])
	}
}

// The production runner: dispatch first and last, every task bounded by
// the run, the run inside a 55 s Lambda invocation with its margin.
func TestNewRunnerFitsTheLambdaTimeout(t *testing.T) {
	r := NewRunner(nil, func(context.Context, int) (int, error) { return 0, nil }, time.Now, "", nil)
	tr := &trace{}
	for i, task := range r.Tasks {
		r.Tasks[i] = tr.task(task.Name, nil)
	}
	d := tr.task("dispatch", nil)
	r.Dispatch, r.Heartbeat = &d, nil
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()
	invocation, _ := ctx.Deadline()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"dispatch", "checkins", "doors", "manual-logs", "escalation", "reading-partitions", "prune-dedupe", "dispatch"}
	if !slices.Equal(tr.ran, want) {
		t.Fatalf("order %v, want %v", tr.ran, want)
	}
	for name, dl := range tr.deadlines {
		if dl.After(invocation.Add(-DefaultMargin)) {
			t.Errorf("%s may run until %v, past the invocation deadline minus the margin", name, dl)
		}
	}
}

func TestDispatchAllStopsWhenABatchComesBackShort(t *testing.T) {
	calls := 0
	run := DispatchAll(func(ctx context.Context, n int) (int, error) {
		calls++
		if calls < 3 {
			return n, nil
		}
		return 7, nil
	})
	if err := run(context.Background()); err != nil || calls != 3 {
		t.Fatalf("%v after %d calls", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a spent context: %v", err)
	}
}
