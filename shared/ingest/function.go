package ingest

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/lorawan"
	"github.com/frostguard/functions/shared/notify"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
)

// Function assembles a network's webhook function (ttn-webhook, chirpstack-webhook): one
// Handler for the network's parser on the function's database pool, serving path and the
// root of its Function URL, sending an alarm's first notifications right after the reading's
// commit. globalSecret is TTN's optional installation-wide secret ("" for every other network).
func Function(function, path string, network lorawan.Parser, cfg config.LoRaWANWebhook, globalSecret string) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	d := notify.NewConfiguredDispatcher(db, cfg.Notify)
	d.FrontendURL = cfg.FrontendURL
	h := &Handler{Network: network, DB: db, GlobalSecret: globalSecret, FrontendURL: cfg.FrontendURL,
		Dispatch: func(ctx context.Context) {
			// Best effort: what is not sent now is retried by the sweeper.
			if _, err := d.DispatchDue(ctx, 20); err != nil {
				slog.WarnContext(ctx, "dispatch after commit failed; the sweeper will retry", "err", err)
			}
		},
		Live: realtime.Configured(db, cfg.Live)}
	return host.Standard(function, cfg.Common, host.WebhookMux(function, path, h)), nil
}
