// Package billing owns plans, sensor limits and everything Stripe: the
// client, checkout and portal sessions, and applying webhook events.
package billing

import (
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/tracing"
)

// ErrNotConfigured is answered by every billing call when no Stripe key is
// configured (dev without stripe-mock): a clear 503, not a crash.
var ErrNotConfigured = apperr.New(apperr.Unavailable, "billing is not configured on this deployment (STRIPE_SECRET_KEY is not set)")

// NewStripe returns a Stripe API client, pointed at cfg.APIBase when set
// (stripe-mock in dev and tests). It opens no connection.
func NewStripe(cfg config.Stripe) (*client.API, error) {
	if cfg.SecretKey == "" {
		return nil, ErrNotConfigured
	}
	retries := int64(2)
	backendCfg := &stripe.BackendConfig{
		HTTPClient:        tracing.Client(15 * time.Second),
		MaxNetworkRetries: &retries,
		// Errors are returned and logged by our handlers, with request ids
		// and without the request bodies Stripe's logger might print.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIBase != "" {
		backendCfg.URL = stripe.String(cfg.APIBase)
	}
	api := stripe.GetBackendWithConfig(stripe.APIBackend, backendCfg)
	return client.New(cfg.SecretKey, &stripe.Backends{API: api, Connect: api, Uploads: api}), nil
}
