// Package checkoutfn assembles the stripe-checkout function from the shared packages:
// its main and the one-port local server call New. It imports only what
// this function needs, so the function's binary carries nothing else.
package checkoutfn

import (
	"errors"
	"net/http"

	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/orgroute"
)

// New builds the `stripe-checkout` function's handler.
func New(cfg *config.StripeCheckout) (http.Handler, error) {
	guard, err := orgroute.Open(cfg.Common, cfg.Auth)
	if err != nil {
		return nil, err
	}
	// Without a key the routes answer 503 "billing is not configured".
	sc, err := billing.NewStripe(cfg.Stripe)
	if err != nil && !errors.Is(err, billing.ErrNotConfigured) {
		return nil, err
	}
	mux := host.NewMux(catalog.StripeCheckout)
	(&billing.CheckoutHandler{Guard: guard, DB: guard.DB, Stripe: sc, Prices: cfg.StripePrices, FrontendURL: cfg.FrontendURL}).Register(mux)
	return host.Standard(catalog.StripeCheckout, cfg.Common, mux, cfg.FrontendURL), nil
}
