// Package sweeperfn assembles the alert-sweeper function from the shared packages:
// its main and the one-port local server call New. It imports only what
// this function needs, so the function's binary carries nothing else.
package sweeperfn

import (
	"context"
	"time"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/notify"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/offboard"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/retention"
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
	d.FrontendURL = cfg.FrontendURL
	dispatch := func(ctx context.Context, n int) (int, error) {
		r, err := d.DispatchDue(ctx, n)
		return r.Claimed, err
	}
	runner := sweep.NewRunner(db, dispatch, time.Now, cfg.FrontendURL, realtime.Configured(db, cfg.Live))
	// Housekeeping last, each bounded: retention archives one
	// organisation-month per run, offboarding builds two exports and
	// carries out one deletion.
	files := objects.Open(cfg.Storage, cfg.AssetsBucket)
	_, email := notify.Senders(cfg.Notify, notify.ProviderClient())
	off := offboard.Service{DB: db, Files: files, Email: email}
	runner.Tasks = append(runner.Tasks,
		sweep.Counted("readings-retention", 15*time.Second, retention.Service{DB: db, Files: files}.Run),
		sweep.Counted("org-exports", 15*time.Second, off.BuildExports),
		sweep.Counted("org-deletions", 15*time.Second, off.DeleteDue),
		sweep.Counted("sender-health", 10*time.Second, notify.SenderHealthCheck{DB: db, Config: cfg.Notify, Client: notify.ProviderClient()}.Run))
	return runner.Run, nil
}
