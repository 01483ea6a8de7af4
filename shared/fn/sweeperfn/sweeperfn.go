// Package sweeperfn assembles the alert-sweeper function from the shared packages:
// its main and the one-port local server call New. It imports only what
// this function needs, so the function's binary carries nothing else.
package sweeperfn

import (
	"context"
	"log/slog"
	"time"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/notify"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/sweep"
)

// New builds the `alert-sweeper` job.
func New(cfg *config.AlertSweeper) (host.Job, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	d := notify.NewConfiguredDispatcher(db, cfg.Notify)
	tasks := append([]sweep.Task{
		{Name: "reading-partitions", Timeout: 30 * time.Second, Run: func(ctx context.Context) error {
			// A month ahead is the minimum; three gives a quarter of slack
			// should the sweeper be down for weeks.
			created, err := db.EnsureReadingPartitions(ctx, 0, 3)
			if created > 0 {
				slog.InfoContext(ctx, "created sensor_readings partitions", "count", created)
			}
			return err
		}},
	}, sweep.Tasks(db, time.Now, cfg.FrontendURL)...)
	// Last: send what the other tasks queued, and retry what is due.
	tasks = append(tasks, sweep.Task{Name: "dispatch", Timeout: 40 * time.Second, Run: func(ctx context.Context) error {
		for {
			r, err := d.DispatchDue(ctx, 100)
			if err != nil || r.Claimed < 100 {
				return err
			}
		}
	}})
	return sweep.Runner{Tasks: tasks}.Run, nil
}
