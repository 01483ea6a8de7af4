// Package chirpstackwebhookfn assembles the chirpstack-webhook function (ChirpStack v4's HTTP
// integration) from the shared packages: its main and the one-port local server call New. It
// imports only what this function needs, so the function's binary carries nothing else.
package chirpstackwebhookfn

import (
	"net/http"

	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/ingest"
	"github.com/frostguard/functions/shared/lorawan/chirpstack"
)

// New builds the `chirpstack-webhook` function's handler.
func New(cfg *config.ChirpStackWebhook) (http.Handler, error) {
	return ingest.Function(catalog.ChirpStackWebhook, "/webhooks/chirpstack", chirpstack.Parser{}, cfg.LoRaWANWebhook, "")
}
