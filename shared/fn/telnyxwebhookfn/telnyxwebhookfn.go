// Package telnyxwebhookfn assembles the telnyx-webhook function from the shared packages:
// its main and the one-port local server call New. It imports only what
// this function needs, so the function's binary carries nothing else.
package telnyxwebhookfn

import (
	"net/http"

	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/notify"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
)

// New builds the `telnyx-webhook` function's handler.
func New(cfg *config.TelnyxWebhook) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	key, err := notify.ParseTelnyxPublicKey(cfg.TelnyxPublicKey)
	if err != nil {
		return nil, err
	}
	client := notify.ProviderClient()
	sms, _ := notify.Senders(cfg.Notify, client)
	h := &notify.TelnyxWebhook{DB: db, PublicKey: key, SMS: sms}
	if calls := notify.CallSender(cfg.Notify, client); calls != nil {
		h.Calls = calls
	}
	h.Dispatcher = notify.NewConfiguredDispatcher(db, cfg.Notify)
	h.Dispatcher.FrontendURL = cfg.FrontendURL
	h.Live = realtime.Configured(db, cfg.Live)
	mux := host.WebhookMux(catalog.TelnyxWebhook, "/webhooks/telnyx", h)
	return host.Standard(catalog.TelnyxWebhook, cfg.Common, mux), nil
}
