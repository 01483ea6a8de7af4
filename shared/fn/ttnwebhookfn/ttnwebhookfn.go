// Package ttnwebhookfn assembles the ttn-webhook function from the shared packages:
// its main and the one-port local server call New. It imports only what
// this function needs, so the function's binary carries nothing else.
package ttnwebhookfn

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/ingest"
	"github.com/frostguard/functions/shared/lorawan/ttn"
	"github.com/frostguard/functions/shared/notify"
	"github.com/frostguard/functions/shared/store"
)

// New builds the `ttn-webhook` function's handler.
func New(cfg *config.TTNWebhook) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	d := notify.NewConfiguredDispatcher(db, cfg.Notify)
	d.FrontendURL = cfg.FrontendURL
	h := &ingest.Handler{Network: ttn.Parser{}, DB: db, GlobalSecret: cfg.TTNWebhookSecret, FrontendURL: cfg.FrontendURL,
		Dispatch: func(ctx context.Context) {
			// Best effort: what is not sent now is retried by the sweeper.
			if _, err := d.DispatchDue(ctx, 20); err != nil {
				slog.WarnContext(ctx, "dispatch after commit failed; the sweeper will retry", "err", err)
			}
		}}
	mux := host.WebhookMux(catalog.TTNWebhook, "/webhooks/ttn", h)
	return host.Standard(catalog.TTNWebhook, cfg.Common, mux), nil
}
