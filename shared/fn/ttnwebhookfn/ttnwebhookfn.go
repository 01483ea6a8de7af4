// Package ttnwebhookfn assembles the ttn-webhook function from the shared packages:
// its main and the one-port local server call New. It imports only what
// this function needs, so the function's binary carries nothing else.
package ttnwebhookfn

import (
	"net/http"

	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/ingest"
	"github.com/frostguard/functions/shared/lorawan/ttn"
)

// New builds the `ttn-webhook` function's handler.
func New(cfg *config.TTNWebhook) (http.Handler, error) {
	return ingest.Function(catalog.TTNWebhook, "/webhooks/ttn", ttn.Parser{}, cfg.LoRaWANWebhook, cfg.TTNWebhookSecret)
}
