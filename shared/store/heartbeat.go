package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// SweepTaskReport is one task's outcome in a sweep run.
type SweepTaskReport struct {
	Name       string  `json:"name"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
	// OutOfTime: the task was stopped by the run's deadline (or its own
	// timeout) before it finished; NotStarted: the deadline came first.
	OutOfTime  bool `json:"out_of_time,omitempty"`
	NotStarted bool `json:"not_started,omitempty"`
}

// SweepRun is what the sweeper records at the end of a run.
type SweepRun struct {
	StartedAt, FinishedAt time.Time
	OK                    bool // every task finished in time without an error
	Error                 string
	Tasks                 []SweepTaskReport
}

// RecordSweep writes the sweeper's heartbeat (one row). A failed run keeps
// the previous last_success_at.
func (db *DB) RecordSweep(ctx context.Context, r SweepRun) (err error) {
	defer wrap(&err, "store.RecordSweep")
	report, err := json.Marshal(r.Tasks)
	if err != nil {
		return err
	}
	var success *time.Time
	if r.OK {
		success = &r.FinishedAt
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO sweeper_heartbeat (id, last_started_at, last_finished_at, last_success_at, last_error, last_report)
		VALUES (true, $1, $2, $3, nullif($4, ''), $5)
		ON CONFLICT (id) DO UPDATE SET last_started_at = EXCLUDED.last_started_at, last_finished_at = EXCLUDED.last_finished_at,
			last_success_at = coalesce(EXCLUDED.last_success_at, sweeper_heartbeat.last_success_at),
			last_error = EXCLUDED.last_error, last_report = EXCLUDED.last_report`,
		r.StartedAt, r.FinishedAt, success, r.Error, report)
	if err != nil {
		return Classify(err)
	}
	return nil
}

// SweeperHealth is what GET /healthz needs to judge the sweeper.
type SweeperHealth struct {
	Recorded      bool       // a run was ever recorded
	LastSuccessAt *time.Time // nil: no run ever succeeded
	LastRunAt     time.Time
	LastError     string
	// OldestDueAt is the due time of the longest-waiting notification that
	// is due and not sent (nil: none is due).
	OldestDueAt *time.Time
}

// SweeperHealth reads the heartbeat and the oldest due notification (the
// outbox's partial due index answers it with one row).
func (db *DB) SweeperHealth(ctx context.Context, now time.Time) (_ SweeperHealth, err error) {
	defer wrap(&err, "store.SweeperHealth")
	var h SweeperHealth
	b := &pgx.Batch{}
	b.Queue(`SELECT last_success_at, last_finished_at, coalesce(last_error, '') FROM sweeper_heartbeat WHERE id`)
	b.Queue(`SELECT min(next_attempt_at) FROM notifications WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1`, now)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	err = br.QueryRow().Scan(&h.LastSuccessAt, &h.LastRunAt, &h.LastError)
	switch {
	case err == nil:
		h.Recorded = true
	case !errors.Is(err, pgx.ErrNoRows):
		return h, Classify(err)
	}
	if err := br.QueryRow().Scan(&h.OldestDueAt); err != nil {
		return h, Classify(err)
	}
	return h, nil
}
