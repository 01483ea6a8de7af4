// Package stripewebhookfn assembles the stripe-webhook function from the shared packages:
// its main and the one-port local server call New. It imports only what
// this function needs, so the function's binary carries nothing else.
package stripewebhookfn

import (
	"net/http"

	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/store"
)

// New builds the `stripe-webhook` function's handler.
func New(cfg *config.StripeWebhook) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	h := &billing.WebhookHandler{DB: db, Secret: cfg.StripeWebhookSecret, Prices: cfg.StripePrices}
	mux := host.WebhookMux(catalog.StripeWebhook, "/webhooks/stripe", h)
	return host.Standard(catalog.StripeWebhook, cfg.Common, mux), nil
}
