package sweep

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/metrics"
)

// The "sweeper not succeeding" alarm reads SweepSucceeded: a run emits it
// only when every task succeeded, and each task's duration and failure are
// metrics of their own.
func TestRunRecordsTaskMetricsAndSuccess(t *testing.T) {
	buf := metrics.Capture(t)
	ok := Task{Name: "fine", Run: func(context.Context) error { return nil }}
	bad := Task{Name: "broken", Run: func(context.Context) error { return errors.New("boom") }}

	_ = Runner{Tasks: []Task{ok}}.Run(context.Background())
	if out := buf.String(); !strings.Contains(out, `"SweepSucceeded":1`) || !strings.Contains(out, `"Task":"fine"`) ||
		!strings.Contains(out, `"SweepTaskDuration"`) {
		t.Fatalf("a successful run:\n%s", out)
	}
	buf.Reset()
	if err := (Runner{Tasks: []Task{ok, bad}}).Run(context.Background()); err == nil {
		t.Fatal("the failure was not returned")
	}
	if out := buf.String(); strings.Contains(out, "SweepSucceeded") || !strings.Contains(out, `"SweepTaskFailures":1`) ||
		!strings.Contains(out, `"Task":"broken"`) {
		t.Fatalf("a run with a failed task:\n%s", out)
	}
}
